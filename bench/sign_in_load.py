"""``/healthz`` while 8 clients sign in over and over (issue 23, item 5): argon2
verification (~100 ms of CPU each) ran on the event loop and took another client's
``/healthz`` from 3–7 ms to 150–190 ms median. Now hashing runs in a thread pool.

Per engine, served by ``deliberation serve`` with its defaults (one worker): one client
asks ``GET /healthz`` every 20 ms, first alone (the baseline, same run, same server),
then while 8 clients each sign in as their own account (``POST /api/v1/auth/token``)
as fast as answered; p50/p95/max of the probe and the sign-ins per second.
``--against REV`` measures an earlier commit the same way in the same run (its source
from ``git archive``, its own fresh database).

Target: ``/healthz`` p95 under load < 50 ms.

    python -m bench.sign_in_load [--engines sqlite postgres] [--seconds 15] [--against REV]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

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

CLIENTS = 8
PROBE_EVERY = 0.02
TARGET_P95_MS = 50.0


@contextlib.contextmanager
def deliberation_serve(url: str, root: Path) -> Iterator[str]:
    """``deliberation serve`` as an operator starts it (its defaults), on a free port."""
    port = free_port()
    env = {**os.environ, "DELIBERATION_DATABASE_URL": url, **KEYS}
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
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def database_with_accounts(engine: str, folder: str, root: Path) -> str:
    """A migrated database with one township and ``CLIENTS`` staff accounts (each client
    signs in as its own: one username's attempts in flight would meet its limit)."""
    url = migrated_database(engine, folder, root=root)
    cli(url, "township", "create", "压测镇", root=root)
    for n in range(CLIENTS):
        cli(
            url,
            "user",
            "create",
            "--username",
            f"signer{n}",
            "--role",
            "staff",
            "--display-name",
            f"压测{n}",
            "--township",
            "压测镇",
            "--password-stdin",
            stdin=f"{BENCH_PASSWORD}\n",
            root=root,
        )
    return url


def probe(base: str, seconds: float) -> list[float]:
    """``GET /healthz`` every ``PROBE_EVERY`` s for ``seconds``; each answer's time in ms."""
    times = []
    with httpx.Client(timeout=30) as client:
        client.get(f"{base}/healthz")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            answer = client.get(f"{base}/healthz")
            took = time.perf_counter() - started
            if answer.status_code != 200:
                raise SystemExit(f"/healthz answered {answer.status_code}")
            times.append(took * 1000)
            time.sleep(max(0.0, PROBE_EVERY - took))
    return times


def sign_in_loop(base: str, n: int, stop: threading.Event, done: list[int]) -> None:
    body = {"username": f"signer{n}", "password": BENCH_PASSWORD}
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            answer = client.post(f"{base}/api/v1/auth/token", json=body)
            if answer.status_code != 200:
                raise SystemExit(f"sign-in answered {answer.status_code}: {answer.text}")
            done[n] += 1


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def measure(engine: str, seconds: int, root: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_with_accounts(engine, tmp, root)
        with deliberation_serve(url, root) as base:
            idle = summary(probe(base, seconds))
            stop = threading.Event()
            done = [0] * CLIENTS
            signers = [
                threading.Thread(target=sign_in_loop, args=(base, n, stop, done), daemon=True)
                for n in range(CLIENTS)
            ]
            for thread in signers:
                thread.start()
            time.sleep(1.0)  # every client is signing in
            counted = sum(done)
            loaded = summary(probe(base, seconds))
            signed = sum(done) - counted
            stop.set()
            for thread in signers:
                thread.join(timeout=60)
    return {
        "engine": engine,
        "healthz_alone": idle,
        "healthz_under_sign_ins": loaded,
        "sign_ins_per_second": round(signed / seconds, 1),
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": loaded["p95_ms"] < TARGET_P95_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--against", help="an earlier commit to measure in the same run")
    args = parser.parse_args()
    results = []
    for engine in args.engines:
        result = measure(engine, args.seconds, ROOT)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
        if args.against:
            with source_at(args.against) as earlier:
                before = measure(engine, args.seconds, earlier)
            before["revision"] = args.against
            print(json.dumps(before, ensure_ascii=False), flush=True)
            results.append(before)
    save_results("sign_in_load", results)


if __name__ == "__main__":
    main()
