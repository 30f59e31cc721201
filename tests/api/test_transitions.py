"""Every declared transition, parametrised from the declaration itself."""

from __future__ import annotations

from typing import Any

import pytest

from tests.world import World, fire, satisfy, topic_in_state
from workflows import ROLES, WORKFLOW, Transition

CASES = [(t, source) for t in WORKFLOW.transitions for source in t.sources]
IDS = [f"{t.trigger}-from-{source}" for t, source in CASES]


async def _ready_topic(
    world: World, transition: Transition, source: str, omit: str | None = None
) -> dict[str, Any]:
    topic = await topic_in_state(world.a, source)
    for requirement in transition.requires:
        if requirement.name != omit:
            await satisfy(world.a, topic, requirement.name)
    return topic


def _comment(transition: Transition, omit: str | None = None) -> str:
    needs = any(r.name == "comment_given" for r in transition.requires)
    return "测试理由" if needs and omit != "comment_given" else ""


def _actors_for(world: World, transition: Transition) -> list[str]:
    """Keys of the township's actors that may fire it (the opener for opener-only)."""
    return ["liaison"] if transition.opener_only else [r for r in transition.roles]


@pytest.mark.parametrize(("transition", "source"), CASES, ids=IDS)
async def test_allowed_role_succeeds_and_others_are_forbidden(
    world: World, transition: Transition, source: str
) -> None:
    for key in _actors_for(world, transition):
        topic = await _ready_topic(world, transition, source)
        refused = [r for r in ROLES if r not in transition.roles]
        if transition.opener_only:
            refused.append("liaison2")  # a liaison who did not open the topic
        for other in refused:
            # The township's administrator may not even read the topic: the version
            # is the staff's (the role is refused first all the same).
            current = (await world.a["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
            response = await world.by_role(other).post(
                f"/api/v1/topics/{topic['id']}/transitions",
                {
                    "trigger": transition.trigger,
                    "version": current["version"],
                    "comment": _comment(transition),
                },
            )
            assert response.status_code == 403, (other, response.text)
            assert response.json()["code"] == "forbidden"
        before = (await world.a["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
        assert before["state"] == source
        response = await fire(world.a[key], topic, transition.trigger, _comment(transition))
        assert response.status_code == 200, response.text
        after = response.json()
        assert after["state"] == transition.dest
        assert after["version"] == before["version"] + 1
        events = (await world.a["staff"].get(f"/api/v1/topics/{topic['id']}/events")).json()
        assert events[-1]["trigger"] == transition.trigger
        assert (events[-1]["from_state"], events[-1]["to_state"]) == (source, transition.dest)
        assert events[-1]["actor_id"] == world.a[key].user["id"]


REQUIREMENT_CASES = [(t, s, r.name) for t, s in CASES for r in t.requires]


@pytest.mark.parametrize(
    ("transition", "source", "missing"),
    REQUIREMENT_CASES,
    ids=[f"{t.trigger}-from-{s}-without-{r}" for t, s, r in REQUIREMENT_CASES],
)
async def test_each_unmet_requirement_is_422(
    world: World, transition: Transition, source: str, missing: str
) -> None:
    topic = await _ready_topic(world, transition, source, omit=missing)
    actor = world.a[_actors_for(world, transition)[0]]
    response = await fire(actor, topic, transition.trigger, _comment(transition, omit=missing))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "condition_failed"
    label = next(r.label for r in transition.requires if r.name == missing)
    assert label in body["detail"]
    assert body["missing"] == [missing]
    after = (await actor.get(f"/api/v1/topics/{topic['id']}")).json()
    assert (after["state"], after["version"]) == (topic["state"], topic["version"])
    events = (await actor.get(f"/api/v1/topics/{topic['id']}/events")).json()
    moves = [e for e in events if e["kind"] in ("topic.opened", "transition")]
    assert len(moves) == topic["version"]
    assert events[-1]["to_state"] == topic["state"]


@pytest.fixture(scope="module")
async def topic_in_every_state(world: World) -> dict[str, dict[str, Any]]:
    return {state: await topic_in_state(world.a, state) for state in WORKFLOW.state_names}


@pytest.mark.parametrize("transition", WORKFLOW.transitions, ids=WORKFLOW.triggers)
async def test_every_other_state_is_409(
    world: World, transition: Transition, topic_in_every_state: dict[str, dict[str, Any]]
) -> None:
    actor = world.a[_actors_for(world, transition)[0]]
    for state, topic in topic_in_every_state.items():
        if state in transition.sources:
            continue
        response = await fire(actor, topic, transition.trigger, "理由")
        assert response.status_code == 409, (state, response.text)
        assert response.json()["code"] == "transition_not_allowed"
        after = (await actor.get(f"/api/v1/topics/{topic['id']}")).json()
        assert after["state"] == state


def test_cases_cover_every_declared_transition() -> None:
    assert {t.trigger for t, _ in CASES} == set(WORKFLOW.triggers)
    assert len(REQUIREMENT_CASES) == sum(
        len(t.requires) * len(t.sources) for t in WORKFLOW.transitions
    )
