"""The requirement vocabulary (``workflows.REQUIREMENT_KINDS``), implemented once.

Two halves: :func:`load_facts` reads, in one pass, what the requirements leaving the
topic's current state need (counts of records, items, ratings, published documents, the
latest vote of each body since the topic entered the state, the dates and the working-day
calendar); :func:`check` is pure and answers one requirement over those facts with a
:class:`Refusal` (what is missing, why, and from when it may be met) or None. The
`transitions` machine gates on the same checks as its conditions (``Facts.met``), and
a refused trigger is explained by running them one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from deliberation.clock import china_date, china_today, chinese_date
from deliberation.tables import (
    Document,
    Investigation,
    Meeting,
    Opinion,
    ProgressReport,
    ResolutionItem,
    SatisfactionRating,
    SiteConsultation,
)
from deliberation.tables import Vote as VoteRow
from deliberation.workdays import WorkingDays, working_days
from workflows import RecordKind, Requirement, Transition, Workflow


@dataclass(frozen=True)
class Refusal:
    """Why a requirement is not met: ``label`` names what is missing (as the pages and
    ``missing`` know it); ``detail`` explains a rule (its figures and ``basis``);
    ``first_day`` is the first day it may be met, when that is known."""

    name: str
    label: str
    detail: str = ""
    basis: str = ""
    first_day: date | None = None
    absent: bool = False
    """Nothing is there to judge yet (no vote of the body): an ``any_of`` names such an
    alternative only when no other says more."""


@dataclass(frozen=True)
class Vote:
    """A body's vote on the topic (四议两公开's 村民代表会议, …): the facts ``quorum``
    reads. ``roster`` is how many members the body has (应到), ``present`` how many
    attended (实到), ``approve`` how many voted for."""

    body: str
    roster: int
    present: int
    approve: int
    held_on: date
    notice_given_on: date | None = None
    """When the meeting was announced (a 村民会议: ten days before, 村委会组织法第二十一条)."""


@dataclass
class Facts:
    """A snapshot of what a topic's requirements ask about, read once (``load_facts``)."""

    today: date
    entered_on: date | None = None
    """The China date the topic entered its current state."""
    records: dict[str, int] = field(default_factory=dict)
    """How many of each record kind (a ``records``/``ratings`` requirement's kind);
    ``<kind>@latest``: 1 if the latest one counts (minutes of the latest meeting)."""
    items: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Each item kind: (how many, how many not completed)."""
    published: frozenset[str] = frozenset()
    """The kinds of the topic's published documents."""
    votes: dict[str, Vote] = field(default_factory=dict)
    """The latest vote of each body since the topic entered its state."""
    calendar: WorkingDays | None = None
    window_days: int = 0
    """The current state's opinion window, in working days from entering it."""

    def met(self, requirement: Requirement, comment: str) -> bool:
        """The machine's condition: the same check that explains a refusal."""
        return check(requirement, self, comment) is None


# The vocabulary ---------------------------------------------------------------------------


def _records(requirement: Requirement, facts: Facts, comment: str) -> Refusal | None:
    key = _records_key(requirement)
    if facts.records.get(key, 0) >= requirement.param("at_least", 1):
        return None
    return Refusal(requirement.name, requirement.label, basis=requirement.basis)


def _document_published(requirement: Requirement, facts: Facts, comment: str) -> Refusal | None:
    if requirement.param("document_published") in facts.published:
        return None
    return Refusal(requirement.name, requirement.label, basis=requirement.basis)


def _items_completed(requirement: Requirement, facts: Facts, comment: str) -> Refusal | None:
    total, still_open = facts.items.get(requirement.param("items_completed"), (0, 0))
    if total > 0 and still_open == 0:
        return None
    return Refusal(requirement.name, requirement.label, basis=requirement.basis)


def _ratings(requirement: Requirement, facts: Facts, comment: str) -> Refusal | None:
    if facts.records.get(requirement.param("ratings"), 0) >= requirement.param("at_least", 1):
        return None
    return Refusal(requirement.name, requirement.label, basis=requirement.basis)


def _comment(requirement: Requirement, facts: Facts, comment: str) -> Refusal | None:
    return None if comment.strip() else Refusal(requirement.name, requirement.label)


def first_day_of_wait(requirement: Requirement, facts: Facts) -> date | None:
    """The first day a ``min_wait`` allows: ``min_wait`` days (or working days) after
    the day the topic entered its state."""
    if facts.entered_on is None:
        return None
    days = int(requirement.param("min_wait", 1))
    if requirement.param("unit", "days") == "working_days":
        return (facts.calendar or WorkingDays()).add(facts.entered_on, days).day
    return facts.entered_on + timedelta(days=days)


def _min_wait(requirement: Requirement, facts: Facts, comment: str) -> Refusal | None:
    first = first_day_of_wait(requirement, facts)
    if first is not None and facts.today >= first:
        return None
    detail = f"最早可于{chinese_date(first)}执行" if first else "进入本阶段的日期不详"
    basis = f"（{requirement.basis}）" if requirement.basis else ""
    return Refusal(
        requirement.name,
        requirement.label,
        detail=f"{requirement.label}{basis}，{detail}",
        basis=requirement.basis,
        first_day=first,
    )


def window_end(facts: Facts) -> date | None:
    """The last day of the state's opinion window (``window_days`` working days after
    entering it)."""
    if facts.entered_on is None:
        return None
    return (facts.calendar or WorkingDays()).add(facts.entered_on, facts.window_days).day


@dataclass(frozen=True)
class StageWindow:
    """The window of a topic's current state (its ``time_limit`` with ``window = true``,
    微协商's 征求意见): what it is called and its last day, on which it is still open
    (docs/decisions.md "An opinion window closes on its day")."""

    label: str
    """What the window is for, in the workflow's words (``意见征集``)."""
    last_day: date
    records: frozenset[str]
    """The record kinds it closes: those open in the state that are added to the topic
    (opinions); a record added to another one (an opinion's answer) stays open."""

    def closed(self, today: date) -> bool:
        return today > self.last_day


async def stage_window(topic: dict[str, Any], workflow: Workflow) -> StageWindow | None:
    """The window of the topic's current state in ``workflow`` (the version it is
    pinned to), or None when the state is no window. The one computation behind the
    ``window_closed`` requirement's date, the 409 ``stage_closed`` of a record added
    late (``deliberation/changes.py``) and the window line of the topic page."""
    state = topic["state"]
    limit = workflow.state(state).time_limit
    if limit is None or not limit.window:
        return None
    facts = Facts(
        today=china_today(),
        entered_on=topic.get("stage_entered_on"),
        calendar=await working_days(),
        window_days=limit.working_days,
    )
    last = window_end(facts)
    if last is None:
        return None
    return StageWindow(
        label=limit.label or "意见征集",
        last_day=last,
        records=frozenset(r.name for r in workflow.records if state in r.open_in and not r.part_of),
    )


def _window_closed(requirement: Requirement, facts: Facts, comment: str) -> Refusal | None:
    last = window_end(facts)
    if last is not None and facts.today > last:
        return None
    first = last + timedelta(days=1) if last else None
    detail = (
        f"意见征集期至{chinese_date(last)}，最早可于{chinese_date(first)}执行"
        if last and first
        else "进入本阶段的日期不详"
    )
    return Refusal(
        requirement.name,
        requirement.label,
        detail=detail,
        basis=requirement.basis,
        first_day=first,
    )


_NUMERALS = "零一二三四五六七八九十"


def _share(numerator: int, denominator: int) -> str:
    """2/3 → 三分之二, 1/2 → 半数 (the words of the law)."""
    if (numerator, denominator) == (1, 2):
        return "半数"
    if denominator <= 10 and numerator <= 10:
        return f"{_NUMERALS[denominator]}分之{_NUMERALS[numerator]}"
    return f"{numerator}/{denominator}"


def _rule(text: str) -> tuple[str, Fraction, str]:
    """``>= 2/3 roster`` → (``>=``, 2/3, ``roster``); the loader has checked the form."""
    op, share, base = text.split()
    numerator, denominator = share.split("/")
    return op, Fraction(int(numerator), int(denominator)), base


def _holds(op: str, count: int, share: Fraction, of: int) -> bool:
    return count >= share * of if op == ">=" else count > share * of


def _rule_words(op: str, share: Fraction, who: str) -> str:
    words = _share(share.numerator, share.denominator)
    if op == ">=":
        return f"{words}以上{who}"
    return f"{who}过半数" if words == "半数" else f"{who}超过{words}"


def _quorum(requirement: Requirement, facts: Facts, comment: str) -> Refusal | None:
    body = requirement.param("body", "")
    basis = f"（{requirement.basis}）" if requirement.basis else ""
    vote = facts.votes.get(body)
    if vote is None:
        return Refusal(
            requirement.name,
            requirement.label,
            detail=f"本阶段尚无{body}的表决记录",
            basis=requirement.basis,
            absent=True,
        )
    unit = requirement.param("unit", "人")
    op, share, base = _rule(requirement.param("attendance", ">= 2/3 roster"))
    if not _holds(op, vote.present, share, vote.roster):
        members = requirement.param("members", "组成人员")
        return Refusal(
            requirement.name,
            requirement.label,
            detail=f"{body}须有{_rule_words(op, share, members)}参加{basis}："
            f"应到 {vote.roster} {unit}，实到 {vote.present} {unit}",
            basis=requirement.basis,
        )
    notice = requirement.param("notice_days")
    if notice and (
        vote.notice_given_on is None or (vote.held_on - vote.notice_given_on).days < notice
    ):
        given = (
            f"{chinese_date(vote.notice_given_on)}通知，{chinese_date(vote.held_on)}召开"
            if vote.notice_given_on
            else "表决记录未填写通知日期"
        )
        return Refusal(
            requirement.name,
            requirement.label,
            detail=f"{body}应当提前{_count_words(notice)}天通知{basis}：{given}",
            basis=requirement.basis,
        )
    op, share, base = _rule(requirement.param("approval", "> 1/2 present"))
    of = vote.roster if base == "roster" else vote.present
    who = "组成人员" if base == "roster" else "到会人员"
    carried = _holds(op, vote.approve, share, of)
    if carried == (requirement.param("outcome", "carried") == "carried"):
        return None
    figures = (
        f"应到 {vote.roster} {unit}" if base == "roster" else f"实到 {vote.present} {unit}"
    ) + f"，同意 {vote.approve} {unit}"
    rule = f"{_rule_words(op, share, who)}同意{basis}：{figures}"
    return Refusal(
        requirement.name,
        requirement.label,
        detail=f"{body}表决已获{rule}，未被否决" if carried else f"{body}表决须经{rule}",
        basis=requirement.basis,
    )


def _count_words(number: int) -> str:
    """10 → 十, 7 → 七 (days in a rule's words); larger numbers as digits."""
    if 0 < number <= 10:
        return _NUMERALS[number]
    return str(number)


def _any_of(requirement: Requirement, facts: Facts, comment: str) -> Refusal | None:
    """Met when one alternative is; refused with what the alternatives that have
    something to judge say (a vote too thin), else with each one's absence."""
    refused: list[Refusal] = []
    for alternative in requirement.alternatives:
        refusal = check(alternative, facts, comment)
        if refusal is None:
            return None
        refused.append(refusal)
    judged = [r for r in refused if not r.absent] or refused
    firsts = [r.first_day for r in judged if r.first_day is not None]
    return Refusal(
        requirement.name,
        requirement.label,
        detail="；或".join(r.detail or r.label for r in judged),
        basis=requirement.basis or "、".join(dict.fromkeys(r.basis for r in judged if r.basis)),
        first_day=min(firsts) if firsts else None,
        absent=all(r.absent for r in judged),
    )


VOCABULARY: dict[str, Callable[[Requirement, Facts, str], Refusal | None]] = {
    "records": _records,
    "document_published": _document_published,
    "items_completed": _items_completed,
    "ratings": _ratings,
    "comment": _comment,
    "min_wait": _min_wait,
    "quorum": _quorum,
    "window_closed": _window_closed,
    "any_of": _any_of,
}


def check(requirement: Requirement, facts: Facts, comment: str = "") -> Refusal | None:
    """Whether ``requirement`` is met over ``facts``: None, or what is missing."""
    return VOCABULARY[requirement.kind](requirement, facts, comment)


def refusals(transition: Transition, facts: Facts, comment: str = "") -> list[Refusal]:
    """Each of the transition's requirements not met, in declaration order."""
    return [r for req in transition.requires if (r := check(req, facts, comment)) is not None]


# Reading the facts ------------------------------------------------------------------------


def _records_key(requirement: Requirement) -> str:
    kind = requirement.param("records")
    return f"{kind}@latest" if requirement.param("of") == "latest" else kind


_NOTE_TABLES: dict[str, Any] = {
    "investigation": Investigation,
    "site_consultation": SiteConsultation,
}
"""The ``note`` kinds and their tables (until record kinds declare their tables)."""
_TYPE_TABLES: dict[str, Any] = {
    "opinion": Opinion,
    "meeting": Meeting,
    "item": ResolutionItem,
    "progress": ProgressReport,
    "rating": SatisfactionRating,
}


async def _count(kind: RecordKind, topic_id: int, latest: bool) -> int:
    if kind.type == "minutes":  # minutes are recorded on their meeting
        if latest:
            row = (
                await Meeting.select(Meeting.minutes_recorded_at)
                .where(Meeting.topic == topic_id)
                .order_by(Meeting.id, ascending=False)
                .first()
            )
            return int(row is not None and row["minutes_recorded_at"] is not None)
        return int(
            await Meeting.count().where(
                (Meeting.topic == topic_id) & Meeting.minutes_recorded_at.is_not_null()
            )
        )
    if kind.type == "vote":
        return 0  # votes are read as votes (``Facts.votes``)
    table = _NOTE_TABLES.get(kind.name) or _TYPE_TABLES[kind.type]
    if kind.type == "progress":
        return int(await table.count().where(table.item.topic == topic_id))
    if latest:
        return int(bool(await table.exists().where(table.topic == topic_id)))
    return int(await table.count().where(table.topic == topic_id))


async def _items(topic_id: int) -> tuple[int, int]:
    rows = await ResolutionItem.select(ResolutionItem.completed).where(
        ResolutionItem.topic == topic_id
    )
    return len(rows), sum(1 for r in rows if not r["completed"])


async def load_facts(
    topic: dict[str, Any], workflow: Workflow, transitions: Iterable[Transition] | None = None
) -> Facts:
    """What the requirements of ``transitions`` (by default, every transition leaving
    the topic's state) ask about, read in one pass."""
    state = topic["state"]
    if transitions is None:
        transitions = [t for t in workflow.transitions if state in t.sources]
    needed = [leaf for t in transitions for r in t.requires for leaf in r.leaves]
    facts = Facts(today=china_today(), entered_on=topic.get("stage_entered_on"))
    if not needed:
        return facts
    kinds = {r.kind for r in needed}
    topic_id = topic["id"]
    for requirement in needed:
        if requirement.kind == "records":
            key = _records_key(requirement)
            if key not in facts.records:
                kind = workflow.record(requirement.param("records"))
                facts.records[key] = await _count(kind, topic_id, key.endswith("@latest"))
        elif requirement.kind == "ratings":
            key = requirement.param("ratings")
            if key not in facts.records:
                facts.records[key] = await _count(workflow.record(key), topic_id, False)
        elif requirement.kind == "items_completed":
            key = requirement.param("items_completed")
            if key not in facts.items:
                facts.items[key] = await _items(topic_id)
    if "document_published" in kinds:
        rows = await Document.select(Document.kind).where(
            (Document.topic == topic_id) & (Document.status == "published")
        )
        facts.published = frozenset(r["kind"] for r in rows)
    if "window_closed" in kinds or "min_wait" in kinds:
        facts.calendar = await working_days()
        limit = workflow.state(state).time_limit
        facts.window_days = limit.working_days if limit is not None and limit.window else 0
    if "quorum" in kinds:
        facts.votes = await latest_votes(
            topic_id, facts.entered_on, {r.param("quorum") for r in needed if r.kind == "quorum"}
        )
    return facts


async def latest_votes(topic_id: int, since: date | None, kinds: set[str]) -> dict[str, Vote]:
    """The latest vote of each body (of the vote kinds ``kinds``) recorded since the topic
    entered its state on ``since`` (a China date: a vote recorded that day counts)."""
    rows = (
        await VoteRow.select()
        .where((VoteRow.topic == topic_id) & VoteRow.kind.is_in(list(kinds)))
        .order_by(VoteRow.id)
    )
    found: dict[str, Vote] = {}
    for row in rows:
        if since is not None and china_date(row["created_at"]) < since:
            continue
        found[row["body"]] = Vote(
            body=row["body"],
            roster=row["roster_size"],
            present=row["present"],
            approve=row["votes_for"],
            held_on=row["held_on"],
            notice_given_on=row["notice_given_on"],
        )
    return found


async def document_refusal(
    topic: dict[str, Any], workflow: Workflow, requirement: Requirement
) -> Refusal | None:
    """Whether the record a document is made from (its ``requires``) is there: the same
    check, over the whole topic (a vote taken in an earlier stage counts)."""
    holder = Transition("", "", (), "", (), (requirement,))
    facts = await load_facts({**topic, "stage_entered_on": None}, workflow, [holder])
    return check(requirement, facts)
