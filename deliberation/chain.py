"""The topic's chain: one helper appends every change as an event, keyed-hashed.

Each event's ``hash`` is HMAC-SHA256, with the audit key (a secret kept outside the
database: ``DELIBERATION_AUDIT_KEY`` or ``var/audit_key``), over the previous event's
hash and the event's canonical content. Someone who can write the database but does
not hold the key cannot recompute the hashes after editing an event; removing the
newest events is caught against a saved copy of the published chain heads
(``deliberation.audit``).

:func:`_append` is the only way an event is written; it is private to
``deliberation.changes`` (the unit of work every change to a topic goes through), the audit
and the migrations (a test walks the code for other callers). It runs inside the write's
own transaction, after the change: the change and its event are committed together or
not at all. Events about a record carry the record's keyed digests after the change (and
for a correction those of each changed field before and after), so an edited, moved
or deleted record row no longer matches its latest event (docs/decisions.md "The chain").
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from piccolo.table import Table

from deliberation.clock import utcnow
from deliberation.context import current
from deliberation.tables import (
    Plan,
    PlanEvent,
    PlanVersion,
    Suggestion,
    SuggestionEvent,
    Topic,
    TopicEvent,
)

GENESIS = "0" * 64

TRANSITION_KINDS = ("topic.opened", "transition")
"""Events that move the topic (its ``version`` counts them)."""

EVENT_KINDS = (
    "topic.opened",
    "transition",
    "record.created",
    "record.corrected",
    "opinion.answered",
    "satisfaction.rated",
    "document.drafted",
    "document.published",
    "document.revoked",
    "topic.urged",
    "chain.revouched",
    "suggestion.merged",
)

SUGGESTION_EVENT_KINDS = (
    "suggestion.filed",
    "support.added",
    "suggestion.must_list",
    "suggestion.corrected",
    "suggestion.screened",
    "suggestion.merged_in",
)
"""A suggestion's chain (issue 27): every event's ``to_state`` is the suggestion's
status after it (an event that moves nothing keeps it as both states)."""

PLAN_EVENT_KINDS = (
    "plan.drafted",
    "plan.discarded",
    "plan.published",
    "plan.item_linked",
    "document.drafted",
    "document.published",
    "document.revoked",
)
"""An annual plan series' chain: ``to_state`` is the status of its newest version."""


@dataclass(frozen=True, slots=True)
class ChainOf:
    """Which chain: its event table, the owner table it hangs off (which counts its
    events in ``event_seq``), the event column naming the owner, the owner column its
    events' ``to_state`` mirrors (None: the plan's, read from its newest version) and
    its event kinds (docs/decisions.md, "Suggestions and plans: the spine")."""

    name: str
    event_table: type[Table]
    owner_table: type[Table]
    owner: str
    state: str | None
    kinds: tuple[str, ...]

    @property
    def events(self) -> str:
        return self.event_table._meta.tablename

    @property
    def owners(self) -> str:
        return self.owner_table._meta.tablename


TOPIC = ChainOf("topic", TopicEvent, Topic, "topic", "state", EVENT_KINDS)
SUGGESTION = ChainOf(
    "suggestion", SuggestionEvent, Suggestion, "suggestion", "status", SUGGESTION_EVENT_KINDS
)
PLAN = ChainOf("plan", PlanEvent, Plan, "plan", None, PLAN_EVENT_KINDS)
CHAINS = {c.name: c for c in (TOPIC, SUGGESTION, PLAN)}


class NoAuditKey(RuntimeError):
    pass


def use_key(key: str) -> None:
    """The key every event of the current application is hashed and checked with."""
    if len(key) < 16:
        raise ValueError("the audit key must be at least 16 characters")
    current().audit_key = key.encode()


def current_key() -> bytes:
    key = current().audit_key
    if key is None:
        raise NoAuditKey("no audit key: set DELIBERATION_AUDIT_KEY or let var/audit_key be made")
    return key


def fingerprint(key: bytes | None = None) -> str:
    """Names the key without revealing it (stored in ``chain_key``)."""
    return hmac.new(key or current_key(), b"hsl chain key fingerprint", "sha256").hexdigest()


def canonical(value: Any) -> str:
    """Sorted-key compact JSON; dates and times as ISO text (times in UTC)."""

    def plain(item: Any) -> Any:
        if isinstance(item, datetime):
            return item.astimezone(UTC).isoformat(timespec="microseconds")
        if isinstance(item, date):
            return item.isoformat()
        raise TypeError(f"not canonical: {type(item).__name__}")

    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=plain
    )


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Event:
    """An event's content: everything its hash covers. ``topic_id`` is the owner's id
    (the topic's, the suggestion's or the plan's: ``owner_id``); ``chain`` names the
    chain. A topic event's content is exactly what it was before there were other
    chains (its hashes still verify); another chain's names the chain and the owner, so
    an event never verifies on a chain other than its own."""

    topic_id: int
    seq: int
    kind: str
    trigger: str
    from_state: str | None
    to_state: str
    actor_id: int | None
    comment: str
    created_at: datetime
    data: str = "{}"
    chain: str = "topic"

    @property
    def owner_id(self) -> int:
        return self.topic_id

    def content(self) -> str:
        owner: dict[str, Any] = (
            {"topic_id": self.topic_id}
            if self.chain == "topic"
            else {"chain": self.chain, "owner_id": self.topic_id}
        )
        return canonical(
            {
                **owner,
                "seq": self.seq,
                "kind": self.kind,
                "trigger": self.trigger,
                "from_state": self.from_state,
                "to_state": self.to_state,
                "actor_id": self.actor_id,
                "comment": self.comment,
                "created_at": self.created_at,
                "data": self.data,
            }
        )

    @classmethod
    def of_row(cls, topic_id: int, row: dict[str, Any], chain: str = "topic") -> Event:
        return cls(
            chain=chain,
            topic_id=topic_id,
            seq=row["seq"],
            kind=row["kind"],
            trigger=row["trigger"],
            from_state=row["from_state"],
            to_state=row["to_state"],
            actor_id=row["actor"],
            comment=row["comment"],
            created_at=row["created_at"],
            data=row["data"],
        )


def chain_hash(prev_hash: str, content: str, key: bytes | None = None) -> str:
    return hmac.new(key or current_key(), f"{prev_hash}\n{content}".encode(), "sha256").hexdigest()


async def _prev_hash(owner_id: int, seq: int, of: ChainOf = TOPIC) -> str:
    if seq == 1:
        return GENESIS
    table = of.event_table
    owner = getattr(table, of.owner)
    last = (
        await table.select(table.hash)  # type: ignore[attr-defined]
        .where((owner == owner_id) & (table.seq == seq - 1))  # type: ignore[attr-defined]
        .first()
    )
    return last["hash"] if last else GENESIS


async def next_seq(owner_id: int, of: ChainOf = TOPIC) -> tuple[int, str]:
    """Take the owner's next event number (and read its state) under the row lock of
    this UPDATE: concurrent writers to one topic (suggestion, plan) queue here until the
    first commits."""
    state = of.state or "''"
    rows = await of.owner_table.raw(
        f"UPDATE {of.owners} SET event_seq = event_seq + 1 WHERE id = {{}} "
        f"RETURNING event_seq, {state} AS state",
        owner_id,
    )
    seq, current_state = int(rows[0]["event_seq"]), str(rows[0]["state"])
    if of.state is None:
        current_state = await plan_state(owner_id)
    return seq, current_state


async def plan_state(plan_id: int) -> str:
    """A plan series' state: the status of its newest version ("" before the first)."""
    row = (
        await PlanVersion.select(PlanVersion.status)
        .where(PlanVersion.plan == plan_id)
        .order_by(PlanVersion.version, ascending=False)
        .first()
    )
    return str(row["status"]) if row else ""


async def _append(
    topic_id: int,
    kind: str,
    *,
    actor_id: int | None,
    comment: str = "",
    data: dict[str, Any] | None = None,
    trigger: str = "",
    from_state: str | None = None,
    to_state: str | None = None,
    seq: int | None = None,
    now: datetime | None = None,
    of: ChainOf = TOPIC,
) -> Event:
    """Append one event to the chain ``of`` the owner ``topic_id`` (a topic by default).
    Call inside the write's transaction.

    ``seq`` is given by writes that already took it (opening a topic, a transition's
    compare-and-set, filing a suggestion); every other write takes the next one here.
    An event that moves nothing keeps the owner's state as both ``from_state`` and
    ``to_state``.
    """
    if kind not in of.kinds:
        raise ValueError(f"unknown {of.name} event kind {kind}")
    if seq is None:
        seq, state = await next_seq(topic_id, of)
        from_state = from_state if from_state is not None else state
        to_state = to_state or state
    assert to_state is not None
    same: dict[str, Any] = {
        "seq": seq,
        "kind": kind,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        "comment": comment,
        "created_at": now or utcnow(),
        "data": canonical(data or {}),
    }
    event = Event(topic_id=topic_id, actor_id=actor_id, chain=of.name, **same)
    prev_hash = await _prev_hash(topic_id, seq, of)
    hashed = chain_hash(prev_hash, event.content())
    row: dict[str, Any] = {
        of.owner: topic_id,
        "actor": actor_id,
        "prev_hash": prev_hash,
        "hash": hashed,
        **same,
    }
    await of.event_table.insert(of.event_table(**row))
    return event


async def head(owner_id: int, of: ChainOf = TOPIC) -> tuple[int, str]:
    """The owner's latest event (seq, hash), read inside the caller's transaction."""
    table = of.event_table
    row = (
        await table.select(table.seq, table.hash)  # type: ignore[attr-defined]
        .where(getattr(table, of.owner) == owner_id)
        .order_by(table.seq, ascending=False)  # type: ignore[attr-defined]
        .first()
    )
    return (row["seq"], row["hash"]) if row else (0, GENESIS)


async def link(of: ChainOf, owner_id: int) -> dict[str, Any]:
    """What an event on another chain says of this owner's chain as it is now (read
    inside the write's transaction): ``{"chain", "id", "reference", "head"}``. Put in
    an event's ``data["links"]``; the audit checks that the head is on this chain and
    that this chain names the other back (docs/decisions.md, "Suggestions and plans:
    the spine")."""
    owner = (
        await of.owner_table.select(of.owner_table.reference)  # type: ignore[attr-defined]
        .where(of.owner_table.id == owner_id)  # type: ignore[attr-defined]
        .first()
    )
    if owner is None:
        raise LookupError(f"{of.name} {owner_id} does not exist")
    _, hashed = await head(owner_id, of)
    return {"chain": of.name, "id": owner_id, "reference": owner["reference"], "head": hashed}


SCHEME = 2
"""How events vouch for records. Scheme 2 (``"v": 2`` in an event's data): digests keyed
with the audit key, one keyed digest per field (so an audit names what was edited), and
the digests of the record's kept revisions. Scheme 1 events (plain SHA-256 of the whole
content) are still read by the audit; ``audit.revouch`` re-vouches every record and
topic of a scheme 1 database once, at ``migrate`` (docs/decisions.md "The chain")."""


def keyed_digest(value: Any, key: bytes | None = None) -> str:
    """The digest an event carries of a record's content: keyed, so that a reader who
    sees the event cannot test guesses of the values (a stance, a name) against it."""
    message = b"hsl record\n" + canonical(value).encode()
    return hmac.new(key or current_key(), message, "sha256").hexdigest()


def field_digest(name: str, value: Any, key: bytes | None = None) -> str:
    """One field's keyed digest (128 bits: enough to catch an edit, short in events)."""
    message = f"hsl field\n{name}\n{canonical(value)}".encode()
    return hmac.new(key or current_key(), message, "sha256").hexdigest()[:32]


def revision_content(row: dict[str, Any]) -> dict[str, Any]:
    """What of a kept revision (``record_revision``, or a ``suggestion_revision``) the
    chain vouches for."""
    if "suggestion" in row and "record_kind" not in row:
        return {
            "suggestion": row["suggestion"],
            "revision": row["revision"],
            "data": row["data"],
            "reason": row["reason"],
            "created_by": row["created_by"],
            "created_at": row["created_at"],
        }
    return {
        "topic": row["topic"],
        "record_kind": row["record_kind"],
        "record_id": row["record_id"],
        "revision": row["revision"],
        "data": row["data"],
        "reason": row["reason"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
    }


def vouched_item(
    record: str,
    record_id: int,
    content: dict[str, Any],
    revisions: list[dict[str, Any]] | None = None,
    key: bytes | None = None,
) -> dict[str, Any]:
    """What an event says of one record: which, its revision, the keyed digest of its
    content and of each field, and of each earlier revision kept."""
    item: dict[str, Any] = {
        "record": record,
        "id": record_id,
        "revision": int(content.get("revision", 1)),
        "digest": keyed_digest(content, key),
        "fields": {name: field_digest(name, value, key) for name, value in content.items()},
    }
    if revisions:
        item["revisions"] = [
            {"revision": r["revision"], "digest": keyed_digest(revision_content(r), key)}
            for r in sorted(revisions, key=lambda r: (r["revision"], r["id"]))
        ]
    return item


def record_data(
    record: str,
    record_id: int,
    current: dict[str, Any],
    *,
    before: dict[str, Any] | None = None,
    revisions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What an event about a record carries: :func:`vouched_item`, and for a change the
    keyed digests of each changed field before and after (the values themselves stay in
    the record and its revisions, where the policy decides who reads them)."""
    data: dict[str, Any] = {"v": SCHEME, **vouched_item(record, record_id, current, revisions)}
    if before is not None:
        data["changed"] = {
            name: {
                "before": field_digest(name, before.get(name)),
                "after": field_digest(name, current.get(name)),
            }
            for name in sorted(set(before) | set(current))
            if before.get(name) != current.get(name)
        }
    return data


async def vouched_data(
    record: str,
    record_id: int,
    *,
    before: dict[str, Any] | None = None,
    also: tuple[tuple[str, int], ...] = (),
) -> dict[str, Any]:
    """The data of an event vouching for ``record`` as stored now (read inside the
    write's transaction), and for the ``also`` records the same write changed. A
    topic's records are read by ``record_content``; suggestions, plans and theirs by
    ``owned_records``."""
    from deliberation import owned_records, record_content

    async def load_content(name: str, row_id: int) -> dict[str, Any]:
        if name in owned_records.FIELDS:
            return await owned_records.load_content(name, row_id)
        return await record_content.load_content(name, row_id)

    async def load_revisions(name: str, row_id: int) -> list[dict[str, Any]]:
        if name in owned_records.FIELDS:
            return await owned_records.load_revisions(name, row_id)
        return await record_content.load_revisions(name, row_id)

    content = await load_content(record, record_id)
    data = record_data(
        record, record_id, content, before=before, revisions=await load_revisions(record, record_id)
    )
    if also:
        data["also"] = [
            vouched_item(
                name, other, await load_content(name, other), await load_revisions(name, other)
            )
            for name, other in also
        ]
    return data


async def _vouch(
    kind: str,
    topic_id: int,
    record: str,
    record_id: int,
    *,
    actor_id: int | None,
    comment: str = "",
    before: dict[str, Any] | None = None,
    also: tuple[tuple[str, int], ...] = (),
    now: datetime | None = None,
    of: ChainOf = TOPIC,
    extra: dict[str, Any] | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    seq: int | None = None,
) -> Event:
    """Append the event of a write to a record: its content is read back as stored
    (inside the write's transaction) and its digests go on the chain. ``before`` is
    the record's content before a change; ``also`` names other records the same write
    changed (a progress report completes its item, a publish supersedes the older).
    ``extra`` adds keys to the event's data (``links``, a rule's figures)."""
    data = await vouched_data(record, record_id, before=before, also=also)
    data.update(extra or {})
    return await _append(
        topic_id,
        kind,
        actor_id=actor_id,
        comment=comment,
        data=data,
        now=now,
        of=of,
        from_state=from_state,
        to_state=to_state,
        seq=seq,
    )
