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
from deliberation.records import add_opinion
from deliberation.schemas import OpinionCreate
from deliberation.tables import Opinion, TopicEvent
from deliberation.topics import fire_trigger
from tests.world import World, satisfy, topic_in_state
from workflows import WORKFLOW

ROUNDS = 20
OPINIONS = 40


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
