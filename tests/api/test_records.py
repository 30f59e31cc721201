"""Record endpoints: roles from the declaration, stages, replacement rules."""

from __future__ import annotations

import pytest

from tests.world import World, days_from_today, today, topic_in_state
from workflows import ROLES, WORKFLOW


def bodies() -> dict[str, tuple[str, dict[str, object]]]:
    """Valid bodies, dated today (China, on the test run's clock)."""
    return {
        "opinion": ("/api/v1/topics/{id}/opinions", {"content": "支持", "stance": "support"}),
        "investigation": (
            "/api/v1/topics/{id}/investigations",
            {"visited_on": str(today()), "place": "三组", "participants": "p", "findings": "f"},
        ),
        "site_consultation": (
            "/api/v1/topics/{id}/site-consultations",
            {"held_on": str(today()), "place": "村委会", "participants": "p", "summary": "s"},
        ),
        "meeting": (
            "/api/v1/topics/{id}/meetings",
            {"scheduled_at": f"{today()}T09:00:00+08:00", "place": "会议室", "host": "陈主任"},
        ),
        "resolution_item": (
            "/api/v1/topics/{id}/resolution-items",
            {"content": "c", "responsible_unit": "镇村建办", "due_date": days_from_today(90)},
        ),
        "satisfaction": ("/api/v1/topics/{id}/satisfaction", {"rating": "basically_satisfied"}),
    }


@pytest.mark.parametrize("record", list(bodies()))
async def test_record_open_states_and_roles_follow_the_declaration(
    world: World, record: str
) -> None:
    kind = WORKFLOW.record(record)
    path, body = bodies()[record]
    open_state = kind.open_in[-1]
    topic = await topic_in_state(world.a, open_state)
    for role in ROLES:
        if role not in kind.roles:
            r = await world.by_role(role).post(path.format(id=topic["id"]), body)
            assert r.status_code == 403, (role, r.text)
            assert r.json()["code"] == "forbidden"
    allowed = world.a[kind.roles[0]]
    r = await allowed.post(path.format(id=topic["id"]), body)
    assert r.status_code == 201, r.text
    listed = (await allowed.get(path.format(id=topic["id"]))).json()
    assert listed[-1]["id"] == r.json()["id"]

    closed_state = next(s for s in ("closed", "withdrawn", "proposed") if s not in kind.open_in)
    closed = await topic_in_state(world.a, closed_state)
    r = await allowed.post(path.format(id=closed["id"]), body)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "stage_closed"
    assert kind.label in r.json()["detail"]


async def test_representative_speaks_only_for_own_village(world: World) -> None:
    topic = await topic_in_state(world.a, "proposed", village_id=world.a.villages[1]["id"])
    r = await world.a["representative"].post(
        f"/api/v1/topics/{topic['id']}/opinions", {"content": "意见", "stance": "oppose"}
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await world.a["representative2"].post(
        f"/api/v1/topics/{topic['id']}/opinions",
        {"content": "意见", "stance": "oppose", "on_behalf_of": "张奶奶"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["author_name"] == "测试representative2"


async def test_new_satisfaction_rating_replaces_the_old(world: World) -> None:
    topic = await topic_in_state(world.a, "feedback")
    rep = world.a["representative"]
    first = await rep.post(
        f"/api/v1/topics/{topic['id']}/satisfaction", {"rating": "dissatisfied", "comment": "太慢"}
    )
    second = await rep.post(f"/api/v1/topics/{topic['id']}/satisfaction", {"rating": "satisfied"})
    assert first.status_code == second.status_code == 201
    ratings = (await rep.get(f"/api/v1/topics/{topic['id']}/satisfaction")).json()
    assert [(r["rating"], r["id"]) for r in ratings] == [("satisfied", first.json()["id"])]


async def test_progress_marks_item_completed(world: World) -> None:
    topic = await topic_in_state(world.a, "feedback")
    staff = world.a["staff"]
    item = (await staff.get(f"/api/v1/topics/{topic['id']}/resolution-items")).json()[0]
    assert item["completed"] is False
    r = await staff.post(
        f"/api/v1/resolution-items/{item['id']}/progress", {"note": "完成一半", "percent": 50}
    )
    assert r.status_code == 201
    r = await staff.post(
        f"/api/v1/resolution-items/{item['id']}/progress",
        {"note": "完工", "percent": 100, "completed": True},
    )
    assert r.status_code == 201
    item = (await staff.get(f"/api/v1/topics/{topic['id']}/resolution-items")).json()[0]
    assert item["completed"] is True and item["latest_progress"]["percent"] == 100
    history = (await staff.get(f"/api/v1/resolution-items/{item['id']}/progress")).json()
    assert [h["percent"] for h in history] == [50, 100]
    bad = await staff.post(
        f"/api/v1/resolution-items/{item['id']}/progress", {"note": "x", "percent": 101}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"


async def test_minutes_replace_the_roster_and_validate_attendance(world: World) -> None:
    topic = await topic_in_state(world.a, "meeting")
    staff = world.a["staff"]
    meeting = (await staff.get(f"/api/v1/topics/{topic['id']}/meetings")).json()[0]
    path = f"/api/v1/meetings/{meeting['id']}/minutes"
    bad = await staff.put(
        path,
        {"summary": "s", "decisions": "d", "attendees": [{"name": "甲", "attendance": "asleep"}]},
    )
    assert bad.status_code == 422
    assert (await staff.get(f"/api/v1/topics/{topic['id']}/meetings")).json()[0][
        "minutes_recorded"
    ] is False

    def minutes(roster: list[str], **extra: str) -> dict[str, object]:
        return {
            "summary": "s",
            "decisions": "d",
            "attendees": [{"name": n, "attendance": "present"} for n in roster],
            **extra,
        }

    r = await staff.put(path, minutes(["甲", "乙", "丙"]))
    assert r.status_code == 200, r.text
    # Saving recorded minutes again is a correction: it needs a reason …
    r = await staff.put(path, minutes(["丁"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    saved = (await staff.get(f"/api/v1/topics/{topic['id']}/meetings")).json()[0]
    assert [a["name"] for a in saved["attendees"]] == ["甲", "乙", "丙"]
    r = await staff.put(path, minutes(["丁"], reason="名单录入有误"))
    assert r.status_code == 200, r.text
    saved = (await staff.get(f"/api/v1/topics/{topic['id']}/meetings")).json()[0]
    assert saved["minutes_recorded"] is True
    assert [a["name"] for a in saved["attendees"]] == ["丁"]
    # … and the roster as it was stays readable, with the reason, on the chain too.
    revisions = (await staff.get(f"{path}/revisions")).json()
    assert [r["revision"] for r in revisions] == [1, 2]
    assert revisions[0]["content"]["attendees"] == [
        ["甲", "", "present"],
        ["乙", "", "present"],
        ["丙", "", "present"],
    ]
    assert revisions[0]["reason"] == "名单录入有误" and revisions[1]["current"] is True
    events = (await staff.get(f"/api/v1/topics/{topic['id']}/events")).json()
    corrected = [e for e in events if e["kind"] == "record.corrected"]
    assert len(corrected) == 1 and corrected[0]["comment"] == "名单录入有误"
    assert set(corrected[0]["data"]["changed"]) == {"attendees", "revision"}


async def test_opinion_answer_is_staff_only(world: World) -> None:
    topic = await topic_in_state(world.a, "proposed")
    opinion = await world.a["representative"].post(
        f"/api/v1/topics/{topic['id']}/opinions", {"content": "意见", "stance": "support"}
    )
    for role in ("liaison", "representative", "admin"):
        r = await world.a[role].post(
            f"/api/v1/opinions/{opinion.json()['id']}/answer",
            {"adoption": "adopted", "reason": "r"},
        )
        assert r.status_code == 403
    r = await world.a["staff"].post(
        f"/api/v1/opinions/{opinion.json()['id']}/answer",
        {"adoption": "not_adopted", "reason": "超出职权"},
    )
    assert r.status_code == 200 and r.json()["answer_reason"] == "超出职权"
