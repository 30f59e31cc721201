"""``GET /api/v1/suggestions/similar?title=…`` while a title is typed (issue 27): 10 000
open suggestions and 10 000 topics in one township, written straight into the tables;
every prefix (two characters on) of 200 titles, as a villager types them, asked by the
public (naming the village) and by the township's staff. p50/p95 over HTTP, sequential.
Target: p95 < 50 ms. ``/healthz`` is measured in the same run, as the floor on this
machine at this moment.

Run: ``python -m bench.suggestion_similar --engine sqlite`` (or ``postgres``).
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
from typing import Any

import httpx

from bench.common import BENCH_PASSWORD, KEYS, fresh_database, save_results, serve
from bench.search import ASKS, PLACES, PROBLEMS, SUBJECTS
from deliberation.search import bigrams, normalise, search_fields

TOPIC_COLUMNS = (
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
    "title_grams",
    "urge_note",
)
SUGGESTION_COLUMNS = (
    "reference",
    "township",
    "village",
    "title",
    "content",
    "public_title",
    "public_content",
    "masks",
    "revision",
    "submitter_name",
    "submitter_phone",
    "phone_digest",
    "client",
    "status",
    "title_grams",
    "event_seq",
    "created_at",
    "updated_at",
)


def title_of(rng: random.Random) -> str:
    return f"{rng.choice(PLACES)}{rng.choice(SUBJECTS)}{rng.choice(PROBLEMS)}{rng.choice(ASKS)}"


def grams_of(title: str) -> str:
    return " ".join(bigrams(normalise(title)))


def data(n: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(27)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    topics, suggestions = [], []
    for i in range(1, n + 1):
        at = start + timedelta(seconds=i * 60)
        title = title_of(rng)
        description = f"{title}。{rng.choice(PROBLEMS)}，{rng.choice(ASKS)}。"
        text, grams = search_fields(title, description)
        topics.append(
            (
                f"HSL-S-{i:06d}",
                title,
                description,
                "",
                1,
                1,
                "proposed",
                1,
                1,
                at,
                at,
                text,
                grams,
                grams_of(title),
                "",
            )
        )
        s_title = title_of(rng)
        content = f"{s_title}，希望尽快解决。"
        suggestions.append(
            (
                f"JY-S-{i:06d}",
                1,
                1,
                s_title,
                content,
                s_title,
                content,
                "[]",
                1,
                "王某",
                "13800000000",
                "",
                "",
                "pending",
                grams_of(s_title),
                1,
                at,
                at,
            )
        )
    return topics, suggestions


def gram_counts(rows: list[tuple[Any, ...]], column: int) -> list[tuple[int, str, int]]:
    counts: Counter[str] = Counter()
    for row in rows:
        counts.update(set(str(row[column]).split()))
    return [(1, gram, n) for gram, n in sorted(counts.items())]


def load(engine: str, url: str, topics: list[Any], suggestions: list[Any]) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    topic_grams = gram_counts(topics, 12)
    suggestion_grams = gram_counts(suggestions, 14)
    if engine == "sqlite":
        import sqlite3

        def plain(row: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(v.isoformat() if isinstance(v, datetime) else v for v in row)

        db = sqlite3.connect(Path(url[len("sqlite:///") :]))
        db.execute(
            "INSERT INTO village (id, name, township, created_at) VALUES (1, '压测村', 1, ?)",
            (now.isoformat(),),
        )
        for table, columns, rows in (
            ("topic", TOPIC_COLUMNS, topics),
            ("suggestion", SUGGESTION_COLUMNS, suggestions),
        ):
            marks = ",".join("?" * len(columns))
            db.executemany(
                f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})",
                [plain(r) for r in rows],
            )
        db.executemany(
            "INSERT INTO topic_gram_count (township, gram, n) VALUES (?,?,?)", topic_grams
        )
        db.executemany(
            "INSERT INTO suggestion_gram_count (township, gram, n) VALUES (?,?,?)", suggestion_grams
        )
        db.commit()
        db.execute("ANALYZE")
        db.close()
        return
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        await conn.execute(
            "INSERT INTO village (id, name, township, created_at) VALUES (1, '压测村', 1, $1)", now
        )
        await conn.execute("SELECT setval('village_id_seq', 1)")
        await conn.copy_records_to_table("topic", records=topics, columns=list(TOPIC_COLUMNS))
        await conn.copy_records_to_table(
            "suggestion", records=suggestions, columns=list(SUGGESTION_COLUMNS)
        )
        for table, rows in (
            ("topic_gram_count", topic_grams),
            ("suggestion_gram_count", suggestion_grams),
        ):
            await conn.copy_records_to_table(table, records=rows, columns=["township", "gram", "n"])
        await conn.execute("ANALYZE")
        await conn.close()

    asyncio.run(run())


def p95(timings: list[float]) -> float:
    timings = sorted(timings)
    return round(timings[max(0, int(len(timings) * 0.95) - 1)], 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--titles", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.engine, tmp, "压测镇")
        topics, suggestions = data(args.rows)
        load(args.engine, url, topics, suggestions)
        rng = random.Random(2027)
        typed = [title_of(rng) for _ in range(args.titles)]
        env = {"DELIBERATION_DATABASE_URL": url, **KEYS, "DELIBERATION_LOG_LEVEL": "WARNING"}
        results: dict[str, Any] = {"engine": args.engine, "rows": args.rows}
        with serve("api.app:app_from_env", env, 1) as (base, _):
            token = httpx.post(
                f"{base}/api/v1/auth/token", json={"username": "bench", "password": BENCH_PASSWORD}
            ).json()["access_token"]
            with httpx.Client(base_url=base, timeout=60) as client:
                bare: list[float] = []
                for _ in range(300):
                    t0 = time.perf_counter()
                    client.get("/healthz").raise_for_status()
                    bare.append((time.perf_counter() - t0) * 1000)
            results["healthz"] = {"p50_ms": round(statistics.median(bare), 1), "p95_ms": p95(bare)}
            print(json.dumps({"healthz": results["healthz"]}), flush=True)
            for who, headers, extra in (
                ("public", {}, {"village_id": 1}),
                ("staff", {"Authorization": f"Bearer {token}"}, {}),
            ):
                timings: list[float] = []
                found = 0
                with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                    for title in typed:
                        for end in range(2, len(title) + 1):
                            t0 = time.perf_counter()
                            answer = client.get(
                                "/api/v1/suggestions/similar",
                                params={"title": title[:end], **extra},
                            )
                            timings.append((time.perf_counter() - t0) * 1000)
                            answer.raise_for_status()
                            body = answer.json()
                            found += bool(body["suggestions"] or body["topics"])
                results[who] = {
                    "requests": len(timings),
                    "with_results": found,
                    "p50_ms": round(statistics.median(timings), 1),
                    "p95_ms": p95(timings),
                }
                print(json.dumps({who: results[who]}, ensure_ascii=False), flush=True)
    print(json.dumps(results, ensure_ascii=False))
    save_results(f"suggestion_similar_{args.engine}", results)


if __name__ == "__main__":
    main()
