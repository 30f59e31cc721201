"""The whole path proposed → … → resolution through HTTP, with records, checking
the events and their chain."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from deliberation.chain import GENESIS, Event, canonical, chain_hash
from tests.world import World, days_from_today, fire, today


async def test_topic_from_proposed_to_resolution(world: World) -> None:
    liaison, staff, rep = world.a["liaison"], world.a["staff"], world.a["representative"]
    village = world.a.villages[0]
    created = await liaison.post(
        "/api/v1/topics",
        {
            "title": "金山村排水沟清淤改造",
            "description": "主排水沟多年未清淤,暴雨时农田被淹。",
            "category": "水利",
            "village_id": village["id"],
        },
    )
    assert created.status_code == 201, created.text
    topic = created.json()
    assert topic["state"] == "proposed" and topic["state_label"] == "已提出"
    assert topic["reference"].startswith(f"HSL-{today().year}-")
    assert topic["township_id"] == world.a.id and topic["village_id"] == village["id"]
    assert topic["available_triggers"] == ["investigate", "withdraw"]
    tid = topic["id"]

    opinion = await rep.post(
        f"/api/v1/topics/{tid}/opinions",
        {"content": "建议同时加装护栏", "stance": "suggestion", "on_behalf_of": "刘大爷"},
    )
    assert opinion.status_code == 201, opinion.text
    assert opinion.json()["on_behalf_of"] == "刘大爷"

    r = await liaison.post(
        f"/api/v1/topics/{tid}/investigations",
        {
            "visited_on": str(today()),
            "place": "三组排水沟",
            "participants": "王建华、村两委",
            "findings": "淤积严重",
        },
    )
    assert r.status_code == 201, r.text
    assert (r.json()["visited_on"], r.json()["place"]) == (str(today()), "三组排水沟")
    assert r.json()["recorded_by"] == liaison.user["id"]
    assert (await fire(liaison, topic, "investigate")).json()["state"] == "investigated"
    assert (await fire(liaison, topic, "begin_site_consultation")).json()[
        "state"
    ] == "site_consultation"

    r = await liaison.post(
        f"/api/v1/topics/{tid}/site-consultations",
        {
            "held_on": str(today()),
            "place": "村委会",
            "participants": "群众代表12人",
            "summary": "同意清淤",
        },
    )
    assert r.status_code == 201, r.text
    assert (r.json()["held_on"], r.json()["summary"]) == (str(today()), "同意清淤")
    meeting = await staff.post(
        f"/api/v1/topics/{tid}/meetings",
        {
            "scheduled_at": f"{today() - timedelta(days=1)}T09:00:00+08:00",
            "place": "镇三楼会议室",
            "host": "陈主任",
        },
    )
    assert meeting.status_code == 201, meeting.text
    assert (await fire(staff, topic, "convene_meeting")).json()["state"] == "meeting"

    minutes = await staff.put(
        f"/api/v1/meetings/{meeting.json()['id']}/minutes",
        {
            "summary": "协商同意清淤改造",
            "decisions": "由镇水利站牵头,两个月内完成",
            "attendees": [
                {"name": "陈国强", "unit": "政协联络委", "attendance": "present"},
                {"name": "赵丽", "unit": "财政所", "attendance": "on_leave"},
                {"name": "李秀英", "unit": "村民代表", "attendance": "observer"},
            ],
        },
    )
    assert minutes.status_code == 200, minutes.text
    assert [a["attendance"] for a in minutes.json()["attendees"]] == [
        "present",
        "on_leave",
        "observer",
    ]
    item = await staff.post(
        f"/api/v1/topics/{tid}/resolution-items",
        {
            "content": "清淤并硬化沟渠800米",
            "responsible_unit": "镇水利站",
            "due_date": days_from_today(60),
        },
    )
    assert item.status_code == 201, item.text
    answered = await staff.post(
        f"/api/v1/opinions/{opinion.json()['id']}/answer",
        {"adoption": "partly_adopted", "reason": "护栏纳入二期"},
    )
    assert answered.status_code == 200 and answered.json()["adoption"] == "partly_adopted"
    final = await fire(staff, topic, "adopt_resolution")
    assert final.status_code == 200, final.text
    assert final.json()["state"] == "resolution" and final.json()["state_label"] == "已形成成果"
    assert final.json()["version"] == 5

    events = (await staff.get(f"/api/v1/topics/{tid}/events")).json()
    moves = [e for e in events if e["kind"] in ("topic.opened", "transition")]
    assert [e["trigger"] for e in moves] == [
        "open",
        "investigate",
        "begin_site_consultation",
        "convene_meeting",
        "adopt_resolution",
    ]
    assert events[0]["from_state"] is None and events[0]["to_state"] == "proposed"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    # Every change is on the chain, in the order it happened, naming its record.
    changes = [(e["kind"], e["data"].get("record")) for e in events if e not in moves]
    assert ("record.created", "opinion") in changes
    assert ("record.created", "investigation") in changes
    assert ("record.created", "meeting") in changes
    assert ("record.created", "minutes") in changes
    assert ("record.created", "resolution_item") in changes
    assert changes[-1] == ("opinion.answered", "opinion")
    # The hashes are keyed: recomputed with the key they match, plain SHA-256 does not.
    prev = GENESIS
    for event in events:
        assert event["prev_hash"] == prev
        content = Event(
            topic_id=tid,
            seq=event["seq"],
            kind=event["kind"],
            trigger=event["trigger"],
            from_state=event["from_state"],
            to_state=event["to_state"],
            actor_id=event["actor_id"],
            comment=event["comment"],
            created_at=datetime.fromisoformat(event["created_at"]),
            data=canonical(event["data"]),
        ).content()
        assert event["hash"] == chain_hash(prev, content)
        assert event["hash"] != hashlib.sha256(f"{prev}\n{content}".encode()).hexdigest()
        prev = event["hash"]
