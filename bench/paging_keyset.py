"""Keyset paging at depth (issue 29, item 1; docs/decisions.md "Paged lists"): one topic
with 10 000 opinions (another topic's 10 000 written in between, so that the table is
not one topic's) and 10 000 more events on its chain, ``deliberation serve`` on
127.0.0.1:18100, and the staff's ``GET /api/v1/topics/{id}/opinions`` and ``…/events``
at page 1 and at page 100 (``limit=100``, ``after`` the key of row 9 900): p50/p95 of
sequential requests after a warm-up, and the plan the database chooses for the page's
query at each depth (EXPLAIN). Page 100 should cost what page 1 costs.

The topic, its first opinion and the accounts are made through the app; the other rows
are written straight into the tables (the chain of this throw-away database is not
verified), so that seeding takes seconds.

    python -m bench.paging_keyset --engine sqlite
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/bench_paging \\
        python -m bench.paging_keyset --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from typing import Any

import httpx

from bench.common import KEYS, fresh_database, save_results, started
from bench.topic_page import accounts, api_client, ok, p95

TOWNSHIP = "黄金埠镇"
PORT = 18100
ROWS = 10_000
LIMIT = 100


def served(url: str) -> contextlib.AbstractContextManager[str]:
    """``deliberation serve`` with its defaults on 127.0.0.1:``PORT``."""
    cmd = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(PORT)]
    return started(cmd, {**os.environ, "DELIBERATION_DATABASE_URL": url, **KEYS}, PORT)


async def seed(url: str, topic_id: int, author_id: int, other_id: int) -> None:
    """``ROWS`` opinions and ``ROWS`` events more on ``topic_id``, in batches, each batch
    of opinions followed by as many on ``other_id`` (a table of many topics)."""
    from deliberation.clock import utcnow
    from deliberation.database import bind_engine, close_engine, engine_for_url, open_engine
    from deliberation.tables import Opinion, TopicEvent

    engine = engine_for_url(url)
    bind_engine(engine)
    await open_engine(engine)
    try:
        last = await TopicEvent.select(TopicEvent.seq).where(TopicEvent.topic == topic_id)
        seq = max(r["seq"] for r in last)
        now = utcnow()
        for start in range(0, ROWS, 500):
            await Opinion.insert(
                *[
                    Opinion(
                        topic=topic_id,
                        author=author_id,
                        content=f"第{i}条意见：沿河路段路灯应尽快修复。",
                        stance=("support", "oppose", "suggestion")[i % 3],
                        on_behalf_of="",
                        answer_reason="",
                        created_at=now + timedelta(microseconds=i),
                    )
                    for i in range(start, start + 500)
                ]
            )
            await Opinion.insert(
                *[
                    Opinion(
                        topic=other_id,
                        author=author_id,
                        content=f"另一议题第{i}条意见",
                        stance="support",
                        on_behalf_of="",
                        answer_reason="",
                        created_at=now + timedelta(microseconds=i),
                    )
                    for i in range(start, start + 500)
                ]
            )
            await TopicEvent.insert(
                *[
                    TopicEvent(
                        topic=topic_id,
                        seq=seq + 1 + i,
                        kind="record.created",
                        data=json.dumps({"record": "opinion", "id": 0, "revision": 1}),
                        trigger="",
                        from_state="proposed",
                        to_state="proposed",
                        actor=author_id,
                        comment="",
                        created_at=now + timedelta(microseconds=i),
                        prev_hash="0" * 64,
                        hash="0" * 64,
                    )
                    for i in range(start, start + 500)
                ]
            )
        if not url.startswith("sqlite"):  # what autovacuum does after a load like this
            await Opinion.raw("ANALYZE opinion")
            await TopicEvent.raw("ANALYZE topic_event")
    finally:
        await close_engine(engine)


async def plans(url: str, topic_id: int, keys: dict[str, dict[str, int | None]]) -> dict[str, Any]:
    """The database's plan for each page's query (as ``deliberation.paging.keyed``
    makes it for the staff, who see every row)."""
    from deliberation.database import bind_engine, close_engine, engine_for_url, open_engine
    from deliberation.paging import Window, keyed
    from deliberation.tables import Opinion, TopicEvent

    engine = engine_for_url(url)
    bind_engine(engine)
    await open_engine(engine)
    sqlite = url.startswith("sqlite")
    found: dict[str, Any] = {}
    try:
        for name, table, key, columns in (
            ("opinions", Opinion, Opinion.id, (Opinion.id, Opinion.author.display_name)),
            ("events", TopicEvent, TopicEvent.seq, (TopicEvent.seq, TopicEvent.actor.role)),
        ):
            for depth, after in keys[name].items():
                query = keyed(
                    table.select(*columns).where(table.topic == topic_id),
                    key,
                    Window(limit=LIMIT, after=after),
                )
                explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
                rows = await table.raw(explain + str(query))
                lines = [r.get("detail") or r.get("QUERY PLAN") or str(r) for r in rows]
                found[f"{name}_{depth}"] = lines
    finally:
        await close_engine(engine)
    return found


def timed(client: httpx.Client, path: str, params: dict[str, Any], n: int) -> dict[str, float]:
    for _ in range(5):
        ok(client.get(path, params=params))
    timings = []
    for _ in range(n):
        t0 = time.perf_counter()
        answer = client.get(path, params=params)
        timings.append((time.perf_counter() - t0) * 1000)
        ok(answer)
        assert len(answer.json()) == LIMIT and "link" in answer.headers
    return {"p50_ms": round(statistics.median(timings), 1), "p95_ms": p95(timings)}


def measure(
    staff: httpx.Client, path: str, keys: dict[str, dict[str, int | None]], n: int
) -> dict[str, Any]:
    results = {}
    for name in ("opinions", "events"):
        for depth, after in keys[name].items():
            params = {"limit": LIMIT} if after is None else {"limit": LIMIT, "after": after}
            results[f"{name}_{depth}"] = timed(staff, f"{path}/{name}", params, n)
    return results


def run(engine: str, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(engine, tmp, TOWNSHIP)
        [rep] = accounts(url, 1)
        with served(url) as base:
            staff = api_client(base, "bench")
            topic = ok(
                staff.post(
                    "/api/v1/topics",
                    json={"title": "沿河路段路灯损坏问题", "description": "十余盏路灯损坏。"},
                )
            ).json()
            other = ok(
                staff.post(
                    "/api/v1/topics", json={"title": "另一议题", "description": "另一议题。"}
                )
            ).json()
            author = api_client(base, rep)
            first = ok(
                author.post(
                    f"/api/v1/topics/{topic['id']}/opinions",
                    json={"content": "尽快修复", "stance": "support"},
                )
            ).json()
            asyncio.run(seed(url, topic["id"], first["author_id"], other["id"]))
            path = f"/api/v1/topics/{topic['id']}"
            keys: dict[str, dict[str, int | None]] = {}
            results: dict[str, Any] = {"engine": engine, "rows": ROWS + 1, "limit": LIMIT}
            for name in ("opinions", "events"):
                key = "id" if name == "opinions" else "seq"
                rows: list[dict[str, Any]] = []
                address: str | None = f"{path}/{name}?limit=500"
                while address is not None and len(rows) < 99 * LIMIT:  # by the Link headers
                    answer = ok(staff.get(address))
                    rows += answer.json()
                    address = answer.headers.get("link", "<>").split(">")[0][1:] or None
                keys[name] = {"page_1": None, "page_100": rows[99 * LIMIT - 1][key]}
            results.update(measure(staff, path, keys, n))
            tallies = ok(staff.get(path)).json()["tallies"]
            results["tallies_opinions"] = sum(tallies["opinions"].values())
            results["plans"] = asyncio.run(plans(url, topic["id"], keys))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    os.environ.update(KEYS)
    results = run(args.engine, args.requests)
    save_results(f"paging_keyset_{args.engine}", results)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
