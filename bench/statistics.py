"""The year's figures (issue 15) over 50 townships × 200 topics (a county's year written
straight into the tables by ``bench/county_year.py``: every state, a fifth of the
stages late, opinions, items, ratings, meetings with rolls): ``GET /api/v1/statistics``
for every township as the county supervisor (bearer) and as the public, one township,
and the page ``GET /statistics``: p50/p95 of sequential requests after a warm-up and with
8 concurrent clients (wrk); then the first answer after a change (a township created:
the cache must count again), five times. ``deliberation serve`` with its defaults (one
worker), against a bare Litestar endpoint in the same run. The API's topics by state
are compared with a ``GROUP BY`` on the table.

Target: p95 < 200 ms on SQLite and PostgreSQL, never stale beyond the last change.

    python -m bench.statistics --engine sqlite
    python -m bench.statistics --engine postgres
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from typing import Any

import httpx

from bench import county_year
from bench.common import (
    BENCH_PASSWORD,
    cli,
    county_supervisor,
    fresh_database,
    save_results,
    serve,
    wrk_latency,
)
from bench.county_view import counts_equal
from bench.session_check import deliberation_serve
from bench.topic_page import ok, sequential

YEAR = 2025


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--townships", type=int, default=50)
    parser.add_argument("--per-township", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.engine, tmp, "压测镇001")
        county_supervisor(url)
        started = time.perf_counter()
        topics = county_year.write(args.engine, url, YEAR, args.townships, args.per_township)
        results: dict[str, Any] = {
            "engine": args.engine,
            "townships": args.townships,
            "topics": topics,
            "load_s": round(time.perf_counter() - started, 1),
        }
        with (
            serve("bench.baseline_app:create", {}, 1) as (bare, _),
            httpx.Client(base_url=bare, timeout=60) as client,
        ):
            results["baseline"] = sequential(client, "/bench/json", args.requests, 20)
            results["baseline_wrk_c8"] = wrk_latency(f"{bare}/bench/json", args.seconds, 8, 1)
        everything = f"/api/v1/statistics?year={YEAR}"
        with deliberation_serve(url, fast_path=True) as base:
            token = ok(
                httpx.post(
                    f"{base}/api/v1/auth/token",
                    json={"username": "benchcounty", "password": BENCH_PASSWORD},
                )
            ).json()["access_token"]
            bearer = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, timeout=120, headers=bearer) as client:
                started = time.perf_counter()
                answer = ok(client.get(everything)).json()
                results["first_answer_ms"] = round((time.perf_counter() - started) * 1000, 1)
                results["county_api"] = sequential(client, everything, args.requests, 20)
                one = answer["townships"][-1]["township_id"]
                results["one_township_api"] = sequential(
                    client, f"{everything}&township_id={one}", args.requests, 20
                )
                results["after_a_change_ms"] = after_changes(client, url, everything)
            with httpx.Client(base_url=base, timeout=120) as public:
                results["public_api"] = sequential(public, everything, args.requests, 20)
                results["page"] = sequential(public, f"/statistics?year={YEAR}", args.requests, 20)
            results["county_api_wrk_c8"] = wrk_latency(
                f"{base}{everything}", args.seconds, 8, 1, headers=bearer
            )
            results["page_wrk_c8"] = wrk_latency(
                f"{base}/statistics?year={YEAR}", args.seconds, 8, 1
            )
        view = {
            "townships": [
                {"id": t["township_id"], "by_state": t["by_state"]} for t in answer["townships"]
            ]
        }
        results["counts_equal_the_table"] = counts_equal(args.engine, url, view)
        results["total_topics"] = answer["total"]["topics"]
        results["target_p95_ms"] = 200
        print(json.dumps(results, ensure_ascii=False, indent=2))
        save_results(f"statistics_{args.engine}", results)


def after_changes(client: httpx.Client, url: str, path: str, rounds: int = 5) -> dict[str, Any]:
    """The first answer after a township is created (a security event: the figures are
    counted again), and that the new township is in it."""
    timings = []
    for n in range(rounds):
        name = f"新建压测镇{n}"
        cli(url, "township", "create", name)
        started = time.perf_counter()
        answer = ok(client.get(path)).json()
        timings.append((time.perf_counter() - started) * 1000)
        assert any(t["township_name"] == name for t in answer["townships"]), "stale figures"
    return {
        "rounds": rounds,
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
    }


if __name__ == "__main__":
    main()
