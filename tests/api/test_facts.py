"""``load_facts``: what a topic's requirements ask about, read from the database in one
pass, only for the steps leaving its state; the waits read the one clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from deliberation import clock
from deliberation.clock import CHINA
from deliberation.requirements import check, load_facts
from deliberation.topics import topic_row
from tests.world import World, open_topic, satisfy, today
from workflows import WORKFLOW
from workflows.loader import load

TINY = load(Path(__file__).parents[1] / "workflows" / "valid_tiny.toml")


async def test_facts_read_only_what_the_steps_out_of_the_state_need(world: World) -> None:
    topic = await open_topic(world.a)
    facts = await load_facts(await topic_row(topic["id"]), WORKFLOW)
    assert facts.records == {"investigation": 0}
    assert facts.items == {} and facts.published == frozenset() and facts.calendar is None
    investigate = WORKFLOW.transition("investigate").requires[0]
    assert check(investigate, facts) is not None
    await satisfy(world.a, topic, "investigation_recorded")
    facts = await load_facts(await topic_row(topic["id"]), WORKFLOW)
    assert facts.records == {"investigation": 1}
    assert check(investigate, facts) is None


async def test_min_wait_and_the_window_read_the_moved_clock(world: World) -> None:
    topic = await open_topic(world.a)
    row = await topic_row(topic["id"])
    entered_on = today()
    # Only the wait: the tiny workflow's "note" kind has no table (record types come later).
    finish = TINY.transition("finish")
    wait = next(r for r in finish.requires if r.kind == "min_wait")
    waiting = [replace(finish, requires=(wait,))]
    deciding = {**row, "state": "deciding", "stage_entered_on": entered_on}
    for days, allowed in ((6, False), (7, True)):
        noon = datetime.combine(entered_on + timedelta(days=days), time(12), tzinfo=CHINA)
        with clock.set_to(noon.astimezone(UTC)):
            facts = await load_facts(deciding, TINY, waiting)
        assert (check(wait, facts) is None) is allowed
    window = TINY.transition("decide").requires[0]
    opened = {**row, "state": "open", "stage_entered_on": entered_on}
    facts = await load_facts(opened, TINY)
    assert facts.window_days == 5
    refusal = check(window, facts)
    assert refusal is not None and refusal.first_day is not None
    noon = datetime.combine(refusal.first_day, time(12), tzinfo=CHINA)
    with clock.set_to(noon.astimezone(UTC)):
        assert check(window, await load_facts(opened, TINY)) is None
