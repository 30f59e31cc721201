"""One unit of work for every change to a topic (docs/decisions.md "One unit of work").

A change to a topic's data is written only inside :func:`topic_change` (or
:func:`record_change` for a change to an existing record), which, in this order:

1. opens the write transaction (SQLite: ``BEGIN IMMEDIATE``, every writer queues);
2. locks the topic row first (PostgreSQL: ``SELECT … FOR NO KEY UPDATE``), so a
   concurrent transition cannot commit between the check and the write;
3. decides with the policy on the locked row (404 → 403 → stale version 409 → wrong
   stage 409);
4. yields a :class:`Change`, the one way to append the topic's chain event; the outbox
   event (the webhooks' vocabulary) is derived from the chain event (:data:`OUTBOX_OF`);
5. commits, and refuses to (raises) if no chain event was appended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from piccolo.querystring import QueryString

from deliberation import chain
from deliberation import topics as _topics
from deliberation.clock import china_today, chinese_date
from deliberation.database import bound_engine, is_sqlite, write_transaction
from deliberation.deadlines import due_label, refresh_due
from deliberation.errors import NotFound, StageClosed, StaleVersion, TransitionNotAllowed
from deliberation.notifications.outbox import record_event, topic_data
from deliberation.permissions import (
    ROLE_ONLY,
    SUGGESTION_STATUS_LABELS,
    Action,
    PlanAction,
    PlanSubject,
    Subject,
    SuggestionAction,
    SuggestionSubject,
    allowed,
    allowed_plan,
    allowed_suggestion,
)
from deliberation.pinning import workflow_of
from deliberation.requirements import stage_window
from deliberation.security import Principal
from workflows import Workflow


class ChangeWithoutEvent(RuntimeError):
    """A unit of work ended without appending to the topic's chain: a bug."""


@dataclass
class Change:
    """The open unit of work on one locked topic: how its chain event is written."""

    principal: Principal
    topic: dict[str, Any]
    record: dict[str, Any] | None = None
    events: list[chain.Event] = field(default_factory=list)

    @property
    def topic_id(self) -> int:
        return int(self.topic["id"])

    async def vouched(
        self,
        kind: str,
        record: str,
        record_id: int,
        *,
        before: dict[str, Any] | None = None,
        comment: str = "",
        also: tuple[tuple[str, int], ...] = (),
        now: datetime | None = None,
        extra: dict[str, Any] | None = None,
    ) -> chain.Event:
        """Append the event of a write to ``record`` (its digests as stored now)."""
        event = await chain._vouch(
            kind,
            self.topic_id,
            record,
            record_id,
            actor_id=self.principal.id,
            comment=comment,
            before=before,
            also=also,
            now=now,
        )
        await self._told(event, {"record": record, "record_id": record_id, **(extra or {})})
        return event

    async def created(
        self,
        record: str,
        record_id: int,
        *,
        also: tuple[tuple[str, int], ...] = (),
        extra: dict[str, Any] | None = None,
    ) -> chain.Event:
        return await self.vouched("record.created", record, record_id, also=also, extra=extra)

    async def corrected(
        self, record: str, record_id: int, *, before: dict[str, Any], comment: str
    ) -> chain.Event:
        return await self.vouched(
            "record.corrected", record, record_id, before=before, comment=comment
        )

    async def appended(
        self,
        kind: str,
        *,
        comment: str = "",
        data: dict[str, Any] | None = None,
        trigger: str = "",
        from_state: str | None = None,
        to_state: str | None = None,
        seq: int | None = None,
        now: datetime | None = None,
        extra: dict[str, Any] | None = None,
    ) -> chain.Event:
        """Append an event that is not about one record (a move, an urge)."""
        event = await chain._append(
            self.topic_id,
            kind,
            actor_id=self.principal.id,
            comment=comment,
            data=data,
            trigger=trigger,
            from_state=from_state,
            to_state=to_state,
            seq=seq,
            now=now,
        )
        await self._told(event, extra or {})
        return event

    async def refresh_due(self) -> None:
        """Recompute the topic's due date after a write its deadline counts from."""
        await refresh_due(
            self.topic_id,
            self.topic["state"],
            self.topic["stage_entered_on"],
            workflow_of(self.topic),
        )

    async def _told(self, event: chain.Event, extra: dict[str, Any]) -> None:
        self.events.append(event)
        await tell(event, self.topic, extra)


# The outbox, derived from the chain -----------------------------------------------------


def _state_data(topic: dict[str, Any], state: str) -> dict[str, Any]:
    return topic_data(topic, state, workflow_of(topic).state(state).label)


def _opened(event: chain.Event, topic: dict[str, Any], extra: dict[str, Any]) -> Any:
    return "topic.opened", _state_data(topic, event.to_state)


def _moved(event: chain.Event, topic: dict[str, Any], extra: dict[str, Any]) -> Any:
    assert event.from_state is not None
    return "topic.transitioned", {
        **_state_data(topic, event.to_state),
        "trigger": event.trigger,
        "trigger_label": workflow_of(topic).transition(event.trigger).label,
        "from_state": event.from_state,
        "from_state_label": workflow_of(topic).state(event.from_state).label,
        "comment": event.comment,
        "actor_id": event.actor_id,
    }


RECORD_WEBHOOKS = {"opinion": ("opinion.submitted", "opinion_id")}
"""Record kinds whose creation is told to webhooks: the event type and the id's name."""


def _created(event: chain.Event, topic: dict[str, Any], extra: dict[str, Any]) -> Any:
    told = RECORD_WEBHOOKS.get(extra.get("record", ""))
    if told is None:
        return None
    event_type, id_name = told
    payload = {k: v for k, v in extra.items() if k not in ("record", "record_id")}
    return event_type, {
        **_state_data(topic, event.to_state),
        id_name: extra["record_id"],
        **payload,
    }


def _urged(event: chain.Event, topic: dict[str, Any], extra: dict[str, Any]) -> Any:
    state = event.to_state
    return "topic.urged", {
        **_state_data(topic, state),
        "note": event.comment,
        "due_on": topic["due_on"].isoformat() if topic["due_on"] else None,
        "due_label": due_label(state, topic["due_on"], workflow_of(topic)),
        "urged_by": event.actor_id,
    }


def _published(event: chain.Event, topic: dict[str, Any], extra: dict[str, Any]) -> Any:
    payload = {k: v for k, v in extra.items() if k not in ("record", "record_id")}
    return "document.published", {**_state_data(topic, event.to_state), **payload}


Derive = Callable[[chain.Event, dict[str, Any], dict[str, Any]], tuple[str, dict[str, Any]] | None]

OUTBOX_OF: dict[str, Derive | None] = {
    "topic.opened": _opened,
    "transition": _moved,
    "record.created": _created,
    "record.corrected": None,
    "opinion.answered": None,
    "satisfaction.rated": None,
    "document.drafted": None,
    "document.published": _published,
    "document.revoked": None,
    "topic.urged": _urged,
    "suggestion.merged": None,
}
"""Chain event kind → the outbox event it makes (webhook names and payloads as
documented in docs/api.md), or ``None`` when webhooks are not told."""


async def tell(event: chain.Event, topic: dict[str, Any], extra: dict[str, Any]) -> None:
    """Write the outbox event derived from ``event`` (inside the same transaction)."""
    derive = OUTBOX_OF[event.kind]
    told = derive(event, topic, extra) if derive is not None else None
    if told is not None:
        event_type, payload = told
        await record_event(
            event_type, topic["township"], event.topic_id, payload, now=event.created_at
        )


# The unit of work -----------------------------------------------------------------------


async def locked_topic(topic_id: int) -> dict[str, Any]:
    """The topic row, locked for this transaction (404 when there is none). PostgreSQL:
    ``FOR NO KEY UPDATE`` queues every other writer of the topic (it conflicts with
    itself, ``FOR UPDATE`` and every ``UPDATE topic``) without blocking the foreign-key
    checks of child rows. SQLite: the write transaction is already exclusive."""
    if not _topics.valid_id(topic_id):
        raise NotFound("议题不存在")
    engine = bound_engine()
    lock = "" if is_sqlite(engine) else " FOR NO KEY UPDATE"
    rows = await engine.run_querystring(
        QueryString(_topics._SELECT_TOPIC + " WHERE id = {}" + lock, topic_id)
    )
    if not rows:
        raise NotFound("议题不存在")
    return dict(rows[0])


@asynccontextmanager
async def topic_change(
    principal: Principal,
    topic_id: int,
    action: Action,
    kind: str = "",
    *,
    version: int | None = None,
    author_id: int | None = None,
) -> AsyncIterator[Change]:
    """A change to the topic: locked, decided on the locked row, written with its chain
    event, committed. ``version`` (firing a trigger): a stale version is refused after
    the role (403) and before the stage (409)."""
    async with write_transaction():
        topic = await locked_topic(topic_id)
        change = Change(principal, topic)
        _decide(principal, action, kind, topic, version=version, author_id=author_id)
        if action == "record.add":
            await _window_open(topic, kind)
        yield change
        if not change.events:
            raise ChangeWithoutEvent(f"{action} {kind} on topic {topic_id} left no event")


async def _window_open(topic: dict[str, Any], kind: str) -> None:
    """A record added in a state whose time limit is a window (an opinion window) is
    refused after the window's last working day, even while the topic is still in that
    state (docs/decisions.md, "An opinion window closes on its day"). Read on the locked
    row, from the topic's pinned declaration."""
    workflow = workflow_of(topic)
    window = await stage_window(topic, workflow)
    if window is None or kind not in window.records:
        return
    if window.closed(china_today()):
        raise StageClosed(
            f"{window.label}已于{chinese_date(window.last_day)}截止，"
            f"不能再添加{workflow.record(kind).label}",
            closed_on=window.last_day.isoformat(),
        )


def _decide(
    principal: Principal,
    action: Action,
    kind: str,
    topic: dict[str, Any],
    *,
    version: int | None = None,
    author_id: int | None = None,
    not_found: str | None = None,
) -> None:
    decision = allowed(principal, action, Subject.of_topic(topic, author_id), kind)
    if decision.error is NotFound and not_found is not None:
        raise NotFound(not_found)
    if version is not None:
        if not decision and decision.error is not TransitionNotAllowed:
            decision.check()  # not theirs to see (404) or to do (403)
        if version != topic["version"]:
            raise StaleVersion(
                f"议题已被他人更新（当前版本 {topic['version']}），请刷新后重试",
                current_version=topic["version"],
            )
    decision.check()  # the stage does not allow it (409)


@asynccontextmanager
async def record_change(
    principal: Principal, action: Action, kind: str, record: str, record_id: int
) -> AsyncIterator[Change]:
    """A change to an existing ``record`` (a row of its table), of ``kind``: the role
    first (403, whatever the record), then the record (404, named by its label), then
    its topic, locked, and the decision on it (404 named the same, 409 wrong stage).
    The record is read again under the lock (``change.record``)."""
    from deliberation import corrections as _corrections

    allowed(principal, action, ROLE_ONLY, kind).check()
    label = _corrections._label(record)
    first = await _corrections.record_row(record, record_id)
    if first is None:
        raise NotFound(f"{label}不存在")
    async with write_transaction():
        topic = await locked_topic(first["topic"])
        row = await _corrections.record_row(record, record_id)
        if row is None or row["topic"] != topic["id"]:
            raise NotFound(f"{label}不存在")
        author_field = _corrections.AUTHORS.get(record)
        author = row.get(author_field) if author_field else None
        change = Change(principal, topic, record=row)
        _decide(principal, action, kind, topic, author_id=author, not_found=f"{label}不存在")
        yield change
        if not change.events:
            raise ChangeWithoutEvent(f"{action} {kind} on {record} {record_id} left no event")


async def topic_opened(
    principal: Principal,
    topic: dict[str, Any],
    workflow: Workflow,
    now: datetime,
    *,
    links: list[dict[str, Any]] | None = None,
) -> chain.Event:
    """The first event of a just-inserted topic (no row to lock yet: nobody else can
    see it before the commit), with its outbox event. It names the workflow version the
    topic is pinned to, so the chain vouches for the pin (the audit reads an opening
    without it, from before the pin, as standard v1); and, for a topic a suggestion
    became, the suggestion's chain head (``links``, from ``chain.link``)."""
    change = Change(principal, topic)
    # The topic's own facts (title, description, place) are vouched from the start.
    data = await chain.vouched_data("topic", topic["id"])
    data["workflow"] = {"key": workflow.key, "version": workflow.version}
    if links:
        data["links"] = links
    return await change.appended(
        "topic.opened",
        data=data,
        trigger="open",
        from_state=None,
        to_state=workflow.initial,
        seq=1,
        now=now,
    )


# Suggestions and plans: units of work on their own chains (issue 27) ------------------


@dataclass
class OwnedChange:
    """The open unit of work on one locked suggestion or plan series (``of`` says
    which chain): how its chain events are written. ``owner`` is the row as locked.

    An event that changes the status (``to_state``) comes after the write that changed
    it (its digests vouch the new row); its ``from_state`` is then, unless given, the
    status the unit started from or its previous event left (:attr:`state`)."""

    principal: Principal | None
    of: chain.ChainOf
    owner: dict[str, Any]
    events: list[chain.Event] = field(default_factory=list)
    state: str | None = None
    """The status before the next event: the locked row's (a plan's: its newest
    version's), then each event's ``to_state``."""

    @property
    def owner_id(self) -> int:
        return int(self.owner["id"])

    def _from(self, from_state: str | None, to_state: str | None) -> str | None:
        if from_state is None and to_state is not None and self.state is not None:
            return self.state
        return from_state

    def _actor(self, as_actor: bool) -> int | None:
        return self.principal.id if as_actor and self.principal is not None else None

    async def vouched(
        self,
        kind: str,
        record: str,
        record_id: int,
        *,
        before: dict[str, Any] | None = None,
        comment: str = "",
        also: tuple[tuple[str, int], ...] = (),
        data: dict[str, Any] | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        now: datetime | None = None,
        told: dict[str, Any] | None = None,
        as_actor: bool = True,
    ) -> chain.Event:
        """Append the event of a write to ``record`` (its digests as stored now, and of
        the ``also`` records). ``data`` adds keys to the event's data (``links``: see
        :func:`chain.link`; a rule's figures); ``to_state`` the owner's new status;
        ``told`` adds keys to the outbox payload; ``as_actor`` False: an event nobody
        did (the threshold reached)."""
        event = await chain._vouch(
            kind,
            self.owner_id,
            record,
            record_id,
            actor_id=self._actor(as_actor),
            comment=comment,
            before=before,
            also=also,
            now=now,
            of=self.of,
            extra=data,
            from_state=self._from(from_state, to_state),
            to_state=to_state,
        )
        await self._told(event, told or {})
        return event

    async def started(
        self,
        kind: str,
        record: str,
        record_id: int,
        *,
        to_state: str,
        also: tuple[tuple[str, int], ...] = (),
        data: dict[str, Any] | None = None,
        comment: str = "",
        now: datetime | None = None,
        told: dict[str, Any] | None = None,
    ) -> chain.Event:
        """The chain's first event (``seq`` 1, from no state), vouching ``record``: a
        suggestion's ``suggestion.filed``, a new plan's ``plan.drafted``. The owner row
        was inserted with ``event_seq=1``."""
        event = await chain._vouch(
            kind,
            self.owner_id,
            record,
            record_id,
            actor_id=self._actor(True),
            comment=comment,
            also=also,
            now=now,
            of=self.of,
            extra=data,
            from_state=None,
            to_state=to_state,
            seq=1,
        )
        await self._told(event, told or {})
        return event

    async def appended(
        self,
        kind: str,
        *,
        comment: str = "",
        data: dict[str, Any] | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        seq: int | None = None,
        now: datetime | None = None,
        told: dict[str, Any] | None = None,
        as_actor: bool = True,
    ) -> chain.Event:
        """Append an event that is not about one record."""
        event = await chain._append(
            self.owner_id,
            kind,
            actor_id=self._actor(as_actor),
            comment=comment,
            data=data,
            from_state=self._from(from_state, to_state),
            to_state=to_state,
            seq=seq,
            now=now,
            of=self.of,
        )
        await self._told(event, told or {})
        return event

    async def head(self) -> tuple[int, str]:
        """The chain's latest event (seq, hash), as written so far in this unit."""
        return await chain.head(self.owner_id, self.of)

    async def _told(self, event: chain.Event, extra: dict[str, Any]) -> None:
        self.events.append(event)
        self.state = event.to_state
        await tell_owned(self.of, event, self.owner, extra)


def _suggestion_data(event: chain.Event, owner: dict[str, Any]) -> dict[str, Any]:
    """What every suggestion webhook says: which one, where, its status. Never its text
    or its filer (webhooks may reach a WeCom group: docs/decisions.md)."""
    return {
        "suggestion_id": owner["id"],
        "reference": owner["reference"],
        "township_id": owner["township"],
        "village_id": owner.get("village"),
        "status": event.to_state,
        "state_label": SUGGESTION_STATUS_LABELS.get(event.to_state, event.to_state),
    }


def _filed(event: chain.Event, owner: dict[str, Any], extra: dict[str, Any]) -> Any:
    return "suggestion.filed", {**_suggestion_data(event, owner), **extra}


def _must_list(event: chain.Event, owner: dict[str, Any], extra: dict[str, Any]) -> Any:
    return "suggestion.must_list", {**_suggestion_data(event, owner), **extra}


def _screened(event: chain.Event, owner: dict[str, Any], extra: dict[str, Any]) -> Any:
    return "suggestion.screened", {**_suggestion_data(event, owner), **extra}


SUGGESTION_OUTBOX_OF: dict[str, Derive | None] = {
    "suggestion.filed": _filed,
    "support.added": None,
    "suggestion.must_list": _must_list,
    "suggestion.corrected": None,
    "suggestion.screened": _screened,
    "suggestion.merged_in": None,
}
"""A suggestion's chain event kind → the outbox event it makes (``told`` extras join
the payload: ``filed_by_role``; the rule's figures and ``due_on``; the decision and
``topic_id``/``topic_reference``), or ``None``."""

PLAN_OUTBOX_OF: dict[str, Derive | None] = {kind: None for kind in chain.PLAN_EVENT_KINDS}
"""A plan's chain tells no webhook (the published notice shows on the notice board)."""

_OUTBOX_OF_CHAIN = {"suggestion": SUGGESTION_OUTBOX_OF, "plan": PLAN_OUTBOX_OF}


async def tell_owned(
    of: chain.ChainOf, event: chain.Event, owner: dict[str, Any], extra: dict[str, Any]
) -> None:
    """Write the outbox event derived from a suggestion's or plan's chain event."""
    derive = _OUTBOX_OF_CHAIN[of.name][event.kind]
    told = derive(event, owner, extra) if derive is not None else None
    if told is not None:
        event_type, payload = told
        await record_event(event_type, owner["township"], None, payload, now=event.created_at)


async def _locked(of: chain.ChainOf, owner_id: int, missing: str) -> dict[str, Any]:
    """The owner row, locked for this transaction (404 when there is none), as
    :func:`locked_topic`."""
    if not _topics.valid_id(owner_id):
        raise NotFound(missing)
    engine = bound_engine()
    lock = "" if is_sqlite(engine) else " FOR NO KEY UPDATE"
    rows = await engine.run_querystring(
        QueryString(f"SELECT * FROM {of.owners} WHERE id = {{}}" + lock, owner_id)
    )
    if not rows:
        raise NotFound(missing)
    return dict(rows[0])


async def locked_suggestion(suggestion_id: int) -> dict[str, Any]:
    """The suggestion row, locked for this transaction (404 when there is none).
    Several suggestions are locked in id order, before any topic, then any plan."""
    return await _locked(chain.SUGGESTION, suggestion_id, "建议不存在")


async def locked_plan(plan_id: int) -> dict[str, Any]:
    """The plan series row, locked for this transaction (404 when there is none)."""
    return await _locked(chain.PLAN, plan_id, "协商计划不存在")


@asynccontextmanager
async def suggestion_change(
    principal: Principal | None, suggestion_id: int, action: SuggestionAction
) -> AsyncIterator[OwnedChange]:
    """A change to a suggestion: in the write transaction, locked, decided on the locked
    row (404 → 403 → 409 ``screened``), written with its chain event(s) through the
    yielded :class:`OwnedChange`, committed; refused (raises) without an event. Inside,
    the caller may lock more: other suggestions in id order, then a topic
    (:func:`locked_topic`, or open one with ``topics.insert_topic``), then a plan."""
    async with write_transaction():
        row = await locked_suggestion(suggestion_id)
        allowed_suggestion(principal, action, SuggestionSubject.of_suggestion(row)).check()
        change = OwnedChange(principal, chain.SUGGESTION, row, state=row["status"])
        yield change
        if not change.events:
            raise ChangeWithoutEvent(f"{action} on suggestion {suggestion_id} left no event")


@asynccontextmanager
async def suggestion_filed(principal: Principal | None) -> AsyncIterator[OwnedChange]:
    """The unit of work that files a new suggestion, in the write transaction (it joins
    the caller's if there is one). Inside, the caller counts what the limits count,
    inserts the row (``status="pending"``, ``event_seq=1``), sets ``change.owner`` to
    it (with its ``id``) and appends ``suggestion.filed`` with
    ``change.started("suggestion.filed", "suggestion", id, to_state="pending")``, then
    perhaps the filer's ``support.added``. Refused (raises, rolls back) without that
    first event. The policy's ``suggestion.file`` is the caller's to ask on the place
    before inserting (nobody sees the row before the commit: nothing to lock)."""
    async with write_transaction():
        change = OwnedChange(principal, chain.SUGGESTION, {})
        yield change
        if not change.events or change.events[0].kind != "suggestion.filed":
            raise ChangeWithoutEvent("a suggestion filed without its suggestion.filed event")


@asynccontextmanager
async def plan_started(
    principal: Principal | None, township_id: int | None
) -> AsyncIterator[OwnedChange]:
    """The unit of work that starts a plan series (a year's plan of ``township_id``, or
    the county's for None) with its first draft: decided (``plan.edit``), in the write
    transaction; the caller inserts the ``plan`` row (``event_seq=1``), sets
    ``change.owner`` to it, inserts the draft version and items, and appends
    ``change.started("plan.drafted", "plan", id, to_state="draft", also=(version and
    items))``. Refused without an event."""
    allowed_plan(principal, "plan.edit", PlanSubject(township_id=township_id)).check()
    async with write_transaction():
        change = OwnedChange(principal, chain.PLAN, {})
        yield change
        if not change.events:
            raise ChangeWithoutEvent("a plan started without an event")


@asynccontextmanager
async def plan_change(
    principal: Principal | None,
    plan_id: int,
    action: PlanAction,
    *,
    status: str | None = None,
) -> AsyncIterator[OwnedChange]:
    """A change to a plan series: locked, decided on it (``status``: the version's the
    action is about, None for a new draft), written with its chain event(s), committed;
    refused without an event. Opened inside a caller's transaction (a screening that
    links a plan item) it joins it: lock order suggestions → topic → plan."""
    async with write_transaction():
        row = await locked_plan(plan_id)
        subject = PlanSubject(township_id=row["township"], status=status)
        allowed_plan(principal, action, subject).check()
        change = OwnedChange(principal, chain.PLAN, row, state=await chain.plan_state(plan_id))
        yield change
        if not change.events:
            raise ChangeWithoutEvent(f"{action} on plan {plan_id} left no event")


@asynccontextmanager
async def plan_linked(principal: Principal | None, plan_id: int) -> AsyncIterator[OwnedChange]:
    """The plan side of a screening that accepts a suggestion (or merges it into a
    topic) which an item of a published plan names: inside the screening's transaction,
    after its suggestion and topic (lock order suggestions → topic → plan), the plan
    series locked and its ``plan.item_linked`` event written. Not decided again: the
    screening was, and linking changes no one's plan but the item's topic (a township's
    screening links the county plan's item too, which its office may not edit)."""
    async with write_transaction():
        row = await locked_plan(plan_id)
        change = OwnedChange(principal, chain.PLAN, row, state=await chain.plan_state(plan_id))
        yield change
        if not change.events:
            raise ChangeWithoutEvent(f"a plan item link on plan {plan_id} left no event")


__all__ = [
    "OUTBOX_OF",
    "PLAN_OUTBOX_OF",
    "SUGGESTION_OUTBOX_OF",
    "Change",
    "ChangeWithoutEvent",
    "OwnedChange",
    "locked_plan",
    "locked_suggestion",
    "locked_topic",
    "plan_change",
    "plan_linked",
    "plan_started",
    "record_change",
    "suggestion_change",
    "suggestion_filed",
    "tell",
    "tell_owned",
    "topic_change",
    "topic_opened",
]
