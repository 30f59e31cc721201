"""The four hostile spreadsheets of issue 23 against ``POST /api/v1/users/import``
(``deliberation serve`` with its defaults, one worker): a range declared as A1:XFD3000, a
deflate bomb of 3 million cells in one row, XXE reading a file on the server, billion
laughs; beside them a real roster of 5 000 people (checked, ``dry_run``). For each, the
file is uploaded again and again for a few seconds while another client asks
``/healthz`` one request after another; measured: the server's peak RSS growth over its
resident size before the uploads (the peak reset through ``/proc/PID/clear_refs``), the
answers (status and ``code``; for XXE, whether the file's secret came back), each
upload's time, and the other client's ``/healthz`` latency p50/p95/max, against the same
client alone before the uploads, in the same run.

Target (issue 23): each hostile file costs the server less than 50 MB and anyone else
less than 1 s.

    python -m bench.import_limits --engine sqlite
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/bench_imports \\
        python -m bench.import_limits --engine postgres

``--against REV`` runs the same against an earlier commit's source (``git archive``), in
the same run; its deflate bomb is left out unless ``--with-bomb`` (88 s and 2.9 GB on
the commit before issue 23).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    BENCH_PASSWORD,
    KEYS,
    ROOT,
    cli,
    free_port,
    migrated_database,
    save_results,
    source_at,
)

TOWNSHIP = "黄金埠镇"
VILLAGE = "金山村"


@contextlib.contextmanager
def serving(url: str, root: Path, **extra: str) -> Iterator[tuple[str, int]]:
    """``deliberation serve`` (its defaults) from the source tree ``root``; yields its
    address and process id."""
    port = free_port()
    env = {
        **os.environ,
        "DELIBERATION_DATABASE_URL": url,
        **KEYS,
        "PYTHONPATH": str(root),
        **extra,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
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
                if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                    break
            time.sleep(0.1)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def _status_kb(pid: int, field: str) -> int:
    found = re.search(rf"{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(found.group(1)) if found else 0


def _tree(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [pid, *(int(p) for p in out.split())]


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


class HealthPoller(threading.Thread):
    """Another client: ``/healthz`` one request after another until stopped."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.failures = 0

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=300) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies.append(time.perf_counter() - started)
                self.failures += not ok


def alone(base: str, seconds: float) -> dict[str, float]:
    poller = HealthPoller(base)
    poller.start()
    time.sleep(seconds)
    poller.stop.set()
    poller.join()
    return _percentiles(poller.latencies)


def while_uploading(
    base: str, pid: int, token: str, content: bytes, params: dict[str, str], seconds: float
) -> dict[str, Any]:
    """Upload ``content`` again and again for ``seconds`` (at least once) while another
    client polls ``/healthz``."""
    marks: dict[int, int] = {}
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            Path(f"/proc/{p}/clear_refs").write_text("5")  # the peak starts from here
            marks[p] = _status_kb(p, "VmRSS")
    poller = HealthPoller(base)
    poller.start()
    uploads: list[float] = []
    answers: dict[str, int] = {}
    texts: list[str] = []
    deadline = time.perf_counter() + seconds
    with httpx.Client(base_url=base, timeout=600) as client:
        while not uploads or time.perf_counter() < deadline:
            started = time.perf_counter()
            answer = client.post(
                "/api/v1/users/import",
                params=params,
                files={"file": ("名单.xlsx", content, "application/octet-stream")},
                headers={"Authorization": f"Bearer {token}"},
            )
            uploads.append(time.perf_counter() - started)
            code = answer.json().get("code", "") if answer.status_code != 200 else "ok"
            key = f"{answer.status_code} {code}"
            answers[key] = answers.get(key, 0) + 1
            texts.append(answer.text)
    poller.stop.set()
    poller.join()
    grown = [
        _status_kb(p, "VmHWM") - before
        for p, before in marks.items()
        if Path(f"/proc/{p}").exists()
    ]
    return {
        "answers": answers,
        "upload": _percentiles(uploads),
        "rss_growth_mb": round(max(grown, default=0) / 1024, 1),
        "healthz": _percentiles(poller.latencies),
        "healthz_failures": poller.failures,
        "texts": texts,
    }


def prepare(url: str, root: Path) -> None:
    cli(url, "township", "create", TOWNSHIP, root=root)
    cli(url, "village", "create", VILLAGE, "--township", TOWNSHIP, root=root)
    cli(
        url,
        "user",
        "create",
        "--username",
        "benchadmin",
        "--role",
        "admin",
        "--display-name",
        "压测管理员",
        "--password-stdin",
        stdin=f"{BENCH_PASSWORD}\n",
        root=root,
    )


def files(folder: Path, with_bomb: bool) -> dict[str, tuple[bytes, dict[str, str], str]]:
    """Each case: the file, the query, and a secret that must not come back."""
    from bench.account_import import workbook
    from tests.api.test_import_limits import (
        billion_laughs,
        declared_range,
        deflate_bomb,
        xxe,
    )

    secret = folder / "secret.txt"
    word = "SECRET-" + os.urandom(6).hex()
    secret.write_text(word)
    cases: dict[str, tuple[bytes, dict[str, str], str]] = {
        "declared_range": (declared_range(), {}, word),
        "deflate_bomb": (deflate_bomb(), {}, word),
        "xxe": (xxe(secret, TOWNSHIP), {}, word),
        "billion_laughs": (billion_laughs(), {}, word),
        "roster_5000_dry_run": (workbook(5000, "甲"), {"dry_run": "true"}, word),
    }
    if not with_bomb:
        del cases["deflate_bomb"]
    return cases


def measure(
    url: str,
    root: Path,
    cases: dict[str, tuple[bytes, dict[str, str], str]],
    seconds: float,
    **env: str,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with serving(url, root, **env) as (base, pid):
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            json={"username": "benchadmin", "password": BENCH_PASSWORD},
        ).json()["access_token"]
        alone(base, 1)  # warm-up
        results["healthz_alone"] = alone(base, seconds)
        for name, (content, params, secret) in cases.items():
            found = while_uploading(base, pid, token, content, params, seconds)
            texts = found.pop("texts")
            found["file_kb"] = round(len(content) / 1024, 1)
            found["secret_came_back"] = any(secret in t for t in texts)
            results[name] = found
        results["healthz_alone_after"] = alone(base, seconds)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--against", help="an earlier commit, measured in the same run")
    parser.add_argument(
        "--with-bomb", action="store_true", help="the deflate bomb against --against too"
    )
    args = parser.parse_args()
    out: dict[str, Any] = {"engine": args.engine, "seconds_per_case": args.seconds}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = migrated_database(args.engine, folder)
        prepare(url, ROOT)
        out["this"] = measure(url, ROOT, files(folder, with_bomb=True), args.seconds)
        if args.against:
            with source_at(args.against) as older:
                (folder / "older").mkdir()
                old_url = migrated_database(args.engine, folder / "older", root=older)
                prepare(old_url, older)
                # That commit did not install defusedxml, which openpyxl uses when present.
                out[args.against] = measure(
                    old_url,
                    older,
                    files(folder, with_bomb=args.with_bomb),
                    args.seconds,
                    OPENPYXL_DEFUSEDXML="False",
                )
    out["target"] = "rss growth < 50 MB, another client's healthz max < 1 s"
    print(json.dumps(out, ensure_ascii=False, indent=2))
    save_results(f"import_limits_{args.engine}", out)


if __name__ == "__main__":
    main()
