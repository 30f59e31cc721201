"""村民说事 (shuoshi): a village topic walked end to end by the roles its file names
(workflows/shuoshi/v1.toml; docs/workflows.md "村民说事 (shuoshi)"), its refusals, and
the village's monthly 说事日 (docs/decisions.md "The 说事日")."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any

from litestar import Litestar

from deliberation.shuoshi_day import next_shuoshi_day
from deliberation.workdays import WorkingDays
from tests.api.test_sessions_end import page_client
from tests.world import Actor, Township, World, fire, new_township, today, unique
from workflows.registry import REGISTRY

SHUOSHI = REGISTRY.latest("shuoshi")


def trigger(source: str, dest: str) -> str:
    """The step of the shipped file from ``source`` to ``dest`` (names from the file)."""
    for transition in SHUOSHI.transitions:
        if source in transition.sources and transition.dest == dest:
            return str(transition.trigger)
    raise AssertionError(f"no step {source} -> {dest}")


PATH = SHUOSHI.main_path


async def open_shuoshi(t: Township, actor: Actor | None = None, **extra: Any) -> dict[str, Any]:
    body = {
        "title": unique("三组路灯不亮"),
        "description": "说事日上村民反映：三组路灯坏了半年，夜里出行不便。",
        "workflow": "shuoshi",
        "village_id": t.villages[0]["id"],
        **extra,
    }
    response = await (actor or t["village_cadre"]).post("/api/v1/topics", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def record_raised(t: Township, topic: dict[str, Any]) -> None:
    r = await t["representative"].post(
        f"/api/v1/topics/{topic['id']}/investigations",
        {
            "visited_on": str(today()),
            "place": "村委会说事室",
            "participants": "三组村民张三、李四等12人",
            "findings": "三组路灯坏了五盏，村民要求尽快修复",
        },
    )
    assert r.status_code == 201, r.text


async def hold_meeting(t: Township, topic: dict[str, Any]) -> None:
    cadre, tid = t["village_cadre"], topic["id"]
    r = await cadre.post(
        f"/api/v1/topics/{tid}/meetings",
        {
            "scheduled_at": f"{today() - timedelta(days=1)}T19:30:00+08:00",
            "place": "村委会议室",
            "host": "村党支部书记王强",
        },
    )
    assert r.status_code == 201, r.text
    r = await cadre.put(
        f"/api/v1/meetings/{r.json()['id']}/minutes",
        {
            "summary": "村两委和村民代表议定修复路灯",
            "decisions": "村委会负责，一个月内修复",
            "attendees": [
                {"name": "王强", "unit": "村党支部", "attendance": "present"},
                {"name": "李秀英", "unit": "村民代表", "attendance": "present"},
            ],
        },
    )
    assert r.status_code == 200, r.text


async def add_item(t: Township, topic: dict[str, Any]) -> dict[str, Any]:
    r = await t["village_cadre"].post(
        f"/api/v1/topics/{topic['id']}/resolution-items",
        {
            "content": "更换三组路灯五盏",
            "responsible_unit": "村委会",
            "due_date": str(today() + timedelta(days=30)),
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def step(actor: Actor, topic: dict[str, Any], dest: str, comment: str = "") -> Any:
    current = (await actor.get(f"/api/v1/topics/{topic['id']}")).json()
    return await fire(actor, topic, trigger(current["state"], dest), comment=comment)


async def test_a_shuoshi_topic_goes_from_raised_to_closed_by_the_roles_the_file_names(
    world: World,
) -> None:
    t = await new_township(world, "说事镇")
    cadre, rep, staff = t["village_cadre"], t["representative"], t["staff"]
    topic = await open_shuoshi(t, rep)  # a representative opens it
    assert topic["workflow"]["key"] == "shuoshi"
    assert topic["state"] == SHUOSHI.initial and topic["state_label"] == "说事"

    # 说事 → 议事 needs the 说事记录 of the day.
    refused = await step(cadre, topic, PATH[1])
    assert refused.status_code == 422, refused.text
    assert refused.json()["missing"] == ["shuoshi_recorded"]
    assert "说事记录" in refused.json()["detail"]
    await record_raised(t, topic)
    moved = await step(cadre, topic, PATH[1])
    assert moved.status_code == 200, moved.text
    assert moved.json()["state_label"] == "议事"

    # 议事: a meeting, its minutes and an item; a representative may not decide.
    refused = await step(cadre, topic, PATH[2])
    assert refused.status_code == 422
    assert set(refused.json()["missing"]) == {"minutes_recorded", "resolution_item_added"}
    await hold_meeting(t, topic)
    item = await add_item(t, topic)
    assert (await step(rep, topic, PATH[2])).status_code == 403
    moved = await step(cadre, topic, PATH[2])
    assert moved.status_code == 200, moved.text
    assert moved.json()["state_label"] == "办事"

    # 办事: the items done and the result published, then 评事.
    refused = await step(cadre, topic, PATH[3])
    assert refused.status_code == 422
    assert set(refused.json()["missing"]) == {"items_completed", "resolution_notice_published"}
    r = await cadre.post(
        f"/api/v1/resolution-items/{item['id']}/progress",
        {"note": "五盏路灯已更换", "percent": 100, "completed": True},
    )
    assert r.status_code == 201, r.text
    r = await staff.post(f"/api/v1/topics/{topic['id']}/documents", {"kind": "resolution_notice"})
    assert r.status_code == 201, r.text
    r = await staff.post(f"/api/v1/documents/{r.json()['id']}/publish", {})
    assert r.status_code == 200, r.text
    moved = await step(cadre, topic, PATH[3])
    assert moved.status_code == 200, moved.text

    # 评事: the villagers' rating, entered by their representative, closes it.
    refused = await step(cadre, topic, PATH[4])
    assert refused.status_code == 422 and refused.json()["missing"] == ["satisfaction_rated"]
    r = await rep.post(f"/api/v1/topics/{topic['id']}/satisfaction", {"rating": "satisfied"})
    assert r.status_code == 201, r.text
    closed = await step(cadre, topic, PATH[4])
    assert closed.status_code == 200, closed.text
    assert closed.json()["state_label"] == "已办结"


async def test_a_shuoshi_step_is_refused_to_the_wrong_role_and_other_townships(
    world: World,
) -> None:
    t = await new_township(world, "说事镇")
    topic = await open_shuoshi(t)
    await record_raised(t, topic)
    # A liaison may not open one, nor add its records; a representative may not move it.
    body = {"title": "路灯", "description": "坏了", "workflow": "shuoshi"}
    refused = await t["liaison"].post("/api/v1/topics", body)
    assert refused.status_code == 403 and "村干部" in refused.json()["detail"]
    assert (await step(t["representative"], topic, PATH[1])).status_code == 403
    other = await world.b["village_cadre"].post(
        f"/api/v1/topics/{topic['id']}/transitions",
        {"trigger": trigger(PATH[0], PATH[1]), "version": 1, "comment": ""},
    )
    assert other.status_code == 404, other.text
    # A record kind this workflow does not declare is refused, not a server error.
    opinion = await t["representative"].post(
        f"/api/v1/topics/{topic['id']}/opinions", {"content": "同意", "stance": "support"}
    )
    assert opinion.status_code == 409, opinion.text
    assert "村民说事" in opinion.json()["detail"]
    # After those refusals, the village's own cadre still moves it (a cadre of another
    # village is refused: tests/api/test_siyi.py).
    moved = await step(t["village_cadre"], topic, PATH[1])
    assert moved.status_code == 200, moved.text


async def test_the_shuoshi_day_is_set_read_refused_out_of_range_and_cleared(
    world: World,
) -> None:
    t = await new_township(world, "说事镇")
    village = t.villages[0]
    path = f"/api/v1/villages/{village['id']}"
    assert (await t["staff"].patch(path, {"shuoshi_day": 5})).status_code == 403
    for bad in (0, 29, "五"):
        refused = await world.admin.patch(path, {"shuoshi_day": bad})
        assert refused.status_code == 422, refused.text
    r = await world.admin.patch(path, {"shuoshi_day": 5})
    assert r.status_code == 200, r.text
    assert r.json()["shuoshi_day"] == 5 and r.json()["name"] == village["name"]
    upcoming = date.fromisoformat(r.json()["next_shuoshi_day"])
    assert upcoming >= today() and upcoming.day >= 5 and (upcoming - today()).days <= 40
    listed = {v["id"]: v for v in (await world.admin.get("/api/v1/villages")).json()}
    assert listed[village["id"]]["shuoshi_day"] == 5
    assert listed[village["id"]]["next_shuoshi_day"] == r.json()["next_shuoshi_day"]
    renamed = await world.admin.patch(path, {"name": village["name"] + "新"})
    assert renamed.json()["shuoshi_day"] == 5  # a rename keeps it
    cleared = await world.admin.patch(path, {"shuoshi_day": None})
    assert cleared.json()["shuoshi_day"] is None and cleared.json()["next_shuoshi_day"] is None


def test_the_next_shuoshi_day_crosses_a_month_end_and_skips_days_off() -> None:
    calendar = WorkingDays()
    # 2027-01-30: the 5th has passed this month, so February's (a Friday).
    assert next_shuoshi_day(5, date(2027, 1, 30), calendar) == date(2027, 2, 5)
    # 2027-12-20: the 15th has passed; January 15, 2028 is a Saturday: Monday the 17th.
    assert next_shuoshi_day(15, date(2027, 12, 20), calendar) == date(2028, 1, 17)
    # On the day itself, it is today.
    assert next_shuoshi_day(5, date(2027, 2, 5), calendar) == date(2027, 2, 5)
    # March 6, 2027 is a Saturday: moved to the 8th, still ahead on the 7th.
    assert next_shuoshi_day(6, date(2027, 3, 7), calendar) == date(2027, 3, 8)


async def test_the_admin_page_sets_and_shows_the_shuoshi_day(world: World, app: Litestar) -> None:
    t = await new_township(world, "说事镇")
    village = t.villages[1]
    admin = await page_client(app, world.admin.user["username"])
    path = f"/admin/villages/{village['id']}/shuoshi-day"
    refused = await admin.post(path, data={"shuoshi_day": "31"})
    assert refused.status_code == 422
    assert f'id="shuoshi-{village["id"]}-shuoshi_day-error"' in refused.text
    saved = await admin.post(path, data={"shuoshi_day": "10"})
    assert saved.status_code == 303, saved.text
    page = html.unescape((await admin.get("/admin")).text)
    shown = re.search(rf'id="shuoshi-day-{village["id"]}">([^<]+)<', page)
    assert shown is not None and "每月10日，下次说事日" in shown.group(1)
    read = (await world.admin.get("/api/v1/villages")).json()
    mine = next(v for v in read if v["id"] == village["id"])
    upcoming = date.fromisoformat(mine["next_shuoshi_day"])
    assert f"{upcoming.year}年{upcoming.month}月{upcoming.day}日" in shown.group(1)
    cleared = await admin.post(path, data={"shuoshi_day": ""})
    assert cleared.status_code == 303
    page = html.unescape((await admin.get("/admin")).text)
    assert re.search(rf'id="shuoshi-day-{village["id"]}">[^<]*未设置', page)


async def test_the_topic_page_offers_the_next_shuoshi_step_and_its_forms(
    world: World, app: Litestar
) -> None:
    t = await new_township(world, "说事镇")
    topic = await open_shuoshi(t)
    cadre = await page_client(app, t["village_cadre"].user["username"])
    page = html.unescape((await cadre.get(f"/topics/{topic['id']}")).text)
    assert "说事" in page and "提交议事" in page
    assert 'id="fire-deliberate-form"' in page and 'id="fire-decline-form"' in page
    assert "说事记录" in page  # what the step still needs, in this workflow's words
    assert 'id="fire-decide-form"' not in page
    rep = await page_client(app, t["representative"].user["username"])
    seen = html.unescape((await rep.get(f"/topics/{topic['id']}")).text)
    assert 'id="fire-deliberate-form"' not in seen

    await record_raised(t, topic)
    assert (await step(t["village_cadre"], topic, PATH[1])).status_code == 200
    page = html.unescape((await cadre.get(f"/topics/{topic['id']}")).text)
    assert 'id="fire-decide-form"' in page and "议定办事" in page
    assert "议事会" in page


async def test_the_scheduler_fills_a_missing_due_date_by_the_topics_own_stage_limit(
    world: World,
) -> None:
    # A due date lost (or from before due dates) is filled by the scheduler from the
    # limit of the topic's own workflow: it read the standard workflow's, which has no
    # 说事 stage, and the whole tick failed on a KeyError.
    from deliberation.notifications.reminders import refresh_missing_due
    from deliberation.tables import Topic
    from deliberation.workdays import working_days

    t = await new_township(world, "补期镇")
    topic = await open_shuoshi(t)
    assert topic["state"] == SHUOSHI.initial
    await Topic.update({Topic.due_on: None}).where(Topic.id == topic["id"])
    await refresh_missing_due()
    row = (
        await Topic.select(Topic.due_on, Topic.stage_entered_on)
        .where(Topic.id == topic["id"])
        .first()
    )
    limit = SHUOSHI.state(SHUOSHI.initial).time_limit
    assert limit is not None and limit.working_days
    expected = (await working_days()).add(row["stage_entered_on"], limit.working_days)
    assert row["due_on"] == expected.day
