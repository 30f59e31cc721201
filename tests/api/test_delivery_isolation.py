"""Delivery isolation (issue 11): one township's receiver cannot stall another's, hold
the worker's memory, or be reached where it should not; a deactivated webhook gets
nothing more; people's text cannot shape a WeCom message."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

import httpx
import pytest

from api.settings import Settings, SettingsError
from deliberation.notifications.delivery import run_worker
from deliberation.notifications.targets import RefusedTarget, check_target, parse_allowed
from deliberation.notifications.webhooks import DEACTIVATED
from deliberation.tables import Delivery
from tests.api import test_webhooks as hooks
from tests.api.test_webhooks import delivery_config, drain, subscribe
from tests.live import serving
from tests.receiver import Receiver
from tests.world import PASSWORD, World, new_township, open_topic

pytestmark = pytest.mark.usefixtures(delivery_config.__name__)


def _for(receiver: Receiver, topic_ids: set[int]) -> list[dict[str, object]]:
    """What the receiver got about these topics."""
    with receiver.lock:
        bodies = [json.loads(r["body"]) for r in receiver.received]
    return [b for b in bodies if b.get("data", {}).get("topic_id") in topic_ids]


async def test_a_trickling_receiver_does_not_delay_another_townships_event(
    world: World, receiver: Receiver, second_receiver: Receiver
) -> None:
    """The receiver sends its headers, then one byte every 5 s (it delayed another
    township's event by 108 s before)."""
    slow_town, other_town = await new_township(world, "慢镇"), await new_township(world, "快镇")
    slow_hook = (await subscribe(slow_town, receiver.url, events=["topic.opened"]))["id"]
    await subscribe(other_town, second_receiver.url, events=["topic.opened"])
    receiver.trickle = 5.0
    config = replace(hooks.CONFIG, timeout_seconds=30.0, idle_seconds=0.05)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(config, stop))
    try:
        slow_ids = {(await open_topic(slow_town))["id"] for _ in range(6)}
        deadline = time.monotonic() + 10
        while len(_for(receiver, slow_ids)) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(_for(receiver, slow_ids)) >= 3, "the slow receiver was never reached"
        opened_at = time.monotonic()
        await open_topic(other_town)
        while not second_receiver.received and time.monotonic() < opened_at + 10:
            await asyncio.sleep(0.05)
        assert second_receiver.received, "the other township's event never arrived"
        waited = second_receiver.received[0]["at"] - opened_at
        assert waited < 5.0, f"the other township waited {waited:.1f} s"
        # The slow webhook holds at most its share of the slots (counting only this
        # test's topics: deliveries other tests left queued may reach /hook too).
        assert len(_for(receiver, slow_ids)) <= config.per_webhook
    finally:
        receiver.reset()
        stop.set()
        await worker
        await Delivery.update({Delivery.status: "dead"}).where(
            (Delivery.webhook == slow_hook) & (Delivery.status == "pending")
        )


async def test_one_townships_trickling_receivers_hold_only_their_share_of_the_slots(
    world: World, receiver: Receiver, second_receiver: Receiver
) -> None:
    """Four webhooks of one township, each trickling (3 slots each), took all 10
    delivery slots: another township's event waited 40–55 s. One township's webhooks
    together hold at most ``per_township`` slots."""
    slow_town, other_town = await new_township(world, "多慢镇"), await new_township(world, "邻镇")
    slow_hooks = [
        (await subscribe(slow_town, f"{receiver.url}{n}", events=["topic.opened"]))["id"]
        for n in range(4)
    ]
    await subscribe(other_town, second_receiver.url, events=["topic.opened"])
    receiver.trickle = 5.0
    paths = {f"/hook{n}" for n in range(4)}

    def reached() -> int:  # (deliveries other tests left queued may reach /hook too)
        return sum(1 for r in list(receiver.received) if r["path"] in paths)

    config = replace(hooks.CONFIG, timeout_seconds=30.0, idle_seconds=0.05)
    assert config.per_township < config.concurrency < 4 * config.per_webhook
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(config, stop))
    try:
        for _ in range(4):  # 16 deliveries, 4 to each of the slow township's webhooks
            await open_topic(slow_town)
        deadline = time.monotonic() + 10
        while reached() < config.per_township and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert reached() >= config.per_township, "the slow receivers were not reached"
        await asyncio.sleep(1.0)  # the loop claims again with its free slots
        opened_at = time.monotonic()
        await open_topic(other_town)
        while not second_receiver.received and time.monotonic() < opened_at + 10:
            await asyncio.sleep(0.05)
        assert second_receiver.received, "the other township's event never arrived"
        waited = second_receiver.received[0]["at"] - opened_at
        assert waited < 5.0, f"the other township waited {waited:.1f} s"
        # The slow township's receivers hold at most its share of the slots.
        assert reached() <= config.per_township
    finally:
        receiver.reset()
        stop.set()
        await worker
        # What is still queued for the slow receivers is not the next test's business.
        await Delivery.update({Delivery.status: "dead"}).where(
            Delivery.webhook.is_in(slow_hooks) & (Delivery.status == "pending")
        )


async def test_each_attempt_has_a_total_deadline(world: World, receiver: Receiver) -> None:
    t = await new_township(world, "限时镇")
    hook = await subscribe(t, receiver.url, events=["topic.opened"])
    receiver.trickle = 1.0  # a byte a second: a per-read timeout of 5 s never trips
    await open_topic(t)
    started = time.monotonic()
    await drain(replace(hooks.CONFIG, timeout_seconds=2.0), rounds=1)
    assert time.monotonic() - started < 6
    rows = (await t["staff"].get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
    assert rows[0]["status"] == "pending" and "2 秒内未完成" in rows[0]["last_error"]


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def test_a_huge_answer_is_not_read_into_memory(
    world: World, receiver: Receiver, migrated: str, allowed_hosts: str
) -> None:
    """A 300 MB answer took the server from 210 MB to 797 MB."""
    t = await new_township(world, "巨量镇")
    receiver.huge = 300 * 1024 * 1024
    env = {"DELIBERATION_WEBHOOK_ALLOWED_HOSTS": allowed_hosts}
    with serving(migrated, **env) as server:

        def token(key: str) -> str:
            return str(
                httpx.post(
                    f"{server.base}/api/v1/auth/token",
                    json={"username": t[key].user["username"], "password": PASSWORD},
                    timeout=30,
                ).json()["access_token"]
            )

        headers = {"Authorization": f"Bearer {token('staff')}"}
        created = httpx.post(
            f"{server.base}/api/v1/webhooks",
            json={"target_url": receiver.url, "events": ["topic.opened"]},
            headers=headers,
            timeout=30,
        )
        assert created.status_code == 201, created.text
        before = _peak_rss_mb(server.process.pid)
        opened = httpx.post(
            f"{server.base}/api/v1/topics",
            json={"title": "巨量回应", "description": "接收方回应 300 MB", "category": "其他"},
            headers={"Authorization": f"Bearer {token('liaison')}"},
            timeout=30,
        )
        assert opened.status_code == 201, opened.text
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert receiver.received, "the server never delivered"
        time.sleep(2)  # let it read whatever it was going to read
        growth = _peak_rss_mb(server.process.pid) - before
    assert growth < 50, f"the server grew by {growth:.0f} MB"
    assert receiver.sent_bytes < 100 * 1024 * 1024  # it hung up long before the end


async def test_a_deactivated_webhook_gets_nothing_more(world: World, receiver: Receiver) -> None:
    t = await new_township(world, "停推镇")
    hook = await subscribe(t, receiver.url)
    receiver.fail = 10**6
    await open_topic(t)
    await drain(rounds=1)
    assert len(receiver.received) >= 1  # refused, so a retry is queued
    deactivated = await t["staff"].post(f"/api/v1/webhooks/{hook['id']}/deactivate")
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    seen = len(receiver.received)
    await open_topic(t)
    await drain(rounds=5)
    assert len(receiver.received) == seen
    rows = await Delivery.select(Delivery.status, Delivery.last_error).where(
        Delivery.webhook == hook["id"]
    )
    assert rows and all(r["status"] == "dead" for r in rows)
    assert any(r["last_error"] == DEACTIVATED for r in rows)


INWARD_FORMS = [
    "http://[::127.0.0.1]/hook",  # IPv4-compatible
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "http://[64:ff9b::7f00:1]/hook",  # NAT64
    "http://[64:ff9b::a00:1]/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "http://[2002:c0a8:101::1]/hook",  # 6to4 of 192.168.1.1
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",  # Teredo, client 127.0.0.1
    "http://127.0.0.1:0/hook",
    "http://93.184.216.34:0/hook",
    "http://localhost:5432/hook",  # 127.0.0.1 is allowed on the receivers' ports only
]
MALFORMED = [
    "http://[::1/hook",
    "http://a..b/hook",
    f"http://{'a' * 64}.example.org/hook",
    "http://-bad-.example.org/hook",
    "http://example.org:99999/hook",
]


@pytest.mark.parametrize("url", INWARD_FORMS + MALFORMED)
async def test_inward_and_malformed_addresses_are_refused(world: World, url: str) -> None:
    answer = await world.a["staff"].post("/api/v1/webhooks", {"target_url": url})
    assert answer.status_code == 422, (url, answer.text)
    assert answer.json()["errors"][0]["field"] == "target_url"


async def test_allowed_hosts_name_a_port() -> None:
    allowed = parse_allowed(["127.0.0.1:8081", "[::1]:9000"])
    assert allowed == {("127.0.0.1", 8081), ("::1", 9000)}
    assert await check_target("http://127.0.0.1:8081/x", allowed) == "127.0.0.1"
    assert await check_target("http://[::1]:9000/x", allowed) == "::1"
    for refused in ("http://127.0.0.1:5432/x", "http://127.0.0.1/x", "http://[::1]:5432/x"):
        with pytest.raises(RefusedTarget):
            await check_target(refused, allowed)
    with pytest.raises(ValueError, match="host:port"):
        parse_allowed(["127.0.0.1"])
    with pytest.raises(SettingsError, match="host:port"):
        Settings.from_env(
            {
                "DELIBERATION_SECRET_KEY": "k" * 32,
                "DELIBERATION_AUDIT_KEY": "a" * 32,
                "DELIBERATION_WEBHOOK_ALLOWED_HOSTS": "localhost",
            }
        )


HOSTILE = "路灯维修\n## 紧急通知 [点此领取补贴](http://evil.example/x) <@all> **速办**"


async def test_a_hostile_title_cannot_shape_the_wecom_message(
    world: World, receiver: Receiver
) -> None:
    t = await new_township(world, "转义镇")
    await subscribe(t, receiver.url, format="wecom", events=["topic.opened"])
    topic = await open_topic(t, title=HOSTILE)
    await drain()
    content = json.loads(receiver.received[0]["body"])["markdown"]["content"]
    lines = content.split("\n")
    title_line = next(line for line in lines if "路灯维修" in line)
    assert "紧急通知" in title_line and "点此领取补贴" in title_line  # shown, as text
    for inert in ("[点此", "<@all>", "http://evil", "**速办"):
        assert inert not in content, (inert, content)
    assert content.count("](") == 1  # the one link is ours
    assert not any(line.lstrip().startswith("#") for line in lines)
    # Our own link still works: ASCII brackets, the topic's address.
    assert f"[查看议题](http://127.0.0.1:8000/topics/{topic['id']})" in content


async def test_a_comment_with_newlines_stays_on_its_line(world: World, receiver: Receiver) -> None:
    t = await new_township(world, "换行镇")
    await subscribe(t, receiver.url, format="wecom", events=["topic.transitioned"])
    topic = await open_topic(t)
    answer = await t["staff"].post(
        f"/api/v1/topics/{topic['id']}/transitions",
        {"trigger": "reject", "version": topic["version"], "comment": "不予立项\n# 标题\n<@all>"},
    )
    assert answer.status_code == 200, answer.text
    await drain()
    content = json.loads(receiver.received[0]["body"])["markdown"]["content"]
    assert "<@all>" not in content and "\n#" not in content
    assert "不予立项 ＃ 标题 ＜＠all＞" in content
