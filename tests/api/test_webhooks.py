"""Webhooks against a real HTTP receiver on 127.0.0.1: signatures, formats, retries,
dead letters, refused targets, reminders and digests, and workers that are killed
or run side by side."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.settings import Settings
from deliberation.clock import CHINA, china_today, utcnow
from deliberation.notifications.delivery import Deliverer, DeliveryConfig, new_client, run_worker
from deliberation.notifications.reminders import remind, send_digests
from deliberation.notifications.webhooks import create_webhook
from deliberation.schemas import WebhookCreate
from deliberation.tables import Delivery, OutboxEvent
from tests.cli import ROOT, run_cli
from tests.receiver import Receiver
from tests.world import Township, World, fire, new_township, open_topic, satisfy, topic_in_state

BASE = DeliveryConfig(
    public_url="http://127.0.0.1:8000",
    base_delay_seconds=1.0,
    timeout_seconds=5.0,
)
CONFIG = BASE
"""With the session receivers' ``host:port`` allowed (set by ``delivery_config``)."""


@pytest.fixture(autouse=True)
def delivery_config(settings: Settings) -> None:
    global CONFIG
    CONFIG = replace(BASE, allowed_hosts=settings.webhook_allowed_hosts)


async def drain(
    config: DeliveryConfig | None = None, rounds: int = 20, start: datetime | None = None
) -> None:
    """Run the delivery loop until nothing is due, moving the clock past retries."""
    config = config or CONFIG
    start = start or utcnow()
    async with new_client(config) as client:
        deliverer = Deliverer(config, client)
        for i in range(rounds):
            later = start + timedelta(hours=i)
            if not await deliverer.run_once(now=later) and i > 0:
                return


async def subscribe(t: Township, url: str, **body: Any) -> dict[str, Any]:
    r = await t["staff"].post("/api/v1/webhooks", {"target_url": url, **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def verify(secret: str, request: dict[str, Any]) -> bool:
    headers = request["headers"]
    expected = hmac.new(
        secret.encode(),
        headers["x-hsl-timestamp"].encode() + b"." + request["body"],
        hashlib.sha256,
    ).hexdigest()
    return hmac.compare_digest(headers["x-hsl-signature"], f"sha256={expected}")


async def test_signed_events_reach_the_receiver(world: World, receiver: Receiver) -> None:
    t = await new_township(world)
    hook = await subscribe(t, receiver.url)
    assert len(hook["secret"]) == 64 and hook["format"] == "generic"
    assert "deadline.overdue" in hook["events"]
    listed = (await t["staff"].get("/api/v1/webhooks")).json()
    assert [h["id"] for h in listed] == [hook["id"]] and listed[0]["secret"] is None

    topic = await open_topic(t)
    r = await t["representative"].post(
        f"/api/v1/topics/{topic['id']}/opinions", {"content": "支持", "stance": "support"}
    )
    assert r.status_code == 201, r.text
    await satisfy(t, topic, "investigation_recorded")
    assert (await fire(t["liaison"], topic, "investigate")).status_code == 200
    assert receiver.received == []  # nothing is sent from inside a request
    await drain()

    bodies = [json.loads(r["body"]) for r in receiver.received]
    # Sent concurrently: the order of arrival is not the order of events.
    assert sorted(b["type"] for b in bodies) == [
        "opinion.submitted",
        "topic.opened",
        "topic.transitioned",
    ]
    assert all(verify(hook["secret"], r) for r in receiver.received)
    assert len({r["headers"]["x-hsl-event-id"] for r in receiver.received}) == 3
    assert all(
        b["event_id"] == r["headers"]["x-hsl-event-id"]
        for b, r in zip(bodies, receiver.received, strict=True)
    )
    moved = next(b for b in bodies if b["type"] == "topic.transitioned")
    assert moved["topic"]["reference"] == topic["reference"]
    assert (moved["topic"]["state"], moved["data"]["from_state"]) == ("investigated", "proposed")
    assert moved["data"]["trigger_label"] == "完成调研"
    tampered = {**receiver.received[0], "body": receiver.received[0]["body"] + b" "}
    assert not verify(hook["secret"], tampered)
    deliveries = (await t["staff"].get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
    assert {d["status"] for d in deliveries} == {"delivered"} and len(deliveries) == 3


async def test_wecom_robot_messages_are_markdown_in_chinese(
    world: World, receiver: Receiver
) -> None:
    t = await new_township(world)
    await subscribe(t, receiver.url, format="wecom", events=["topic.transitioned"])
    topic = await open_topic(t, title="渡口村路灯维修")
    await satisfy(t, topic, "investigation_recorded")
    await fire(t["liaison"], topic, "investigate")
    await drain()
    assert len(receiver.received) == 1  # only the subscribed event type
    message = json.loads(receiver.received[0]["body"])
    assert message["msgtype"] == "markdown"
    content = message["markdown"]["content"]
    for shown in (
        "【好商量】",
        "渡口村路灯维修",
        topic["reference"],
        "已调研",
        "完成调研",
        "/topics/",
    ):
        assert shown in content, content


async def test_bad_targets_and_callers_are_refused(world: World, receiver: Receiver) -> None:
    t = await new_township(world)
    for url in (
        "ftp://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:9/hook",
        "http://[::1]:9/hook",
        "http://user:secret@127.0.0.1/hook",
        "http://no-such-host.invalid/hook",
        "javascript:alert(1)",
    ):
        r = await t["staff"].post("/api/v1/webhooks", {"target_url": url})
        assert r.status_code == 422, (url, r.text)
        assert r.json()["errors"][0]["field"] == "target_url"
    r = await t["staff"].post("/api/v1/webhooks", {"target_url": receiver.url, "events": ["x"]})
    assert r.status_code == 422
    r = await t["liaison"].post("/api/v1/webhooks", {"target_url": receiver.url})
    assert r.status_code == 403
    hook = await subscribe(t, receiver.url)
    assert (
        await world.a["staff"].get(f"/api/v1/webhooks/{hook['id']}/deliveries")
    ).status_code == 404
    assert hook["id"] not in [
        h["id"] for h in (await world.a["staff"].get("/api/v1/webhooks")).json()
    ]
    r = await world.admin.post("/api/v1/webhooks", {"target_url": receiver.url})
    assert r.status_code == 422  # an administrator names the township
    r = await world.admin.post(
        "/api/v1/webhooks", {"target_url": receiver.url, "township_id": t.id}
    )
    assert r.status_code == 201


async def test_a_name_that_later_points_inward_is_refused_at_delivery(
    world: World, receiver: Receiver
) -> None:
    """DNS cannot be changed here, so the resolver is a stand-in: public when the
    webhook is created, private when the event is delivered."""
    t = await new_township(world)
    principal = t["staff"].principal

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    async def inward(host: str, port: int) -> list[str]:
        return ["10.0.0.7"]

    hook = await create_webhook(
        principal, WebhookCreate(target_url="http://hooks.example.org/x"), set(), public
    )
    await open_topic(t)
    async with new_client(CONFIG) as client:
        assert await Deliverer(CONFIG, client, resolver=inward).run_once() >= 1
    deliveries = (await t["staff"].get(f"/api/v1/webhooks/{hook.id}/deliveries")).json()
    assert [d["status"] for d in deliveries] == ["dead"]
    assert "内网" in deliveries[0]["last_error"]


async def test_receiver_down_then_up_gets_every_event_once(
    world: World, receiver: Receiver
) -> None:
    t = await new_township(world)
    await subscribe(t, receiver.url)
    receiver.fail = 4
    topics = [await open_topic(t) for _ in range(3)]
    await drain()
    ok = receiver.ok_ids()
    assert len(ok) == 3 and set(ok.values()) == {1}
    assert len(receiver.received) == 3 + 4  # four refusals, then each event once
    events = await OutboxEvent.select(OutboxEvent.event_id).where(
        OutboxEvent.topic.is_in([t["id"] for t in topics])
    )
    assert {e["event_id"] for e in events} == set(ok)


async def test_dead_letters_are_visible_and_can_be_retried(
    world: World, receiver: Receiver, database_url: str, allowed_hosts: str
) -> None:
    t = await new_township(world)
    hook = await subscribe(t, receiver.url)
    receiver.fail = 10**6
    await open_topic(t)
    short_lived = DeliveryConfig(**{**CONFIG.__dict__, "max_age_seconds": 0.5})
    await drain(short_lived)
    deliveries = (await t["staff"].get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
    assert [d["status"] for d in deliveries] == ["dead"]
    assert deliveries[0]["last_status"] == 503 and deliveries[0]["attempts"] == 1
    dead = await t["staff"].get(
        f"/api/v1/webhooks/{hook['id']}/deliveries", params={"status": "dead"}
    )
    assert len(dead.json()) == 1
    receiver.fail = 0
    r = run_cli(database_url, "outbox", "retry", "--webhook", str(hook["id"]))
    assert r.returncode == 0 and "1" in r.stdout, r.stderr
    await drain()
    deliveries = (await t["staff"].get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
    assert [d["status"] for d in deliveries] == ["delivered"]
    assert len(receiver.ok_ids()) == 1


async def test_a_slow_receiver_does_not_hold_up_the_api(world: World, receiver: Receiver) -> None:
    """The delivery loop runs beside the API (as inside ``serve``); with the receiver
    holding every request, API calls still complete."""
    t = await new_township(world)
    await subscribe(t, receiver.url)
    receiver.gate = threading.Event()
    stop = asyncio.Event()
    config = DeliveryConfig(**{**CONFIG.__dict__, "idle_seconds": 0.05})
    worker = asyncio.create_task(run_worker(config, stop))
    try:
        first = await open_topic(t)
        for _ in range(50):  # until the worker is stuck sending the first event
            if receiver.received or await Delivery.exists().where(
                Delivery.locked_until.is_not_null()
            ):
                break
            await asyncio.sleep(0.05)
        opened = [await open_topic(t) for _ in range(5)]
        assert all(o["state"] == "proposed" for o in opened)
        assert (await t["staff"].get(f"/api/v1/topics/{first['id']}")).status_code == 200
        assert len(receiver.ok_ids()) <= 1  # nothing got through while they were served
    finally:
        receiver.gate.set()
        stop.set()
        await worker
    await drain()
    assert len(receiver.ok_ids()) == 6


async def test_a_failing_scheduler_does_not_starve_deliveries(
    world: World, receiver: Receiver
) -> None:
    """The loop's scheduler (reminders, open data) failing on every tick must not keep
    the webhooks from being delivered (it did: the failure skipped the delivery)."""
    t = await new_township(world)
    await subscribe(t, receiver.url)
    ticks = 0

    async def broken(_: DeliveryConfig) -> None:
        nonlocal ticks
        ticks += 1
        raise RuntimeError("a reminder could not be built")

    stop = asyncio.Event()
    config = DeliveryConfig(**{**CONFIG.__dict__, "idle_seconds": 0.05, "scheduler_seconds": 0.1})
    worker = asyncio.create_task(run_worker(config, stop, scheduler=broken))
    try:
        await open_topic(t)
        for _ in range(200):
            if receiver.ok_ids():
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker
    assert len(receiver.ok_ids()) == 1
    assert ticks >= 1


def _worker(database_url: str, allowed_hosts: str, lease: int = 2) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DELIBERATION_DATABASE_URL": database_url,
        "DELIBERATION_SECRET_KEY": "x" * 32,
        "DELIBERATION_WEBHOOK_ALLOWED_HOSTS": allowed_hosts,
        "DELIBERATION_DELIVERY_LEASE_SECONDS": str(lease),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


async def _until_delivered(t: Township, hook_id: int, count: int, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = (
            await t["staff"].get(f"/api/v1/webhooks/{hook_id}/deliveries", params={"limit": 200})
        ).json()
        if len(rows) == count and all(r["status"] == "delivered" for r in rows):
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"not all delivered in {seconds} s: {[r['status'] for r in rows]}")


async def test_a_worker_killed_mid_batch_loses_nothing(
    world: World, receiver: Receiver, database_url: str, allowed_hosts: str
) -> None:
    t = await new_township(world)
    hook = await subscribe(t, receiver.url)
    receiver.delay = 0.2
    for _ in range(20):
        await open_topic(t)
    worker = _worker(database_url, allowed_hosts)
    try:
        deadline = time.monotonic() + 60
        while len(receiver.received) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert receiver.received, "the worker never started sending"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        killed_at = len(receiver.ok_ids())
        assert killed_at < 20, "the batch finished before the kill"
        worker = _worker(database_url, allowed_hosts)
        await _until_delivered(t, hook["id"], 20)
    finally:
        worker.kill()
        worker.wait(10)
    assert len(receiver.ok_ids()) == 20  # every event, some possibly twice (at least once)


async def test_two_workers_never_send_an_event_twice(
    world: World, receiver: Receiver, database_url: str, allowed_hosts: str
) -> None:
    t = await new_township(world)
    hook = await subscribe(t, receiver.url)
    receiver.delay = 0.02
    for _ in range(40):
        await open_topic(t)
    workers = [
        _worker(database_url, allowed_hosts, lease=60),
        _worker(database_url, allowed_hosts, lease=60),
    ]
    try:
        await _until_delivered(t, hook["id"], 40)
    finally:
        for w in workers:
            w.terminate()
            w.wait(10)
    ok = receiver.ok_ids()
    assert len(ok) == 40 and set(ok.values()) == {1}, ok.most_common(3)
    assert len(receiver.received) == 40


async def test_reminders_are_sent_once_per_topic_and_deadline(
    world: World, receiver: Receiver
) -> None:
    t = await new_township(world)
    await subscribe(t, receiver.url, events=["deadline.due_soon", "deadline.overdue"])
    late = await topic_in_state(t, "meeting")
    r = await t["staff"].post(
        f"/api/v1/topics/{late['id']}/meetings",
        {"scheduled_at": "2026-01-05T09:00:00+08:00", "place": "镇会议室", "host": "陈主任"},
    )
    assert r.status_code == 201, r.text
    soon = await topic_in_state(t, "resolution")
    tomorrow = (china_today() + timedelta(days=1)).isoformat()
    item = (await t["staff"].get(f"/api/v1/topics/{soon['id']}/resolution-items")).json()[0]
    r = await t["staff"].post(
        f"/api/v1/topics/{soon['id']}/resolution-items",
        {"content": "清理沟渠", "responsible_unit": "村委会", "due_date": tomorrow},
    )
    assert r.status_code == 201, r.text
    assert item["due_date"] > tomorrow
    first = await remind()
    second = await remind()  # the same day again, or a restarted worker
    assert first["overdue"] >= 1 and first["due_soon"] >= 1
    assert second == {"due_soon": 0, "overdue": 0}
    await drain()
    kinds = Counter(
        (json.loads(r["body"])["type"], json.loads(r["body"])["topic"]["reference"])
        for r in receiver.received
    )
    assert kinds[("deadline.overdue", late["reference"])] == 1
    assert kinds[("deadline.due_soon", soon["reference"])] == 1
    assert all(n == 1 for n in kinds.values())


async def test_a_digest_webhook_gets_one_message_a_day(world: World, receiver: Receiver) -> None:
    t = await new_township(world)
    hook = await subscribe(t, receiver.url, format="wecom", digest=True)
    for title in ("渡口村路灯", "塘背村排水"):
        await open_topic(t, title=title)
    await drain()
    assert receiver.received == []  # nothing until the digest hour
    evening = utcnow().astimezone(CHINA).replace(hour=19, minute=0).astimezone(UTC)
    assert await send_digests(18, now=evening) >= 1
    assert await send_digests(18, now=evening + timedelta(minutes=5)) == 0
    await drain(start=evening)
    mine = [r for r in receiver.received if "塘背村排水" in r["body"].decode()]
    assert len(mine) == 1
    content = json.loads(mine[0]["body"])["markdown"]["content"]
    assert "今日动态" in content and "渡口村路灯" in content
    deliveries = (await t["staff"].get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
    assert [d["event_type"] for d in deliveries] == ["digest"]
