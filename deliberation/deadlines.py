"""When each topic's current stage is due, from the time limits the workflow declares.

The due date is stored on the topic (``due_on``) and recomputed in the same
transaction as whatever changes it: a transition, a meeting scheduled, a
resolution item added or completed. Reads never compute it.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from deliberation.clock import CHINA
from deliberation.tables import Meeting, ResolutionItem, Topic
from deliberation.workdays import Deadline, WorkingDays, working_days
from workflows import WORKFLOW

_CALENDAR_TTL = 60.0
_cached: tuple[float, WorkingDays] | None = None


async def calendar() -> WorkingDays:
    """The working-day calendar, re-read from the database at most once a minute
    (loaded schedules change once a year)."""
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] > _CALENDAR_TTL:
        _cached = (now, await working_days())
    return _cached[1]


def forget_calendar() -> None:
    """After a schedule is loaded in this process."""
    global _cached
    _cached = None


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
        start = meeting["scheduled_at"].astimezone(CHINA).date()
    else:
        if entered_on is None:
            return None
        start = entered_on
    return (await calendar()).add(start, limit.working_days)


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
