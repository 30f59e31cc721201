"""The county view (issue 14) over 50 townships × 200 topics (10 000 topics in every
state, a fifth of those in a timed stage overdue, some urged): ``GET /api/v1/county``
(bearer token) and the page ``GET /county`` (signed in through the login form) for the
county supervisor, p50/p95 of sequential requests after a warm-up and with 8
concurrent clients (wrk), served by ``deliberation serve`` with its defaults (one
worker), against a bare Litestar endpoint (uvicorn, one worker) in the same run. The
topics are written straight into the tables (like ``bench/notices.py``); the counts on
the API's answer are compared with counts taken straight from the table.

Target: p95 < 200 ms on SQLite and PostgreSQL.

    python -m bench.county_view --engine sqlite
    python -m bench.county_view --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    BENCH_PASSWORD,
    cli,
    county_supervisor,
    fresh_database,
    save_results,
    serve,
    wrk_latency,
)
from bench.session_check import deliberation_serve
from bench.topic_page import ok, page_session, sequential
from deliberation import clock
from workflows import WORKFLOW

TOWNSHIPS = 50
PER_TOWNSHIP = 200
STATES = WORKFLOW.state_names
TIMED = [s.name for s in WORKFLOW.states if s.time_limit is not None]
TOPIC_COLUMNS = [
    "reference",
    "title",
    "description",
    "category",
    "township",
    "state",
    "version",
    "opened_by",
    "created_at",
    "updated_at",
    "search_text",
    "search_grams",
    "stage_entered_on",
    "due_on",
    "urged_at",
]


def topic_rows(township_ids: list[int], account: int, per: int) -> list[tuple[Any, ...]]:
    rng = random.Random(14)
    now = clock.utcnow()
    today = clock.china_today(now)
    rows = []
    n = 0
    for township in township_ids:
        for _ in range(per):
            n += 1
            state = rng.choice(STATES)
            due = None
            urged = None
            if state in TIMED:
                late = rng.random() < 0.2
                due = (
                    today - timedelta(days=rng.randint(1, 30))
                    if late
                    else today + timedelta(days=rng.randint(1, 20))
                )
                if late and rng.random() < 0.3:
                    urged = now
            rows.append(
                (
                    f"HSL-C-{n:07d}",
                    f"压测议题{n}",
                    "压测",
                    "",
                    township,
                    state,
                    1,
                    account,
                    now,
                    now,
                    "",
                    "",
                    today - timedelta(days=10),
                    due,
                    urged,
                )
            )
    return rows


def load(engine: str, url: str, per: int) -> None:
    if engine == "sqlite":
        import sqlite3

        db = sqlite3.connect(url[len("sqlite:///") :])
        ids = [r[0] for r in db.execute("SELECT id FROM township ORDER BY id")]
        account = db.execute("SELECT id FROM account WHERE username = 'bench'").fetchone()[0]

        def value(v: Any) -> Any:
            return v.isoformat() if isinstance(v, (datetime, date)) else v

        db.executemany(
            f"INSERT INTO topic ({','.join(TOPIC_COLUMNS)}) "
            f"VALUES ({','.join('?' * len(TOPIC_COLUMNS))})",
            [tuple(value(v) for v in r) for r in topic_rows(ids, account, per)],
        )
        db.commit()
        db.execute("ANALYZE")
        db.close()
        return

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM township ORDER BY id")]
        account = await conn.fetchval("SELECT id FROM account WHERE username = 'bench'")
        await conn.copy_records_to_table(
            "topic", records=topic_rows(ids, account, per), columns=TOPIC_COLUMNS
        )
        await conn.execute("ANALYZE topic")
        await conn.close()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--townships", type=int, default=TOWNSHIPS)
    parser.add_argument("--per-township", type=int, default=PER_TOWNSHIP)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.engine, tmp, "压测镇001")
        for n in range(2, args.townships + 1):
            cli(url, "township", "create", f"压测镇{n:03d}")
        county_supervisor(url)
        load(args.engine, url, args.per_township)
        results: dict[str, Any] = {
            "engine": args.engine,
            "townships": args.townships,
            "topics": args.townships * args.per_township,
        }
        with (
            serve("bench.baseline_app:create", {}, 1) as (bare, _),
            httpx.Client(base_url=bare, timeout=60) as client,
        ):
            results["baseline"] = sequential(client, "/bench/json", args.requests, 20)
            results["baseline_wrk_c8"] = wrk_latency(f"{bare}/bench/json", args.seconds, 8, 1)
        with deliberation_serve(url, fast_path=True) as base:
            token = ok(
                httpx.post(
                    f"{base}/api/v1/auth/token",
                    json={"username": "benchcounty", "password": BENCH_PASSWORD},
                )
            ).json()["access_token"]
            bearer = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, timeout=60, headers=bearer) as client:
                view = ok(client.get("/api/v1/county")).json()
                results["api"] = sequential(client, "/api/v1/county", args.requests, 20)
            results["api_wrk_c8"] = wrk_latency(
                f"{base}/api/v1/county", args.seconds, 8, 1, headers=bearer
            )
            cookies = page_session(base, "benchcounty")
            with httpx.Client(base_url=base, timeout=60, cookies=cookies) as client:
                page = ok(client.get("/county"))
                assert "全县总览" in page.text
                results["page"] = sequential(client, "/county", args.requests, 20)
            cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
            results["page_wrk_c8"] = wrk_latency(
                f"{base}/county", args.seconds, 8, 1, headers={"Cookie": cookie}
            )
        results["counts_equal_the_table"] = counts_equal(args.engine, url, view)
        results["overdue_total"] = view["overdue_total"]
        results["target_p95_ms"] = 200
        print(json.dumps(results, ensure_ascii=False, indent=2))
        save_results(f"county_view_{args.engine}", results)


def counts_equal(engine: str, url: str, view: dict[str, Any]) -> bool:
    query = "SELECT township, state, count(*) FROM topic GROUP BY township, state"
    if engine == "sqlite":
        import sqlite3

        db = sqlite3.connect(Path(url[len("sqlite:///") :]))
        rows = db.execute(query).fetchall()
        db.close()
    else:
        import asyncpg

        async def fetch() -> list[Any]:
            conn = await asyncpg.connect(url)
            found = await conn.fetch(query)
            await conn.close()
            return [tuple(r) for r in found]

        rows = asyncio.run(fetch())
    direct: dict[int, dict[str, int]] = {}
    for township, state, n in rows:
        direct.setdefault(township, {})[state] = n
    return all(line["by_state"] == direct.get(line["id"], {}) for line in view["townships"])


if __name__ == "__main__":
    main()
