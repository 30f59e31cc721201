"""GET /api/v1/topics/{id} against a bare Litestar endpoint, and transitions/s.

Both servers run under uvicorn the same way (same workers, loopback, wrk with
32 connections for a bounded time). Run: ``python -m bench.api_throughput``
(``--engines sqlite postgres --workers 1 2 --seconds 8``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import (
    KEYS,
    ROOT,
    cli,
    migrated_database,
    save_results,
    serve,
    source_at,
    staff_token,
    tree_peak_rss_mb,
    wrk,
)


def prepare(engine: str, tmp: Path, root: Path = ROOT) -> str:
    url = migrated_database(engine, tmp, root)
    cli(url, "demo", root=root)
    return url


def topic_paths(base: str, tok: str) -> list[str]:
    """Every demo topic, so the GETs do not all read the same row."""
    r = httpx.get(
        f"{base}/api/v1/topics",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {tok}"},
    )
    r.raise_for_status()
    return [f"/api/v1/topics/{t['id']}" for t in r.json()["items"]]


async def writes(base: str, tok: str, n: int, concurrency: int = 16) -> tuple[float, float]:
    """(records/s, transitions/s): an investigation record added to each of ``n`` new
    topics (each write with its chain event, where the code has one), then
    ``investigate`` fired on each, ``concurrency`` at a time, over HTTP."""
    headers = {"Authorization": f"Bearer {tok}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        ids = []
        for i in range(n):
            r = await client.post(
                "/api/v1/topics", json={"title": f"压测议题{i}", "description": "用于测量流转速度"}
            )
            ids.append(r.json()["id"])
        semaphore = asyncio.Semaphore(concurrency)

        async def record(tid: int) -> None:
            async with semaphore:
                r = await client.post(
                    f"/api/v1/topics/{tid}/investigations",
                    json={
                        "visited_on": "2026-11-01",
                        "place": "现场",
                        "participants": "p",
                        "findings": "f",
                    },
                )
                assert r.status_code == 201, r.text

        async def fire(tid: int) -> None:
            async with semaphore:
                r = await client.post(
                    f"/api/v1/topics/{tid}/transitions",
                    json={"trigger": "investigate", "version": 1},
                )
                assert r.status_code == 200, r.text

        started = time.perf_counter()
        await asyncio.gather(*[record(t) for t in ids])
        records = n / (time.perf_counter() - started)
        started = time.perf_counter()
        await asyncio.gather(*[fire(t) for t in ids])
        return records, n / (time.perf_counter() - started)


def measure(
    code: str, root: Path, engine: str, workers: int, tmp: Path, args: argparse.Namespace
) -> dict[str, object]:
    url = prepare(engine, tmp, root)
    env = {"DELIBERATION_DATABASE_URL": url, **KEYS, "DELIBERATION_LOG_LEVEL": "INFO"}
    with serve("api.app:app_from_env", env, workers, root) as (base, proc):
        tok = staff_token(base)
        paths = topic_paths(base, tok)
        wrk(f"{base}{paths[0]}", seconds=2, token=tok, paths=paths)
        topic = wrk(f"{base}{paths[0]}", seconds=args.seconds, token=tok, paths=paths)
        records, fired = asyncio.run(writes(base, tok, args.transitions))
        peak = tree_peak_rss_mb(proc.pid)
    return {
        "code": code,
        "engine": engine,
        "workers": workers,
        "get_topic_rps": round(topic),
        "records_per_s": round(records, 1),
        "transitions_per_s": round(fired, 1),
        "peak_rss_mb": round(peak, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--transitions", type=int, default=300)
    parser.add_argument(
        "--against",
        metavar="REV",
        help="also measure this earlier commit, in the same run (e.g. 280501c)",
    )
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        codes = [("now", ROOT)]
        if args.against:
            codes.append((args.against, stack.enter_context(source_at(args.against))))
        for engine in args.engines:
            for workers in args.workers:
                with serve("bench.baseline_app:create", {}, workers) as (base, _):
                    wrk(f"{base}/bench/json", seconds=2)  # warm-up
                    baseline = wrk(f"{base}/bench/json", seconds=args.seconds)
                for code, root in codes:
                    row = measure(code, root, engine, workers, Path(tmp), args)
                    row["baseline_rps"] = round(baseline)
                    row["ratio"] = round(int(row["get_topic_rps"]) / baseline, 3)  # type: ignore[call-overload]
                    print(json.dumps(row, ensure_ascii=False), flush=True)
                    results.append(row)
    save_results("api_throughput", results)


if __name__ == "__main__":
    main()
