"""The year's figures (issue 15, item 1) equal counts taken straight from the tables:
topics by state, opinions by adoption, ratings, items, the stages that ended; the
public sees public topics only, the office and the county everything."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from chinese_calendar import is_workday

from deliberation import clock
from deliberation import statistics as statistics_service
from deliberation.clock import china_today
from deliberation.tables import Opinion, ResolutionItem, SatisfactionRating, Topic, TopicEvent
from tests.world import (
    Township,
    World,
    new_township,
    open_topic,
    satisfy,
    sign_in,
    step,
    topic_in_state,
    walk,
)

STATES = ("proposed", "investigated", "meeting", "resolution", "feedback", "closed", "rejected")


async def direct(township_id: int, states: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The same figures, counted straight from the tables."""
    topics = await Topic.select(Topic.id, Topic.state).where(Topic.township == township_id)
    if states is not None:
        topics = [t for t in topics if t["state"] in states]
    ids = [t["id"] for t in topics] or [-1]
    by_state: dict[str, int] = {}
    for t in topics:
        by_state[t["state"]] = by_state.get(t["state"], 0) + 1
    adoption: dict[str, int] = {}
    for o in await Opinion.select(Opinion.adoption).where(Opinion.topic.is_in(ids)):
        key = o["adoption"] or "unanswered"
        adoption[key] = adoption.get(key, 0) + 1
    ratings: dict[str, int] = {}
    for r in await SatisfactionRating.select(SatisfactionRating.rating).where(
        SatisfactionRating.topic.is_in(ids)
    ):
        ratings[r["rating"]] = ratings.get(r["rating"], 0) + 1
    items = await ResolutionItem.select(ResolutionItem.completed).where(
        ResolutionItem.topic.is_in(ids)
    )
    left = await TopicEvent.select(TopicEvent.from_state).where(
        TopicEvent.topic.is_in(ids), TopicEvent.kind == "transition"
    )
    finished: dict[str, int] = {}
    for e in left:
        finished[e["from_state"]] = finished.get(e["from_state"], 0) + 1
    return {
        "topics": len(topics),
        "by_state": by_state,
        "adoption": adoption,
        "ratings": ratings,
        "items": (len(items), sum(1 for i in items if i["completed"])),
        "finished": finished,
    }


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


async def test_the_figures_equal_direct_counts(world: World) -> None:
    t = await new_township(world, "统计镇")
    for state in STATES:
        await topic_in_state(t, state)
    year = china_today().year
    for who, states in (
        (t["staff"], None),
        (world.supervisor, None),
        (None, ("resolution", "feedback", "closed")),  # the public: public topics only
    ):
        client = who or world.client
        answer = await client.get("/api/v1/statistics", params={"township_id": t.id, "year": year})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["public_only"] is (who is None)
        [figures] = body["townships"]
        expected = await direct(t.id, states)
        assert figures["topics"] == expected["topics"]
        assert figures["by_state"] == expected["by_state"]
        assert nonzero(figures["opinions_by_adoption"]) == expected["adoption"]
        assert nonzero(figures["satisfaction_by_rating"]) == expected["ratings"]
        items = figures["items"]
        assert (items["total"], items["completed"]) == expected["items"]
        for stage in figures["stages"]:
            assert stage["finished"] == expected["finished"].get(stage["state"], 0), stage
            if stage["finished"]:  # everything here moved on the day it was opened
                assert stage["on_time"] == stage["finished"]
                assert stage["median_working_days"] == 0
        assert (figures["liaisons"] is None) is (who is None)
    staff_view = (await t["staff"].get("/api/v1/statistics", params={"township_id": t.id})).json()[
        "townships"
    ][0]
    liaison = next(p for p in staff_view["liaisons"] if p["account_id"] == t["liaison"].user["id"])
    opened = await Topic.count().where(
        (Topic.township == t.id) & (Topic.opened_by == t["liaison"].user["id"])
    )
    assert liaison["topics_opened"] == opened


async def test_other_years_and_bad_asks(world: World) -> None:
    t = await new_township(world, "往年镇")
    await topic_in_state(t, "closed")
    last_year = (
        await t["staff"].get(
            "/api/v1/statistics", params={"township_id": t.id, "year": china_today().year - 1}
        )
    ).json()["townships"][0]
    assert last_year["topics"] == 0
    assert (
        await world.client.get("/api/v1/statistics", params={"township_id": 999999})
    ).status_code == 404
    for bad in ({"year": "今年"}, {"year": 1900}, {"township_id": 0}):
        answer = await world.client.get("/api/v1/statistics", params=bad)
        assert answer.status_code in (400, 422), bad


async def test_the_total_adds_up_the_townships_as_the_caller_sees_them(world: World) -> None:
    await topic_in_state(world.a, "resolution")
    await topic_in_state(world.a, "proposed")
    for who in (world.supervisor, world.a["staff"], None):
        answer = await (who or world.client).get("/api/v1/statistics")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        total, townships = body["total"], body["townships"]
        assert total["township_name"] == "全部乡镇" and total["liaisons"] is None
        assert total["topics"] == sum(t["topics"] for t in townships) > 0
        for state in STATES:
            assert total["by_state"].get(state, 0) == sum(
                t["by_state"].get(state, 0) for t in townships
            )
        for stage in total["stages"]:
            same = [s for t in townships for s in t["stages"] if s["state"] == stage["state"]]
            assert stage["finished"] == sum(s["finished"] for s in same)
            assert stage["on_time"] == sum(s["on_time"] for s in same)
        assert total["items"]["total"] == sum(t["items"]["total"] for t in townships)
    # The staff member's own township counts every topic, the others public ones only.
    staff_view = (await world.a["staff"].get("/api/v1/statistics")).json()
    mine = next(t for t in staff_view["townships"] if t["township_id"] == world.a.id)
    assert mine["by_state"].get("proposed", 0) >= 1 and mine["liaisons"] is not None
    one = await world.client.get("/api/v1/statistics", params={"township_id": world.a.id})
    assert one.json()["total"] is None


async def test_the_figures_are_never_staler_than_the_last_change(world: World) -> None:
    """The figures are kept in memory; each kind of change shows in the next answer."""
    t = await new_township(world, "缓存镇")
    topic = await open_topic(t)

    async def now() -> dict[str, Any]:
        answer = await t["staff"].get("/api/v1/statistics", params={"township_id": t.id})
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["townships"][0])

    assert (await now())["topics"] == 1
    assert (await now())["topics"] == 1  # from memory
    await open_topic(t)
    assert (await now())["topics"] == 2  # a new topic
    r = await t["representative"].post(
        f"/api/v1/topics/{topic['id']}/opinions", {"content": "路灯不亮", "stance": "suggestion"}
    )
    assert (await now())["opinions_by_adoption"]["unanswered"] == 1  # a record
    await t["staff"].post(
        f"/api/v1/opinions/{r.json()['id']}/answer", {"adoption": "adopted", "reason": "已安排"}
    )
    assert (await now())["opinions_by_adoption"]["adopted"] == 1  # an answer
    await walk(t, topic, "investigated")
    assert (await now())["by_state"] == {"investigated": 1, "proposed": 1}  # a move
    liaison = t["liaison"].user["id"]
    r = await world.admin.patch(f"/api/v1/users/{liaison}", {"display_name": "改名联络员"})
    assert r.status_code == 200, r.text
    names = {p["account_id"]: p["name"] for p in (await now())["liaisons"]}
    assert names[liaison] == "改名联络员"  # an account
    r = await world.admin.patch(f"/api/v1/townships/{t.id}", {"name": t.name + "新"})
    assert r.status_code == 200, r.text
    assert (await now())["township_name"] == t.name + "新"  # a township
    # A sign-in (a security event, too) does not make the county count again.
    before = await statistics_service.change_stamp()
    await sign_in(world.client, t["staff"].user["username"])
    assert await statistics_service.change_stamp() == before
    # A liaison sees the office's figures, not a table of their colleagues.
    mine = (await t["liaison"].get("/api/v1/statistics", params={"township_id": t.id})).json()
    assert mine["public_only"] is False and mine["townships"][0]["liaisons"] is None


# A generated year ---------------------------------------------------------------------
#
# Topics of a past year walked through their stages on the days a plan gives (the clock
# is moved, so the chain holds the true times of each move; nothing is back-dated). The
# oracle counts working days with the chinese_calendar package itself, not the project's
# calendar, and knows from the plan which stages were late.

YEAR = 2025
TIMED = {"proposed": 10, "investigated": 10, "site_consultation": 5, "meeting": 7}
"""The stages with time limits, and their limits in working days."""
PLAN: list[tuple[date, tuple[int | None, ...], int | None]] = [
    # The day it is opened, the working days spent in each timed stage (None: still
    # there), and the working days its items took (due 30 calendar days after they are
    # set; None: not finished).
    (date(2025, 1, 6), (3, 8, 2, 5), 10),
    (date(2025, 2, 10), (12, 10, 6, 4), 30),
    (date(2025, 3, 3), (1, 1, 1, 1), 3),
    (date(2025, 4, 7), (10, 11, 5, 9), 25),
    (date(2025, 5, 12), (15, 2, 3, 7), None),
    (date(2025, 6, 9), (4, 20, 8, None), None),
    (date(2025, 9, 22), (9, 10, None, None), None),
    (date(2025, 12, 1), (2, None, None, None), None),
]
OPINIONS = (("adopted", "not_adopted"), ("partly_adopted", None), (None, None), ("adopted", None))
"""The answers given to two representatives' opinions on the first topics (None: none)."""


def workday_after(day: date, n: int) -> date:
    """The n-th working day after ``day``, by chinese_calendar."""
    while n:
        day += timedelta(days=1)
        n -= is_workday(day)
    return day


def workdays_between(after: date, until: date) -> int:
    return sum(is_workday(after + timedelta(days=k)) for k in range(1, (until - after).days + 1))


def on(day: date, hour: int = 10, minute: int = 0) -> None:
    """Set the clock to ``hour:minute`` China time on ``day`` (it keeps running)."""
    clock.set_offset(clock.offset_to_china_time(hour, minute, day))


@pytest.fixture
def restore_clock() -> Iterator[float]:
    start = clock.offset_seconds()
    yield start
    clock.set_offset(start)


async def opinions(t: Township, topic: dict[str, Any], answers: tuple[str | None, ...]) -> None:
    for rep, adoption in zip(("representative", "representative2"), answers, strict=True):
        r = await t[rep].post(
            f"/api/v1/topics/{topic['id']}/opinions",
            {"content": "建议尽快办理", "stance": "suggestion"},
        )
        assert r.status_code == 201, r.text
        if adoption:
            r = await t["staff"].post(
                f"/api/v1/opinions/{r.json()['id']}/answer",
                {"adoption": adoption, "reason": "经研究"},
            )
            assert r.status_code in (200, 201), r.text


async def test_a_generated_year_equals_what_its_plan_says(
    world: World, restore_clock: float
) -> None:
    t = await new_township(world, "生成年镇")
    expected: dict[str, list[tuple[int, bool]]] = {state: [] for state in TIMED}
    items_done = items_on_time = closed = 0
    path = [*TIMED, "resolution", "feedback", "closed"]
    for number, (opened, stages, items_took) in enumerate(PLAN):
        day = opened
        on(day)
        topic = await open_topic(t)
        if number < len(OPINIONS):
            await opinions(t, topic, OPINIONS[number])
        meeting_day = day
        for stage, taken in zip(TIMED, stages, strict=True):
            if taken is None:
                break
            entered, day = day, workday_after(day, taken)
            on(day)
            await step(t, topic, stage, path[path.index(stage) + 1])
            if stage == "site_consultation":
                meeting_day = day - timedelta(
                    days=1
                )  # the world's meetings are held the day before
            since = meeting_day if stage == "meeting" else entered
            assert workdays_between(entered, day) == taken
            expected[stage].append((taken, workdays_between(since, day) <= TIMED[stage]))
        if items_took is not None:
            await step(t, topic, "resolution", "feedback")
            due = day + timedelta(days=30)
            day = workday_after(day, items_took)
            on(day)
            await satisfy(t, topic, "items_completed")
            items_done += 1
            items_on_time += day <= due
            await step(t, topic, "feedback", "closed")
            closed += 1
    # A topic opened at 23:30 on New Year's Eve, China time, belongs to that year; one
    # opened half an hour after midnight, to the next.
    on(date(YEAR, 12, 31), 23, 30)
    await open_topic(t)
    on(date(YEAR + 1, 1, 1), 0, 30)
    await open_topic(t)
    clock.set_offset(restore_clock)
    assert any(not ok for runs in expected.values() for _, ok in runs)  # the plan has late stages

    adoptions = [a for answers in OPINIONS for a in answers]
    for who in (t["staff"], world.supervisor):
        answer = await who.get("/api/v1/statistics", params={"township_id": t.id, "year": YEAR})
        assert answer.status_code == 200, answer.text
        [figures] = answer.json()["townships"]
        assert figures["topics"] == len(PLAN) + 1
        assert figures["by_state"]["closed"] == closed
        for stage in figures["stages"]:
            runs = expected[stage["state"]]
            assert stage["finished"] == len(runs), stage
            assert stage["on_time"] == sum(ok for _, ok in runs), stage
            assert stage["median_working_days"] == statistics.median(d for d, _ in runs), stage
        assert figures["items"]["completed"] == items_done
        assert figures["items"]["completed_on_time"] == items_on_time
        for kind in ("adopted", "partly_adopted", "not_adopted"):
            assert figures["opinions_by_adoption"][kind] == adoptions.count(kind)
        assert figures["opinions_by_adoption"]["unanswered"] == adoptions.count(None)
        assert figures["satisfaction_by_rating"]["satisfied"] == closed
    following = await t["staff"].get(
        "/api/v1/statistics", params={"township_id": t.id, "year": YEAR + 1}
    )
    assert following.json()["townships"][0]["topics"] == 1
