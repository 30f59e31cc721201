"""When each topic's current stage is due, from the time limits the workflow declares.

The due date is stored on the topic (``due_on``) and recomputed in the same
transaction as whatever changes it: a transition, a meeting scheduled, a
resolution item added or completed. Reads never compute it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from deliberation.clock import china_date, china_today
from deliberation.pinning import any_state
from deliberation.tables import Meeting, ResolutionItem, Topic
from deliberation.workdays import Deadline, WorkingDays, working_days
from workflows import TimeLimit, Workflow


def due_label(state: str, due_on: date | None, workflow: Workflow) -> str | None:
    """What is due (the stage's time-limit label in the topic's workflow), when something is."""
    limit = workflow.state(state).time_limit
    return limit.label if limit and due_on is not None else None


def is_overdue(due_on: date | None, today: date | None = None) -> bool:
    return due_on is not None and due_on < (today or china_today())


@dataclass(frozen=True)
class TimeLeft:
    """How far a limit is from today, in words (还剩 3 个工作日 / 今天到期 / 已逾期 2 天)."""

    text: str
    tone: Literal["left", "today", "late", "ended"]
    """``ended``: a period that simply ran out (a posting period), nothing late."""
    days: int
    """Working (or calendar) days left; days overdue (calendar days) when late; 0 today."""


def time_left(
    due_on: date,
    today: date | None = None,
    calendar: WorkingDays | None = None,
    *,
    working: bool = True,
) -> TimeLeft:
    """What is left until ``due_on`` (the limit's last day, still in time), from the one
    clock. ``working``: the limit is counted in working days (a stage's time limit), so
    what is left is too, on ``calendar``; otherwise in calendar days (a result's
    deadline, a date the office typed). Overdue is always in calendar days, as the
    county page counts it: 已逾期 1 天 the day after the last day."""
    today = today or china_today()
    if due_on < today:
        late = (today - due_on).days
        return TimeLeft(f"已逾期 {late} 天", "late", late)
    if due_on == today:
        return TimeLeft("今天到期", "today", 0)
    if working:
        left, _ = (calendar or WorkingDays()).count(today, due_on)
        if left:
            return TimeLeft(f"还剩 {left} 个工作日", "left", left)
    days = (due_on - today).days
    return TimeLeft(f"还剩 {days} 天", "left", days)


def _stage_limit(state: str, workflow: Workflow | None = None) -> TimeLimit | None:
    """The state's time limit in ``workflow`` or, not given, in the loaded workflows, the
    default one first (:func:`deliberation.pinning.any_state`; the caveat of
    docs/decisions.md, "Finished, timed and filterable states: the union across loaded
    workflows")."""
    if workflow is not None:
        return workflow.state(state).time_limit
    try:
        return any_state(state).time_limit
    except KeyError:
        return None


def stage_time_left(
    state: str,
    due_on: date,
    today: date | None = None,
    calendar: WorkingDays | None = None,
    workflow: Workflow | None = None,
) -> TimeLeft:
    """What is left of a topic's current limit: in working days (a stage's time limit),
    except the results' own deadlines (typed dates, counted in calendar days)."""
    limit = _stage_limit(state, workflow)
    working = limit is None or limit.counted_from != "items"
    return time_left(due_on, today, calendar, working=working)


async def stage_times_left(
    topics: Iterable[tuple[int, str, date | None]],
) -> dict[int, TimeLeft]:
    """:func:`stage_time_left` for each (id, state, due date) of a list, by id (topics
    without a due date left out)."""
    today, calendar = china_today(), await working_days()
    return {
        topic_id: stage_time_left(state, due_on, today, calendar)
        for topic_id, state, due_on in topics
        if due_on is not None and _stage_limit(state) is not None
    }


def posting_left(
    ends_on: date, today: date | None = None, calendar: WorkingDays | None = None
) -> TimeLeft:
    """How far a notice's posting period (公示期, in working days) is from its end."""
    left = time_left(ends_on, today, calendar)
    if left.tone == "late":
        return TimeLeft("公示已结束", "ended", left.days)
    if left.tone == "today":
        return TimeLeft("今天公示期满", "today", 0)
    return TimeLeft(f"公示{left.text}", "left", left.days)


async def postings_left(documents: Iterable[tuple[int, date | None]]) -> dict[int, TimeLeft]:
    """:func:`posting_left` for each (id, posting end) of a list, by id."""
    today, calendar = china_today(), await working_days()
    return {
        document_id: posting_left(ends_on, today, calendar)
        for document_id, ends_on in documents
        if ends_on is not None
    }


def days_ago(day: date, today: date | None = None) -> str:
    """A past event, relative to today (今天 / 昨天 / N 天前); a future one as its date."""
    today = today or china_today()
    gone = (today - day).days
    if gone < 0:
        return ""
    return "今天" if gone == 0 else "昨天" if gone == 1 else f"{gone} 天前"


async def due_of(
    topic_id: int, state: str, entered_on: date | None, workflow: Workflow
) -> Deadline | None:
    """When the stage ``state`` of the topic's ``workflow`` is due, if it has a limit."""
    limit = workflow.state(state).time_limit
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
    topic_id: int,
    state: str | None,
    entered_on: date | None,
    workflow: Workflow,
) -> None:
    """Recompute and store the topic's due date (inside the caller's transaction), by
    the stage limits of ``workflow``, the one the topic is pinned to (no default: a
    default read the standard workflow's stages for every topic)."""
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
    deadline = await due_of(topic_id, state, entered_on, workflow)
    values: dict[Any, Any] = {
        Topic.due_on: deadline.day if deadline else None,
        Topic.due_provisional: bool(deadline and deadline.provisional),
    }
    await Topic.update(values).where(Topic.id == topic_id)
