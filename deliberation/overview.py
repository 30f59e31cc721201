"""One topic at a glance, for its page: where it stands on the workflow, what
happened when, the agreed results and the documents.

Signed-in people of the topic's township see all of it, with names. Anyone else
sees a topic once it has reached ``resolution`` (or later), with roles instead of
names and without representatives' opinions (no personal data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from deliberation.clock import china_date, china_today, chinese_date
from deliberation.deadlines import (
    TimeLeft,
    days_ago,
    due_label,
    is_overdue,
    postings_left,
    stage_time_left,
    time_left,
)
from deliberation.documents import Publishing, topic_documents
from deliberation.documents.service import public_topic_documents
from deliberation.errors import NotFound
from deliberation.history import SeenEvent, history_before
from deliberation.machines import readiness
from deliberation.permissions import (
    Subject,
    allowed,
    available_triggers,
    scope,
    sees_time_limits,
)
from deliberation.pinning import state_names, terminal_states, workflow_of
from deliberation.record_types import TYPES, parent_storage, storage_of
from deliberation.records import item_reads
from deliberation.requirements import StageWindow, stage_window
from deliberation.schemas import DocumentRead, ResolutionItemRead
from deliberation.scoping import topic_conditions
from deliberation.security import Principal
from deliberation.tables import (
    Document,
    PlanItem,
    ResolutionItem,
    SatisfactionRating,
    Suggestion,
    SuggestionScreening,
    SuggestionSupport,
    Topic,
    TopicEvent,
)
from deliberation.topics import topic_row, valid_id
from deliberation.workdays import WorkingDays, working_days
from workflows import ROLE_LABELS, WORKFLOW, RecordKind, Requirement, Workflow


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    status: str  # done | current | todo


@dataclass(frozen=True)
class Happened:
    when: datetime
    what: str
    to_label: str
    who: str
    comment: str
    ago: str = ""
    """How long ago, in days (今天 / 昨天 / N 天前)."""
    seq: int = 0
    """The event's number on the chain (the page's 更多 link continues below it)."""


@dataclass(frozen=True)
class Due:
    """The one date a person is shown on a topic: the office its own time limit
    ("完成调研期限", overdue or not); a representative who may still give an opinion,
    when opinions close; anyone else nothing."""

    label: str
    on: date
    overdue: bool = False
    left: TimeLeft | None = None
    """How far it is from today (还剩 3 个工作日 / 今天到期 / 已逾期 2 天)."""


def due_for(
    principal: Principal | None,
    topic: dict[str, Any],
    today: date | None = None,
    calendar: WorkingDays | None = None,
) -> Due | None:
    due_on = topic.get("due_on")
    workflow = workflow_of(topic)
    if due_on is None or principal is None or workflow.unavailable:
        return None  # nothing is due on a topic that cannot be worked now
    today = today or china_today()
    left = stage_time_left(topic["state"], due_on, today, calendar, workflow)
    if sees_time_limits(principal, topic):
        label = due_label(topic["state"], due_on, workflow) or ""
        return Due(f"{label}期限", due_on, is_overdue(due_on, today), left)
    if allowed(principal, "record.add", Subject.of_topic(topic), "opinion"):
        return Due("意见征集至", due_on, left=left)
    return None


@dataclass(frozen=True)
class WindowLine:
    """The opinion window of the topic's stage as its page says it, to everyone who
    reads the topic (docs/decisions.md "The window line"): ``意见征集至 2026年10月9日（还剩
    3 个工作日）``, ``今天是意见征集的最后一天``, then ``意见征集已于2026年10月9日截止``;
    once closed, the records it closes (``closes``) are no longer offered."""

    text: str
    closed: bool
    last_day: date
    closes: frozenset[str]


def window_line(
    window: StageWindow | None, today: date, calendar: WorkingDays | None = None
) -> WindowLine | None:
    if window is None:
        return None
    last = window.last_day
    if window.closed(today):
        text = f"{window.label}已于{chinese_date(last)}截止"
    elif today == last:
        text = f"今天是{window.label}的最后一天"
    else:
        text = f"{window.label}至 {chinese_date(last)}（{time_left(last, today, calendar).text}）"
    return WindowLine(text, window.closed(today), last, window.records)


@dataclass(frozen=True)
class NextStep:
    """A step out of the topic's state and what it still waits for (unmet
    requirements, each with what meets it: ``Requirement.met_by``). ``mine``: this
    person may take it; otherwise ``by`` names who does (their part may still be one of
    the requirements)."""

    trigger: str
    label: str
    danger: bool
    missing: tuple[Requirement, ...]
    needs_comment: bool
    """The step needs its reason written (``comment_given``)."""
    mine: bool = True
    by: str = ""
    final: bool = False
    """It ends the topic for good (its destination is a final state): asked first."""


async def next_steps(principal: Principal, topic: dict[str, Any]) -> list[NextStep]:
    """The steps this person may take now, then the other steps forward out of the
    state (taken by someone else), each with what it still needs."""
    mine = set(available_triggers(principal, topic))
    workflow = workflow_of(topic)  # the version the topic is pinned to
    _, waiting = await readiness(topic)  # may_<trigger> over the facts, or what is missing
    planned = []
    for transition in workflow.transitions:
        if topic["state"] not in transition.sources:
            continue
        if transition.trigger not in mine and transition.danger:
            continue
        missing = {r.name for r in waiting.get(transition.trigger, [])}
        unmet = [r for r in transition.requires if r.name in missing]
        planned.append(
            NextStep(
                trigger=transition.trigger,
                label=transition.label,
                danger=transition.danger,
                missing=tuple(r for r in unmet if r.met_by != "comment"),
                needs_comment=transition.needs_reason,
                mine=transition.trigger in mine,
                by="、".join(ROLE_LABELS[role] for role in transition.roles),
                final=workflow.state(transition.dest).terminal,
            )
        )
    planned.sort(key=lambda step: not step.mine)
    return planned


@dataclass(frozen=True)
class Source:
    """Where a topic came from when a villager's suggestion became it (or was merged
    into it): the line from suggestion to result, on the topic's page for everyone who
    reads the topic (docs/decisions.md, "Suggestions on the pages"). Only what the
    suggestion's public reading shows: its reference, dates and tallies."""

    suggestion_id: int
    reference: str
    filed_on: date
    supports: int
    supports_representatives: int
    must_list_on: date | None
    screened_on: date | None
    merged: bool
    """Merged into this topic (else: the topic was opened from it)."""
    plan_year: int | None = None
    plan_quarter: int | None = None
    """The quarter of the current published annual plan that lists it, if one does."""


async def topic_sources(topic_id: int) -> list[Source]:
    """The suggestions a topic was opened from or merged from (public columns only)."""
    rows = (
        await Suggestion.select(
            Suggestion.id,
            Suggestion.reference,
            Suggestion.status,
            Suggestion.must_list_at,
            Suggestion.created_at,
        )
        .where((Suggestion.topic == topic_id) & Suggestion.status.is_in(["accepted", "merged"]))
        .order_by(Suggestion.id)
    )
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    screened = {
        r["suggestion"]: r["screened_at"]
        for r in await SuggestionScreening.select(
            SuggestionScreening.suggestion, SuggestionScreening.screened_at
        ).where(SuggestionScreening.suggestion.is_in(ids))
    }
    tallies: dict[int, list[int]] = {i: [0, 0] for i in ids}
    for r in await SuggestionSupport.select(
        SuggestionSupport.suggestion, SuggestionSupport.standing, SuggestionSupport.headcount
    ).where(SuggestionSupport.suggestion.is_in(ids)):
        tallies[r["suggestion"]][0] += int(r["headcount"])
        if r["standing"] == "representative":
            tallies[r["suggestion"]][1] += int(r["headcount"])
    planned: dict[int, tuple[int, int]] = {}
    for r in await PlanItem.select(
        PlanItem.suggestion,
        PlanItem.topic,
        PlanItem.quarter,
        PlanItem.plan_version._.plan._.year.as_alias("year"),
    ).where(
        (PlanItem.plan_version._.status == "published")
        & (PlanItem.suggestion.is_in(ids) | (PlanItem.topic == topic_id))
    ):
        key = r["suggestion"] if r["suggestion"] in tallies else ids[0]
        planned.setdefault(key, (r["year"], r["quarter"]))
    return [
        Source(
            suggestion_id=r["id"],
            reference=r["reference"],
            filed_on=china_date(r["created_at"]),
            supports=tallies[r["id"]][0],
            supports_representatives=tallies[r["id"]][1],
            must_list_on=china_date(r["must_list_at"]) if r["must_list_at"] else None,
            screened_on=china_date(screened[r["id"]]) if r["id"] in screened else None,
            merged=r["status"] == "merged",
            plan_year=planned.get(r["id"], (None, None))[0],
            plan_quarter=planned.get(r["id"], (None, None))[1],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Overview:
    topic: dict[str, Any]
    state_label: str
    public: bool
    steps: list[Step]
    timeline: list[Happened]
    items: list[ResolutionItemRead]
    documents: list[DocumentRead]
    steps_next: list[NextStep] = field(default_factory=list)
    """What this person may do now (the step buttons), with what each still needs."""
    due: Due | None = None
    window: WindowLine | None = None
    """The stage's opinion window (微协商's 征求意见), shown to everyone who reads the topic."""
    description: str | None = None
    """The problem as its opener wrote it: the township's people only (it may name
    villagers); the public version leaves it out."""
    item_left: dict[int, TimeLeft] = field(default_factory=dict)
    """Each result still being carried out: how far its deadline is (calendar days)."""
    posting_left: dict[int, TimeLeft] = field(default_factory=dict)
    """Each published document: how far its posting period (公示期) is from its end."""
    unavailable: str = ""
    """Why no step can be taken: the topic's workflow version is not loaded (shown on
    its page; docs/decisions.md, "A workflow removed from the folder")."""
    source: list[Source] = field(default_factory=list)
    """The villagers' suggestions it was opened from or merged from (:class:`Source`)."""
    timeline_more: int | None = None
    """The timeline shows the newest :data:`TIMELINE_PAGE` events: the seq of the
    oldest shown when there are older ones (the 更多 link asks for those before it)."""


def event_label(
    kind: str, trigger: str, record: str, workflow: Workflow = WORKFLOW, *, reference: str = ""
) -> str:
    """What happened, in Chinese, for the timeline (in the words of the topic's workflow).
    ``reference``: the villager's suggestion a ``suggestion.merged`` event merged in."""
    if kind == "topic.opened":
        return "提出议题"
    if kind == "suggestion.merged":
        return f"合并村民建议 {reference}".rstrip()
    if kind == "transition":
        return workflow.transition(trigger).label
    if kind == "chain.revouched":
        return "审计链升级补记"
    name = (
        "文件"
        if record == "document"
        else workflow.record(record).label
        if record and record != "topic"
        else ""
    )
    return {
        "record.created": f"添加{name}",
        "record.corrected": f"更正{name}",
        "opinion.answered": "答复意见",
        "satisfaction.rated": "评价满意度",
        "document.drafted": "生成文件草稿",
        "document.published": "发布文件",
        "document.revoked": "撤销文件",
        "topic.urged": "督办",
    }.get(kind, kind)


def steps_of(state: str, visited: set[str], workflow: Workflow = WORKFLOW) -> list[Step]:
    """The main path with the current state marked; a topic that left the path
    (rejected, withdrawn) shows where it stopped."""
    path = list(workflow.main_path)
    if state in path:
        here = path.index(state)
        return [
            Step(
                n,
                workflow.state(n).label,
                "done" if i < here else "current" if i == here else "todo",
            )
            for i, n in enumerate(path)
        ]
    shown = [Step(n, workflow.state(n).label, "done") for n in path if n in visited]
    return [*shown, Step(state, workflow.state(state).label, "current")]


async def topic_overview(
    principal: Principal | None,
    topic_id: int,
    publishing: Publishing,
    events_before: int | None = None,
) -> Overview:
    topic = await topic_row(topic_id)
    seen = allowed(principal, "topic.read", Subject.of_topic(topic))
    if not seen:
        raise NotFound(seen.reason)
    own = seen.view == "full"
    workflow = workflow_of(topic)
    events, more = await history_before(principal, topic, events_before, TIMELINE_PAGE)
    today = china_today()
    timeline = happenings(events, workflow, own, today)
    # The states passed through matter only to a topic that left the main path (where it
    # stopped); reading them is a scan of its whole chain.
    on_path = topic["state"] in workflow.main_path
    visited = set() if on_path else await visited_states(topic_id)
    items = await item_reads(
        await ResolutionItem.select()
        .where(ResolutionItem.topic == topic_id)
        .order_by(ResolutionItem.id)
    )
    if own and principal is not None:
        documents = await topic_documents(principal, topic_id, publishing)
        planned = await next_steps(principal, topic)
    else:
        documents = await public_topic_documents(topic_id, publishing)
        planned = []
    window = window_line(await stage_window(topic, workflow), today, await working_days())
    return Overview(
        topic=topic,
        state_label=workflow.state(topic["state"]).label,
        public=not own,
        steps=steps_of(topic["state"], visited, workflow),
        timeline=timeline,
        items=items,
        documents=documents,
        steps_next=planned,
        # The window's line replaces the stage's date (docs/decisions.md "The window line").
        due=due_for(principal, topic, today, await working_days()) if own and not window else None,
        window=window,
        description=topic["description"] if own else None,
        posting_left=await postings_left(
            (d.id, d.posting_ends_on) for d in documents if d.status == "published"
        ),
        item_left={
            i.id: time_left(i.due_date, today, working=False) for i in items if not i.completed
        },
        unavailable=workflow.unavailable,
        source=await topic_sources(topic_id),
        timeline_more=timeline[-1].seq if more and timeline else None,
    )


TIMELINE_PAGE = 50
"""Events on the topic page at a time, newest first (docs/decisions.md "The topic page
shows 50")."""


def happenings(
    events: list[SeenEvent], workflow: Workflow, own: bool, today: date
) -> list[Happened]:
    """Events as the timeline (办理经过) words them."""
    return [
        Happened(
            when=e.created_at,
            what=event_label(e.kind, e.trigger, e.record, workflow),
            to_label=workflow.state(e.to_state).label,
            # A name only where the township reads the record in full; otherwise the
            # actor's role (the public version never names anyone).
            who=(e.actor_name or role) if own and e.actor_id is not None else role,
            comment=e.comment,
            ago=days_ago(china_date(e.created_at), today),
            seq=e.seq,
        )
        for e in events
        for role in (ROLE_LABELS.get(e.actor_role, ""),)
    ]


async def timeline_page(
    principal: Principal | None, topic_id: int, before: int
) -> tuple[list[Happened], int | None]:
    """The timeline's next :data:`TIMELINE_PAGE` events before the event ``before``,
    and the seq to continue from (None on the last page); 404 as the topic page."""
    topic = await topic_row(topic_id)
    seen = allowed(principal, "topic.read", Subject.of_topic(topic))
    if not seen:
        raise NotFound(seen.reason)
    events, more = await history_before(principal, topic, before, TIMELINE_PAGE)
    timeline = happenings(events, workflow_of(topic), seen.view == "full", china_today())
    return timeline, timeline[-1].seq if more and timeline else None


async def visited_states(topic_id: int) -> set[str]:
    """The states a topic has been in (for the step indicator), counted in SQL."""
    rows = (
        await TopicEvent.select(TopicEvent.to_state).where(TopicEvent.topic == topic_id).distinct()
    )
    return {r["to_state"] for r in rows}


@dataclass(frozen=True)
class MyTopic:
    id: int
    reference: str
    title: str
    state: str
    state_label: str
    due: Due | None
    """The date shown beside it (see :func:`due_for`)."""
    overdue: bool
    waiting: str | None
    """What is waiting on this person, in Chinese (None when nothing is)."""
    finished: bool = False
    """Closed, rejected or withdrawn: kept in the list, under 已办结."""
    urged: bool = False
    """The county urged it (督办) in its current stage: first in the office's list."""
    done_note: str | None = None
    """What this person already did where they could (已评价): said, not a to-do."""
    anchor: str = ""
    """Where on the topic's page their part is (``#rating-form``), for the link."""


MY_LIST_LIMIT = 500


async def my_topics(principal: Principal) -> list[MyTopic]:
    """The signed-in person's list, finished topics included: a liaison's own topics, a
    staff member's township (overdue first), a representative's village topics and any
    topic they gave an opinion on (those where they can add something first: an
    opinion, a satisfaction rating)."""
    mine = scope(principal, "my.list")
    if not mine:
        return []  # the county and administrators take part in no township's topics
    terminal = set(terminal_states())
    query = Topic.select(
        Topic.id,
        Topic.reference,
        Topic.title,
        Topic.state,
        Topic.opened_by,
        Topic.township,
        Topic.village,
        Topic.due_on,
        Topic.stage_entered_on,
        Topic.urged_at,
        Topic.workflow_key,
        Topic.workflow_version,
    ).where(*await topic_conditions(mine))
    by_records = mine.waits_on == "records"
    rated: set[int] = set()
    if by_records:
        rated |= {
            r["topic"]
            for r in await SatisfactionRating.select(SatisfactionRating.topic).where(
                SatisfactionRating.representative == principal.id
            )
        }
    rows = await query.order_by(Topic.id, ascending=False).limit(MY_LIST_LIMIT)
    today = china_today()
    calendar = await working_days()
    found = []
    for row in rows:
        finished = row["state"] in terminal
        urged = not finished and row["urged_at"] is not None
        waiting: str | None
        done_note: str | None = None
        window_shut = False
        anchor = ""
        if finished:
            waiting = None
        elif by_records:
            kind = _may_add(principal, row)
            kind_type = TYPES.get(kind.type) if kind else None
            waiting = (
                (kind_type.prompt if kind_type and kind_type.prompt else f"可以添加{kind.label}")
                if kind
                else None
            )
            anchor = f"#{form_id(kind.name)}-form" if kind else ""
            if kind_type and kind_type.done_once and row["id"] in rated:
                waiting, done_note = None, kind_type.done_once
        elif urged:
            waiting = "县政协督办\uff0c请尽快办理"
        else:
            can = available_triggers(principal, row)
            waiting = "待您办理" if can else None
        if by_records and not finished and waiting is not None and kind is not None:
            window = await stage_window(row, workflow_of(row))
            if window and window.closed(today) and kind.name in window.records:
                # Its window closed: nothing to add any more (docs/decisions.md "The
                # window line"), nor a date that passed.
                waiting, anchor, window_shut = None, "", True
        found.append(
            MyTopic(
                id=row["id"],
                reference=row["reference"],
                title=row["title"],
                state=row["state"],
                state_label=workflow_of(row).state(row["state"]).label,
                due=None if finished or window_shut else due_for(principal, row, today, calendar),
                overdue=not finished and is_overdue(row["due_on"], today),
                waiting=waiting,
                finished=finished,
                urged=urged and sees_time_limits(principal, row),
                done_note=done_note,
                anchor=anchor,
            )
        )
    if by_records:
        found.sort(key=lambda t: (t.finished, t.waiting is None, -t.id))
    else:  # urged, then overdue, then by due date (none last), finished at the end
        found.sort(
            key=lambda t: (
                t.finished,
                not t.urged,
                not t.overdue,
                t.due.on if t.due else date.max,
                -t.id,
            )
        )
    return found


TABS = {"todo": "待办", "open": "进行中", "done": "已办结"}
"""The tabs of a person's list: waiting on them, still moving, finished."""


def in_tab(topic: MyTopic, tab: str) -> bool:
    if tab == "todo":
        return topic.waiting is not None
    if tab == "open":
        return not topic.finished
    return topic.finished


def form_id(kind: str) -> str:
    """The id (without ``-form``) of a record's form on the topic page."""
    storage = storage_of(kind)
    return storage.form_id if storage is not None and storage.form_id else kind


def _may_add(principal: Principal, row: dict[str, Any]) -> RecordKind | None:
    """The first record this person may add to the topic now (the policy's
    ``record.add``: their role, their village, the topic's stage)."""
    subject = Subject.of_topic(row)
    for kind in subject.workflow.records:  # the topic's own kinds and labels
        if allowed(principal, "record.add", subject, kind.name):
            return kind
    return None


def draftable_kinds(principal: Principal | None, topic: dict[str, Any]) -> dict[str, str]:
    """The document kinds this person may draft on the topic in its state (the policy's
    answer, kind by kind), with their Chinese names."""
    subject = Subject.of_topic(topic)
    return {
        kind.name: kind.label
        for kind in subject.workflow.documents
        if allowed(principal, "document.draft", subject, kind.name)
    }


def may_add(principal: Principal | None, topic: dict[str, Any], record: str) -> bool:
    """Whether the record's form belongs on this person's page of the topic."""
    return bool(allowed(principal, "record.add", Subject.of_topic(topic), record))


@dataclass(frozen=True)
class StateCount:
    state: str
    label: str
    count: int


def by_state(found: list[MyTopic]) -> list[StateCount]:
    """How many of the list are in each state, in the loaded workflows' order (states
    with none left out), each in the words of the topics' own workflow."""
    counts: dict[str, int] = {}
    labels: dict[str, str] = {}
    for topic in found:
        counts[topic.state] = counts.get(topic.state, 0) + 1
        labels.setdefault(topic.state, topic.state_label)
    order = {name: i for i, name in enumerate(state_names())}
    ranked = sorted(counts, key=lambda name: order.get(name, len(order)))
    return [StateCount(name, labels[name], counts[name]) for name in ranked]


async def on_topic(record: str, record_id: int, topic_id: int) -> bool:
    """Whether the record a page form names (an opinion to answer, a meeting's minutes,
    an item's progress, a document) belongs to the topic whose page it was sent from."""
    storage = None if record == "document" else parent_storage(record)
    table: Any = Document if storage is None else storage.table
    if not valid_id(record_id) or not valid_id(topic_id):
        return False
    return bool(await table.exists().where(table.id == record_id, table.topic == topic_id))
