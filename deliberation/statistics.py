"""The year's figures of consultation work, per township (issue 15, item 1): topics by
state, each timed stage's on-time share and median working days, opinions by adoption,
satisfaction by rating, resolution items done on time; for the office and the county,
each liaison's participation.

A topic belongs to the year (China time) it was opened in. The public sees figures of
public topics only (those that reached their own workflow's ``public_from``): the same
topics the notice board and the public topic pages show. Everything is read from the
tables and the chain as they are; nothing is stored twice.

Each topic is counted in the words of the workflow it is pinned to (docs/decisions.md,
"Reports per workflow"): ``workflows`` gives, per workflow key, its label, its topics by
its own stages and its own timed stages; ``by_state`` and ``stages`` count every
workflow's topics together, by state name.

Stages are read from the chain: a topic enters a state with the event that moves it
there (``topic.opened`` for the first) and leaves it with the next move. A stage whose
time limit counts from the day it was entered is on time when it was left by the day
the limit gives (Chinese working days); the meeting stage counts from the day of its
meeting. Stages not yet left are not counted (they are the overdue list's business).

Plan against delivery (issue 27): each township's own annual plan (年度协商计划) of the
year, and the county's apart, counted from the plan's latest published version, by
quarter: its items, how many have opened their topic (the item's own topic, or the
topic its suggestion became), how many by the last day of their quarter (China date),
and how many of those topics are completed. The plan is public, and so is which topics
its items opened (by reference): these figures are the same for every caller.
"""

from __future__ import annotations

import statistics as stats
from collections import defaultdict
from collections.abc import Collection, Hashable
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

import msgspec
from msgspec import Struct

from deliberation.caching import VersionedCache
from deliberation.clock import CHINA, china_date, china_today
from deliberation.errors import NotFound
from deliberation.permissions import scope
from deliberation.pinning import DEFAULT_KEY, loaded, workflow_of
from deliberation.record_types import tables_of
from deliberation.security import Principal
from deliberation.tables import (
    Account,
    Meeting,
    MeetingAttendee,
    Opinion,
    PlanItem,
    PlanVersion,
    ProgressReport,
    ResolutionItem,
    SatisfactionRating,
    Topic,
    TopicEvent,
    Township,
)
from deliberation.workdays import DayRanks, WorkingDays, working_days
from workflows.declaration import State, Workflow

ADOPTIONS = ("adopted", "partly_adopted", "not_adopted", "unanswered")
RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")
COUNTED_FROM = ("entered", "meeting")
"""The time limits whose stages are timed here: counted from the day the stage was
entered or from its meeting (``items`` limits are the items' own due dates)."""


def is_timed(state: State) -> bool:
    return state.time_limit is not None and state.time_limit.counted_from in COUNTED_FROM


def in_report_order(workflows: list[Workflow]) -> list[Workflow]:
    """The default workflow first (it is what most topics follow), then the others in
    the registry's order."""
    return sorted(workflows, key=lambda w: w.key != DEFAULT_KEY)


def workflow_versions() -> dict[str, list[Workflow]]:
    """Each loaded workflow key's versions, newest first, in report order."""
    found: dict[str, list[Workflow]] = {}
    for workflow in in_report_order(list(loaded())):
        found.setdefault(workflow.key, []).append(workflow)
    return {key: sorted(vs, key=lambda w: -w.version) for key, vs in found.items()}


def states_of(versions: list[Workflow]) -> list[State]:
    """The states of a workflow key across its versions (newest first): each name once,
    with its newest label and limit, in the newest version's order."""
    found: dict[str, State] = {}
    for workflow in versions:
        for state in workflow.states:
            found.setdefault(state.name, state)
    return list(found.values())


def timed_stages(keys: Collection[str] | None = None) -> list[State]:
    """Every loaded workflow's timed stages (of the workflows ``keys`` only, when
    given), each name once (the default workflow's first): the stages ``stages``
    counts over topics of every workflow."""
    found: dict[str, State] = {}
    for key, versions in workflow_versions().items():
        if keys is not None and key not in keys:
            continue
        for state in states_of(versions):
            if is_timed(state):
                found.setdefault(state.name, state)
    return list(found.values())


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


class StateCount(Struct, kw_only=True):
    state: str
    label: str
    """The state's name in its own workflow (已提出, …)."""
    topics: int


class WorkflowFigures(Struct, kw_only=True):
    """The topics of one workflow (every version of its key), in its own words."""

    key: str
    label: str
    topics: int
    topics_completed: int
    """Topics that came to the end of its main path (办结 in the standard workflow)."""
    states: list[StateCount]
    """Each of its states, in its declaration's order (zeros too)."""
    stages: list[StageFigures]
    """Each of its timed stages."""


class PlanCounts(Struct, kw_only=True):
    planned: int
    """Items of the plan."""
    opened: int
    """Items whose topic is opened (the item's own, or the one its suggestion became)."""
    opened_on_time: int
    """Of those, opened (China date) no later than the last day of the item's quarter."""
    closed: int
    """Of those, topics completed (the end of their workflow's main path, 办结)."""


class PlanQuarter(PlanCounts, kw_only=True):
    quarter: int
    """1 to 4."""


class PlanFigures(Struct, kw_only=True):
    """An annual plan (年度协商计划) against delivery, from its latest published version."""

    year: int
    plan_id: int
    """The published version's id (``/api/v1/plans/{id}``)."""
    version: int
    quarters: list[PlanQuarter]
    """Each quarter, 1 to 4 (zeros too)."""
    totals: PlanCounts


class TownshipFigures(Struct, kw_only=True):
    township_id: int
    township_name: str
    topics: int
    by_state: dict[str, int]
    """Topics of every workflow, by state name."""
    stages: list[StageFigures]
    """The timed stages of every loaded workflow, by name (``workflows`` has each
    workflow's own)."""
    opinions_by_adoption: dict[str, int]
    satisfaction_by_rating: dict[str, int]
    items: ItemFigures
    liaisons: list[LiaisonFigures] | None = None
    """Only for the township's office and the county."""
    topics_completed: int = 0
    """Topics that came to the end of their workflow's main path (办结)."""
    workflows: dict[str, WorkflowFigures] = msgspec.field(default_factory=dict)
    """Per workflow key with topics here: its label, states and stages."""
    plan: PlanFigures | None = None
    """The township's own annual plan of the year against delivery, when one is
    published (the same for every caller)."""


class StatisticsRead(Struct, kw_only=True):
    year: int
    public_only: bool
    """Figures of public topics only (the caller is not of the township's office)."""
    townships: list[TownshipFigures]
    total: TownshipFigures | None = None
    """Every township together (township_id 0), when no township was asked for."""
    county_plan: PlanFigures | None = None
    """The county's own annual plan of the year against delivery, when one is
    published (apart from the townships' plans: nothing is counted twice)."""


def of_year(topic: Any, year: int, township_id: int | None = None) -> list[Any]:
    """Conditions on a topic (the table, or a foreign key to it, joined) to have been
    opened in ``year`` (China time), in the township if one is given."""
    found = [
        topic.created_at >= datetime(year, 1, 1, tzinfo=CHINA),
        topic.created_at < datetime(year + 1, 1, 1, tzinfo=CHINA),
    ]
    if township_id is not None:
        found.append(topic.township == township_id)
    return found


async def completion_days(*conditions: Any) -> dict[int, date]:
    """Per resolution item, the China date of the first progress report that completed
    it (its items being those ``conditions`` select)."""
    done_on: dict[int, date] = {}
    for report in await ProgressReport.select(ProgressReport.item, ProgressReport.created_at).where(
        ProgressReport.completed == True,  # noqa: E712
        *conditions,
    ):
        day = china_date(report["created_at"])
        done_on[report["item"]] = min(day, done_on.get(report["item"], day))
    return done_on


def sees_everything(principal: Principal | None, township_id: int) -> bool:
    """Whether the figures may include topics not yet public: the township's office and
    the county (the policy's full view of the township's topics)."""
    return scope(principal, "statistics.full").covers(township_id)


async def figures(
    principal: Principal | None, *, year: int, township_id: int | None = None
) -> StatisticsRead:
    """The year's figures of one township, or of every township and all together."""
    # Keyed by the registry too: a test (or a restart) may load other workflows.
    year_figures = await _cache.get(
        (year, township_id, id(loaded())), lambda: _year(year, township_id)
    )
    if township_id is not None and not year_figures.townships:
        raise NotFound("乡镇不存在")
    full_for = frozenset(t for t in year_figures.townships if sees_everything(principal, t))
    return StatisticsRead(
        year=year,
        public_only=not full_for,
        townships=[
            _for(principal, both[0]) if tid in full_for else both[1]
            for tid, both in year_figures.townships.items()
        ],
        total=year_figures.total(full_for) if township_id is None else None,
        county_plan=year_figures.county_plan,
    )


def _for(principal: Principal | None, full: TownshipFigures) -> TownshipFigures:
    """The full figures, with each liaison's participation only for those the policy
    shows it to (``statistics.liaisons``)."""
    if scope(principal, "statistics.liaisons").covers(full.township_id):
        return full
    return msgspec.structs.replace(full, liaisons=None)


def _latest(table: str) -> str:
    """The newest row's id, and how many rows lie within 1000 ids of it: a transaction
    that took a lower id commits after one that took a higher id (PostgreSQL), and the
    count changes when it does."""
    return (
        f"(SELECT max(id) FROM {table}) AS {table}_latest, "
        f"(SELECT count(*) FROM {table} WHERE id > "
        f"(SELECT coalesce(max(id), 0) - 1000 FROM {table})) AS {table}_recent"
    )


STAMP_SELECT = (
    f"SELECT {_latest('topic_event')}, {_latest('plan_event')}, {_latest('suggestion_event')}, "
    "(SELECT version FROM roster_version WHERE id = 1) AS roster"
)
"""Every change to a topic or its records is an event on its chain, every change to a
plan (a version published, an item linked to its topic) on the plan's, a suggestion
becoming a topic on the suggestion's; every change to a township, village or account
raises the roster's version (sign-ins do not)."""


async def change_stamp() -> Hashable:
    """What the figures were counted from: the newest events, today (items fall overdue)
    and the working-day calendar (schedules can be loaded)."""
    [row] = await Topic.raw(STAMP_SELECT)
    calendar = await working_days()
    return (tuple(row.values()), china_today(), tuple(sorted(calendar.schedules.items())))


_cache: VersionedCache[_YearFigures] = VersionedCache(change_stamp, size=64)
"""The year's figures by (year, township or all), never staler than the last change:
counting a county's year takes about a second, and a county asks for it far more often
than it changes."""


class _Rows(Struct, kw_only=True):
    """What the year's figures are counted from, read once for every township asked."""

    topics: list[dict[str, Any]]
    stages: dict[int, list[tuple[str, int, bool]]]
    """Per topic, (stage, working days, on time) of each timed stage it left."""
    adoptions: dict[int, list[str | None]]
    ratings: dict[int, list[str]]
    items: dict[int, list[dict[str, Any]]]
    done_on: dict[int, date]
    records_by: dict[int, list[int]]
    present: dict[int, set[tuple[int, str]]]
    """Per topic, (meeting, name) of everyone on a roll as present."""
    liaisons: dict[int, list[dict[str, Any]]]


class _YearFigures:
    """A year's figures as cached: per township (in the order of their ids) with every
    topic and with public topics only, and what a total over several townships is
    counted from."""

    def __init__(
        self,
        townships: list[dict[str, Any]],
        rows: _Rows,
        today: date,
        plans: dict[int | None, PlanFigures],
    ) -> None:
        self.rows = rows
        self.county_plan = plans.get(None)
        self.today = today
        self.topics: dict[int, list[dict[str, Any]]] = {t["id"]: [] for t in townships}
        for topic in rows.topics:
            self.topics.setdefault(topic["township"], []).append(topic)
        self.public = {
            tid: [t for t in topics if t["state"] in workflow_of(t).public_states]
            for tid, topics in self.topics.items()
        }
        self.townships = {
            t["id"]: (
                _township(t, self.topics[t["id"]], rows, today, with_liaisons=True),
                _township(t, self.public[t["id"]], rows, today, with_liaisons=False),
            )
            for t in townships
        }
        for tid, both in self.townships.items():
            for figures in both:
                figures.plan = plans.get(tid)
        self._totals: dict[frozenset[int], TownshipFigures] = {}

    def total(self, full_for: frozenset[int]) -> TownshipFigures:
        """Every township together: all topics of those in ``full_for``, the public
        topics of the others."""
        if full_for not in self._totals:
            topics = [
                topic
                for tid in self.townships
                for topic in (self.topics if tid in full_for else self.public)[tid]
            ]
            self._totals[full_for] = _township(
                {"id": 0, "name": "全部乡镇"}, topics, self.rows, self.today, with_liaisons=False
            )
        return self._totals[full_for]


async def _year(year: int, township_id: int | None) -> _YearFigures:
    query = Township.select(Township.id, Township.name).order_by(Township.id)
    if township_id is not None:
        query = query.where(Township.id == township_id)
    townships = await query
    today = china_today()
    rows = await _read(year, township_id, today)
    return _YearFigures(townships, rows, today, await plan_figures(year, township_id))


def quarter_end(year: int, quarter: int) -> date:
    """The last day of a quarter (1 to 4) of ``year``."""
    if quarter == 4:
        return date(year, 12, 31)
    return date(year, 3 * quarter + 1, 1) - timedelta(days=1)


async def published_versions(*conditions: Any) -> list[dict[str, Any]]:
    """The latest published version of each plan ``conditions`` select (on
    ``PlanVersion``), by year, the county's first, then by township: ``id``,
    ``version``, ``plan``, ``year``, ``township`` (None: the county's),
    ``township_name``, ``published_at``, ``document``."""
    found: dict[int, dict[str, Any]] = {}
    place: Any = PlanVersion.plan.township  # two joins deep: Piccolo's types stop at one
    for row in (
        await PlanVersion.select(
            PlanVersion.id,
            PlanVersion.version,
            PlanVersion.plan,
            PlanVersion.published_at,
            PlanVersion.document,
            PlanVersion.plan.year.as_alias("year"),
            place.as_alias("township"),
            place.name.as_alias("township_name"),
        )
        .where(PlanVersion.status == "published", *conditions)
        .order_by(PlanVersion.version)
    ):
        found[row["plan"]] = row  # the newest last
    return sorted(found.values(), key=lambda v: (v["year"], v["township"] or 0))


async def latest_published(year: int, township_id: int | None = None) -> dict[int | None, Any]:
    """The latest published version of each plan of ``year`` (``published_versions``),
    keyed by its township (None: the county's); of the one township and the county when
    ``township_id`` is given."""
    conditions = [PlanVersion.plan.year == year]
    if township_id is not None:
        conditions.append(
            (PlanVersion.plan.township == township_id) | PlanVersion.plan.township.is_null()
        )
    return {v["township"]: v for v in await published_versions(*conditions)}


async def plan_topics(version_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Per plan version, its items (``quarter``, ``position``, ``title``, ``topic``,
    ``suggestion_reference`` …) in order, with ``opened`` the topic an item opened: its
    own, or the topic its suggestion became."""
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not version_ids:
        return items
    for item in await (
        PlanItem.select(
            PlanItem.id,
            PlanItem.plan_version,
            PlanItem.position,
            PlanItem.quarter,
            PlanItem.topic,
            PlanItem.title,
            PlanItem.workflow_key,
            PlanItem.lead_unit,
            PlanItem.suggestion.reference.as_alias("suggestion_reference"),
            PlanItem.suggestion.status.as_alias("suggestion_status"),
            PlanItem.suggestion.topic.as_alias("suggestion_topic"),
        )
        .where(PlanItem.plan_version.is_in(version_ids))
        .order_by(PlanItem.position)
        .order_by(PlanItem.id)
    ):
        item["opened"] = item["topic"] or item["suggestion_topic"]
        items[item["plan_version"]].append(item)
    return items


async def plan_figures(year: int, township_id: int | None = None) -> dict[int | None, PlanFigures]:
    """Plan against delivery of each published plan of ``year`` (the one township's and
    the county's when ``township_id`` is given), keyed by township (None: the county)."""
    latest = await latest_published(year, township_id)
    items = await plan_topics([v["id"] for v in latest.values()])
    ids = {i["opened"] for found in items.values() for i in found if i["opened"]}
    topics = {
        t["id"]: t
        for t in (
            await Topic.select(
                Topic.id, Topic.created_at, Topic.state, Topic.workflow_key, Topic.workflow_version
            ).where(Topic.id.is_in(list(ids)))
            if ids
            else []
        )
    }
    found: dict[int | None, PlanFigures] = {}
    for township, version in latest.items():
        quarters = {
            q: PlanQuarter(quarter=q, planned=0, opened=0, opened_on_time=0, closed=0)
            for q in range(1, 5)
        }
        for item in items.get(version["id"], ()):
            counts = quarters.setdefault(
                item["quarter"],
                PlanQuarter(
                    quarter=item["quarter"], planned=0, opened=0, opened_on_time=0, closed=0
                ),
            )
            counts.planned += 1
            topic = topics.get(item["opened"])
            if topic is None:
                continue
            counts.opened += 1
            if china_date(topic["created_at"]) <= quarter_end(year, item["quarter"]):
                counts.opened_on_time += 1
            counts.closed += is_completed(topic)
        listed = [quarters[q] for q in sorted(quarters)]
        found[township] = PlanFigures(
            year=year,
            plan_id=version["id"],
            version=version["version"],
            quarters=listed,
            totals=PlanCounts(
                planned=sum(q.planned for q in listed),
                opened=sum(q.opened for q in listed),
                opened_on_time=sum(q.opened_on_time for q in listed),
                closed=sum(q.closed for q in listed),
            ),
        )
    return found


async def _read(year: int, township_id: int | None, today: date) -> _Rows:
    def scope(topic: Any) -> list[Any]:
        return of_year(topic, year, township_id)

    topics = await Topic.select(
        Topic.id,
        Topic.township,
        Topic.state,
        Topic.opened_by,
        Topic.workflow_key,
        Topic.workflow_version,
    ).where(*scope(Topic))
    pinned = {t["id"]: workflow_of(t) for t in topics}
    moves: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in await TopicEvent.select(
        TopicEvent.topic, TopicEvent.seq, TopicEvent.to_state, TopicEvent.created_at
    ).where(TopicEvent.kind.is_in(["topic.opened", "transition"]), *scope(TopicEvent.topic)):
        moves[event["topic"]].append(event)
    meeting_days: dict[int, list[date]] = defaultdict(list)
    for meeting in await Meeting.select(Meeting.topic, Meeting.scheduled_at).where(
        *scope(Meeting.topic)
    ):
        meeting_days[meeting["topic"]].append(china_date(meeting["scheduled_at"]))
    adoptions: dict[int, list[str | None]] = defaultdict(list)
    for opinion in await Opinion.select(Opinion.topic, Opinion.adoption).where(
        *scope(Opinion.topic)
    ):
        adoptions[opinion["topic"]].append(opinion["adoption"])
    ratings: dict[int, list[str]] = defaultdict(list)
    for rating in await SatisfactionRating.select(
        SatisfactionRating.topic, SatisfactionRating.rating
    ).where(*scope(SatisfactionRating.topic)):
        ratings[rating["topic"]].append(rating["rating"])
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in await ResolutionItem.select(
        ResolutionItem.id, ResolutionItem.topic, ResolutionItem.due_date, ResolutionItem.completed
    ).where(*scope(ResolutionItem.topic)):
        items[item["topic"]].append(item)
    done_on = await completion_days(*scope(ProgressReport.item.topic))
    records_by: dict[int, list[int]] = defaultdict(list)
    notes: list[Any] = tables_of("note")  # every kind of note (docs/record-kinds.md)
    for table in notes:
        for row in await table.select(table.topic, table.recorded_by).where(*scope(table.topic)):
            records_by[row["topic"]].append(row["recorded_by"])
    present: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for row in await MeetingAttendee.select(
        MeetingAttendee.meeting,
        MeetingAttendee.meeting.topic.as_alias("topic"),
        MeetingAttendee.name,
    ).where(MeetingAttendee.attendance == "present", *scope(MeetingAttendee.meeting.topic)):
        present[row["topic"]].add((row["meeting"], row["name"]))
    people = Account.select(Account.id, Account.display_name, Account.township).where(
        Account.role == "liaison"
    )
    if township_id is not None:
        people = people.where(Account.township == township_id)
    liaisons: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for person in await people.order_by(Account.id):
        liaisons[person["township"]].append(person)
    # The chain's rows are not kept: the stages they give are.
    calendar = await working_days()
    first = min((china_date(e["created_at"]) for m in moves.values() for e in m), default=None)
    ranks = DayRanks(calendar, first, today + timedelta(days=60)) if first else calendar
    return _Rows(
        topics=topics,
        stages={
            tid: stage_times(events, meeting_days.get(tid, []), ranks, pinned[tid])
            for tid, events in moves.items()
            if tid in pinned
        },
        adoptions=adoptions,
        ratings=ratings,
        items=items,
        done_on=done_on,
        records_by=records_by,
        present=present,
        liaisons=liaisons,
    )


def _township(
    township: dict[str, Any],
    topics: list[dict[str, Any]],
    rows: _Rows,
    today: date,
    *,
    with_liaisons: bool,
) -> TownshipFigures:
    by_state: dict[str, int] = defaultdict(int)
    adoptions = dict.fromkeys(ADOPTIONS, 0)
    ratings = dict.fromkeys(RATINGS, 0)
    durations: dict[str, list[int]] = defaultdict(list)
    on_time: dict[str, int] = defaultdict(int)
    total = completed = completed_on_time = overdue = 0
    for topic in topics:
        tid = topic["id"]
        by_state[topic["state"]] += 1
        for adoption in rows.adoptions.get(tid, ()):
            adoptions[adoption or "unanswered"] += 1
        for rating in rows.ratings.get(tid, ()):
            ratings[rating] = ratings.get(rating, 0) + 1
        for state, taken, in_time in rows.stages.get(tid, ()):
            durations[state].append(taken)
            on_time[state] += in_time
        for item in rows.items.get(tid, ()):
            total += 1
            if item["completed"]:
                completed += 1
                finished = rows.done_on.get(item["id"])
                completed_on_time += finished is not None and finished <= item["due_date"]
            elif item["due_date"] < today:
                overdue += 1
    return TownshipFigures(
        township_id=township["id"],
        township_name=township["name"],
        topics=len(topics),
        by_state=dict(by_state),
        # The default workflow's stages always (a township's figures keep their shape),
        # another workflow's when some of these topics follow it.
        stages=[
            _stage(s, durations[s.name], on_time[s.name])
            for s in timed_stages({DEFAULT_KEY, *(t["workflow_key"] for t in topics)})
        ],
        opinions_by_adoption=adoptions,
        satisfaction_by_rating=ratings,
        items=ItemFigures(
            total=total,
            completed=completed,
            completed_on_time=completed_on_time,
            open_overdue=overdue,
        ),
        liaisons=_liaisons(township["id"], topics, rows) if with_liaisons else None,
        topics_completed=sum(1 for t in topics if is_completed(t)),
        workflows=_workflows(topics, rows),
    )


def is_completed(topic: dict[str, Any]) -> bool:
    """Whether a topic stands at the end of its workflow's main path (a final state)."""
    workflow = workflow_of(topic)
    last = workflow.main_path[-1]
    return bool(topic["state"] == last and workflow.state(last).terminal)


def _workflows(topics: list[dict[str, Any]], rows: _Rows) -> dict[str, WorkflowFigures]:
    """Per workflow key with topics among ``topics``: its topics by its own states, and
    its own timed stages (each visit timed by the topic's pinned version)."""
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for topic in topics:
        by_key[workflow_of(topic).key].append(topic)
    found: dict[str, WorkflowFigures] = {}
    keys = workflow_versions()
    for key, pinned in by_key.items():  # a key no file declares: its stand-in, last
        keys.setdefault(key, [workflow_of(pinned[0])])
    for key, versions in keys.items():
        mine = by_key.get(key)
        if not mine:
            continue
        counts: dict[str, int] = defaultdict(int)
        durations: dict[str, list[int]] = defaultdict(list)
        on_time: dict[str, int] = defaultdict(int)
        for topic in mine:
            counts[topic["state"]] += 1
            for state, taken, in_time in rows.stages.get(topic["id"], ()):
                durations[state].append(taken)
                on_time[state] += in_time
        # A stand-in declares no states: those its topics stand in, by their names.
        states = states_of(versions) or [versions[0].state(n) for n in counts]
        found[key] = WorkflowFigures(
            key=key,
            label=versions[0].label,
            topics=len(mine),
            topics_completed=sum(1 for t in mine if is_completed(t)),
            states=[StateCount(state=s.name, label=s.label, topics=counts[s.name]) for s in states],
            stages=[_stage(s, durations[s.name], on_time[s.name]) for s in states if is_timed(s)],
        )
    return found


def _stage(state: State, durations: list[int], on_time: int) -> StageFigures:
    limit = state.time_limit
    assert limit is not None
    finished = len(durations)
    return StageFigures(
        state=state.name,
        label=limit.label,
        finished=finished,
        on_time=on_time,
        on_time_share=on_time / finished if finished else None,
        median_working_days=float(stats.median(durations)) if finished else None,
    )


def stage_times(
    events: list[dict[str, Any]],
    meeting_days: list[date],
    calendar: WorkingDays | DayRanks,
    workflow: Workflow | None = None,
) -> list[tuple[str, int, bool]]:
    """(stage, working days taken, on time) for every timed stage the topic left, by
    the time limits of ``workflow`` (the topic's pinned one; the default workflow's
    newest version when None).

    ``events`` are its moves (``seq``, ``to_state``, ``created_at``), in any order;
    ``meeting_days`` the China dates of its meetings (a limit counted from the meeting
    counts from the latest meeting held by the day the stage was left)."""
    workflow = workflow or loaded().latest(DEFAULT_KEY)
    timed = {s.name: s.time_limit for s in workflow.states if is_timed(s)}
    found = []
    ordered = sorted(events, key=lambda e: e["seq"])
    for entering, leaving in pairwise(ordered):
        state = entering["to_state"]
        limit = timed.get(state)
        if limit is None:
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


def _liaisons(township_id: int, topics: list[dict[str, Any]], rows: _Rows) -> list[LiaisonFigures]:
    opened: dict[int, int] = defaultdict(int)
    records: dict[int, int] = defaultdict(int)
    meetings: dict[str, set[int]] = defaultdict(set)
    for topic in topics:
        opened[topic["opened_by"]] += 1
        for person in rows.records_by.get(topic["id"], ()):
            records[person] += 1
        for meeting, name in rows.present.get(topic["id"], ()):
            meetings[name].add(meeting)
    return [
        LiaisonFigures(
            account_id=p["id"],
            name=p["display_name"],
            topics_opened=opened[p["id"]],
            records_made=records[p["id"]],
            # The roll has plain names; an account's name may carry a note in brackets.
            meetings_attended=len(meetings[p["display_name"].split("（")[0].strip()]),
        )
        for p in rows.liaisons.get(township_id, ())
    ]
