"""The 微协商 workflow (workflows/micro/v1.toml): its opinion window closes on its last
working day, counted on the project's calendar across a weekend and 元旦 (docs/workflows.md
"微协商 (micro)", docs/decisions.md "An opinion window closes on its day")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest

from deliberation import clock
from deliberation.clock import CHINA
from deliberation.tables import Opinion
from tests.world import Township, World, fire, new_township, unique

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
    assert allowed.json()["state"] == "suggestion"
