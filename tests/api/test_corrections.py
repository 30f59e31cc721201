"""Corrections, not overwrites: PATCH with a reason makes a new revision, the earlier
ones stay readable, the change is on the chain; who may correct what and when."""

from __future__ import annotations

from typing import Any

import pytest

from deliberation.audit import verify_all
from tests.api.test_documents import create, publish
from tests.world import (
    Actor,
    Township,
    World,
    days_from_today,
    new_township,
    open_topic,
    topic_in_state,
)


@pytest.fixture(scope="module")
async def town(world: World) -> Township:
    return await new_township(world, "更正镇")


async def last_event(actor: Actor, topic_id: int) -> dict[str, Any]:
    return dict((await actor.get(f"/api/v1/topics/{topic_id}/events")).json()[-1])


CASES = [
    # kind, topic state, how to find the record, the path, a change
    ("investigation", "investigated", "investigations", "investigations", {"place": "四组"}),
    (
        "site_consultation",
        "meeting",
        "site-consultations",
        "site-consultations",
        {"summary": "改为先修后换"},
    ),
    ("meeting", "meeting", "meetings", "meetings", {"place": "村委会二楼"}),
    (
        "resolution_item",
        "resolution",
        "resolution-items",
        "resolution-items",
        {"due_date": days_from_today(80), "responsible_unit": "镇交管站"},
    ),
]


@pytest.mark.parametrize(
    ("record", "state", "listing", "path", "change"), CASES, ids=[c[0] for c in CASES]
)
async def test_a_correction_keeps_the_earlier_revision_and_goes_on_the_chain(
    world: World,
    town: Township,
    record: str,
    state: str,
    listing: str,
    path: str,
    change: dict[str, Any],
) -> None:
    staff = town["staff"]
    topic = await topic_in_state(town, state)
    before = (await staff.get(f"/api/v1/topics/{topic['id']}/{listing}")).json()[-1]
    url = f"/api/v1/{path}/{before['id']}"

    missing = await staff.patch(url, change)
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error"
    unknown = await staff.patch(url, {**change, "reason": "x", "colour": "红"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "validation_error"
    same = await staff.patch(url, {"reason": "无", **{k: before[k] for k in change}})
    assert same.status_code == 422 and "没有需要更正的内容" in same.text
    assert (await staff.get(f"{url}/revisions")).json()[-1]["revision"] == 1

    r = await staff.patch(url, {**change, "reason": "记录有误"})
    assert r.status_code == 200, r.text
    assert r.json()["revision"] == 2
    assert all(r.json()[k] == v for k, v in change.items())
    revisions = (await staff.get(f"{url}/revisions")).json()
    assert [(v["revision"], v["current"]) for v in revisions] == [(1, False), (2, True)]
    assert revisions[0]["reason"] == "记录有误" and revisions[0]["replaced_by"] == staff.user["id"]
    assert all(str(revisions[0]["content"][k]) != str(v) for k, v in change.items())
    event = await last_event(staff, topic["id"])
    assert (event["kind"], event["comment"]) == ("record.corrected", "记录有误")
    assert event["data"]["record"] == record and event["data"]["revision"] == 2
    assert set(change) <= set(event["data"]["changed"])
    # Not theirs: a representative (403), another township (404), not found (404).
    r = await town["representative"].patch(url, {**change, "reason": "x"})
    assert r.status_code == 403
    r = await world.a["staff"].patch(url, {**change, "reason": "x"})
    assert r.status_code == 404
    assert (await world.a["staff"].get(f"{url}/revisions")).status_code == 404
    r = await staff.patch(f"/api/v1/{path}/2147483647", {**change, "reason": "x"})
    assert r.status_code == 404
    _, problems = await verify_all()
    assert [p for p in problems if p.topic_id == topic["id"]] == []


async def test_an_opinion_is_corrected_by_its_author_until_answered(town: Township) -> None:
    rep, other, staff = town["representative"], town["representative2"], town["staff"]
    topic = await open_topic(town)  # township-wide: both representatives may speak
    r = await rep.post(
        f"/api/v1/topics/{topic['id']}/opinions",
        {"content": "路灯太暗", "stance": "suggestion", "on_behalf_of": "王奶奶"},
    )
    url = f"/api/v1/opinions/{r.json()['id']}"
    assert (await other.patch(url, {"content": "改", "reason": "x"})).status_code == 403
    assert (await staff.patch(url, {"content": "改", "reason": "x"})).status_code == 403
    r = await rep.patch(url, {"on_behalf_of": "王大妈", "reason": "名字写错了"})
    assert r.status_code == 200 and r.json()["on_behalf_of"] == "王大妈"
    # Another representative may not read its revisions (they name the villager).
    assert (await other.get(f"{url}/revisions")).status_code == 404
    assert [v["content"]["on_behalf_of"] for v in (await rep.get(f"{url}/revisions")).json()] == [
        "王奶奶",
        "王大妈",
    ]
    await staff.post(f"{url}/answer", {"adoption": "adopted", "reason": "已安排"})
    r = await rep.patch(url, {"content": "再改", "reason": "x"})
    assert r.status_code == 422 and r.json()["code"] == "condition_failed"


async def test_nothing_is_corrected_once_the_topic_is_closed(town: Township) -> None:
    topic = await topic_in_state(town, "closed")
    staff = town["staff"]
    record = (await staff.get(f"/api/v1/topics/{topic['id']}/investigations")).json()[0]
    r = await staff.patch(f"/api/v1/investigations/{record['id']}", {"place": "x", "reason": "y"})
    assert r.status_code == 409 and r.json()["code"] == "stage_closed"


async def test_published_minutes_are_corrected_by_a_new_document(town: Township) -> None:
    """Corrected minutes do not change the published paper: a new minutes draft is made
    at once, and publishing it supersedes the old one."""
    staff = town["staff"]
    topic = await topic_in_state(town, "resolution")
    meeting = (await staff.get(f"/api/v1/topics/{topic['id']}/meetings")).json()[-1]
    old = await publish(staff, (await create(staff, topic["id"], "minutes"))["id"])
    url = f"/api/v1/meetings/{meeting['id']}/minutes"
    r = await staff.patch(
        url,
        {
            "reason": "漏记一位列席人员",
            "attendees": [
                *meeting["attendees"],
                {"name": "孙立", "unit": "交管站", "attendance": "observer"},
            ],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["revision"] == 2 and len(body["attendees"]) == len(meeting["attendees"]) + 1
    draft_id = body["redraft_document_id"]
    assert draft_id is not None
    draft = (await staff.get(f"/api/v1/documents/{draft_id}")).json()
    assert draft["status"] == "draft" and draft["kind"] == "minutes"
    unchanged = (await staff.get(f"/api/v1/documents/{old['id']}")).json()
    assert unchanged["status"] == "published" and unchanged["sha256"] == old["sha256"]
    new = await publish(staff, draft_id)
    assert (await staff.get(f"/api/v1/documents/{old['id']}")).json()["status"] == "superseded"
    assert new["status"] == "published"
    revisions = (await staff.get(f"{url}/revisions")).json()
    assert revisions[0]["reason"] == "漏记一位列席人员"
    assert len(revisions[0]["content"]["attendees"]) == len(meeting["attendees"])
