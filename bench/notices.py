"""The public notice board ``GET /notices?q=<keyword>`` (the HTML page) over 10 000
published documents: p50/p95 over HTTP of sequential requests, and of 32 concurrent
clients (``wrk -t1 -c32``, its latency distribution), against a bare Litestar endpoint
served by uvicorn with one worker in the same run under the same load; and whether the
count on the page equals a plain substring scan. The app is served by
``deliberation serve`` with its defaults (one worker, request log on, delivery loop on).

The board keeps its pages in memory while it is unchanged (``deliberation.documents.board``),
so a repeated question is answered from memory. Two more cases measure the misses: a
sequential run where the board's version is raised before every request (each request
then searches the texts, as the first visitor after a publish does), and 32 clients
while the version is raised once a second (far more publishes than any township makes).

Targets: p95 < 150 ms for a keyword search, sequential and with 32 concurrent clients.

Run: ``python -m bench.notices --engine sqlite`` and ``python -m bench.notices --engine postgres``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.common import fresh_database, save_results, serve, wrk_latency
from bench.search import ASKS, PLACES, PROBLEMS, SUBJECTS
from bench.session_check import deliberation_serve
from deliberation.search import normalise

KINDS = {
    "resolution_notice": "关于“{t}”协商成果的公示",
    "minutes": "关于“{t}”协商会议的纪要",
    "feedback_report": "关于“{t}”协商成果落实情况的通报",
}
# Common, middling, rare (0.01 %) and absent words, and a township name on every notice.
WORDS = ["路灯", "渡船", "养老服务站", "鳐鱼", "不存在的词", "黄金埠"]


def document_text(i: int, rng: random.Random) -> tuple[str, str, str]:
    """(kind, title, text): about the length of a real one-page notice."""
    place = rng.choice(PLACES)
    subject = rng.choice(SUBJECTS)
    topic = f"{place}{subject}问题"
    kind = rng.choice(list(KINDS))
    title = KINDS[kind].format(t=topic)
    paragraphs = [
        f"黄金埠镇政协联络组就{topic}组织开展“好商量”协商议事活动。",
        f"经调研,{place}{subject}{rng.choice(PROBLEMS)},{rng.choice(PROBLEMS)}。",
        f"经现场协商和会议协商,形成如下成果:一、{rng.choice(ASKS)};二、{rng.choice(ASKS)};"
        f"三、由镇村建办牵头,于{rng.randint(1, 12)}月底前完成。",
        "公示期内如有意见,请向镇政协联络组反映。联系电话:0792-1234567。",
    ]
    if i % 10_000 == 0:
        paragraphs.append("另有鳐鱼养殖尾水问题一并协商。")
    return kind, title, "\n".join([title, *paragraphs * 3])


def rows(n: int, first_topic: int, township_id: int, account_id: int) -> list[tuple[Any, ...]]:
    """One published document per topic (one published document of a kind per topic)."""
    rng = random.Random(11)
    start = datetime(2025, 1, 1, 1, tzinfo=UTC)
    out = []
    for i in range(1, n + 1):
        kind, title, text = document_text(i, rng)
        published = start + timedelta(minutes=97 * i)
        day = published.date()
        out.append(
            (
                first_topic + i - 1,
                township_id,
                kind,
                title,
                "published",
                day.year if kind == "resolution_notice" else None,
                i if kind == "resolution_notice" else None,
                "{}",
                normalise(text),
                b"%PDF-bench",
                "0" * 64,
                10,
                account_id,
                published,
                published,
                account_id,
                day,
                day + timedelta(days=7),
                False,
                "",
            )
        )
    return out


COLUMNS = [
    "topic",
    "township",
    "kind",
    "title",
    "status",
    "number_year",
    "number",
    "content",
    "search_text",
    "pdf",
    "sha256",
    "size_bytes",
    "created_by",
    "created_at",
    "published_at",
    "published_by",
    "posting_starts_on",
    "posting_ends_on",
    "posting_provisional",
    "revoke_reason",
]

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
]


def topics(n: int, township_id: int, account_id: int) -> list[tuple[Any, ...]]:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        (
            f"HSL-B-{i:07d}",
            "压测议题",
            "压测",
            "",
            township_id,
            "closed",
            1,
            account_id,
            now,
            now,
            "",
            "",
        )
        for i in range(1, n + 1)
    ]


def load_sqlite(path: Path, n: int) -> None:
    import sqlite3

    db = sqlite3.connect(path)
    township = db.execute("SELECT id FROM township").fetchone()[0]
    account = db.execute("SELECT id FROM account WHERE username = 'bench'").fetchone()[0]

    def sqlite_value(v: Any) -> Any:
        return v.isoformat() if isinstance(v, (datetime, date)) else v

    db.executemany(
        f"INSERT INTO topic ({','.join(TOPIC_COLUMNS)}) VALUES ({','.join('?' * len(TOPIC_COLUMNS))})",
        [tuple(sqlite_value(v) for v in r) for r in topics(n, township, account)],
    )
    topic = db.execute("SELECT min(id) FROM topic").fetchone()[0]
    data = rows(n, topic, township, account)
    placeholders = ",".join("?" * len(COLUMNS))

    db.executemany(
        f"INSERT INTO document ({','.join(COLUMNS)}) VALUES ({placeholders})",
        [tuple(sqlite_value(v) for v in r) for r in data],
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
            "topic", records=topics(n, township, account), columns=TOPIC_COLUMNS
        )
        topic = await conn.fetchval("SELECT min(id) FROM topic")
        await conn.copy_records_to_table(
            "document", records=rows(n, topic, township, account), columns=COLUMNS
        )
        await conn.execute("ANALYZE document")
        await conn.close()

    asyncio.run(run())


def scan_count(engine: str, url: str, word: str) -> int:
    """How many published documents a plain substring scan finds."""
    needle = normalise(word)
    if engine == "sqlite":
        import sqlite3

        db = sqlite3.connect(url[len("sqlite:///") :])
        (count,) = db.execute(
            "SELECT count(*) FROM document WHERE status = 'published' "
            "AND instr(search_text, ?) > 0",
            (needle,),
        ).fetchone()
        db.close()
        return int(count)

    import asyncpg

    async def run() -> int:
        conn = await asyncpg.connect(url)
        count = await conn.fetchval(
            "SELECT count(*) FROM document WHERE status = 'published' "
            "AND strpos(search_text, $1) > 0",
            needle,
        )
        await conn.close()
        return int(count)

    return asyncio.run(run())


def board_changer(engine: str, url: str) -> Callable[[], None]:
    """Raises the board's version, as a publish does (a new connection each time, like
    another server process would)."""
    if engine == "sqlite":
        import sqlite3

        path = url[len("sqlite:///") :]

        def bump_sqlite() -> None:
            db = sqlite3.connect(path, timeout=30)
            db.execute("UPDATE notice_board SET version = version + 1 WHERE id = 1")
            db.commit()
            db.close()

        return bump_sqlite

    import asyncpg

    async def bump_postgres() -> None:
        conn = await asyncpg.connect(url)
        await conn.execute("UPDATE notice_board SET version = version + 1 WHERE id = 1")
        await conn.close()

    return lambda: asyncio.run(bump_postgres())


class ChangingBoard:
    """Raises the board's version every ``interval`` seconds in a thread."""

    def __init__(self, change: Callable[[], None], interval: float = 1.0) -> None:
        self.change, self.interval = change, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.changes = 0

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.change()
            self.changes += 1

    def __enter__(self) -> ChangingBoard:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def timed(
    client: httpx.Client,
    path: str,
    params: dict[str, str],
    n: int,
    before: Callable[[], None] | None = None,
) -> tuple[list[float], str]:
    timings = []
    body = ""
    for _ in range(n):
        if before is not None:
            before()
        t0 = time.perf_counter()
        response = client.get(path, params=params)
        timings.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
        body = response.text
    timings.sort()
    return timings, body


def p95(timings: list[float]) -> float:
    return round(timings[max(0, int(len(timings) * 0.95) - 1)], 1)


COUNT = re.compile(r"共 (\d+) 份文件")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60, help="requests per keyword")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (wrk)")
    parser.add_argument("--seconds", type=int, default=8, help="each concurrent (wrk) run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.engine, tmp, "黄金埠镇")
        started = time.perf_counter()
        if args.engine == "sqlite":
            load_sqlite(Path(url[len("sqlite:///") :]), args.documents)
        else:
            load_postgres(url, args.documents)
        load_s = time.perf_counter() - started
        results: list[dict[str, Any]] = []
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
        cases: list[dict[str, str]] = [{}]
        cases += [{"q": w} for w in WORDS]
        cases += [{"q": "路灯", "from": "2025-06-01", "to": "2025-12-31"}]
        concurrent: list[dict[str, Any]] = []
        with (
            deliberation_serve(url, fast_path=True) as base,
            httpx.Client(base_url=base, timeout=60) as client,
        ):
            for params in cases:
                timings, body = timed(client, "/notices", params, args.requests)
                shown = COUNT.search(body)
                row: dict[str, Any] = {
                    "engine": args.engine,
                    "documents": args.documents,
                    **params,
                    "shown_total": int(shown.group(1)) if shown else None,
                    "p50_ms": round(statistics.median(timings), 1),
                    "p95_ms": p95(timings),
                }
                if set(params) == {"q"}:
                    row["same_as_scan"] = row["shown_total"] == scan_count(
                        args.engine, url, params["q"]
                    )
                print(json.dumps(row, ensure_ascii=False), flush=True)
                results.append(row)
            # Every request a miss: the board changed just before it.
            change = board_changer(args.engine, url)
            misses: list[dict[str, Any]] = []
            for params in cases:
                timings, body = timed(client, "/notices", params, args.requests, before=change)
                shown = COUNT.search(body)
                row = {
                    "engine": args.engine,
                    "every_request_a_miss": True,
                    **params,
                    "shown_total": int(shown.group(1)) if shown else None,
                    "p50_ms": round(statistics.median(timings), 1),
                    "p95_ms": p95(timings),
                }
                print(json.dumps(row, ensure_ascii=False), flush=True)
                misses.append(row)
            # The same cases with 32 clients at once, each sending its next request as
            # soon as the last is answered.
            wrk_latency(f"{base}/notices", 2, args.clients, 1)  # warm-up
            for params in cases:
                target = f"{base}/notices" + (f"?{urlencode(params)}" if params else "")
                row = {
                    "engine": args.engine,
                    "clients": args.clients,
                    **params,
                    **wrk_latency(target, args.seconds, args.clients, 1),
                }
                print(json.dumps(row, ensure_ascii=False), flush=True)
                concurrent.append(row)
            # 32 clients while the board changes every second.
            changing: list[dict[str, Any]] = []
            for params in cases[:3]:
                target = f"{base}/notices" + (f"?{urlencode(params)}" if params else "")
                with ChangingBoard(change) as changer:
                    latency = wrk_latency(target, args.seconds, args.clients, 1)
                row = {
                    "engine": args.engine,
                    "clients": args.clients,
                    "board_changes": changer.changes,
                    **params,
                    **latency,
                }
                print(json.dumps(row, ensure_ascii=False), flush=True)
                changing.append(row)
        keyword_rows = [r for r in results if "q" in r]
        summary = {
            "load_seconds": round(load_s, 1),
            "baseline": baseline,
            "worst_keyword_p95_ms": max(r["p95_ms"] for r in keyword_rows),
            "worst_keyword_p95_ms_concurrent": max(r["p95_ms"] for r in concurrent if "q" in r),
            "worst_keyword_p95_ms_every_request_a_miss": max(
                r["p95_ms"] for r in misses if "q" in r
            ),
            "worst_keyword_p95_ms_concurrent_board_changing": max(
                r["p95_ms"] for r in changing if "q" in r
            ),
            "clients": args.clients,
            "target_p95_ms": 150,
            "all_same_as_scan": all(r.get("same_as_scan", True) for r in results),
        }
        print(json.dumps(summary, ensure_ascii=False))
    save_results(
        f"notices_{args.engine}",
        {
            "results": results,
            "misses": misses,
            "concurrent": concurrent,
            "changing": changing,
            **summary,
        },
    )


if __name__ == "__main__":
    main()
