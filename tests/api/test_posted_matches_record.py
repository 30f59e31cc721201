"""What is posted is what the record says (issue 23): a draft made before a later change
is marked stale and publishing it prints the record as it is; a feedback report with
nothing to report is not published; parallel publishes in one township all succeed,
numbered without holes."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

from deliberation.tables import Document
from tests.api.test_documents import create, pdf_of, publish, text_of
from tests.world import Actor, World, new_township, step, topic_in_state
from tests.world import today as world_today


async def _item(staff: Actor, topic_id: int, content: str) -> dict[str, Any]:
    r = await staff.post(
        f"/api/v1/topics/{topic_id}/resolution-items",
        {
            "content": content,
            "responsible_unit": "镇村建办",
            "due_date": str(world_today() + timedelta(days=30)),
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _document(staff: Actor, document_id: int) -> dict[str, Any]:
    r = await staff.get(f"/api/v1/documents/{document_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_notice_drafted_before_a_correction_publishes_the_corrected_result(
    world: World,
) -> None:
    staff = world.a["staff"]
    topic = await topic_in_state(world.a, "resolution")
    item = await _item(staff, topic["id"], "在村主干道安装路灯48盏")
    draft = await create(staff, topic["id"], "resolution_notice")
    assert draft["stale"] is False and draft["source_seq"] is not None
    assert "48盏" in text_of(await pdf_of(staff, draft))

    r = await staff.patch(
        f"/api/v1/resolution-items/{item['id']}",
        {"content": "在村主干道安装路灯60盏", "reason": "会议记录核对后更正数量"},
    )
    assert r.status_code == 200, r.text
    # The draft is now marked stale, in its own answer and in the topic's list.
    assert (await _document(staff, draft["id"]))["stale"] is True
    listed = (await staff.get(f"/api/v1/topics/{topic['id']}/documents")).json()
    assert [d["stale"] for d in listed if d["id"] == draft["id"]] == [True]

    published = await publish(staff, draft["id"])
    assert published["stale"] is False
    text = text_of((await world.client.get(f"/api/v1/documents/{published['id']}/pdf")).content)
    assert "60盏" in text and "48盏" not in text
    # The board's search finds the corrected words, not the old ones.
    board = (await world.client.get("/api/v1/public/notices", params={"q": "路灯60盏"})).json()
    assert draft["id"] in [d["id"] for d in board["items"]]
    board = (await world.client.get("/api/v1/public/notices", params={"q": "路灯48盏"})).json()
    assert draft["id"] not in [d["id"] for d in board["items"]]


async def test_a_feedback_report_drafted_early_publishes_the_progress_and_ratings_since(
    world: World,
) -> None:
    staff, rep = world.a["staff"], world.a["representative"]
    topic = await topic_in_state(world.a, "meeting", village_id=world.a.villages[0]["id"])
    await _item(staff, topic["id"], "硬化道路1.2公里")
    await step(world.a, topic, "meeting", "resolution")
    await step(world.a, topic, "resolution", "feedback")
    draft = await create(staff, topic["id"], "feedback_report")
    items = (await staff.get(f"/api/v1/topics/{topic['id']}/resolution-items")).json()
    assert len(items) == 2
    for item, percent in zip(items, (100, 50), strict=True):
        r = await staff.post(
            f"/api/v1/resolution-items/{item['id']}/progress",
            {"note": f"进展{percent}", "percent": percent, "completed": percent == 100},
        )
        assert r.status_code == 201, r.text
    r = await rep.post(
        f"/api/v1/topics/{topic['id']}/satisfaction", {"rating": "basically_satisfied"}
    )
    assert r.status_code == 201, r.text
    assert (await _document(staff, draft["id"]))["stale"] is True

    text = text_of(await pdf_of(staff, await publish(staff, draft["id"])))
    assert "共2项,已完成1项" in text.replace("，", ",")
    assert "尚未报告进展" not in text
    assert "进展100" in text and "进展50" in text
    # One 基本满意 rating: counted, 100 % of those who rated.
    assert re.search(r"基本满意\s*1\s*100%", text), text


async def test_a_feedback_report_with_nothing_reported_is_not_published(world: World) -> None:
    staff = world.a["staff"]
    topic = await topic_in_state(world.a, "feedback")
    draft = await create(staff, topic["id"], "feedback_report")
    r = await staff.post(f"/api/v1/documents/{draft['id']}/publish", {})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "condition_failed" and "进展" in r.json()["detail"]
    assert (await _document(staff, draft["id"]))["status"] == "draft"
    row = await Document.select(Document.status).where(Document.id == draft["id"]).first()
    assert row is not None and row["status"] == "draft"


async def test_twenty_parallel_publishes_in_one_township_all_succeed_numbered_without_holes(
    world: World,
) -> None:
    town = await new_township(world, "并发镇")
    staff = town["staff"]
    topics = [await topic_in_state(town, "resolution") for _ in range(20)]
    drafts = [await create(staff, t["id"], "resolution_notice") for t in topics]
    answers = await asyncio.gather(
        *(staff.post(f"/api/v1/documents/{d['id']}/publish", {}) for d in drafts)
    )
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers]
    numbers = sorted(int(re.findall(r"〔\d{4}〕(\d+)号", a.json()["number"])[0]) for a in answers)
    assert numbers == list(range(1, 21))
    # Each PDF carries the number its record says.
    sample = answers[7].json()
    assert sample["number"] in text_of(await pdf_of(staff, sample))
