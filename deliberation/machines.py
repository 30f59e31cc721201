"""Where a trigger takes a topic: the workflow's `transitions` machine decides, gated on
the requirement checks over the topic's facts; a refusal names what is missing from the
same checks (docs/decisions.md, "The machine does the moving")."""

from __future__ import annotations

from typing import Any

from deliberation.errors import ConditionFailed, TransitionNotAllowed
from deliberation.pinning import loaded, workflow_of
from deliberation.requirements import Facts, Refusal, load_facts, refusals
from workflows import Transition, TriggerNotAllowed, Workflow


def refused(transition: Transition, missing: list[Refusal]) -> ConditionFailed:
    """The 422 for a refused step: what is missing by label (and name, for the pages'
    ``missing-<name>``), then the rules with their figures and basis."""
    detail = f"不能执行“{transition.label}”，缺少：{'、'.join(r.label for r in missing)}"
    explained = [r.detail for r in missing if r.detail]
    if explained:
        detail += "。" + "；".join(explained)
    return ConditionFailed(detail, missing=[r.name for r in missing])


async def decide(
    topic: dict[str, Any], trigger: str, comment: str = "", workflow: Workflow | None = None
) -> str:
    """The state ``trigger`` takes the topic to, or TransitionNotAllowed (409: it does
    not leave the topic's state) or ConditionFailed (422: a requirement is not met).
    Call it on the locked row, after the policy's decision. The topic's own pinned
    version decides (``workflow`` only overrides it in tests)."""
    workflow = workflow or workflow_of(topic)
    if trigger not in workflow.triggers:
        raise TransitionNotAllowed(trigger)
    transition = workflow.transition(trigger)
    facts = await load_facts(topic, workflow, [transition])
    machine = loaded().machine(workflow)
    state = topic["state"]
    try:
        dest = machine.fire(state, trigger, facts, comment)
    except TriggerNotAllowed as error:
        label = workflow.state(state).label
        raise TransitionNotAllowed(
            f"议题当前状态为“{label}”，不能执行“{transition.label}”"
        ) from error
    if dest is None:
        raise refused(transition, refusals(transition, facts, comment))
    return dest


async def readiness(
    topic: dict[str, Any], workflow: Workflow | None = None
) -> tuple[Facts, dict[str, list[Refusal]]]:
    """For each trigger leaving the topic's state (``get_triggers``): what it still
    misses without a comment (empty when ``may_<trigger>`` holds), in the topic's pinned
    version."""
    workflow = workflow or workflow_of(topic)
    facts = await load_facts(topic, workflow)
    if workflow.unavailable:  # no steps at all (docs/decisions.md, "A workflow removed")
        return facts, {}
    machine = loaded().machine(workflow)
    state = topic["state"]
    waiting: dict[str, list[Refusal]] = {}
    for trigger in machine.triggers_from(state):
        if machine.ready(state, trigger, facts):
            waiting[trigger] = []
        else:
            waiting[trigger] = refusals(workflow.transition(trigger), facts)
    return facts, waiting
