"""Many opinions racing the transition that closes opinions: none lands after it.

On PostgreSQL (READ COMMITTED) a record's write used to check the stage on an unlocked
read of the topic, so a transition committing in between let the opinion land in
``resolution`` (docs/plans/issue-26-survey.md §2.2). The unit of work locks the topic row
first (``deliberation.changes``). SQLite's ``BEGIN IMMEDIATE`` already serialises writers.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from deliberation.errors import DomainError
from deliberation.records import add_opinion, add_progress, rate_satisfaction
from deliberation.schemas import OpinionCreate, ProgressCreate, SatisfactionCreate
from deliberation.tables import Opinion, ResolutionItem, SatisfactionRating, Topic, TopicEvent
from deliberation.topics import fire_trigger
from tests.world import World, satisfy, topic_in_state
from workflows import WORKFLOW

ROUNDS = 20
OPINIONS = 40
RATING_ROUNDS = 6
RATINGS = 30


@pytest.fixture
def postgres_only(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("SQLite's BEGIN IMMEDIATE already serialises every writer: no race")


async def _round(world: World) -> tuple[int, list[str]]:
    t = world.a
    topic = await topic_in_state(t, "meeting")
    await satisfy(t, topic, "minutes_recorded")
    await satisfy(t, topic, "resolution_item_added")
    current = (await t["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
    reps = [t["representative"].principal, t["representative2"].principal]
    staff = t["staff"].principal

    async def opinion(n: int) -> str:
        try:
            await add_opinion(
                reps[n % len(reps)],
                topic["id"],
                OpinionCreate(content=f"意见{n}", stance="support"),
            )
        except DomainError as error:
            return type(error).__name__
        return "ok"

    async def adopt() -> str:
        await fire_trigger(staff, topic["id"], "adopt_resolution", current["version"], "推进")
        return "moved"

    tasks = [opinion(n) for n in range(OPINIONS // 2)]
    tasks += [adopt()]
    tasks += [opinion(n) for n in range(OPINIONS // 2, OPINIONS)]
    outcomes = await asyncio.gather(*tasks)
    assert "moved" in outcomes

    open_in = WORKFLOW.record("opinion").open_in
    events = await TopicEvent.select().where(
        (TopicEvent.topic == topic["id"]) & (TopicEvent.kind == "record.created")
    )
    opinion_events = [e for e in events if json.loads(e["data"]).get("record") == "opinion"]
    late = [e["to_state"] for e in opinion_events if e["to_state"] not in open_in]
    rows = await Opinion.count().where(Opinion.topic == topic["id"])
    assert rows == len(opinion_events) == outcomes.count("ok")
    return len(late), late


async def test_no_opinion_lands_after_the_transition_that_closes_them(
    world: World, postgres_only: None
) -> None:
    late_total = 0
    for _ in range(ROUNDS):
        late, _states = await _round(world)
        late_total += late
    assert late_total == 0, f"{late_total} opinions landed in a stage closed to them"


async def _rating_round(world: World) -> int:
    """Ratings (new and given again) racing ``close``: none may land once closed. Before
    the lock, two ratings given again at once by one representative also collided on
    their kept revision's number (a unique violation: a 500)."""
    t = world.a
    topic = await topic_in_state(t, "feedback")
    await satisfy(t, topic, "items_completed")
    await satisfy(t, topic, "satisfaction_rated")
    current = (await t["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
    reps = [t["representative"].principal, t["representative2"].principal]

    async def rate(n: int) -> str:
        rating = ("satisfied", "basically_satisfied")[n % 2]
        try:
            await rate_satisfaction(reps[n % 2], topic["id"], SatisfactionCreate(rating=rating))
        except DomainError as error:
            return type(error).__name__
        return "ok"

    async def close() -> str:
        staff = t["staff"].principal
        await fire_trigger(staff, topic["id"], "close", current["version"], "办结")
        return "moved"

    tasks = [rate(n) for n in range(RATINGS // 2)]
    tasks += [close()]
    tasks += [rate(n) for n in range(RATINGS // 2, RATINGS)]
    outcomes = await asyncio.gather(*tasks)
    assert "moved" in outcomes
    events = await TopicEvent.select().where(
        (TopicEvent.topic == topic["id"]) & (TopicEvent.kind == "satisfaction.rated")
    )
    open_in = WORKFLOW.record("satisfaction").open_in
    assert len(events) == outcomes.count("ok") + 1  # and the one that met the requirement
    assert await SatisfactionRating.count().where(SatisfactionRating.topic == topic["id"]) <= 2
    return sum(1 for e in events if e["to_state"] not in open_in)


async def test_no_rating_lands_after_the_topic_is_closed(world: World, postgres_only: None) -> None:
    late = 0
    for _ in range(RATING_ROUNDS):
        late += await _rating_round(world)
    assert late == 0, f"{late} ratings landed after the topic was closed"


async def _progress_round(world: World) -> str | None:
    """Progress reports that reopen an item ("not completed") racing ``close``, which
    needs every item completed: a closed topic never has an item left open."""
    t = world.a
    topic = await topic_in_state(t, "feedback")
    await satisfy(t, topic, "items_completed")
    await satisfy(t, topic, "satisfaction_rated")
    current = (await t["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
    item = (await t["staff"].get(f"/api/v1/topics/{topic['id']}/resolution-items")).json()[0]
    staff = t["staff"].principal

    async def report(n: int) -> str:
        try:
            await add_progress(
                staff, item["id"], ProgressCreate(note=f"返工{n}", percent=80, completed=False)
            )
        except DomainError as error:
            return type(error).__name__
        return "ok"

    async def close() -> str:
        try:
            await fire_trigger(staff, topic["id"], "close", current["version"], "办结")
        except DomainError as error:
            return type(error).__name__
        return "moved"

    tasks = [report(n) for n in range(5)] + [close()] + [report(n) for n in range(5, 10)]
    await asyncio.gather(*tasks)
    state = await Topic.select(Topic.state).where(Topic.id == topic["id"]).first()
    open_items = await ResolutionItem.count().where(
        (ResolutionItem.topic == topic["id"]) & (ResolutionItem.completed == False)  # noqa: E712
    )
    if state is not None and state["state"] == "closed" and open_items:
        return f"topic {topic['id']} closed with {open_items} item(s) not completed"
    return None


async def test_no_topic_closes_with_an_item_reopened(world: World, postgres_only: None) -> None:
    wrong = [w for w in [await _progress_round(world) for _ in range(RATING_ROUNDS)] if w]
    assert wrong == []
