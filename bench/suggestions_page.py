"""The public list of villagers' suggestions ``GET /suggestions`` (the HTML page) over
10 000 screened suggestions written straight into the tables (declined with a reason,
or merged): page 1, a deep page, and a keyword (``q=``, a common word and an absent
one). p50/p95 of sequential requests over HTTP, and with 8 concurrent clients
(``wrk -t1 -c8``), against a bare Litestar endpoint served by uvicorn with one worker in
the same run under the same load. The app is served by ``deliberation serve`` with its
defaults (one worker, request log on, delivery loop on).

Target (docs/plans/issue-27-plan.md, I6): p95 < 100 ms.

Run: ``python -m bench.suggestions_page --engine sqlite`` and ``--engine postgres``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.common import fresh_database, save_results, serve, wrk_latency
from bench.notices import p95, timed
from bench.search import PLACES, PROBLEMS, SUBJECTS
from bench.session_check import deliberation_serve

COLUMNS = [
    "reference",
    "township",
    "title",
    "content",
    "public_title",
    "public_content",
    "status",
    "title_grams",
    "created_at",
    "updated_at",
]
SCREENING_COLUMNS = [
    "suggestion",
    "decision",
    "reason",
    "public_reason",
    "screened_by",
    "screened_at",
]
REASON = "不属于本村（社区）公共事务、仅涉及个人诉求"
CASES: list[dict[str, str]] = [{}, {"page": "250"}, {"q": "路灯"}, {"q": "不存在的词"}]
COUNT = re.compile(r"共 (\d+) 条")


def suggestions(n: int, township_id: int) -> list[tuple[Any, ...]]:
    rng = random.Random(27)
    start = datetime(2026, 1, 1, 1, tzinfo=UTC)
    out = []
    for i in range(1, n + 1):
        title = f"{rng.choice(PLACES)}{rng.choice(SUBJECTS)}问题"
        content = f"{title}：{rng.choice(PROBLEMS)}，{rng.choice(PROBLEMS)}。"
        moment = start + timedelta(minutes=31 * i)
        status = "declined" if i % 4 else "merged"
        out.append(
            (
                f"JY-B-{i:06d}",
                township_id,
                title,
                content,
                title,
                content,
                status,
                "",
                moment,
                moment,
            )
        )
    return out


def screenings(first: int, n: int, account_id: int) -> list[tuple[Any, ...]]:
    start = datetime(2026, 1, 2, 1, tzinfo=UTC)
    return [
        (first + i, "decline", REASON, REASON, account_id, start + timedelta(minutes=31 * i))
        for i in range(n)
    ]


def load_sqlite(path: Path, n: int) -> None:
    import sqlite3

    db = sqlite3.connect(path)
    township = db.execute("SELECT id FROM township").fetchone()[0]
    account = db.execute("SELECT id FROM account WHERE username = 'bench'").fetchone()[0]

    def value(v: Any) -> Any:
        return v.isoformat() if isinstance(v, (datetime, date)) else v

    db.executemany(
        f"INSERT INTO suggestion ({','.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))})",
        [tuple(value(v) for v in r) for r in suggestions(n, township)],
    )
    first = db.execute("SELECT min(id) FROM suggestion").fetchone()[0]
    db.executemany(
        f"INSERT INTO suggestion_screening ({','.join(SCREENING_COLUMNS)}) "
        f"VALUES ({','.join('?' * len(SCREENING_COLUMNS))})",
        [tuple(value(v) for v in r) for r in screenings(first, n, account)],
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def load_postgres(url: str, n: int) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        township = await conn.fetchval("SELECT id FROM township")
        account = await conn.fetchval("SELECT id FROM account WHERE username = 'bench'")
        await conn.copy_records_to_table(
            "suggestion", records=suggestions(n, township), columns=COLUMNS
        )
        first = await conn.fetchval("SELECT min(id) FROM suggestion")
        await conn.copy_records_to_table(
            "suggestion_screening",
            records=screenings(first, n, account),
            columns=SCREENING_COLUMNS,
        )
        await conn.execute("ANALYZE suggestion")
        await conn.execute("ANALYZE suggestion_screening")
        await conn.close()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--suggestions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per case")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (wrk)")
    parser.add_argument("--seconds", type=int, default=8, help="each concurrent (wrk) run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.engine, tmp, "黄金埠镇")
        if args.engine == "sqlite":
            load_sqlite(Path(url[len("sqlite:///") :]), args.suggestions)
        else:
            load_postgres(url, args.suggestions)
        with (
            serve("bench.baseline_app:create", {}, 1) as (bare, _),
            httpx.Client(base_url=bare, timeout=60) as client,
        ):
            base_timings, _ = timed(client, "/bench/json", {}, args.requests)
            wrk_latency(f"{bare}/bench/json", 2, args.clients, 1)  # warm-up
            base_concurrent = wrk_latency(f"{bare}/bench/json", args.seconds, args.clients, 1)
        baseline = {
            "p50_ms": round(statistics.median(base_timings), 1),
            "p95_ms": p95(base_timings),
            "concurrent": base_concurrent,
        }
        print(json.dumps({"baseline_bare_litestar": baseline}), flush=True)
        rows: list[dict[str, Any]] = []
        with (
            deliberation_serve(url, fast_path=True) as base,
            httpx.Client(base_url=base, timeout=60) as client,
        ):
            for params in CASES:
                timings, body = timed(client, "/suggestions", params, args.requests)
                shown = COUNT.search(body)
                row: dict[str, Any] = {
                    "engine": args.engine,
                    "suggestions": args.suggestions,
                    **params,
                    "shown_total": int(shown.group(1)) if shown else None,
                    "p50_ms": round(statistics.median(timings), 1),
                    "p95_ms": p95(timings),
                }
                target = f"{base}/suggestions" + (f"?{urlencode(params)}" if params else "")
                wrk_latency(target, 2, args.clients, 1)  # warm-up
                row["concurrent"] = wrk_latency(target, args.seconds, args.clients, 1)
                print(json.dumps(row, ensure_ascii=False), flush=True)
                rows.append(row)
        save_results(
            f"suggestions_page_{args.engine}",
            {"baseline": baseline, "cases": rows, "target_p95_ms": 100},
        )


if __name__ == "__main__":
    main()
