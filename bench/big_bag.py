"""The archive bag of a big topic (issue 29, item 6): the demo's closed topic given
10 000 more opinions, each vouched by its event on the chain, then its bag built
in-process, with a ticker on the event loop (every 5 ms) noting how late it wakes: the
longest stall is how long every other request of the server would have waited. Measured
in the same run two ways: the whole bag on the event loop (how it was built before), and
as ``archive.make_bag`` builds it now (rows read on the loop, the bag checked, written
and zipped in its worker thread). Then, on the same database, the cost of
``GET /api/v1/public/chain-heads``'s answer with its root (issue 29, item 5) against the
named heads alone.

    python -m bench.big_bag --engine sqlite
    python -m bench.big_bag --engine postgres   (BENCH_POSTGRES_URL, default …/bench)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import KEYS, cli, migrated_database, save_results

OPINIONS = 10_000


async def seed(topic_id: int, author: int, count: int) -> None:
    """``count`` opinions on the topic, each with its ``record.created`` event, in
    transactions of 500 (the same event a representative's opinion gets)."""
    from deliberation.chain import _append, record_data
    from deliberation.clock import utcnow
    from deliberation.database import write_transaction
    from deliberation.record_content import load_content
    from deliberation.tables import Opinion

    stances = ("support", "oppose", "neutral")
    for start in range(0, count, 500):
        async with write_transaction():
            for i in range(start, min(count, start + 500)):
                [row] = await Opinion.insert(
                    Opinion(
                        topic=topic_id,
                        author=author,
                        content=f"第{i}条意见：村口道路晚上没有路灯，老人孩子出行不便，希望尽快安装。",
                        stance=stances[i % 3],
                        on_behalf_of="",
                        answer_reason="",
                        created_at=utcnow(),
                    )
                ).returning(Opinion.id)
                content = await load_content("opinion", row["id"])
                await _append(
                    topic_id,
                    "record.created",
                    actor_id=author,
                    data=record_data("opinion", row["id"], content),
                )


async def stalls(work: Callable[[], Awaitable[Any]]) -> tuple[float, float, Any]:
    """(seconds the work took, the event loop's longest stall in ms, its result)."""
    longest = 0.0
    done = False

    async def tick() -> None:
        nonlocal longest
        while not done:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            longest = max(longest, time.perf_counter() - before - 0.005)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.02)
    started = time.perf_counter()
    result = await work()
    took = time.perf_counter() - started
    done = True
    await ticker
    return took, longest * 1000, result


async def heads_cost(rounds: int = 30) -> dict[str, Any]:
    """``audit.chain_heads`` (public and full, with the root over every chain at its
    ``root_as_of``) against the named heads alone (what the answer was before issue 29):
    p50/p95 in ms, in-process."""
    from deliberation import audit

    async def named() -> None:
        for _, _, of, reference in audit.HEAD_LISTS:
            await audit._heads_of(of, reference, True)

    async def public() -> None:
        await audit.chain_heads()

    async def full() -> None:
        await audit.chain_heads(full=True)

    found: dict[str, Any] = {}
    for name, work in (("named_heads_only", named), ("public", public), ("full", full)):
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            await work()
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        found[name] = {
            "p50_ms": round(timings[len(timings) // 2], 1),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        }
    return found


async def measure(url: str, rounds: int) -> dict[str, Any]:
    from deliberation import archive
    from deliberation.chain import use_key
    from deliberation.database import bind_engine, close_engine, engine_for_url, open_engine
    from deliberation.tables import Account, Topic

    engine = engine_for_url(url)
    bind_engine(engine)
    await open_engine(engine)
    use_key(KEYS["DELIBERATION_AUDIT_KEY"])
    try:
        topic = await Topic.select(Topic.id, Topic.township).where(Topic.state == "closed").first()
        assert topic is not None
        author = await Account.select(Account.id).where(Account.role == "representative").first()
        assert author is not None
        seeded = time.perf_counter()
        await seed(topic["id"], author["id"], OPINIONS)
        results: dict[str, Any] = {"seed_s": round(time.perf_counter() - seeded, 1)}
        config = archive.ArchiveConfig()

        async def on_the_loop() -> archive.Bag:
            return archive.pack(await archive.bag_rows(topic["id"]), config)

        async def now() -> archive.Bag:
            return await archive.make_bag(topic["id"], config)

        async def rows_only() -> archive.BagRows:
            return await archive.bag_rows(topic["id"])

        for name, work in (("on_the_loop", on_the_loop), ("worker", now), ("rows", rows_only)):
            runs = [await stalls(work) for _ in range(rounds)]
            results[name] = {
                "took_s": sorted(round(r[0], 2) for r in runs),
                "longest_stall_ms": sorted(round(r[1]) for r in runs),
            }
        bag = await now()
        results["bag_mb"] = round(len(bag.content) / 1e6, 1)
        results["chain_heads"] = await heads_cost()
        return results
    finally:
        await close_engine(engine)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(KEYS)
    with tempfile.TemporaryDirectory() as tmp:
        url = migrated_database(args.engine, tmp)
        cli(url, "demo")
        results = {"engine": args.engine, "opinions": OPINIONS}
        results |= asyncio.run(measure(url, args.rounds))
    save_results(f"big_bag-{args.engine}", results)
    print(results)


if __name__ == "__main__":
    main()
