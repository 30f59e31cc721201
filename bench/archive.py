"""One archive bag (issue 15): ``GET /api/v1/topics/{id}/archive`` for the demo's closed
topic (its whole record, chain checked with the audit key, every published PDF) as the
township's staff, p50/p95 of sequential requests after a warm-up, ``deliberation serve``
defaults; against, in the same run, zipping the same bag's files with ``zipfile`` alone
(the floor for any bag of these bytes) and a bare Litestar endpoint.

Target: < 1 s.

    python -m bench.archive --engine sqlite
    python -m bench.archive --engine postgres
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
import zipfile
from typing import Any

import httpx

from bench.common import cli, migrated_database, save_results, serve, staff_token
from bench.session_check import deliberation_serve
from bench.topic_page import ok, sequential


def rezip(bag: bytes, rounds: int = 20) -> dict[str, float]:
    """The same files zipped again with nothing else: p50/p95 in ms."""
    with zipfile.ZipFile(io.BytesIO(bag)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, body in files.items():
                archive.writestr(name, body)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = migrated_database(args.engine, tmp)
        cli(url, "demo")
        results: dict[str, Any] = {"engine": args.engine}
        with (
            serve("bench.baseline_app:create", {}, 1) as (bare, _),
            httpx.Client(base_url=bare, timeout=60) as client,
        ):
            results["baseline"] = sequential(client, "/bench/json", args.requests, 5)
        with deliberation_serve(url, fast_path=True) as base:
            bearer = {"Authorization": f"Bearer {staff_token(base)}"}
            with httpx.Client(base_url=base, timeout=60, headers=bearer) as client:
                closed = ok(client.get("/api/v1/topics", params={"state": "closed"})).json()
                topic = closed["items"][0]
                path = f"/api/v1/topics/{topic['id']}/archive"
                bag = ok(client.get(path)).content
                results["bag"] = sequential(client, path, args.requests, 5)
        with zipfile.ZipFile(io.BytesIO(bag)) as archive:
            names = archive.namelist()
            events = json.loads(archive.read(next(n for n in names if n.endswith("events.json"))))
        results["bag_kb"] = round(len(bag) / 1024, 1)
        results["files"] = len(names)
        results["pdfs"] = sum(1 for n in names if n.endswith(".pdf"))
        results["events"] = len(events)
        results["zip_alone"] = rezip(bag)
        results["target_ms"] = 1000
        print(json.dumps(results, ensure_ascii=False, indent=2))
        save_results(f"archive_{args.engine}", results)


if __name__ == "__main__":
    main()
