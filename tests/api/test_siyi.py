"""四议两公开 (workflows/siyi/v1.toml) through the API: the vote record (表决), the
quorum and waiting rules it feeds, the village cadre's own village, and the two
publications. Runs on both engines (DELIBERATION_TEST_DATABASE_URL)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pypdf

from deliberation.audit import verify_all
from deliberation.clock import china_today
from deliberation.tables import Vote
from tests.world import PASSWORD, Actor, Township, World, fire, sign_in, unique
from workflows import REGISTRY

SIYI = REGISTRY.latest("siyi")
DAY = 86400.0


def _quorum(trigger: str, body: str | None = None) -> dict[str, Any]:
    """The quorum rule a step of the declaration names (its body, rules and basis; the
    first one, or ``body``'s among an ``any_of``'s alternatives); ``name`` is the
    requirement the step's refusal names in ``missing``."""
    for need in SIYI.transition(trigger).requires:
        for leaf in need.leaves:
            if leaf.kind == "quorum" and body in (None, leaf.param("body")):
                return {
                    "body": leaf.param("body"),
                    "basis": leaf.basis,
                    "name": need.name,
                    "notice_days": leaf.param("notice_days"),
                    "members": leaf.param("members"),
                }
    raise AssertionError(f"no quorum of {body} on {trigger}")


def _trigger(source: str, outcome: str = "carried") -> str:
    """The step leaving ``source`` whose quorum wants ``outcome`` (the main path's step
    for ``carried``)."""
    for transition in SIYI.transitions:
        if source not in transition.sources:
            continue
        quorums = [leaf for r in transition.requires for leaf in r.leaves if leaf.kind == "quorum"]
        if quorums and quorums[0].param("outcome", "carried") == outcome:
            return transition.trigger
        if not quorums and outcome == "carried":
            return transition.trigger
    raise AssertionError(f"no step from {source} ({outcome})")


def _vote(meeting: str, **figures: Any) -> dict[str, Any]:
    return {
        "body": meeting,
        "held_on": str(china_today()),
        "roster_size": 30,
        "present": 25,
        "for": 20,
        "against": 3,
        "abstain": 2,
        "method": "举手",
        "presided_by": "王书记",
        **figures,
    }


async def _siyi_topic(t: Township) -> dict[str, Any]:
    response = await t["village_cadre"].post(
        "/api/v1/topics",
        {
            "title": unique("村集体经济项目"),
            "description": "拟利用村集体闲置厂房发展来料加工。",
            "village_id": t.villages[0]["id"],
            "workflow": "siyi",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _state(actor: Actor, topic: dict[str, Any]) -> str:
    return str((await actor.get(f"/api/v1/topics/{topic['id']}")).json()["state"])


async def _fresh(actor: Actor) -> Actor:
    """The same account signed in again (a moved clock ends idle sessions)."""
    return await sign_in(actor.client, actor.user["username"], PASSWORD)


async def _to_review(
    t: Township, topic: dict[str, Any], move_clock: Callable[[float], None]
) -> Actor:
    """Walk a siyi topic through 提议 and 商议 (votes carried, 7 days waited)."""
    cadre = t["village_cadre"]
    for _ in range(2):
        state = await _state(cadre, topic)
        trigger = _trigger(state)
        body = _quorum(trigger)["body"]
        r = await cadre.post(
            f"/api/v1/topics/{topic['id']}/votes",
            _vote(body, roster_size=7, present=7, **{"for": 6}, against=1, abstain=0),
        )
        assert r.status_code == 201, r.text
        if any(r.kind == "min_wait" for r in SIYI.transition(trigger).requires):
            move_clock(7 * DAY)
            cadre = await _fresh(cadre)
        r = await fire(cadre, topic, trigger)
        assert r.status_code == 200, r.text
    return cadre


async def test_a_siyi_topic_walks_end_to_end(
    world: World, move_clock: Callable[[float], None]
) -> None:
    t = world.a
    topic = await _siyi_topic(t)
    assert topic["state"] == SIYI.initial
    assert topic["workflow"]["key"] == "siyi"
    cadre = t["village_cadre"]

    # 提议: no vote yet refuses, naming the rule.
    first = _trigger(SIYI.initial)
    refused = await fire(cadre, topic, first)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "condition_failed"
    assert _quorum(first)["name"] in refused.json()["missing"]
    assert "尚无" in refused.json()["detail"]

    cadre = await _to_review(t, topic, move_clock)
    staff = await _fresh(t["staff"])
    review = await _state(cadre, topic)
    assert review == SIYI.main_path[2]

    # 党员大会审议: too few present, then too few for, each refused with rule and basis.
    onward = _trigger(review)
    rule = _quorum(onward)
    move_clock(7 * DAY)
    cadre, staff = await _fresh(cadre), await _fresh(staff)
    votes = f"/api/v1/topics/{topic['id']}/votes"
    r = await cadre.post(
        votes, _vote(rule["body"], roster_size=30, present=19, **{"for": 19}, against=0, abstain=0)
    )
    assert r.status_code == 201, r.text
    refused = await fire(staff, topic, onward)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "condition_failed"
    assert rule["name"] in body["missing"]
    assert (
        f"{rule['body']}须有三分之二以上组成人员参加（{rule['basis']}）：应到 30 人，实到 19 人"
        in body["detail"]
    )

    r = await cadre.post(
        votes, _vote(rule["body"], roster_size=30, present=20, **{"for": 15}, against=5, abstain=0)
    )
    assert r.status_code == 201, r.text
    refused = await fire(staff, topic, onward)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "condition_failed"
    assert rule["basis"] in refused.json()["detail"]
    assert "同意 15 人" in refused.json()["detail"]

    r = await cadre.post(
        votes, _vote(rule["body"], roster_size=30, present=20, **{"for": 16}, against=4, abstain=0)
    )
    assert r.status_code == 201, r.text
    r = await fire(staff, topic, onward)  # township staff witness 审议
    assert r.status_code == 200, r.text

    # 村民代表会议决议: the example of docs/workflows.md, then carried.
    resolution = await _state(cadre, topic)
    onward = _trigger(resolution)
    rule = _quorum(onward)
    move_clock(7 * DAY)
    cadre, staff = await _fresh(cadre), await _fresh(staff)
    r = await cadre.post(
        votes, _vote(rule["body"], roster_size=27, present=15, **{"for": 15}, against=0, abstain=0)
    )
    assert r.status_code == 201, r.text
    refused = await fire(cadre, topic, onward)
    assert refused.status_code == 422
    assert (
        "村民代表会议须有三分之二以上组成人员参加（村委会组织法第二十六条）：应到 27 人，实到 15 人"
        in refused.json()["detail"]
    )
    r = await cadre.post(
        votes, _vote(rule["body"], roster_size=27, present=20, **{"for": 11}, against=9, abstain=0)
    )
    assert r.status_code == 201, r.text
    r = await fire(cadre, topic, onward)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == SIYI.main_path[4]

    listed = (await cadre.get(votes)).json()
    assert [v["for"] for v in listed][-1] == 11
    assert listed[-1]["body"] == rule["body"]

    # 决议公开: the staff publish the decision notice, made from the carried vote.
    published = await _publish(staff, topic, SIYI.main_path[4])
    text = _pdf_text(await staff.get(f"/api/v1/documents/{published['id']}/pdf"))
    assert rule["body"] in text
    assert "决议公开" in text
    assert published["number"]  # numbered like the other notices
    r = await fire(cadre, topic, _trigger(SIYI.main_path[4]))
    assert r.status_code == 200, r.text

    # 组织实施: items and their progress.
    r = await cadre.post(
        f"/api/v1/topics/{topic['id']}/resolution-items",
        {
            "content": "厂房修缮并引进加工项目",
            "responsible_unit": "村委会",
            "due_date": str(china_today() + timedelta(days=30)),
        },
    )
    assert r.status_code == 201, r.text
    item = r.json()
    refused = await fire(cadre, topic, _trigger(SIYI.main_path[5]))
    assert refused.status_code == 422
    r = await cadre.post(
        f"/api/v1/resolution-items/{item['id']}/progress",
        {"note": "已投产，吸纳村民务工32人", "percent": 100, "completed": True},
    )
    assert r.status_code == 201, r.text
    r = await fire(cadre, topic, _trigger(SIYI.main_path[5]))
    assert r.status_code == 200, r.text

    # 实施结果公开, then 办结.
    refused = await fire(cadre, topic, _trigger(SIYI.main_path[6]))
    assert refused.status_code == 422
    published = await _publish(staff, topic, SIYI.main_path[6])
    text = _pdf_text(await staff.get(f"/api/v1/documents/{published['id']}/pdf"))
    assert "已投产" in text
    r = await fire(cadre, topic, _trigger(SIYI.main_path[6]))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == SIYI.main_path[-1]

    # The chain vouches for the votes: the audit finds nothing wrong, and catches an
    # edit made behind the application's back.
    _, problems = await verify_all()
    assert [p for p in problems if p.topic_id == topic["id"]] == []
    last = listed[-1]
    await Vote.update({Vote.votes_for: 27}).where(Vote.id == last["id"])
    try:
        _, problems = await verify_all()
        assert [p.topic_id for p in problems] == [topic["id"]]
    finally:
        await Vote.update({Vote.votes_for: 11}).where(Vote.id == last["id"])


async def _publish(staff: Actor, topic: dict[str, Any], state: str) -> dict[str, Any]:
    kind = next(d.name for d in SIYI.documents if state in d.states and d.states[0] == state)
    r = await staff.post(f"/api/v1/topics/{topic['id']}/documents", {"kind": kind})
    assert r.status_code == 201, r.text
    r = await staff.post(f"/api/v1/documents/{r.json()['id']}/publish", {})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _pdf_text(response: Any) -> str:
    assert response.status_code == 200, response.text
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")


async def test_min_wait_refuses_before_day_seven_and_allows_on_it(
    world: World, move_clock: Callable[[float], None]
) -> None:
    t = world.a
    topic = await _siyi_topic(t)
    cadre = t["village_cadre"]
    first = _trigger(SIYI.initial)
    r = await cadre.post(
        f"/api/v1/topics/{topic['id']}/votes",
        _vote(_quorum(first)["body"], roster_size=7, present=7, **{"for": 7}, against=0, abstain=0),
    )
    assert r.status_code == 201, r.text
    assert (await fire(cadre, topic, first)).status_code == 200
    entered = china_today()
    onward = _trigger(SIYI.main_path[1])
    r = await cadre.post(
        f"/api/v1/topics/{topic['id']}/votes",
        _vote(
            _quorum(onward)["body"], roster_size=7, present=6, **{"for": 5}, against=1, abstain=0
        ),
    )
    assert r.status_code == 201, r.text
    move_clock(6 * DAY)
    cadre = await _fresh(cadre)
    refused = await fire(cadre, topic, onward)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "condition_failed"
    wait = next(r for r in SIYI.transition(onward).requires if r.kind == "min_wait")
    assert body["missing"] == [wait.name]
    day7 = entered + timedelta(days=7)
    assert f"最早可于{day7.year}年{day7.month}月{day7.day}日执行" in body["detail"]
    assert wait.basis in body["detail"]
    move_clock(1 * DAY)
    cadre = await _fresh(cadre)
    r = await fire(cadre, topic, onward)
    assert r.status_code == 200, r.text


async def test_a_vote_not_carried_vetoes(world: World, move_clock: Callable[[float], None]) -> None:
    t = world.a
    topic = await _siyi_topic(t)
    cadre = await _to_review(t, topic, move_clock)
    review = await _state(cadre, topic)
    veto = _trigger(review, "rejected")
    body = _quorum(veto)["body"]
    r = await cadre.post(
        f"/api/v1/topics/{topic['id']}/votes",
        _vote(body, roster_size=30, present=24, **{"for": 10}, against=14, abstain=0),
    )
    assert r.status_code == 201, r.text
    assert (await fire(cadre, topic, _trigger(review))).status_code == 422  # not carried
    r = await fire(cadre, topic, veto)
    assert r.status_code == 200, r.text
    assert SIYI.state(r.json()["state"]).terminal


BAD_VOTES = [
    ({"present": 31}, "present", "不能超过应到人数"),
    ({"for": 20, "against": 5, "abstain": 1}, "for", "不能超过实到人数"),
    ({"for": -1}, "for", ""),
    ({"roster_size": 0}, "roster_size", ""),
    ({"held_on": "2099-01-01"}, "held_on", "不能晚于今天"),
    ({"held_on": "2001-01-01"}, "held_on", "不能早于议题提出之日"),
    ({"body": "村民小组会议"}, "body", "表决会议应为"),
    ({"method": "鼓掌"}, "method", ""),
]


async def test_bad_votes_are_refused_and_nothing_is_written(world: World) -> None:
    t = world.a
    topic = await _siyi_topic(t)
    cadre = t["village_cadre"]
    body = _quorum(_trigger(SIYI.initial))["body"]
    for change, field, words in BAD_VOTES:
        vote = _vote(body, **change)
        r = await cadre.post(f"/api/v1/topics/{topic['id']}/votes", vote)
        assert r.status_code in (400, 422), (change, r.text)
        problem = r.json()
        assert problem["code"] in ("validation_error", "bad_request"), problem
        assert field in r.text, (change, r.text)
        assert words in problem["detail"] or words in r.text, (change, problem)
    assert await Vote.count().where(Vote.topic == topic["id"]) == 0
    events = (await cadre.get(f"/api/v1/topics/{topic['id']}/events")).json()
    assert len(events["items"] if isinstance(events, dict) else events) == 1  # opened only


async def test_a_vote_is_corrected_with_a_reason_and_keeps_its_revision(world: World) -> None:
    t = world.a
    topic = await _siyi_topic(t)
    cadre = t["village_cadre"]
    body = _quorum(_trigger(SIYI.initial))["body"]
    r = await cadre.post(
        f"/api/v1/topics/{topic['id']}/votes",
        _vote(body, roster_size=7, present=7, **{"for": 3}, against=4, abstain=0),
    )
    vote = r.json()
    r = await cadre.patch(f"/api/v1/votes/{vote['id']}", {"reason": "同意票数记错", "for": 8})
    assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
    r = await cadre.patch(f"/api/v1/votes/{vote['id']}", {"for": 6, "against": 1})
    assert r.status_code in (400, 422), r.text  # no reason
    r = await cadre.patch(
        f"/api/v1/votes/{vote['id']}", {"reason": "同意票数记错", "for": 6, "against": 1}
    )
    assert r.status_code == 200, r.text
    assert r.json()["for"] == 6 and r.json()["revision"] == 2
    revisions = (await cadre.get(f"/api/v1/votes/{vote['id']}/revisions")).json()
    assert [v["content"]["votes_for"] for v in revisions] == [3, 6]
    r = await t["representative"].patch(f"/api/v1/votes/{vote['id']}", {"reason": "改", "for": 7})
    assert r.status_code == 403, r.text
    assert (await fire(cadre, topic, _trigger(SIYI.initial))).status_code == 200


async def test_a_cadre_of_another_village_is_refused(world: World, tmp_path: Any) -> None:
    t = world.a
    topic = await _siyi_topic(t)
    username = unique("cadre2")
    r = await world.admin.post(
        "/api/v1/users",
        {
            "username": username,
            "password": PASSWORD,
            "display_name": "新街村干部",
            "role": "village_cadre",
            "township_id": t.id,
            "village_id": t.villages[1]["id"],
        },
    )
    assert r.status_code == 201, r.text
    other = await sign_in(world.client, username)
    body = _quorum(_trigger(SIYI.initial))["body"]
    r = await other.post(f"/api/v1/topics/{topic['id']}/votes", _vote(body))
    assert r.status_code == 403, r.text
    assert "其他村" in r.json()["detail"]
    r = await t["village_cadre"].post(
        f"/api/v1/topics/{topic['id']}/votes",
        _vote(body, roster_size=7, present=7, **{"for": 7}, against=0, abstain=0),
    )
    assert r.status_code == 201
    r = await fire(other, topic, _trigger(SIYI.initial))
    assert r.status_code == 403, r.text
    # Nor may they open a topic for the first village.
    r = await other.post(
        "/api/v1/topics",
        {
            "title": "越村提议",
            "description": "不应允许",
            "village_id": t.villages[0]["id"],
            "workflow": "siyi",
        },
    )
    assert r.status_code == 403, r.text
    # A cadre of another township does not even see it.
    r = await world.b["village_cadre"].post(f"/api/v1/topics/{topic['id']}/votes", _vote(body))
    assert r.status_code == 404, r.text


async def test_votes_on_a_standard_topic_are_a_clear_409(world: World) -> None:
    from tests.world import open_topic

    topic = await open_topic(world.a)
    r = await world.a["staff"].post(f"/api/v1/topics/{topic['id']}/votes", _vote("村民代表会议"))
    assert r.status_code == 409, r.text
    assert "标准协商" in r.json()["detail"] and "表决" in r.json()["detail"]
    assert (await world.a["staff"].get(f"/api/v1/topics/{topic['id']}/votes")).json() == []
    siyi_document = SIYI.documents[0].name
    r = await world.a["staff"].post(
        f"/api/v1/topics/{topic['id']}/documents", {"kind": siyi_document}
    )
    assert r.status_code == 409, r.text
    assert "标准协商" in r.json()["detail"]


async def _to_resolution(
    t: Township, topic: dict[str, Any], move_clock: Callable[[float], None]
) -> tuple[Actor, Actor]:
    """Walk a siyi topic to its 决议 stage (审议 carried, 7 days waited)."""
    cadre = await _to_review(t, topic, move_clock)
    review = await _state(cadre, topic)
    onward = _trigger(review)
    r = await cadre.post(
        f"/api/v1/topics/{topic['id']}/votes",
        _vote(_quorum(onward)["body"], roster_size=30, present=25, **{"for": 20}),
    )
    assert r.status_code == 201, r.text
    move_clock(7 * DAY)
    cadre = await _fresh(cadre)
    r = await fire(cadre, topic, onward)
    assert r.status_code == 200, r.text
    move_clock(7 * DAY)
    return await _fresh(cadre), await _fresh(t["staff"])


async def test_a_villagers_assembly_resolves_instead_of_the_representatives(
    world: World, move_clock: Callable[[float], None]
) -> None:
    """村委会组织法第二十一条、第二十二条: a 村民会议 needs more than half of the village's
    adults present, more than half of those present for, and ten days' notice."""
    t = world.a
    topic = await _siyi_topic(t)
    cadre, staff = await _to_resolution(t, topic, move_clock)
    resolution = await _state(cadre, topic)
    onward = _trigger(resolution)
    bodies = [
        leaf.param("body")
        for need in SIYI.transition(onward).requires
        for leaf in need.leaves
        if leaf.kind == "quorum"
    ]
    assembly = next(b for b in bodies if b != _quorum(onward)["body"] and "户" not in b)
    rule = _quorum(onward, assembly)
    assert rule["notice_days"] == 10
    votes = f"/api/v1/topics/{topic['id']}/votes"
    today = china_today()
    announced = str(today - timedelta(days=10))

    # Too few present: refused with the rule and its basis.
    r = await cadre.post(
        votes,
        _vote(assembly, roster_size=1000, present=480, **{"for": 470}, against=10, abstain=0)
        | {"notice_given_on": announced},
    )
    assert r.status_code == 201, r.text
    assert r.json()["notice_given_on"] == announced
    refused = await fire(cadre, topic, onward)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "condition_failed" and rule["name"] in problem["missing"]
    assert (
        f"{assembly}须有{rule['members']}过半数参加（{rule['basis']}）：应到 1000 人，实到 480 人"
        in problem["detail"]
    )

    # Enough present, but announced only five days before: refused, naming the notice.
    r = await cadre.post(
        votes,
        _vote(assembly, roster_size=1000, present=560, **{"for": 400}, against=100, abstain=60)
        | {"notice_given_on": str(today - timedelta(days=5))},
    )
    assert r.status_code == 201, r.text
    refused = await fire(cadre, topic, onward)
    assert refused.status_code == 422
    assert "应当提前十天通知" in refused.json()["detail"]

    # A notice date after the meeting is bad input: 422 naming the field, nothing written.
    before = await Vote.count().where(Vote.topic == topic["id"])
    r = await cadre.post(
        votes,
        _vote(assembly, roster_size=1000, present=560, **{"for": 400}, against=100, abstain=60)
        | {"notice_given_on": str(today + timedelta(days=1))},
    )
    assert r.status_code == 422 and "notice_given_on" in r.text, r.text
    assert await Vote.count().where(Vote.topic == topic["id"]) == before

    # Carried, ten days' notice: the step goes through, and the 决议公开 is made from it.
    r = await cadre.post(
        votes,
        _vote(assembly, roster_size=1000, present=560, **{"for": 400}, against=100, abstain=60)
        | {"notice_given_on": announced},
    )
    assert r.status_code == 201, r.text
    r = await fire(staff, topic, onward)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == SIYI.main_path[4]
    published = await _publish(staff, topic, SIYI.main_path[4])
    text = _pdf_text(await staff.get(f"/api/v1/documents/{published['id']}/pdf"))
    assert assembly in text
    day = today - timedelta(days=10)
    assert f"{day.year}年{day.month}月{day.day}日通知" in text  # the notice, on paper
    _, problems = await verify_all()
    assert [p for p in problems if p.topic_id == topic["id"]] == []
