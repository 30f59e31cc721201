"""The 微协商 workflow (workflows/micro/v1.toml): its opinion window closes on its last
working day, counted on the project's calendar across a weekend and 元旦 (docs/workflows.md
"微协商 (micro)", docs/decisions.md "An opinion window closes on its day")."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pdfplumber
import pytest

from deliberation import clock
from deliberation.clock import CHINA
from deliberation.tables import Opinion
from tests.world import Township, World, fire, new_township, open_topic, unique

OPENED = date(2026, 9, 24)
"""A Thursday: a weekend and 国庆节 (10月1日–7日) follow, so on the chinese-calendar
schedule the project uses (deliberation/workdays.py) five working days end on 10月9日."""
LAST_DAY = date(2026, 10, 9)
NEXT_DAY = date(2026, 10, 10)
"""A Saturday, and a make-up working day: the window is closed all the same."""


@pytest.fixture
def at() -> Iterator[object]:
    """Move the clock to noon (China) of a day; put back afterwards."""
    stack: list[object] = []

    def move(day: date) -> None:
        while stack:
            stack.pop().__exit__(None, None, None)  # type: ignore[attr-defined]
        moved = clock.set_to(datetime.combine(day, time(12), tzinfo=CHINA).astimezone(UTC))
        moved.__enter__()
        stack.append(moved)

    yield move
    while stack:
        stack.pop().__exit__(None, None, None)  # type: ignore[attr-defined]


async def _soliciting(t: Township) -> dict[str, object]:
    opened = await t["liaison"].post(
        "/api/v1/topics",
        {"title": unique("小区路灯维修"), "description": "路灯坏了三盏。", "workflow": "micro"},
    )
    assert opened.status_code == 201, opened.text
    topic = dict(opened.json())
    assert topic["workflow"]["key"] == "micro" and topic["state"] == "initiated"
    moved = await fire(t["liaison"], topic, "solicit_opinions")
    assert moved.status_code == 200, moved.text
    return topic


async def _opinion(t: Township, topic: dict[str, object], role: str, text: str) -> object:
    return await t[role].post(
        f"/api/v1/topics/{topic['id']}/opinions", {"content": text, "stance": "support"}
    )


async def test_opinions_are_taken_until_the_last_working_day_and_refused_the_day_after(
    world: World, at: object
) -> None:
    move = at
    t = await new_township(world, "微协商镇")  # signed in now; tokens outlive a move back
    move(OPENED)  # type: ignore[operator]
    topic = await _soliciting(t)

    move(date(2026, 10, 1))  # type: ignore[operator]  # 国庆节: still in the window
    first = await _opinion(t, topic, "representative", "建议换成节能灯。")
    assert first.status_code == 201, first.text  # type: ignore[attr-defined]

    move(LAST_DAY)  # type: ignore[operator]
    last = await _opinion(t, topic, "liaison", "请物业一并检修线路。")
    assert last.status_code == 201, last.text  # type: ignore[attr-defined]
    early = await fire(t["staff"], topic, "draft_suggestion")
    assert early.status_code == 422, early.text
    assert early.json()["code"] == "condition_failed"
    assert "window_closed" in early.json()["missing"]
    assert "2026年10月10日" in early.json()["detail"]

    move(NEXT_DAY)  # type: ignore[operator]
    late = await _opinion(t, topic, "representative", "再补充一条。")
    assert late.status_code == 409, late.text  # type: ignore[attr-defined]
    assert late.json()["code"] == "stage_closed"  # type: ignore[attr-defined]
    assert "意见征集已于2026年10月9日截止" in late.json()["detail"]  # type: ignore[attr-defined]
    assert await Opinion.count().where(Opinion.topic == topic["id"]) == 2
    state = (await t["staff"].get(f"/api/v1/topics/{topic['id']}")).json()["state"]
    assert state == "soliciting"  # refused while the topic is still in the window state

    allowed = await fire(t["staff"], topic, "draft_suggestion")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["state"] == "drafting"


async def test_a_micro_consultation_walked_from_opening_to_closed(world: World, at: object) -> None:
    move = at
    t = await new_township(world, "微协商走通镇")
    staff, rep = t["staff"], t["representative"]
    move(OPENED)  # type: ignore[operator]
    topic = await _soliciting(t)
    tid = topic["id"]
    said = await _opinion(t, topic, "representative", "建议换成节能灯。")
    assert said.status_code == 201  # type: ignore[attr-defined]
    # Wrong role: staff do not give opinions.
    assert (await _opinion(t, topic, "staff", "工作人员的意见")).status_code == 403  # type: ignore[attr-defined]

    move(NEXT_DAY)  # type: ignore[operator]
    answered = await staff.post(
        f"/api/v1/opinions/{said.json()['id']}/answer",  # type: ignore[attr-defined]
        {"adoption": "adopted", "reason": "采纳，列入微建议。"},
    )
    assert answered.status_code == 200, answered.text
    assert (await fire(rep, topic, "draft_suggestion")).status_code == 403
    moved = await fire(staff, topic, "draft_suggestion")
    assert moved.status_code == 200, moved.text

    none_yet = await staff.post(f"/api/v1/topics/{tid}/documents", {"kind": "micro_suggestion"})
    # No items yet: the document says what to add first, nothing is drafted.
    assert none_yet.status_code == 422, none_yet.text
    assert none_yet.json()["missing"] == ["resolution_items"]
    assert none_yet.json()["detail"] == "还没有微建议事项：请先添加微建议事项，再生成微协商建议"

    items = [("更换小区路灯3盏", "镇村建办"), ("检修路灯供电线路", "镇供电所")]
    due = str(date(2026, 11, 10))
    for content, unit in items:
        added = await staff.post(
            f"/api/v1/topics/{tid}/resolution-items",
            {"content": content, "responsible_unit": unit, "due_date": due},
        )
        assert added.status_code == 201, added.text
    refused = await rep.post(
        f"/api/v1/topics/{tid}/resolution-items",
        {"content": "代表自己加的", "responsible_unit": "某单位", "due_date": due},
    )
    assert refused.status_code == 403
    early = await fire(staff, topic, "assign_suggestion")
    assert early.status_code == 422 and early.json()["missing"] == ["micro_suggestion_published"]

    drafted = await staff.post(f"/api/v1/topics/{tid}/documents", {"kind": "micro_suggestion"})
    assert drafted.status_code == 201, drafted.text
    published = await staff.post(f"/api/v1/documents/{drafted.json()['id']}/publish", {})
    assert published.status_code == 200, published.text
    document = published.json()
    assert document["kind_label"] == "微协商建议" and document["number"]
    pdf = await staff.get(f"/api/v1/documents/{document['id']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    with pdfplumber.open(io.BytesIO(pdf.content)) as doc:
        assert len(doc.pages) == 1
        text = (doc.pages[0].extract_text() or "").replace("\n", "").replace(" ", "")
    assert "微协商建议" in text and document["number"] in text
    for content, unit in items:
        assert content in text and unit in text
    for head in ("序号", "事项", "责任单位", "完成时限"):
        assert head in text
    assert "2026年11月10日" in text

    moved = await fire(staff, topic, "assign_suggestion")
    assert moved.status_code == 200, moved.text
    for item in (await staff.get(f"/api/v1/topics/{tid}/resolution-items")).json():
        r = await staff.post(
            f"/api/v1/resolution-items/{item['id']}/progress",
            {"note": "已完成", "percent": 100, "completed": True},
        )
        assert r.status_code == 201, r.text
    not_yet = await fire(staff, topic, "close")
    assert not_yet.status_code == 422 and not_yet.json()["missing"] == ["satisfaction_rated"]
    rated = await rep.post(f"/api/v1/topics/{tid}/satisfaction", {"rating": "satisfied"})
    assert rated.status_code == 201, rated.text
    closed = await fire(staff, topic, "close")
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed"


async def test_a_micro_document_on_a_standard_topic_is_refused_not_a_500(world: World) -> None:
    topic = await open_topic(world.a)
    r = await world.a["staff"].post(
        f"/api/v1/topics/{topic['id']}/documents", {"kind": "micro_suggestion"}
    )
    assert r.status_code == 409, r.text
    assert "没有微协商建议" in r.json()["detail"]
