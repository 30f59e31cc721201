"""Dates that make sense (issue 13, item 6): visits and consultations are not dated in
the future, an item is not due before today, minutes wait for the meeting. The API
answers 422 naming the field; the page says it in plain words next to the field and
keeps what was typed."""

from __future__ import annotations

from html import unescape

from litestar import Litestar

from tests.api.test_sessions_end import page_client
from tests.world import World, days_from_today, new_township, open_topic, topic_in_state


def problem_of(answer: object) -> dict[str, str]:
    body = answer.json()  # type: ignore[attr-defined]
    assert body["code"] == "validation_error", body
    return {e["field"]: e["message"] for e in body["errors"]}


async def test_the_api_refuses_dates_that_cannot_be(world: World) -> None:
    town = await new_township(world, "日期镇")
    topic = await open_topic(town)
    liaison, staff = town["liaison"], town["staff"]
    tid = topic["id"]

    visit = {"place": "三组", "participants": "联络员", "findings": "属实"}
    r = await liaison.post(
        f"/api/v1/topics/{tid}/investigations", {**visit, "visited_on": days_from_today(1)}
    )
    assert r.status_code == 422
    assert problem_of(r)["visited_on"] == f"调研日期不能晚于今天（{days_from_today(0)}）"
    r = await liaison.post(
        f"/api/v1/topics/{tid}/investigations", {**visit, "visited_on": days_from_today(0)}
    )
    assert r.status_code == 201, r.text
    investigation = r.json()
    # A correction is held to the same rule.
    r = await liaison.patch(
        f"/api/v1/investigations/{investigation['id']}",
        {"visited_on": days_from_today(3), "reason": "日期写错"},
    )
    assert r.status_code == 422 and "visited_on" in problem_of(r)

    consulted = await topic_in_state(town, "investigated")
    r = await liaison.post(
        f"/api/v1/topics/{consulted['id']}/site-consultations",
        {
            "held_on": days_from_today(150),
            "place": "村委会",
            "participants": "甲",
            "summary": "同意",
        },
    )
    assert r.status_code == 422
    assert problem_of(r)["held_on"].startswith("协商日期不能晚于今天")

    meeting_topic = await topic_in_state(town, "meeting")
    r = await staff.post(
        f"/api/v1/topics/{meeting_topic['id']}/resolution-items",
        {"content": "修路", "responsible_unit": "村建办", "due_date": days_from_today(-1)},
    )
    assert r.status_code == 422
    assert problem_of(r)["due_date"] == f"完成时限不能早于今天（{days_from_today(0)}）"
    r = await staff.post(
        f"/api/v1/topics/{meeting_topic['id']}/resolution-items",
        {"content": "修路", "responsible_unit": "村建办", "due_date": days_from_today(0)},
    )
    assert r.status_code == 201, r.text

    # Minutes for a meeting two days ahead: not yet.
    r = await staff.post(
        f"/api/v1/topics/{meeting_topic['id']}/meetings",
        {"scheduled_at": f"{days_from_today(2)}T09:30:00+08:00", "place": "镇会议室", "host": "陈"},
    )
    assert r.status_code == 201, r.text
    ahead = r.json()
    minutes = {
        "summary": "协商",
        "decisions": "议定",
        "attendees": [{"name": "陈", "attendance": "present"}],
    }
    r = await staff.put(f"/api/v1/meetings/{ahead['id']}/minutes", minutes)
    assert r.status_code == 422
    assert "会议开始后才能记录纪要" in problem_of(r)["summary"]
    meetings = (await staff.get(f"/api/v1/topics/{meeting_topic['id']}/meetings")).json()
    assert not next(m for m in meetings if m["id"] == ahead["id"])["minutes_recorded"]


async def test_the_page_says_each_date_problem_next_to_its_field(
    world: World, app: Litestar
) -> None:
    town = await new_township(world, "日期页镇")
    topic = await open_topic(town)
    liaison = await page_client(app, town["liaison"].user["username"])
    answer = await liaison.post(
        f"/topics/{topic['id']}/records/investigation",
        data={
            "visited_on": days_from_today(30),
            "place": "三组",
            "participants": "联络员",
            "findings": "路灯坏了",
        },
    )
    assert answer.status_code == 422
    page = unescape(answer.text)
    error = page.split('id="investigation-visited_on-error"', 1)[1].split("</p>", 1)[0]
    assert "调研日期不能晚于今天" in error
    assert 'aria-describedby="investigation-visited_on-error"' in page
    assert "路灯坏了" in page  # kept, to fix the date only

    staff = await page_client(app, town["staff"].user["username"])
    meeting_topic = await topic_in_state(town, "meeting")
    answer = await staff.post(
        f"/topics/{meeting_topic['id']}/records/resolution_item",
        data={"content": "修路", "responsible_unit": "村建办", "due_date": days_from_today(-10)},
    )
    assert answer.status_code == 422
    page = unescape(answer.text)
    error = page.split('id="resolution_item-due_date-error"', 1)[1].split("</p>", 1)[0]
    assert "完成时限不能早于今天" in error
