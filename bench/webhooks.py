"""Webhooks on PostgreSQL, measured in one run:

1. **transitions with the outbox**: firing ``investigate`` on distinct topics
   (16 at a time, in-process) with the outbox writing its event and deliveries
   (two webhooks subscribed) against the same with the outbox switched off
   (three rounds each, alternating; medians);
2. **delivery throughput**: events/s delivered to a local receiver that answers
   at once (uvicorn, a bare ASGI app), by 1 and by 2 ``deliberation worker``
   processes.

Run: ``python -m bench.webhooks [--topics 300] [--events 2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.common import (
    AUDIT_KEY,
    KEYS,
    PG_BENCH_URL,
    ROOT,
    cli,
    free_port,
    reset_postgres,
    save_results,
)


async def receiver_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers every request at once (the bench's webhook receiver)."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"{}"})


def start_receiver() -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.webhooks:receiver_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
    )
    time.sleep(1.5)
    return f"http://127.0.0.1:{port}/hook", proc


async def _setup(url: str) -> tuple[Any, int]:
    from deliberation import chain
    from deliberation.database import bind_engine, engine_for_url, open_engine
    from deliberation.security import Principal
    from deliberation.tables import Account

    chain.use_key(AUDIT_KEY)
    engine = engine_for_url(url)
    bind_engine(engine)
    await open_engine(engine, pool_size=20)
    staff = await Account.select().where(Account.username == "staff").first()
    assert staff is not None
    principal = Principal(staff["id"], "staff", "staff", staff["township"], None)
    return principal, int(staff["township"])


async def _ready_topics(principal: Any, n: int) -> list[int]:
    from datetime import date

    from deliberation import records, topics
    from deliberation.schemas import InvestigationCreate, TopicCreate

    ids = []
    for i in range(n):
        topic = await topics.open_topic(principal, TopicCreate(title=f"压测{i}", description="d"))
        await records.add_investigation(
            principal,
            topic.id,
            InvestigationCreate(
                visited_on=date(2026, 11, 1), place="p", participants="p", findings="f"
            ),
        )
        ids.append(topic.id)
    return ids


async def _fire_all(principal: Any, ids: list[int], concurrency: int = 16) -> float:
    from deliberation import topics

    gate = asyncio.Semaphore(concurrency)

    async def one(tid: int) -> None:
        async with gate:
            await topics.fire_trigger(principal, tid, "investigate", 1, "")

    started = time.perf_counter()
    await asyncio.gather(*[one(t) for t in ids])
    return len(ids) / (time.perf_counter() - started)


def host_port(url: str) -> str:
    """``127.0.0.1:PORT`` of the receiver: the one address the benchmark allows."""
    return url.split("/")[2]


async def transitions_with_outbox(url: str, receiver_url: str, n: int) -> dict[str, Any]:
    import deliberation.topics as topics_module
    from deliberation.notifications.targets import parse_allowed
    from deliberation.notifications.webhooks import create_webhook
    from deliberation.schemas import WebhookCreate

    principal, _ = await _setup(url)
    for fmt in ("generic", "wecom"):
        await create_webhook(
            principal,
            WebhookCreate(target_url=receiver_url, format=fmt),
            parse_allowed([host_port(receiver_url)]),
        )
    real = topics_module.record_event

    async def switched_off(*args: Any, **kwargs: Any) -> str:
        return ""

    rates: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(3):
        for mode in ("without", "with"):
            ids = await _ready_topics(principal, n)
            topics_module.record_event = switched_off if mode == "without" else real  # type: ignore[assignment]
            rates[mode].append(await _fire_all(principal, ids))
    topics_module.record_event = real
    without = statistics.median(rates["without"])
    with_outbox = statistics.median(rates["with"])
    return {
        "topics_per_round": n,
        "rounds": rates,
        "without_outbox_per_s": round(without, 1),
        "with_outbox_per_s": round(with_outbox, 1),
        "ratio": round(with_outbox / without, 3),
    }


async def _queue_events(township: int, n: int) -> None:
    from deliberation.database import write_transaction
    from deliberation.notifications.outbox import record_event

    for start in range(0, n, 200):
        async with write_transaction():
            for i in range(start, min(n, start + 200)):
                await record_event(
                    "topic.opened",
                    township,
                    None,
                    {
                        "topic_id": i,
                        "reference": f"HSL-B-{i}",
                        "title": "t",
                        "state": "proposed",
                        "state_label": "已提出",
                    },
                )


async def _pending() -> int:
    from deliberation.tables import Delivery

    return int(await Delivery.count().where(Delivery.status == "pending"))


async def delivery_throughput(
    url: str, receiver_url: str, events: int, workers: int
) -> dict[str, Any]:
    from deliberation.tables import Delivery, Webhook

    _, township = await _setup(url)
    # One generic webhook: each event is one delivery.
    hooks = await Webhook.select(Webhook.id).where(Webhook.format == "wecom")
    if hooks:
        await Webhook.update({Webhook.active: False}).where(Webhook.format == "wecom")
    # Deliveries left from the transition rounds are not part of this measure.
    await Delivery.update({Delivery.status: "delivered"}).where(Delivery.status == "pending")
    await _queue_events(township, events)
    queued = await _pending()
    env = {
        **os.environ,
        "DELIBERATION_DATABASE_URL": url,
        **KEYS,
        "DELIBERATION_WEBHOOK_ALLOWED_HOSTS": host_port(receiver_url),
        "DELIBERATION_LOG_LEVEL": "WARNING",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    started = time.perf_counter()
    try:
        while await _pending() and time.perf_counter() - started < 600:
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)
    dead = int(await Delivery.count().where(Delivery.status == "dead"))
    return {
        "workers": workers,
        "deliveries": queued,
        "seconds": round(elapsed, 2),
        "events_per_s": round(queued / elapsed, 1),
        "dead": dead,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    url = PG_BENCH_URL
    reset_postgres(url)
    cli(url, "migrate")
    cli(url, "demo")
    receiver_url, receiver = start_receiver()
    results: dict[str, Any] = {}
    try:
        results["transitions"] = asyncio.run(
            transitions_with_outbox(url, receiver_url, args.topics)
        )
        print(json.dumps(results["transitions"], ensure_ascii=False), flush=True)
        results["delivery"] = []
        for workers in (1, 2):
            row = asyncio.run(delivery_throughput(url, receiver_url, args.events, workers))
            print(json.dumps(row, ensure_ascii=False), flush=True)
            results["delivery"].append(row)
    finally:
        receiver.terminate()
        receiver.wait(10)
    save_results("webhooks", results)


if __name__ == "__main__":
    main()
