"""Helpers shared by the benchmarks: servers on loopback, wrk, memory."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PG_BENCH_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/bench")
SECRET = "bench-secret-key-0123456789abcdef"
AUDIT_KEY = "bench-audit-key-0123456789abcdef"
KEYS = {"DELIBERATION_SECRET_KEY": SECRET, "DELIBERATION_AUDIT_KEY": AUDIT_KEY}
BENCH_PASSWORD = "yace-mima-2026"
"""The password of the accounts the benchmarks make (the rules refuse one that
contains the username, as ``bench-password`` did for ``bench``)."""


def cli(url: str, *args: str, stdin: str = "", root: Path = ROOT) -> None:
    """Run ``deliberation`` against ``url`` (it must succeed); ``root`` is the source
    tree to run (another commit's, for a comparison in the same run)."""
    env = {**os.environ, "DELIBERATION_DATABASE_URL": url, **KEYS}
    subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        cwd=root,
        check=True,
        capture_output=True,
        input=stdin,
        text=True,
    )


DEMO_STAFF_PASSWORDS = ("hsl-xieshang-2026", "demo-staff-2026")
"""The demo staff account's password now, and before the password rules (for ``--against``
an older commit)."""


def staff_token(base: str) -> str:
    """A bearer token of the demo's staff account."""
    for password in DEMO_STAFF_PASSWORDS:
        r = httpx.post(
            f"{base}/api/v1/auth/token", json={"username": "staff", "password": password}
        )
        if r.status_code == 200:
            return str(r.json()["access_token"])
    r.raise_for_status()
    raise RuntimeError(f"cannot sign in as the demo staff: {r.status_code}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(
    factory: str, env: dict[str, str], workers: int, root: Path = ROOT
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """uvicorn with ``factory`` (from the source tree ``root``) on a free loopback port;
    yields (base url, process)."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=root, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/", timeout=0.5).status_code:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@contextlib.contextmanager
def started(cmd: list[str], env: dict[str, str], port: int, root: Path = ROOT) -> Iterator[str]:
    """``cmd`` (a server) in its own process group until ``/healthz`` answers on
    127.0.0.1:``port``; yields its base URL, then stops the group."""
    process = subprocess.Popen(
        cmd,
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=0.5).status_code < 500:
                    break
            if process.poll() is not None:
                raise SystemExit(f"{cmd} exited with {process.returncode}")
            time.sleep(0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def tree_peak_rss_mb(pid: int) -> float:
    """Largest peak RSS (VmHWM) among the process and its children, in MiB."""
    peaks = []
    pids = [pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
    except OSError:
        pass
    for p in pids:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{p}/status").read_text()
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peaks.append(int(match.group(1)) / 1024)
    return max(peaks) if peaks else 0.0


def wrk(
    url: str,
    seconds: int = 8,
    connections: int = 32,
    threads: int = 2,
    token: str | None = None,
    paths: list[str] | None = None,
) -> float:
    """Requests per second from wrk (a bounded run on loopback). With ``paths``,
    each connection cycles through them (a Lua script) instead of repeating ``url``."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        quoted = ", ".join(f'"{p}"' for p in paths or [])
        script.write(
            f"local paths = {{{quoted}}}\nlocal i = 0\n"
            "if #paths > 0 then\n"
            "  request = function()\n"
            "    i = i % #paths + 1\n"
            "    return wrk.format(nil, paths[i])\n"
            "  end\n"
            "end\n"
        )
    try:
        out = subprocess.run(
            [*cmd, "-s", script.name, url], capture_output=True, text=True, timeout=seconds + 60
        ).stdout
    finally:
        os.unlink(script.name)
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"wrk saw {non2xx.group(1)} error responses from {url}:\n{out}")
    if not match:
        raise SystemExit(f"could not read wrk output:\n{out}")
    return float(match.group(1))


def reset_postgres(url: str) -> None:
    """Create (or empty) the benchmark database."""
    import asyncio

    import asyncpg

    async def run() -> None:
        admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
        name = url.rsplit("/", 1)[1]
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()

    asyncio.run(run())


def migrated_database(engine: str, folder: str | Path, root: Path = ROOT) -> str:
    """An empty, migrated database: SQLite in ``folder``, or the PostgreSQL benchmark
    database (emptied first)."""
    if engine == "sqlite":
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
    else:
        url = PG_BENCH_URL
        reset_postgres(url)
    cli(url, "migrate", root=root)
    return url


@contextlib.contextmanager
def source_at(revision: str) -> Iterator[Path]:
    """The project's source tree at ``revision`` (``git archive``) in a temporary folder,
    to measure an earlier commit beside this one in the same run."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", revision], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        yield Path(folder)


def fresh_database(engine: str, folder: str, township: str) -> str:
    """A migrated database with ``township`` and a staff account ``bench`` /
    ``BENCH_PASSWORD``."""
    url = migrated_database(engine, folder)
    cli(url, "township", "create", township)
    cli(
        url,
        "user",
        "create",
        "--username",
        "bench",
        "--role",
        "staff",
        "--display-name",
        "压测",
        "--township",
        township,
        "--password-stdin",
        stdin=f"{BENCH_PASSWORD}\n",
    )
    return url


def county_supervisor(url: str, username: str = "benchcounty") -> None:
    """A county supervisor account ``username`` / ``BENCH_PASSWORD``."""
    cli(
        url,
        "user",
        "create",
        "--username",
        username,
        "--role",
        "supervisor",
        "--display-name",
        "压测督办",
        "--password-stdin",
        stdin=f"{BENCH_PASSWORD}\n",
    )


def save_results(name: str, results: object) -> None:
    """Raw results as JSON in ``bench/results/`` (not committed)."""
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))


def wrk_latency(
    url: str,
    seconds: int = 8,
    connections: int = 32,
    threads: int = 2,
    headers: dict[str, str] | None = None,
    timeout_s: int = 30,
) -> dict[str, float]:
    """A bounded wrk run with its latency distribution: requests/s and p50/p95/p99/max
    in ms (wrk's own histogram, read in a Lua ``done``). The timeout is long so that
    slow answers are counted in the distribution instead of dropped as timeouts."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={timeout_s}s",
    ]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            "done = function(summary, latency, requests)\n"
            '  io.write(string.format("PCTL %d %d %d %d\\n", latency:percentile(50),\n'
            "    latency:percentile(95), latency:percentile(99), latency.max))\n"
            '  io.write(string.format("ERRS %d %d %d %d %d\\n", summary.errors.connect,\n'
            "    summary.errors.read, summary.errors.write, summary.errors.status,\n"
            "    summary.errors.timeout))\n"
            "end\n"
        )
    try:
        out = subprocess.run(
            [*cmd, "-s", script.name, url],
            capture_output=True,
            text=True,
            timeout=seconds + timeout_s + 60,
        ).stdout
    finally:
        os.unlink(script.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    pctl = re.search(r"PCTL (\d+) (\d+) (\d+) (\d+)", out)
    errors = re.search(r"ERRS (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not (rps and pctl and errors and total):
        raise SystemExit(f"could not read wrk output:\n{out}")
    if any(int(e) for e in errors.groups()):
        raise SystemExit(f"wrk saw errors (connect read write status timeout) from {url}:\n{out}")
    p50, p95, p99, top = (int(v) / 1000 for v in pctl.groups())
    return {
        "requests": int(total.group(1)),
        "rps": round(float(rps.group(1)), 1),
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(top, 1),
    }
