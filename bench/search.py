"""``GET /api/v1/topics?q=<2-character word>`` over many topics: p95 latency over
HTTP, and the same results as a plain substring scan.

Run: ``python -m bench.search --engine sqlite --rows 100000`` and
``python -m bench.search --engine postgres --rows 1000000``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.common import BENCH_PASSWORD, KEYS, fresh_database, save_results, serve
from deliberation.search import search_fields

PLACES = [
    "金山村",
    "新街村",
    "塘背村",
    "渡口村",
    "石口村",
    "黄金埠社区",
    "东湖村",
    "西岭村",
    "南塘村",
    "北港村",
]
SUBJECTS = [
    "村组道路",
    "排水沟",
    "路灯",
    "垃圾收运点",
    "农贸市场",
    "养老服务站",
    "自来水管网",
    "灌溉渠",
    "文化礼堂",
    "留守儿童托管",
    "渡船",
    "桥梁",
    "卫生室",
    "学校周边",
    "停车场",
    "健身广场",
    "河道堤防",
    "危房",
    "公厕",
    "快递点",
]
PROBLEMS = [
    "年久失修",
    "雨天积水",
    "无人管理",
    "收费不规范",
    "存在安全隐患",
    "群众反映强烈",
    "建设资金不足",
    "占道经营",
    "噪音扰民",
    "维修不及时",
    "覆盖不到位",
    "水质浑浊",
    "服务时间过短",
    "标准不统一",
]
ASKS = [
    "建议尽快硬化",
    "请求清淤改造",
    "建议补装维护",
    "建议明确责任单位",
    "希望协调解决",
    "建议纳入年度计划",
    "请求增设设施",
    "建议加强日常巡查",
]
WORDS = ["排水", "路灯", "养老", "渡船", "清淤", "噪音", "水质", "巡查", "鳐鱼", "编号"]


def make_topic(i: int, rng: random.Random) -> tuple[str, str]:
    place = rng.choice(PLACES)
    subject = rng.choice(SUBJECTS)
    title = f"{place}{subject}问题"
    description = (
        f"{place}{subject}{rng.choice(PROBLEMS)},{rng.choice(PROBLEMS)},{rng.choice(ASKS)}。编号{i}"
    )
    if i % 10_000 == 0:  # a rare word too: 0.01 % of rows
        description += "另有鳐鱼养殖尾水问题。"
    return title, description


def rows(n: int) -> list[tuple[object, ...]]:
    rng = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    out = []
    for i in range(1, n + 1):
        title, description = make_topic(i, rng)
        text, grams = search_fields(title, description)
        created = start + timedelta(seconds=i * 60)
        out.append(
            (
                f"HSL-B-{i:07d}",
                title,
                description,
                "",
                1,
                None,
                "proposed",
                1,
                1,
                created,
                created,
                text,
                grams,
            )
        )
    return out


COLUMNS = (
    "reference",
    "title",
    "description",
    "category",
    "township",
    "village",
    "state",
    "version",
    "opened_by",
    "created_at",
    "updated_at",
    "search_text",
    "search_grams",
)


def gram_counts(data: list[tuple[object, ...]]) -> list[tuple[int, str, int]]:
    """What the service keeps in topic_gram_count, for rows loaded in bulk."""
    counts: Counter[str] = Counter()
    for row in data:
        counts.update(set(str(row[12]).split()))
    return [(1, gram, n) for gram, n in sorted(counts.items())]


def load_sqlite(path: Path, data: list[tuple[object, ...]]) -> None:
    import sqlite3

    db = sqlite3.connect(path)
    placeholders = ",".join("?" * len(COLUMNS))
    db.executemany(
        f"INSERT INTO topic ({','.join(COLUMNS)}) VALUES ({placeholders})",
        [(*r[:9], r[9].isoformat(), r[10].isoformat(), *r[11:]) for r in data],  # type: ignore[attr-defined]
    )
    db.executemany(
        "INSERT INTO topic_gram_count (township, gram, n) VALUES (?, ?, ?)", gram_counts(data)
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def load_postgres(url: str, data: list[tuple[object, ...]]) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        await conn.copy_records_to_table("topic", records=data, columns=list(COLUMNS))
        await conn.copy_records_to_table(
            "topic_gram_count", records=gram_counts(data), columns=["township", "gram", "n"]
        )
        await conn.execute("ANALYZE topic")
        await conn.close()

    asyncio.run(run())


def scan(engine: str, url: str, word: str) -> tuple[list[int], int]:
    """The plain substring scan the index must agree with."""
    sql_sqlite = (
        "SELECT id FROM topic WHERE township = 1 AND instr(lower(title || char(10) || description), ?) > 0 "
        "ORDER BY created_at DESC, id DESC"
    )
    if engine == "sqlite":
        import sqlite3

        db = sqlite3.connect(url[len("sqlite:///") :])
        ids = [r[0] for r in db.execute(sql_sqlite, (word,))]
        db.close()
    else:
        import asyncpg

        async def run() -> list[int]:
            conn = await asyncpg.connect(url)
            got = await conn.fetch(
                "SELECT id FROM topic WHERE township = 1 AND strpos(lower(title || chr(10) || description), $1) > 0 "
                "ORDER BY created_at DESC, id DESC",
                word,
            )
            await conn.close()
            return [r["id"] for r in got]

        ids = asyncio.run(run())
    return ids[:20], len(ids)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40, help="requests per word")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.engine, tmp, "压测镇")
        started = time.perf_counter()
        data = rows(args.rows)
        (
            load_sqlite(Path(url[len("sqlite:///") :]), data)
            if args.engine == "sqlite"
            else load_postgres(url, data)
        )
        load_s = time.perf_counter() - started
        env = {
            "DELIBERATION_DATABASE_URL": url,
            **KEYS,
            "DELIBERATION_LOG_LEVEL": "WARNING",
        }
        results = []
        with serve("api.app:app_from_env", env, 1) as (base, _):
            tok = httpx.post(
                f"{base}/api/v1/auth/token",
                json={"username": "bench", "password": BENCH_PASSWORD},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {tok}"}
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                for word in WORDS:
                    timings = []
                    for _ in range(args.requests):
                        t0 = time.perf_counter()
                        page = client.get("/api/v1/topics", params={"q": word, "limit": 20}).json()
                        timings.append((time.perf_counter() - t0) * 1000)
                    expected_ids, expected_total = scan(args.engine, url, word)
                    same = [t["id"] for t in page["items"]] == expected_ids and page[
                        "total"
                    ] == expected_total
                    timings.sort()
                    row = {
                        "engine": args.engine,
                        "rows": args.rows,
                        "q": word,
                        "matches": expected_total,
                        "p50_ms": round(statistics.median(timings), 1),
                        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
                        "same_as_scan": same,
                    }
                    print(json.dumps(row, ensure_ascii=False), flush=True)
                    results.append(row)
        summary = {
            "load_seconds": round(load_s, 1),
            "worst_p95_ms": max(r["p95_ms"] for r in results),
            "all_same_as_scan": all(r["same_as_scan"] for r in results),
        }
        print(json.dumps(summary, ensure_ascii=False))
    save_results(f"search_{args.engine}", {"results": results, **summary})


if __name__ == "__main__":
    main()
