"""The year's figures of consultation work, per township (issue 15, item 1): topics by
state, each timed stage's on-time share and median working days, opinions by adoption,
satisfaction by rating, resolution items done on time; for the office and the county,
each liaison's participation.

A topic belongs to the year (China time) it was opened in. The public sees figures of
public topics only (those that reached ``WORKFLOW.public_from``): the same topics the
notice board and the public topic pages show. Everything is read from the tables and
the chain as they are; nothing is stored twice.

Stages are read from the chain: a topic enters a state with the event that moves it
there (``topic.opened`` for the first) and leaves it with the next move. A stage whose
time limit counts from the day it was entered is on time when it was left by the day
the limit gives (Chinese working days); the meeting stage counts from the day of its
meeting. Stages not yet left are not counted (they are the overdue list's business).
"""

from __future__ import annotations

import statistics as stats
from collections import defaultdict
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from msgspec import Struct

from deliberation.clock import CHINA, china_date, china_today
from deliberation.errors import NotFound
from deliberation.permissions import Subject, allowed
from deliberation.security import Principal
from deliberation.tables import (
    Account,
    Investigation,
    Meeting,
    Opinion,
    ProgressReport,
    ResolutionItem,
    SatisfactionRating,
    SiteConsultation,
    Topic,
    TopicEvent,
    Township,
)
from deliberation.workdays import WorkingDays, working_days
from workflows import WORKFLOW

ADOPTIONS = ("adopted", "partly_adopted", "not_adopted", "unanswered")
RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")
TIMED_STAGES = tuple(
    s.name
    for s in WORKFLOW.states
    if s.time_limit is not None and s.time_limit.counted_from in ("entered", "meeting")
)


class StageFigures(Struct, kw_only=True):
    state: str
    label: str
    """The stage's time limit, in Chinese (完成调研, …)."""
    finished: int
    """Visits of the stage that ended (the topic moved on)."""
    on_time: int
    on_time_share: float | None
    median_working_days: float | None


class ItemFigures(Struct, kw_only=True):
    total: int
    completed: int
    completed_on_time: int
    open_overdue: int
    """Not completed and past their due date (China's today)."""


class LiaisonFigures(Struct, kw_only=True):
    account_id: int
    name: str
    topics_opened: int
    records_made: int
    """Investigations and site consultations recorded."""
    meetings_attended: int
    """Meetings of the year's topics where they are on the roll as present."""


class TownshipFigures(Struct, kw_only=True):
    township_id: int
    township_name: str
    topics: int
    by_state: dict[str, int]
    stages: list[StageFigures]
    opinions_by_adoption: dict[str, int]
    satisfaction_by_rating: dict[str, int]
    items: ItemFigures
    liaisons: list[LiaisonFigures] | None = None
    """Only for the township's office and the county."""


class StatisticsRead(Struct, kw_only=True):
    year: int
    public_only: bool
    """Figures of public topics only (the caller is not of the township's office)."""
    townships: list[TownshipFigures]


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=CHINA), datetime(year + 1, 1, 1, tzinfo=CHINA)


def sees_everything(principal: Principal | None, township_id: int) -> bool:
    """Whether the figures may include topics not yet public: the township's office and
    the county (the policy's full view of the township's topics)."""
    return bool(
        principal is not None
        and principal.role in ("staff", "liaison", "supervisor")
        and allowed(principal, "topic.read", Subject(township_id=township_id, state="proposed"))
    )


async def figures(
    principal: Principal | None, *, year: int, township_id: int | None = None
) -> StatisticsRead:
    """The year's figures of one township, or of every township."""
    query = Township.select(Township.id, Township.name).order_by(Township.id)
    if township_id is not None:
        query = query.where(Township.id == township_id)
    townships = await query
    if township_id is not None and not townships:
        raise NotFound("乡镇不存在")
    calendar = await working_days()
    today = china_today()
    results = []
    everything_for = {t["id"]: sees_everything(principal, t["id"]) for t in townships}
    for township in townships:
        results.append(
            await _township(
                township, year, calendar, today, public_only=not everything_for[township["id"]]
            )
        )
    return StatisticsRead(
        year=year,
        public_only=not any(everything_for.values()),
        townships=results,
    )


async def _township(
    township: dict[str, Any],
    year: int,
    calendar: WorkingDays,
    today: date,
    *,
    public_only: bool,
) -> TownshipFigures:
    start, end = _year_bounds(year)
    conditions = [
        Topic.township == township["id"],
        Topic.created_at >= start,
        Topic.created_at < end,
    ]
    if public_only:
        conditions.append(Topic.state.is_in(list(WORKFLOW.public_states)))
    topics = await Topic.select(Topic.id, Topic.state, Topic.opened_by).where(*conditions)
    ids = [t["id"] for t in topics]
    by_state: dict[str, int] = defaultdict(int)
    for t in topics:
        by_state[t["state"]] += 1
    return TownshipFigures(
        township_id=township["id"],
        township_name=township["name"],
        topics=len(topics),
        by_state=dict(by_state),
        stages=await _stages(ids, calendar),
        opinions_by_adoption=await _adoptions(ids),
        satisfaction_by_rating=await _ratings(ids),
        items=await _items(ids, today),
        liaisons=None if public_only else await _liaisons(township["id"], topics, ids),
    )


def _chunks(ids: list[int], size: int = 900) -> list[list[int]]:
    """Ids in groups small enough for an ``IN`` list on every engine."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


async def _stages(ids: list[int], calendar: WorkingDays) -> list[StageFigures]:
    moves: dict[int, list[dict[str, Any]]] = defaultdict(list)
    meetings: dict[int, list[date]] = defaultdict(list)
    for chunk in _chunks(ids):
        for event in await TopicEvent.select(
            TopicEvent.topic, TopicEvent.seq, TopicEvent.to_state, TopicEvent.created_at
        ).where(
            TopicEvent.topic.is_in(chunk),
            TopicEvent.kind.is_in(["topic.opened", "transition"]),
        ):
            moves[event["topic"]].append(event)
        for meeting in await Meeting.select(Meeting.topic, Meeting.scheduled_at).where(
            Meeting.topic.is_in(chunk)
        ):
            meetings[meeting["topic"]].append(china_date(meeting["scheduled_at"]))
    durations: dict[str, list[int]] = defaultdict(list)
    on_time: dict[str, int] = defaultdict(int)
    for topic_id, events in moves.items():
        for state, taken, in_time in stage_times(events, meetings[topic_id], calendar):
            durations[state].append(taken)
            on_time[state] += in_time
    found = []
    for state in TIMED_STAGES:
        limit = WORKFLOW.state(state).time_limit
        assert limit is not None
        finished = len(durations[state])
        found.append(
            StageFigures(
                state=state,
                label=limit.label,
                finished=finished,
                on_time=on_time[state],
                on_time_share=on_time[state] / finished if finished else None,
                median_working_days=float(stats.median(durations[state])) if finished else None,
            )
        )
    return found


def stage_times(
    events: list[dict[str, Any]], meeting_days: list[date], calendar: WorkingDays
) -> list[tuple[str, int, bool]]:
    """(stage, working days taken, on time) for every timed stage the topic left.

    ``events`` are its moves (``seq``, ``to_state``, ``created_at``), in any order;
    ``meeting_days`` the China dates of its meetings (the meeting stage's limit counts
    from the latest meeting held by the day it was left)."""
    found = []
    ordered = sorted(events, key=lambda e: e["seq"])
    for entering, leaving in pairwise(ordered):
        state = entering["to_state"]
        limit = WORKFLOW.state(state).time_limit
        if state not in TIMED_STAGES or limit is None:
            continue
        entered = china_date(entering["created_at"])
        left = china_date(leaving["created_at"])
        start = entered
        if limit.counted_from == "meeting":
            held = [d for d in meeting_days if d <= left]
            start = max(held) if held else entered
        taken, _ = calendar.count(entered, left)
        found.append((state, taken, left <= calendar.add(start, limit.working_days).day))
    return found


async def _adoptions(ids: list[int]) -> dict[str, int]:
    counts = dict.fromkeys(ADOPTIONS, 0)
    for chunk in _chunks(ids):
        for row in await Opinion.select(Opinion.adoption).where(Opinion.topic.is_in(chunk)):
            counts[row["adoption"] or "unanswered"] += 1
    return counts


async def _ratings(ids: list[int]) -> dict[str, int]:
    counts = dict.fromkeys(RATINGS, 0)
    for chunk in _chunks(ids):
        for row in await SatisfactionRating.select(SatisfactionRating.rating).where(
            SatisfactionRating.topic.is_in(chunk)
        ):
            counts[row["rating"]] = counts.get(row["rating"], 0) + 1
    return counts


async def _items(ids: list[int], today: date) -> ItemFigures:
    total = completed = on_time = overdue = 0
    for chunk in _chunks(ids):
        items = await ResolutionItem.select(
            ResolutionItem.id, ResolutionItem.due_date, ResolutionItem.completed
        ).where(ResolutionItem.topic.is_in(chunk))
        done_on: dict[int, date] = {}
        item_ids = [i["id"] for i in items]
        for part in _chunks(item_ids):
            for report in await ProgressReport.select(
                ProgressReport.item, ProgressReport.created_at
            ).where(ProgressReport.item.is_in(part), ProgressReport.completed == True):  # noqa: E712
                day = china_date(report["created_at"])
                done_on[report["item"]] = min(day, done_on.get(report["item"], day))
        for item in items:
            total += 1
            if item["completed"]:
                completed += 1
                finished = done_on.get(item["id"])
                if finished is not None and finished <= item["due_date"]:
                    on_time += 1
            elif item["due_date"] < today:
                overdue += 1
    return ItemFigures(
        total=total, completed=completed, completed_on_time=on_time, open_overdue=overdue
    )


async def _liaisons(
    township_id: int, topics: list[dict[str, Any]], ids: list[int]
) -> list[LiaisonFigures]:
    people = await (
        Account.select(Account.id, Account.display_name)
        .where(Account.township == township_id, Account.role == "liaison")
        .order_by(Account.id)
    )
    opened: dict[int, int] = defaultdict(int)
    for t in topics:
        opened[t["opened_by"]] += 1
    records: dict[int, int] = defaultdict(int)
    attended: dict[str, int] = defaultdict(int)
    for chunk in _chunks(ids):
        for table in (Investigation, SiteConsultation):
            for row in await table.select(table.recorded_by).where(table.topic.is_in(chunk)):
                records[row["recorded_by"]] += 1
        rolls = await Meeting.raw(
            "SELECT a.name AS name, count(DISTINCT m.id) AS n FROM meeting_attendee a "
            "JOIN meeting m ON m.id = a.meeting WHERE a.attendance = 'present' "
            f"AND m.topic IN ({', '.join('{}' for _ in chunk)}) GROUP BY a.name",
            *chunk,
        )
        for row in rolls:
            attended[row["name"]] += int(row["n"])
    return [
        LiaisonFigures(
            account_id=p["id"],
            name=p["display_name"],
            topics_opened=opened[p["id"]],
            records_made=records[p["id"]],
            # The roll has plain names; an account's name may carry a note in brackets.
            meetings_attended=attended[p["display_name"].split("（")[0].strip()],
        )
        for p in people
    ]
