"""Joint support (附议) and screening (审核) of villagers' suggestions (issue 27, I3):
the must-list threshold at exactly one fifth (rounded up) and one tenth of registered
villagers, liaisons shown and not counted; the screening deadline in working days
across a holiday, its reminders and the county's overdue list; accept (a topic pinned
to the chosen workflow, linked on both chains), merge and decline."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any, get_args

from litestar import Litestar

from api.settings import Settings
from deliberation import accounts, audit, clock
from deliberation.clock import CHINA
from deliberation.notifications.delivery import DeliveryConfig
from deliberation.notifications.outbox import EVENT_TYPES
from deliberation.notifications.reminders import remind
from deliberation.schemas import EventType, UserCreate
from deliberation.suggestions.threshold import DEFAULT_DECLINE_GROUNDS
from deliberation.tables import PlanEvent, PlanItem, Suggestion, SuggestionEvent, TopicEvent
from deliberation.workdays import load_schedule, parse_schedule, remove_schedule
from tests.api.test_sessions_end import page_client
from tests.api.test_webhooks import BASE, drain, subscribe
from tests.deliberation.owned import file_suggestion
from tests.deliberation.test_suggestion_chain import undone
from tests.receiver import Receiver
from tests.world import PASSWORD, Actor, Township, World, new_township, sign_in, unique


async def file(t: Township, by: str = "liaison", village: int | None = 0) -> dict[str, Any]:
    """A pending suggestion, filed through the spine's unit of work (``suggestion_filed``,
    as ``tests/deliberation/owned.py`` does until filing's route is merged) by a member,
    or by a villager without an account (``by="villager"``)."""
    principal = t[by].principal if by != "villager" else None
    village_id = t.villages[village]["id"] if village is not None else None
    return await file_suggestion(principal, t.id, village_id, title=unique("村口路灯不亮"))


async def representatives(t: Township, village: int, total: int, signed_in: int) -> list[Actor]:
    """Make the village's roster ``total`` representatives (the township's own one
    included); the first ``signed_in`` of them signed in."""
    made = []
    for _ in range(total - 1):
        name = unique("daibiao")
        await accounts.create_user(
            UserCreate(
                username=name,
                password=PASSWORD,
                display_name="测试代表",
                role="representative",
                township_id=t.id,
                village_id=t.villages[village]["id"],
            )
        )
        made.append(name)
    return [t["representative"]] + [
        await sign_in(t["representative"].client, n) for n in made[: signed_in - 1]
    ]


def delivering(settings: Settings) -> DeliveryConfig:
    """The delivery worker's settings, allowing the session's receivers."""
    return replace(BASE, allowed_hosts=settings.webhook_allowed_hosts)


async def support(actor: Actor, suggestion: dict[str, Any], **body: Any) -> Any:
    return await actor.post(f"/api/v1/suggestions/{suggestion['id']}/supports", body)


async def screen(actor: Actor, suggestion: dict[str, Any], **body: Any) -> Any:
    return await actor.post(f"/api/v1/suggestions/{suggestion['id']}/screening", body)


async def events_of(suggestion_id: int) -> list[dict[str, Any]]:
    return list(
        await SuggestionEvent.select()
        .where(SuggestionEvent.suggestion == suggestion_id)
        .order_by(SuggestionEvent.seq)
    )


async def status_of(suggestion_id: int) -> dict[str, Any]:
    row = await Suggestion.select().where(Suggestion.id == suggestion_id).first()
    assert row is not None
    return dict(row)


# The threshold -------------------------------------------------------------------------


async def test_the_sixth_of_27_representatives_makes_it_must_list(world: World) -> None:
    t = await new_township(world, "附议镇")
    reps = await representatives(t, 0, total=27, signed_in=6)
    suggestion = await file(t, "liaison")  # a liaison's own: shown, not counted
    for n, rep in enumerate(reps[:5], start=1):
        r = await support(rep, suggestion)
        assert r.status_code == 201, r.text
        assert (r.json()["representatives"], r.json()["status"]) == (n, "pending")
    # 5 × 5 = 25 < 27: not yet one fifth; one more is needed.
    assert r.json()["needed"] == 1
    # A second liaison's support is shown, and still one more representative is needed.
    r = await support(t["liaison2"], suggestion)
    assert r.status_code == 201, r.text
    assert (r.json()["liaisons"], r.json()["needed"], r.json()["status"]) == (2, 1, "pending")
    # Without an account: sign in first (the path is public for filing and reading).
    anonymous = await world.client.post(f"/api/v1/suggestions/{suggestion['id']}/supports", json={})
    assert anonymous.status_code == 401
    # Another village's representative may not support it.
    assert (await support(t["representative2"], suggestion)).status_code in (403, 404)
    # The sixth: 6 × 5 = 30 ≥ 27.
    r = await support(reps[5], suggestion)
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["needed"]) == ("must_list", 0)
    assert r.json()["screening_due_on"] is not None
    # Once per account.
    again = await support(reps[5], suggestion)
    assert again.status_code == 409 and again.json()["code"] == "already_supported"
    kinds = [e["kind"] for e in await events_of(suggestion["id"])]
    assert kinds.count("suggestion.must_list") == 1
    flip = next(e for e in await events_of(suggestion["id"]) if e["kind"] == "suggestion.must_list")
    assert json.loads(flip["data"])["roster"] == 27 and flip["actor"] is None


async def test_one_tenth_of_registered_villagers_counts_paper_names(world: World) -> None:
    t = await new_township(world, "村民镇")
    village = t.villages[1]["id"]
    r = await world.admin.patch(f"/api/v1/villages/{village}", {"registered_villagers": 143})
    assert r.status_code == 200 and r.json()["registered_villagers"] == 143, r.text
    suggestion = await file(t, "villager", village=1)  # the villager who filed counts
    names = [f"村民{i}" for i in range(13)]
    r = await support(t["staff"], suggestion, on_behalf_of=names, sheet_note="三组签名表")
    assert r.status_code == 201, r.text
    # 14 of 143: 14 × 10 = 140 < 143. Paper names count nothing for representatives.
    assert (r.json()["villagers"], r.json()["representatives"], r.json()["status"]) == (
        14,
        0,
        "pending",
    )
    r = await support(t["staff"], suggestion, on_behalf_of=["村民13"])
    assert (r.json()["villagers"], r.json()["status"]) == (15, "must_list")
    assert (await status_of(suggestion["id"]))["must_list_rule"] == "villagers"
    # The names are the office's: a blank or repeated name is refused, nothing written.
    r = await support(t["staff"], suggestion, on_behalf_of=["张三", "张三"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "on_behalf_of"


# The deadline, reminders, the county ----------------------------------------------------

SCHEDULE_2027 = {
    "year": 2027,
    "source": "测试：2027年国庆节放假安排（假定）",
    "holidays": {"国庆节": [f"2027-10-0{d}" for d in range(1, 8)]},
    "workdays": ["2027-10-09"],
}


def china_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=CHINA).astimezone(UTC)


async def test_the_screening_deadline_skips_a_holiday_and_is_reminded_once(
    world: World, receiver: Receiver, settings: Settings, app: Litestar
) -> None:
    t = await new_township(world, "期限镇")
    await subscribe(t, receiver.url, events=["deadline.due_soon", "deadline.overdue"])
    await load_schedule(parse_schedule(json.dumps(SCHEDULE_2027)))
    try:
        # The Wednesday before National Day: 9-30, then 10-8, 10-9 (a make-up Saturday),
        # 10-11 … 10-19 are the ten working days.
        with clock.set_to(china_noon(date(2027, 9, 29))):
            # Signed in on the moved clock (a token from today would have expired).
            rep = await sign_in(world.client, t["representative"].user["username"])
            suggestion = await file(t, "liaison")
            r = await support(rep, suggestion)
            assert r.status_code == 201, r.text
            assert (r.json()["status"], r.json()["screening_due_on"]) == (
                "must_list",
                "2027-10-19",
            )
            assert r.json()["screening_due_provisional"] is False
        # Two working days before: due soon, once over two runs.
        first = await remind(china_noon(date(2027, 10, 15)))
        second = await remind(china_noon(date(2027, 10, 15)))
        assert first["due_soon"] >= 1 and second == {"due_soon": 0, "overdue": 0}
        # Past it: overdue, once; and the county lists it.
        late = china_noon(date(2027, 10, 21))
        assert (await remind(late))["overdue"] >= 1
        assert (await remind(late))["overdue"] == 0
        with clock.set_to(late):
            supervisor = await sign_in(world.client, world.supervisor.user["username"])
            county = (await supervisor.get("/api/v1/county")).json()
            browser = await page_client(app, world.supervisor.user["username"])
            page = (await browser.get("/county")).text
        assert f'id="overdue-suggestion-{suggestion["id"]}"' in page
        assert "逾期 2 天" in page.split('id="overdue-suggestions"')[1].split("</ul>")[0]
        listed = [s for s in county["overdue_suggestions"] if s["id"] == suggestion["id"]]
        assert listed and listed[0]["days_overdue"] == 2 and listed[0]["due_on"] == "2027-10-19"
        line = next(x for x in county["townships"] if x["id"] == t.id)
        assert (line["suggestions_must_list"], line["suggestions_overdue"]) == (1, 1)
    finally:
        await remove_schedule(2027)
    await drain(delivering(settings), start=late)
    told = Counter(
        (json.loads(r["body"])["type"], json.loads(r["body"])["data"]["reference"])
        for r in receiver.received
    )
    assert told[("deadline.due_soon", suggestion["reference"])] == 1
    assert told[("deadline.overdue", suggestion["reference"])] == 1


# Screening -------------------------------------------------------------------------------


async def must_list(t: Township, village: int = 0) -> dict[str, Any]:
    """A suggestion its village's only representative has supported: must be listed."""
    suggestion = await file(t, "liaison", village=village)
    rep = t["representative"] if village == 0 else t["representative2"]
    r = await support(rep, suggestion)
    assert r.json()["status"] == "must_list", r.text
    return suggestion


async def test_a_decline_needs_a_public_reason_and_a_must_list_one_a_ground(
    world: World,
) -> None:
    t = await new_township(world, "审核镇")
    pending = await file(t, "liaison", village=None)
    r = await screen(t["staff"], pending, decision="decline", reason="  ")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    assert (await status_of(pending["id"]))["status"] == "pending"  # nothing written
    r = await screen(t["staff"], pending, decision="decline", reason="请联系 13912345678 了解")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "declined" and "13912345678" not in r.json()["public_reason"]
    again = await screen(t["staff"], pending, decision="decline", reason="重复")
    assert again.status_code == 409

    obliged = await must_list(t)
    r = await screen(t["staff"], obliged, decision="decline", reason="不想办")
    assert r.status_code == 422 and r.json()["code"] == "condition_failed"
    assert DEFAULT_DECLINE_GROUNDS[1] in r.json()["detail"]
    r = await screen(
        t["staff"], obliged, decision="decline", reason=f"经核查，{DEFAULT_DECLINE_GROUNDS[1]}。"
    )
    assert r.status_code == 200, r.text
    assert r.json()["ground"] == DEFAULT_DECLINE_GROUNDS[1]
    # Only the office screens.
    other = await file(t, "liaison")
    for role in ("liaison", "representative"):
        assert (await screen(t[role], other, decision="decline", reason="x")).status_code == 403


async def test_accept_opens_a_topic_in_the_chosen_workflow_linked_on_both_chains(
    world: World,
) -> None:
    t = await new_township(world, "立项镇")
    suggestion = await must_list(t)
    # 四议两公开 is opened by the village's cadres: refused, naming them.
    r = await screen(t["staff"], suggestion, decision="accept", workflow="siyi")
    assert r.status_code == 403 and "村干部" in r.json()["detail"], r.text
    r = await screen(t["staff"], suggestion, decision="accept")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "workflow"
    r = await screen(t["staff"], suggestion, decision="accept", workflow="micro")
    assert r.status_code == 200, r.text
    topic_id = r.json()["topic_id"]
    topic = (await t["staff"].get(f"/api/v1/topics/{topic_id}")).json()
    assert topic["workflow"]["key"] == "micro" and topic["state"] == "initiated"
    assert suggestion["reference"] in topic["description"]
    # Both chains name each other.
    opened = json.loads(
        (
            await TopicEvent.select(TopicEvent.data)
            .where(TopicEvent.topic == topic_id, TopicEvent.seq == 1)
            .first()
        )["data"]
    )
    screened = next(
        e for e in await events_of(suggestion["id"]) if e["kind"] == "suggestion.screened"
    )
    (named,) = json.loads(screened["data"])["links"]
    (source,) = opened["links"]
    assert (source["chain"], source["id"]) == ("suggestion", suggestion["id"])
    assert (named["chain"], named["id"], named["reference"]) == (
        "topic",
        topic_id,
        topic["reference"],
    )
    # Each names the other's head as it was: the topic's opening, the suggestion's
    # last event before its screening.
    opening = (
        await TopicEvent.select(TopicEvent.hash)
        .where(TopicEvent.topic == topic_id, TopicEvent.seq == 1)
        .first()
    )
    assert named["head"] == opening["hash"]
    before = [e for e in await events_of(suggestion["id"]) if e["seq"] == screened["seq"] - 1]
    assert source["head"] == before[0]["hash"]
    # The audit finds both chains intact and the link named both ways...
    _, problems = await audit.verify_chains()
    mine = {("suggestion", suggestion["id"]), ("topic", topic_id)}
    assert [p for p in problems if (p.chain, p.owner_id) in mine] == []
    # ...and says so when the topic's opening no longer names the suggestion.
    async with undone():
        await TopicEvent.update(
            {TopicEvent.data: json.dumps({k: v for k, v in opened.items() if k != "links"})}
        ).where(TopicEvent.topic == topic_id, TopicEvent.seq == 1)
        _, problems = await audit.verify_chains()
        reasons = [p.reason for p in problems if (p.chain, p.owner_id) in mine]
    assert (
        f"suggestion {suggestion['reference']} names topic {topic['reference']} "
        "but its opening does not name it"
    ) in reasons, reasons


async def test_merging_carries_supports_or_goes_on_the_topics_chain(world: World) -> None:
    t = await new_township(world, "合并镇")
    await representatives(t, 0, total=2, signed_in=1)  # one support of two: 1 × 5 ≥ 2
    kept = await file(t, "liaison")
    moved = await file(t, "liaison2")
    r = await support(t["representative"], moved)
    assert r.json()["status"] == "must_list", r.text
    r = await screen(t["staff"], moved, decision="merge", reason="")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await screen(
        t["staff"],
        moved,
        decision="merge",
        reason="与另一条建议为同一事项",
        merge_into={"suggestion_id": kept["id"]},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["merged_into_id"]) == ("merged", kept["id"])
    kinds = [e["kind"] for e in await events_of(kept["id"])]
    assert "suggestion.merged_in" in kinds
    # The representative's support was carried: one of two (×5 ≥ 2) makes it must-list.
    assert (await status_of(kept["id"]))["status"] == "must_list"
    r = await support(t["representative"], kept)
    assert r.status_code == 409 and r.json()["code"] == "already_supported"

    topic = (
        await t["staff"].post(
            "/api/v1/topics", {"title": unique("路灯议题"), "description": "修路灯。"}
        )
    ).json()
    third = await file(t, "liaison")
    r = await screen(
        t["staff"],
        third,
        decision="merge",
        reason="已列入议题办理",
        merge_into={"topic_id": topic["id"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["topic_id"] == topic["id"]
    on_topic = await TopicEvent.select(TopicEvent.kind, TopicEvent.data).where(
        TopicEvent.topic == topic["id"]
    )
    merged = [json.loads(e["data"]) for e in on_topic if e["kind"] == "suggestion.merged"]
    assert [m["links"][0]["reference"] for m in merged] == [third["reference"]]
    _, problems = await audit.verify_chains()
    merged_ones = {("suggestion", kept["id"]), ("suggestion", moved["id"])}
    merged_ones |= {("suggestion", third["id"]), ("topic", topic["id"])}
    assert [p for p in problems if (p.chain, p.owner_id) in merged_ones] == []
    # Into a suggestion already screened: refused, saying where to merge instead.
    late = await file(t, "liaison")
    r = await screen(
        t["staff"],
        late,
        decision="merge",
        reason="同一事项",
        merge_into={"suggestion_id": moved["id"]},
    )
    assert r.status_code == 409 and r.json()["code"] == "screened", r.text
    # A villager who filed without an account is carried over as one villager.
    by_villager = await file(t, "villager", village=1)
    into = await file(t, "liaison", village=1)
    r = await screen(
        t["staff"],
        by_villager,
        decision="merge",
        reason="同一事项",
        merge_into={"suggestion_id": into["id"]},
    )
    assert r.status_code == 200, r.text
    r = await support(t["staff"], into, on_behalf_of=["赵六"])
    assert (r.json()["villagers"], r.json()["liaisons"]) == (2, 1), r.text
    # Into another township's topic: not found.
    fourth = await file(t, "liaison")
    elsewhere = (
        await world.b["staff"].post(
            "/api/v1/topics", {"title": unique("外镇议题"), "description": "外镇。"}
        )
    ).json()
    r = await screen(
        t["staff"],
        fourth,
        decision="merge",
        reason="同一事项",
        merge_into={"topic_id": elsewhere["id"]},
    )
    assert r.status_code == 404, r.text


async def test_the_screening_is_delivered_to_a_webhook(
    world: World, receiver: Receiver, settings: Settings
) -> None:
    t = await new_township(world, "通知镇")
    await subscribe(t, receiver.url, events=["suggestion.screened", "suggestion.must_list"])
    suggestion = await must_list(t)
    r = await screen(t["staff"], suggestion, decision="accept", workflow="standard")
    assert r.status_code == 200, r.text
    await drain(delivering(settings))
    bodies = [json.loads(r["body"]) for r in receiver.received]
    mine = [b for b in bodies if b["data"].get("reference") == suggestion["reference"]]
    assert sorted(b["type"] for b in mine) == ["suggestion.must_list", "suggestion.screened"]
    screened = next(b for b in mine if b["type"] == "suggestion.screened")
    # The filer and the supporter with accounts are named to be told.
    told = set(screened["data"]["tell"])
    assert {t["liaison"].user["id"], t["representative"].user["id"]} <= told


def test_every_webhook_event_type_may_be_subscribed_to() -> None:
    assert set(get_args(EventType)) == set(EVENT_TYPES)


async def test_accepting_a_planned_suggestion_links_the_plan_item_to_its_topic(
    world: World,
) -> None:
    t = await new_township(world, "计划立项镇")
    staff = t["staff"]
    year = clock.china_today().year
    accepted, merged = await file(t, "liaison"), await file(t, "liaison2")
    items = [
        {"title": "村口路灯", "quarter": 4, "workflow": "micro", "lead_unit": "镇村建办"},
        {"title": "村道硬化", "quarter": 4, "workflow": "micro", "lead_unit": "镇村建办"},
        {"title": "直接列入", "quarter": 4, "workflow": "micro", "lead_unit": "镇村建办"},
    ]
    items[0]["suggestion_id"], items[1]["suggestion_id"] = accepted["id"], merged["id"]
    drafted = await staff.post("/api/v1/plans", {"year": year, "items": items})
    assert drafted.status_code == 201, drafted.text
    plan = drafted.json()
    r = await staff.post(f"/api/v1/plans/{plan['id']}/publish", {})
    assert r.status_code == 200, r.text

    async def opened() -> int:
        r = await staff.get("/api/v1/statistics", params={"township_id": t.id, "year": year})
        assert r.status_code == 200, r.text
        return int(r.json()["townships"][0]["plan"]["totals"]["opened"])

    assert await opened() == 0
    r = await screen(staff, accepted, decision="accept", workflow="micro")
    assert r.status_code == 200, r.text
    topic_id = r.json()["topic_id"]
    topic = (
        await staff.post("/api/v1/topics", {"title": unique("村道议题"), "description": "修路。"})
    ).json()
    r = await screen(
        staff,
        merged,
        decision="merge",
        reason="已列入议题办理",
        merge_into={"topic_id": topic["id"]},
    )
    assert r.status_code == 200, r.text

    # The published plan's items name the topics; the third (no suggestion) names none.
    read = (await world.client.get(f"/api/v1/plans/{plan['id']}")).json()
    assert [i["topic_id"] for i in read["items"]] == [topic_id, topic["id"], None]
    assert await opened() == 2
    # On the plan's chain, one event per screening, naming the topic and the suggestion.
    events = (
        await PlanEvent.select(PlanEvent.kind, PlanEvent.data)
        .where(PlanEvent.plan == plan["plan_id"])
        .order_by(PlanEvent.seq)
    )
    linked = [json.loads(e["data"]) for e in events if e["kind"] == "plan.item_linked"]
    assert [[(k["chain"], k["id"]) for k in e["links"]] for e in linked] == [
        [("topic", topic_id), ("suggestion", accepted["id"])],
        [("topic", topic["id"]), ("suggestion", merged["id"])],
    ]
    _, problems = await audit.verify_chains()
    mine = {("plan", plan["plan_id"]), ("topic", topic_id), ("topic", topic["id"])}
    mine |= {("suggestion", accepted["id"]), ("suggestion", merged["id"])}
    assert [p.reason for p in problems if (p.chain, p.owner_id) in mine] == []
    # The link is vouched: an item's topic edited afterwards is caught.
    async with undone():
        await PlanItem.update({PlanItem.topic: topic["id"]}).where(
            PlanItem.id == read["items"][0]["id"]
        )
        _, problems = await audit.verify_chains()
        edited = [p for p in problems if (p.chain, p.owner_id) == ("plan", plan["plan_id"])]
    assert edited and "topic" in edited[0].reason, [p.reason for p in edited]
