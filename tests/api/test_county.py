"""The county supervisor (县政协督办): reads every township's topics and records but
never drafts, sees the county view, and urges (督办) overdue topics — on the chain, on
the topic until it moves on, and to the township's webhooks as ``topic.urged``."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import timedelta
from typing import Any

from litestar import Litestar

from deliberation.clock import china_today
from deliberation.tables import OutboxEvent, Topic
from tests.api.test_documents import create
from tests.api.test_sessions_end import page_client
from tests.api.test_webhooks import delivery_config, drain, subscribe  # noqa: F401 (autouse)
from tests.receiver import Receiver
from tests.world import Township, World, fire, new_township, open_topic, satisfy, topic_in_state


async def make_overdue(topic: dict[str, Any], days: int = 3) -> None:
    """The stage's time limit went by ``days`` ago (instead of waiting ten working days)."""
    await Topic.update({Topic.due_on: china_today() - timedelta(days=days)}).where(
        Topic.id == topic["id"]
    )


async def test_a_supervisor_belongs_to_no_township(world: World) -> None:
    body = {
        "username": "dubanzhe-x",
        "password": "hsl-duban-2026",
        "display_name": "县督办",
        "role": "supervisor",
    }
    placed = await world.admin.post("/api/v1/users", {**body, "township_id": world.a.id})
    assert placed.status_code == 422
    assert placed.json()["errors"][0]["field"] == "township_id"
    assert "不属于任何乡镇" in placed.json()["errors"][0]["message"]
    me = (await world.supervisor.get("/api/v1/me")).json()
    assert me["role"] == "supervisor" and me["township_id"] is None


async def test_the_supervisor_reads_every_township_but_never_drafts(world: World) -> None:
    supervisor = world.supervisor
    for t in (world.a, world.b):
        topic = await open_topic(t)  # proposed: not public, yet the county reads it
        r = await t["representative"].post(
            f"/api/v1/topics/{topic['id']}/opinions",
            {"content": "县里看得到", "stance": "support", "on_behalf_of": "王大妈"},
        )
        assert r.status_code == 201, r.text
        seen = await supervisor.get(f"/api/v1/topics/{topic['id']}")
        assert seen.status_code == 200 and seen.json()["title"] == topic["title"]
        opinions = (await supervisor.get(f"/api/v1/topics/{topic['id']}/opinions")).json()
        assert [o["on_behalf_of"] for o in opinions] == ["王大妈"]  # in full, with names
        # …but takes no part: no records, no steps.
        added = await supervisor.post(
            f"/api/v1/topics/{topic['id']}/opinions", {"content": "x", "stance": "support"}
        )
        assert added.status_code == 403
        assert (await fire(supervisor, topic, "reject")).status_code == 403
    topic = await topic_in_state(world.a, "resolution")
    draft = await create(world.a["staff"], topic["id"], "resolution_notice")
    assert (await supervisor.get(f"/api/v1/documents/{draft['id']}")).status_code == 404
    assert (await supervisor.get(f"/api/v1/documents/{draft['id']}/pdf")).status_code == 404
    listed = (await supervisor.get(f"/api/v1/topics/{topic['id']}/documents")).json()
    assert draft["id"] not in [d["id"] for d in listed]


async def test_urging_is_the_supervisors_and_only_for_overdue_topics(world: World) -> None:
    t = world.a
    topic = await open_topic(t)
    url = f"/api/v1/topics/{topic['id']}/urge"
    early = await world.supervisor.post(url, {"note": "请加快"})
    assert early.status_code == 409 and "未逾期" in early.json()["detail"]
    await make_overdue(topic)
    for who in ("staff", "liaison", "representative"):
        refused = await t[who].post(url, {"note": "请加快"})
        assert refused.status_code == 403, who
    assert (await world.admin.post(url, {"note": "请加快"})).status_code == 403
    assert (await world.client.post(url, json={"note": "请加快"})).status_code == 401
    for bad in ({"note": ""}, {"note": "   "}, {"note": "长" * 501}, {}):
        answer = await world.supervisor.post(url, bad)
        assert answer.status_code == 422, bad
        assert answer.json()["code"] == "validation_error"
    assert (
        await world.supervisor.post("/api/v1/topics/999999/urge", {"note": "x"})
    ).status_code == 404
    # Nothing was written by any of the refusals.
    events = (await t["staff"].get(f"/api/v1/topics/{topic['id']}/events")).json()
    assert [e["kind"] for e in events] == ["topic.opened"]


async def test_an_urge_is_on_the_chain_on_the_topic_and_sent_to_the_township(
    world: World, receiver: Receiver
) -> None:
    t: Township = await new_township(world, "督办镇")
    await subscribe(t, receiver.url, format="wecom", events=["topic.urged"])
    topic = await open_topic(t, title="渡口码头护栏缺失")
    await make_overdue(topic, days=5)
    urged = await world.supervisor.post(
        f"/api/v1/topics/{topic['id']}/urge", {"note": "  请于本周内完成调研  "}
    )
    assert urged.status_code == 201, urged.text
    body = urged.json()
    assert body["note"] == "请于本周内完成调研" and body["urged_by_name"] == "测试督办"

    # On the topic, for its township, until it moves on.
    seen = (await t["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
    assert seen["urge_note"] == "请于本周内完成调研" and seen["urged_at"]
    # On the chain, with the note, and the chain still verifies.
    events = (await t["staff"].get(f"/api/v1/topics/{topic['id']}/events")).json()
    assert events[-1]["kind"] == "topic.urged"
    assert events[-1]["comment"] == "请于本周内完成调研"
    assert events[-1]["seq"] == body["seq"]
    # To the township's webhook, in WeCom's markdown.
    await drain()
    assert len(receiver.received) == 1
    content = json.loads(receiver.received[0]["body"])["markdown"]["content"]
    for shown in ("县政协督办", "请于本周内完成调研", "渡口码头护栏缺失", "完成调研"):
        assert shown in content, content

    await satisfy(t, topic, "investigation_recorded")
    assert (await fire(t["liaison"], topic, "investigate")).status_code == 200
    moved = (await t["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
    assert moved["urged_at"] is None and moved["urge_note"] is None
    kinds = [
        e["kind"] for e in (await t["staff"].get(f"/api/v1/topics/{topic['id']}/events")).json()
    ]
    assert "topic.urged" in kinds  # the history keeps it


async def test_the_county_view_counts_every_township_overdue_first(world: World) -> None:
    quiet = await new_township(world, "平安镇")
    late = await new_township(world, "迟缓镇")
    await open_topic(quiet)
    on_time = await open_topic(late)
    overdue = [await open_topic(late) for _ in range(2)]
    for n, topic in enumerate(overdue):
        await make_overdue(topic, days=2 + n)
    await world.supervisor.post(f"/api/v1/topics/{overdue[0]['id']}/urge", {"note": "请加快"})

    answer = await world.supervisor.get("/api/v1/county")
    assert answer.status_code == 200, answer.text
    view = answer.json()
    lines = {line["id"]: line for line in view["townships"]}
    assert lines[quiet.id]["by_state"] == {"proposed": 1}
    assert lines[quiet.id]["overdue"] == 0 and lines[quiet.id]["on_time_share"] == 1.0
    assert lines[late.id]["total"] == 3 and lines[late.id]["overdue"] == 2
    assert lines[late.id]["urged"] == 1
    assert abs(lines[late.id]["on_time_share"] - 1 / 3) < 1e-9
    order = [line["id"] for line in view["townships"]]
    assert order.index(late.id) < order.index(quiet.id)  # the late township first
    # Every count equals a count taken straight from the table.
    for line in view["townships"]:
        assert line["total"] == await Topic.count().where(Topic.township == line["id"])
    listed = [o["id"] for o in view["overdue"]]
    assert listed.index(overdue[1]["id"]) < listed.index(overdue[0]["id"])  # longest first
    assert on_time["id"] not in listed
    first = next(o for o in view["overdue"] if o["id"] == overdue[1]["id"])
    assert first["days_overdue"] == 3 and first["township_name"] == late.name
    for who in (world.a["staff"], world.a["liaison"], world.admin):
        assert (await who.get("/api/v1/county")).status_code == 403
    # The overdue list of the API covers every township for the county.
    everywhere = (await world.supervisor.get("/api/v1/overdue", params={"limit": 100})).json()
    assert {overdue[0]["id"], overdue[1]["id"]} <= {i["id"] for i in everywhere["items"]}


async def test_a_draft_refused_on_a_page_is_a_page_with_the_header(
    world: World, app: Litestar
) -> None:
    """A signed-in person refused on a page gets the error page with their header (its
    sign-out form): this was a 500 when an error page met a signed-in viewer."""
    topic = await topic_in_state(world.b, "resolution")
    draft = await create(world.b["staff"], topic["id"], "resolution_notice")
    for actor in (world.supervisor, world.a["staff"]):
        client = await page_client(app, actor.user["username"])
        answer = await client.get(
            f"/topics/{topic['id']}/documents/{draft['id']}/preview",
            headers={"accept": "text/html"},
        )
        assert answer.status_code == 404, answer.text[-500:]
        assert "文件不存在" in answer.text and "退出" in answer.text


async def test_the_county_lists_any_townships_topics_and_townships_only_their_own(
    world: World,
) -> None:
    topic = await open_topic(world.b, title="县里翻看乙镇的议题")
    listed = await world.supervisor.get(
        "/api/v1/topics", params={"township_id": world.b.id, "q": "县里翻看", "limit": 100}
    )
    assert listed.status_code == 200, listed.text
    assert [t["id"] for t in listed.json()["items"]] == [topic["id"]]
    assert listed.json()["total"] == 1
    unnamed = await world.supervisor.get("/api/v1/topics")
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "township_id"
    elsewhere = await world.a["staff"].get("/api/v1/topics", params={"township_id": world.b.id})
    assert elsewhere.status_code == 403
    own = await world.a["staff"].get("/api/v1/topics", params={"township_id": world.a.id})
    assert own.status_code == 200


async def test_urges_sent_together_are_one_urge_one_event_one_message(
    world: World, receiver: Receiver
) -> None:
    """Twenty urges of one topic at once made twenty chain events and twenty webhook
    messages. One urge per topic and stage in 24 hours: the first is written, the rest
    are 409 saying when and by whom it was urged, and write nothing."""
    t: Township = await new_township(world, "连催镇")
    await subscribe(t, receiver.url, events=["topic.urged"])
    topic = await open_topic(t)
    await make_overdue(topic)
    url = f"/api/v1/topics/{topic['id']}/urge"
    answers = await asyncio.gather(
        *(world.supervisor.post(url, {"note": f"请加快办理{i}"}) for i in range(20))
    )
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 19}, [
        a.text for a in answers if a.status_code not in (201, 409)
    ]
    refused = next(a.json() for a in answers if a.status_code == 409)
    assert refused["code"] == "already_urged"
    assert "测试督办" in refused["detail"] and "24 小时内不重复督办" in refused["detail"]

    events = (await t["staff"].get(f"/api/v1/topics/{topic['id']}/events")).json()
    assert [e["kind"] for e in events].count("topic.urged") == 1
    outbox = await OutboxEvent.count().where(
        (OutboxEvent.topic == topic["id"]) & (OutboxEvent.type == "topic.urged")
    )
    assert outbox == 1
    await drain()
    assert len(receiver.received) == 1
    kept = next(a.json() for a in answers if a.status_code == 201)
    seen = (await t["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
    assert seen["urge_note"] == kept["note"]

    # A day later, still in the same stage and still late: it may be urged again.
    row = await Topic.select(Topic.urged_at).where(Topic.id == topic["id"]).first()
    assert row is not None
    await Topic.update({Topic.urged_at: row["urged_at"] - timedelta(hours=24, seconds=1)}).where(
        Topic.id == topic["id"]
    )
    again = await world.supervisor.post(url, {"note": "仍未推进，请说明原因"})
    assert again.status_code == 201, again.text
    await drain()  # nothing left for the next test's receiver
    assert len(receiver.received) == 2
