"""``GET /api/v1/topics/{id}`` with the session check on (issue 11), served by
``deliberation serve`` with its defaults (one worker, request log on, delivery loop
on), against a bare Litestar endpoint served by uvicorn the same way, in the same run:
``wrk -t1 -c16``, one topic, both modes of ``DELIBERATION_FAST_PATH``.

Targets: ≥ 40 % of the bare endpoint on PostgreSQL, ≥ 25 % on SQLite (fast path on).

    python -m bench.session_check [--engines sqlite postgres] [--seconds 8] [--rounds 2]
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
import time
from collections.abc import Iterator

import httpx

from bench.common import (
    KEYS,
    ROOT,
    cli,
    free_port,
    migrated_database,
    save_results,
    serve,
    staff_token,
    wrk,
)

TARGETS = {"postgres": 0.40, "sqlite": 0.25}


@contextlib.contextmanager
def deliberation_serve(url: str, fast_path: bool) -> Iterator[str]:
    """``deliberation serve`` as an operator starts it (its defaults), on a free port."""
    port = free_port()
    env = {
        **os.environ,
        "DELIBERATION_DATABASE_URL": url,
        **KEYS,
        "DELIBERATION_FAST_PATH": "1" if fast_path else "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
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


def one_topic(base: str, token: str) -> str:
    answer = httpx.get(
        f"{base}/api/v1/topics", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    answer.raise_for_status()
    return f"/api/v1/topics/{answer.json()['items'][0]['id']}"


def bench_wrk(url: str, seconds: int, token: str | None = None) -> float:
    wrk(url, seconds=2, connections=16, threads=1, token=token)  # warm-up
    return wrk(url, seconds=seconds, connections=16, threads=1, token=token)


def baseline(seconds: int) -> float:
    with serve("bench.baseline_app:create", {}, workers=1) as (base, _):
        return bench_wrk(f"{base}/bench/json", seconds)


def measure(engine: str, seconds: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        url = migrated_database(engine, tmp)
        cli(url, "demo")
        rows: list[dict[str, float]] = []
        for _ in range(rounds):
            row = {"baseline": baseline(seconds)}
            for fast in (True, False):
                with deliberation_serve(url, fast) as base:
                    token = staff_token(base)
                    path = one_topic(base, token)
                    row["fast" if fast else "plain"] = bench_wrk(f"{base}{path}", seconds, token)
            rows.append(row)
    bare = statistics.mean(r["baseline"] for r in rows)
    fast = statistics.mean(r["fast"] for r in rows)
    plain = statistics.mean(r["plain"] for r in rows)
    return {
        "engine": engine,
        "rounds": rows,
        "baseline_rps": round(bare),
        "fast_path_rps": round(fast),
        "plain_rps": round(plain),
        "fast_path_ratio": round(fast / bare, 3),
        "plain_ratio": round(plain / bare, 3),
        "target": TARGETS[engine],
        "meets_target": fast / bare >= TARGETS[engine],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results = []
    for engine in args.engines:
        result = measure(engine, args.seconds, args.rounds)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
    save_results("session_check", results)


if __name__ == "__main__":
    main()
