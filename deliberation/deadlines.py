"""When each topic's current stage is due, from the time limits the workflow declares.

The due date is stored on the topic (``due_on``) and recomputed in the same
transaction as whatever changes it: a transition, a meeting scheduled, a
resolution item added or completed. Reads never compute it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from deliberation.clock import china_date, china_today
from deliberation.tables import Meeting, ResolutionItem, Topic
from deliberation.workdays import Deadline, working_days
from workflows import WORKFLOW


def due_label(state: str, due_on: date | None) -> str | None:
    """What is due (the stage's time-limit label), when something is."""
    limit = WORKFLOW.state(state).time_limit
    return limit.label if limit and due_on is not None else None


def is_overdue(due_on: date | None, today: date | None = None) -> bool:
    return due_on is not None and due_on < (today or china_today())


async def due_of(topic_id: int, state: str, entered_on: date | None) -> Deadline | None:
    limit = WORKFLOW.state(state).time_limit
    if limit is None:
        return None
    if limit.counted_from == "items":
        pending = (
            await ResolutionItem.select(ResolutionItem.due_date)
            .where(ResolutionItem.topic == topic_id, ResolutionItem.completed == False)  # noqa: E712
            .order_by(ResolutionItem.due_date)
            .first()
        )
        return Deadline(pending["due_date"], False) if pending else None
    if limit.counted_from == "meeting":
        meeting = (
            await Meeting.select(Meeting.scheduled_at)
            .where(Meeting.topic == topic_id)
            .order_by(Meeting.id, ascending=False)
            .first()
        )
        if meeting is None:
            return None
        start = china_date(meeting["scheduled_at"])
    else:
        if entered_on is None:
            return None
        start = entered_on
    return (await working_days()).add(start, limit.working_days)


async def refresh_due(
    topic_id: int, state: str | None = None, entered_on: date | None = None
) -> None:
    """Recompute and store the topic's due date (inside the caller's transaction)."""
    if state is None or entered_on is None:
        row = (
            await Topic.select(Topic.state, Topic.stage_entered_on)
            .where(Topic.id == topic_id)
            .first()
        )
        if row is None:
            return
        state = state or row["state"]
        entered_on = entered_on or row["stage_entered_on"]
    deadline = await due_of(topic_id, state, entered_on)
    values: dict[Any, Any] = {
        Topic.due_on: deadline.day if deadline else None,
        Topic.due_provisional: bool(deadline and deadline.provisional),
    }
    await Topic.update(values).where(Topic.id == topic_id)
