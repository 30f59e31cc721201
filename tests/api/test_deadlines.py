"""Stage deadlines in Chinese working days: each topic shows when its stage is due
and whether it is late; staff see the late ones, worst first."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from deliberation.clock import china_today
from deliberation.workdays import WorkingDays
from tests.world import World, fire, open_topic, satisfy, topic_in_state
from workflows import WORKFLOW

CALENDAR = WorkingDays()


def working_days_after(start: date, days: int) -> str:
    return CALENDAR.add(start, days).day.isoformat()


async def reread(world: World, topic: dict[str, Any]) -> dict[str, Any]:
    return dict((await world.a["staff"].get(f"/api/v1/topics/{topic['id']}")).json())


async def test_each_stage_is_due_after_its_declared_working_days(world: World) -> None:
    today = china_today()
    topic = await open_topic(world.a)
    assert topic["due_on"] == working_days_after(today, 10)
    assert (topic["due_label"], topic["overdue"], topic["due_provisional"]) == (
        "完成调研",
        False,
        False,
    )
    await satisfy(world.a, topic, "investigation_recorded")
    topic = (await fire(world.a["liaison"], topic, "investigate")).json()
    assert (topic["due_on"], topic["due_label"]) == (working_days_after(today, 10), "完成现场协商")
    topic = (await fire(world.a["liaison"], topic, "begin_site_consultation")).json()
    assert (topic["due_on"], topic["due_label"]) == (working_days_after(today, 5), "发出会议通知")


async def test_minutes_are_due_seven_working_days_after_the_meeting(world: World) -> None:
    topic = await topic_in_state(world.a, "meeting")
    meeting_day = china_today() - timedelta(days=1)  # tests.world: held yesterday
    assert topic["due_on"] == working_days_after(meeting_day, 7)
    assert topic["due_label"] == "印发会议纪要"
    # A later meeting moves the deadline with it.
    r = await world.a["staff"].post(
        f"/api/v1/topics/{topic['id']}/meetings",
        {"scheduled_at": "2026-09-29T09:00:00+08:00", "place": "镇会议室", "host": "陈主任"},
    )
    assert r.status_code == 201, r.text
    topic = await reread(world, topic)
    # 7 working days after 2026-09-29, across the National Day holiday.
    assert topic["due_on"] == "2026-10-14"
    assert topic["overdue"] is (date(2026, 10, 14) < china_today())


async def test_feedback_is_due_by_the_earliest_open_item(world: World) -> None:
    topic = await topic_in_state(world.a, "resolution")
    staff = world.a["staff"]
    items = (await staff.get(f"/api/v1/topics/{topic['id']}/resolution-items")).json()
    first_due = items[0]["due_date"]
    assert topic["due_on"] == first_due and topic["due_label"] == "落实协商成果"
    later = (china_today() + timedelta(days=90)).isoformat()
    r = await staff.post(
        f"/api/v1/topics/{topic['id']}/resolution-items",
        {"content": "安装路灯", "responsible_unit": "镇村建办", "due_date": later},
    )
    assert r.status_code == 201, r.text
    second = r.json()["id"]
    assert (await reread(world, topic))["due_on"] == first_due
    r = await staff.post(
        f"/api/v1/resolution-items/{items[0]['id']}/progress",
        {"note": "完工", "percent": 100, "completed": True},
    )
    assert r.status_code == 201, r.text
    assert (await reread(world, topic))["due_on"] == later
    r = await staff.post(
        f"/api/v1/resolution-items/{second}/progress",
        {"note": "完工", "percent": 100, "completed": True},
    )
    assert r.status_code == 201, r.text
    done = await reread(world, topic)
    assert (done["due_on"], done["due_label"], done["overdue"]) == (None, None, False)


async def test_overdue_topics_are_listed_for_staff_worst_first(world: World) -> None:
    staff = world.a["staff"]
    late = []
    for day in ("2026-03-02", "2026-01-05"):
        topic = await topic_in_state(world.a, "meeting")
        r = await staff.post(
            f"/api/v1/topics/{topic['id']}/meetings",
            {"scheduled_at": f"{day}T09:00:00+08:00", "place": "镇会议室", "host": "陈主任"},
        )
        assert r.status_code == 201, r.text
        late.append(await reread(world, topic))
    assert all(t["overdue"] for t in late)
    on_time = await open_topic(world.a)
    listed = (await staff.get("/api/v1/overdue", params={"limit": 100})).json()
    ids = [t["id"] for t in listed["items"]]
    assert late[1]["id"] in ids and late[0]["id"] in ids and on_time["id"] not in ids
    assert ids.index(late[1]["id"]) < ids.index(late[0]["id"])  # 2026-01 before 2026-03
    dues = [t["due_on"] for t in listed["items"]]
    assert dues == sorted(dues) and all(t["overdue"] for t in listed["items"])
    assert listed["total"] >= 2
    other = (await world.b["staff"].get("/api/v1/overdue")).json()
    assert not {t["id"] for t in other["items"]} & set(ids)
    r = await world.a["liaison"].get("/api/v1/overdue")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


async def test_finished_topics_are_due_for_nothing(world: World) -> None:
    for state in ("rejected", "withdrawn"):
        topic = await topic_in_state(world.a, state)
        assert (topic["due_on"], topic["overdue"]) == (None, False), state


async def test_the_workflow_declares_the_time_limits(world: World) -> None:
    described = (await world.client.get("/api/v1/workflow")).json()
    limits = {s["name"]: s["time_limit"] for s in described["states"]}
    assert limits["proposed"] == {
        "label": "完成调研",
        "working_days": 10,
        "counted_from": "entered",
    }
    assert limits["meeting"]["counted_from"] == "meeting"
    assert limits["meeting"]["working_days"] == 7
    assert limits["closed"] is None
    assert all((limits[s.name] is None) == (s.time_limit is None) for s in WORKFLOW.states)
