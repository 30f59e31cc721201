"""Checking the topic chains (``deliberation audit verify``) and publishing their heads.

What is checked, for every topic:
- each event's keyed hash (``deliberation.chain``) and its link to the one before;
- that the chain has as many events as the topic counts (``event_seq``), as many
  transitions as its ``version``, and ends in the topic's ``state``;
- that every record of the topic matches the digest its latest event carries (an
  edited row is caught), and that no record is missing from the chain;
- with a saved copy of ``GET /api/v1/public/chain-heads`` (``--against``): that every
  event it names is still there, unchanged, and that every chain's head at the copy's
  ``root_as_of``, named in it or not, still gives its ``root`` (issue 29). Without the
  key nobody can recompute the hashes after editing; with a saved copy nobody can drop
  the newest events unseen.

The first release hashed without a key. :func:`rekey` checks those chains once with
the old rule, then re-hashes them with the key, and remembers the key's fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from deliberation import owned_records
from deliberation.chain import (
    GENESIS,
    PLAN,
    SCHEME,
    SUGGESTION,
    TOPIC,
    TRANSITION_KINDS,
    ChainOf,
    Event,
    _append,
    canonical,
    chain_hash,
    current_key,
    digest,
    field_digest,
    fingerprint,
    keyed_digest,
    record_data,
    revision_content,
    vouched_item,
)
from deliberation.clock import utcnow
from deliberation.database import bound_engine, is_sqlite, write_transaction
from deliberation.permissions import (
    PUBLISHED_PLAN_STATUSES,
    SCREENED_STATUSES,
    Subject,
    allowed,
)
from deliberation.record_content import (
    contents_of_topics,
    legacy_content,
    record_key,
    revisions_of_topics,
)
from deliberation.tables import (
    ChainKey,
    Document,
    Plan,
    PlanVersion,
    Suggestion,
    Topic,
    TopicEvent,
)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """A problem on one chain: the topic's (``topic_id``), or a suggestion's or a plan's
    (``chain``; ``topic_id`` is then None, so a filter on a topic's id never picks up
    another chain's problem). ``owner_id`` is the owner's id on any chain."""

    topic_id: int | None
    reference: str
    seq: int | None
    event_id: int | None
    reason: str
    chain: str = "topic"
    owner_id: int = 0

    def describe(self) -> str:
        where = f"event seq={self.seq} (id={self.event_id})" if self.seq is not None else self.chain
        return f"{self.reference} ({self.chain} id={self.owner_id}): {where}: {self.reason}"


class ChainKeyMismatch(RuntimeError):
    """The configured audit key is not the one the chain was hashed with."""


def _problem(topic: dict[str, Any], event: dict[str, Any] | None, reason: str) -> ChainProblem:
    """A problem of ``topic`` (or of a suggestion or plan: its row carries ``chain``)."""
    chain = topic.get("chain", "topic")
    return ChainProblem(
        topic_id=topic["id"] if chain == "topic" else None,
        reference=topic["reference"],
        seq=event["seq"] if event else None,
        event_id=event["id"] if event else None,
        reason=reason,
        chain=chain,
        owner_id=topic["id"],
    )


LEGACY_PIN = ("standard", 1)
"""The workflow of a topic opened before topics were pinned (its opening names none)."""


def _pinned_by(opening: dict[str, Any]) -> tuple[str, int]:
    """The workflow version a topic's opening event pins it to."""
    pinned = json.loads(opening["data"] or "{}").get("workflow")
    if not pinned:
        return LEGACY_PIN
    return (str(pinned["key"]), int(pinned["version"]))


def check_links(
    owner: dict[str, Any],
    events: list[dict[str, Any]],
    key: bytes | None = None,
    of: ChainOf = TOPIC,
) -> ChainProblem | None:
    """The first broken link of any chain: a gap in the sequence, a ``prev_hash`` that is
    not the previous event's hash, a hash that does not match the event's content.
    ``owner`` is the topic's (suggestion's, plan's) row: ``id``, ``reference``."""
    prev_hash = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event["seq"] != expected_seq:
            return _problem(owner, event, f"sequence gap: expected seq {expected_seq}")
        if event["prev_hash"] != prev_hash:
            return _problem(owner, event, "prev_hash does not match the previous event's hash")
        content = Event.of_row(owner["id"], event, of.name).content()
        if chain_hash(prev_hash, content, key) != event["hash"]:
            return _problem(owner, event, "hash does not match the event's content")
        prev_hash = event["hash"]
    return None


def check_chain(
    topic: dict[str, Any], events: list[dict[str, Any]], key: bytes | None = None
) -> ChainProblem | None:
    """The first problem in one topic's chain, or None if it is intact: its links, then
    the workflow it is pinned to, its event count, version and state."""
    broken = check_links(topic, events, key)
    if broken:
        return broken
    pinned = _pinned_by(events[0]) if events else LEGACY_PIN
    stored = (topic.get("workflow_key", "standard"), topic.get("workflow_version", 1))
    if stored != pinned:
        return _problem(
            topic,
            events[0],
            f"topic follows workflow {stored[0]} v{stored[1]} but was opened in "
            f"{pinned[0]} v{pinned[1]}",
        )
    if len(events) != topic["event_seq"]:
        return _problem(
            topic, None, f"topic counts {topic['event_seq']} events but {len(events)} exist"
        )
    moves = [e for e in events if e["kind"] in TRANSITION_KINDS]
    if len(moves) != topic["version"]:
        return _problem(
            topic, None, f"topic version {topic['version']} but {len(moves)} transitions"
        )
    if moves and moves[-1]["to_state"] != topic["state"]:
        return _problem(
            topic, None, f"topic state {topic['state']} differs from the last transition's"
        )
    return None


def check_owned_chain(
    owner: dict[str, Any], events: list[dict[str, Any]], of: ChainOf, key: bytes | None = None
) -> ChainProblem | None:
    """The first problem in a suggestion's or plan's chain: its links, its event count,
    and that its last event ends in the owner's status (``owner["state"]``: the
    suggestion's status, the status of the plan's newest version)."""
    broken = check_links(owner, events, key, of)
    if broken:
        return broken
    if len(events) != owner["event_seq"]:
        return _problem(
            owner, None, f"{of.name} counts {owner['event_seq']} events but {len(events)} exist"
        )
    if events and events[-1]["to_state"] != owner["state"]:
        return _problem(
            owner,
            None,
            f"{of.name} status {owner['state']} differs from its last event's "
            f"({events[-1]['to_state']})",
        )
    return None


@dataclass(frozen=True, slots=True)
class Vouched:
    """What the latest event naming a record says of it: the item, and where it is."""

    item: dict[str, Any]
    event: dict[str, Any]
    topic_id: int
    scheme: int


def vouched_records(events: dict[int, list[dict[str, Any]]]) -> dict[tuple[str, int], Vouched]:
    """(record, id) → what the latest event naming it says (a record's events are all
    in one topic's chain, in order)."""
    latest: dict[tuple[str, int], Vouched] = {}
    for topic_id, topic_events in events.items():
        for event in topic_events:
            data = json.loads(event["data"] or "{}")
            scheme = int(data.get("v", 1))
            vouched = [data] if "record" in data and "digest" in data else []
            for item in [*vouched, *data.get("also", [])]:
                key = (record_key(item["record"]), int(item["id"]))
                latest[key] = Vouched(item, event, topic_id, scheme)
    return latest


_PLACES = {"township": "moved to another township", "village": "moved to another village"}


def _differences(record: str, content: dict[str, Any], found: Vouched, key: bytes) -> list[str]:
    """How a record as stored differs from what its latest event vouches, by name."""
    if found.scheme < 2:
        if digest(legacy_content(record, content)) != found.item["digest"]:
            return ["differs from the digest of its latest event"]
        return []
    if keyed_digest(content, key) == found.item["digest"]:
        return []
    fields = found.item.get("fields", {})
    names = sorted(set(content) | set(fields))
    edited = [n for n in names if field_digest(n, content.get(n), key) != fields.get(n)]
    reasons = [_PLACES[n] for n in edited if record == "topic" and n in _PLACES]
    others = [n for n in edited if not (record == "topic" and n in _PLACES)]
    if others:
        reasons.append(f"{', '.join(others)} edited since its latest event")
    return reasons or ["differs from the digest of its latest event"]


def _revision_problems(
    name: str, rows: list[dict[str, Any]], found: Vouched, key: bytes
) -> list[str]:
    """The record's kept revisions against the digests its latest event carries."""
    if found.scheme < 2:
        return []
    wanted = {r["revision"]: r["digest"] for r in found.item.get("revisions", [])}
    stored = {r["revision"]: r for r in rows}
    reasons = []
    for number in sorted(set(wanted) | set(stored)):
        if number not in stored:
            reasons.append(f"{name}: earlier revision {number} is missing")
        elif number not in wanted:
            reasons.append(f"{name}: earlier revision {number} is not on the chain")
        elif keyed_digest(revision_content(stored[number]), key) != wanted[number]:
            reasons.append(f"{name}: earlier revision {number} (its content or reason) was edited")
    return reasons


def check_records(
    topics: dict[int, dict[str, Any]],
    latest: dict[tuple[str, int], Vouched],
    contents: dict[tuple[str, int], tuple[int, dict[str, Any]]],
    revisions: dict[tuple[str, int], list[dict[str, Any]]],
    pdf_digests: dict[int, str] | None = None,
    key: bytes | None = None,
) -> tuple[list[ChainProblem], set[tuple[str, int]]]:
    """Every record (and kept revision, and stored PDF) of ``topics`` against the latest
    event naming it. Returns the problems and the records seen (a record vouched for but
    not seen is missing: :func:`missing_records`)."""
    key = key or current_key()
    problems: list[ChainProblem] = []
    seen: set[tuple[str, int]] = set()
    for (record, record_id), (topic_id, content) in sorted(contents.items()):
        topic = topics[topic_id]
        name = f"{record} id={record_id}"
        found = latest.get((record, record_id))
        if found is None:
            problems.append(_problem(topic, None, f"{name} is not on the chain"))
            continue
        seen.add((record, record_id))
        if found.topic_id != topic_id:
            problems.append(
                _problem(
                    topic,
                    found.event,
                    f"{name} was moved here from {topic.get('chain', 'topic')} "
                    f"id={found.topic_id}, whose chain vouches it",
                )
            )
        for reason in _differences(record, content, found, key):
            problems.append(_problem(topic, found.event, f"{name}: {reason}"))
        for reason in _revision_problems(name, revisions.get((record, record_id), []), found, key):
            problems.append(_problem(topic, found.event, reason))
        stored_pdf = (pdf_digests or {}).get(record_id) if record == "document" else None
        if stored_pdf is not None and stored_pdf != content["sha256"]:
            problems.append(
                _problem(topic, found.event, f"{name}: the stored PDF's bytes were swapped")
            )
    for (record, record_id), rows in sorted(revisions.items()):
        if (record, record_id) not in contents and rows:
            owner = rows[0]["topic"] if "topic" in rows[0] else rows[0]["suggestion"]
            topic = topics[int(owner)]
            problems.append(
                _problem(topic, None, f"{record} id={record_id}: revisions kept of no record here")
            )
    return problems, seen


def missing_records(
    topics: dict[int, dict[str, Any]],
    latest: dict[tuple[str, int], Vouched],
    seen: set[tuple[str, int]],
    moved_to: dict[tuple[str, int], int] | None = None,
) -> list[ChainProblem]:
    """Records the chains of ``topics`` vouch for that were not found: deleted, or (in
    ``moved_to``) found under another topic."""
    problems = []
    for (record, record_id), found in sorted(latest.items()):
        if found.topic_id not in topics or (record, record_id) in seen:
            continue
        topic = topics[found.topic_id]
        name = f"{record} id={record_id}"
        if moved_to and (record, record_id) in moved_to:
            where = topic.get("chain", "topic")
            reason = f"{name} was moved to {where} id={moved_to[(record, record_id)]}"
        else:
            reason = f"{name} is missing (deleted): its latest event vouches for it"
        problems.append(_problem(topic, found.event, reason))
    return problems


_EVENT_COLUMNS = (
    TopicEvent.id,
    TopicEvent.topic,
    TopicEvent.seq,
    TopicEvent.kind,
    TopicEvent.data,
    TopicEvent.trigger,
    TopicEvent.from_state,
    TopicEvent.to_state,
    TopicEvent.actor,
    TopicEvent.comment,
    TopicEvent.created_at,
    TopicEvent.prev_hash,
    TopicEvent.hash,
)
_TOPIC_COLUMNS = (
    Topic.id,
    Topic.reference,
    Topic.version,
    Topic.state,
    Topic.event_seq,
    Topic.workflow_key,
    Topic.workflow_version,
)


async def _batches(batch: int) -> Any:
    """Topics in id order with their events, ``batch`` topics at a time."""
    last_id = 0
    while True:
        topics = (
            await Topic.select(*_TOPIC_COLUMNS)
            .where(Topic.id > last_id)
            .order_by(Topic.id)
            .limit(batch)
        )
        if not topics:
            return
        ids = [t["id"] for t in topics]
        rows = (
            await TopicEvent.select(*_EVENT_COLUMNS)
            .where(TopicEvent.topic.is_in(ids))
            .order_by(TopicEvent.topic)
            .order_by(TopicEvent.seq)
        )
        by_topic: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        for row in rows:
            by_topic[row["topic"]].append(row)
        yield topics, by_topic
        last_id = ids[-1]


async def verify_all(batch: int = 500) -> tuple[int, list[ChainProblem]]:
    """Check every chain (:func:`verify_chains`). Returns (topics checked, problems
    found on any chain)."""
    checked, problems = await verify_chains(batch)
    return checked["topic"], problems


async def verify_chains(batch: int = 500) -> tuple[dict[str, int], list[ChainProblem]]:
    """Check every topic's chain, then every record, kept revision and stored PDF
    against the latest event naming it; the same for every suggestion's and plan's
    chain (issue 27); then the links between chains (:func:`check_chain_links`).
    Returns (owners checked per chain, problems found)."""
    key = current_key()
    problems: list[ChainProblem] = []
    checked = 0
    latest: dict[tuple[str, int], Vouched] = {}
    topics: dict[int, dict[str, Any]] = {}
    claims: list[Claim] = []
    async for batch_topics, by_topic in _batches(batch):
        for topic in batch_topics:
            topics[topic["id"]] = topic
            found = check_chain(topic, by_topic[topic["id"]], key)
            if found:
                problems.append(found)
            claims += _claims(TOPIC, topic, by_topic[topic["id"]])
        latest.update(vouched_records(by_topic))
        checked += len(batch_topics)
    seen: set[tuple[str, int]] = set()
    moved_to: dict[tuple[str, int], int] = {}
    ids = sorted(topics)
    for start in range(0, len(ids), batch):
        part = ids[start : start + batch]
        contents = await contents_of_topics(part)
        found_problems, found_seen = check_records(
            topics,
            latest,
            contents,
            await revisions_of_topics(part),
            await stored_pdf_digests(part),
            key,
        )
        problems += found_problems
        seen |= found_seen
        moved_to.update({k: topic_id for k, (topic_id, _) in contents.items()})
    problems += missing_records(topics, latest, seen, moved_to)
    counts = {"topic": checked}
    for of in (SUGGESTION, PLAN):
        counts[of.name], found_problems, found_claims = await _verify_owned(of, key)
        problems += found_problems
        claims += found_claims
    problems += await check_chain_links(claims)
    return counts, sorted(
        problems, key=lambda p: (p.chain != "topic", p.chain, p.owner_id, p.seq or 0, p.reason)
    )


async def _owners(of: ChainOf) -> list[dict[str, Any]]:
    """Every suggestion's (plan's) id, reference, event count and current state."""
    table = of.owner_table
    if of is SUGGESTION:
        rows = await Suggestion.select(
            Suggestion.id, Suggestion.reference, Suggestion.event_seq, Suggestion.status
        ).order_by(Suggestion.id)
        return [{**r, "state": r["status"], "chain": of.name} for r in rows]
    rows = await Plan.select(Plan.id, Plan.reference, Plan.event_seq).order_by(Plan.id)
    states: dict[int, str] = {}
    for version in await PlanVersion.select(
        PlanVersion.plan, PlanVersion.status, PlanVersion.version
    ).order_by(PlanVersion.version):
        states[version["plan"]] = version["status"]
    assert table is Plan
    return [{**r, "state": states.get(r["id"], ""), "chain": of.name} for r in rows]


async def events_of(of: ChainOf, owner_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The events of these owners' chains, in order."""
    table = of.event_table
    owner = getattr(table, of.owner)
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in owner_ids}
    if owner_ids:
        rows = (
            await table.select().where(owner.is_in(owner_ids)).order_by(owner).order_by(table.seq)  # type: ignore[attr-defined]
        )
        for row in rows:
            found[row[of.owner]].append(row)
    return found


async def _verify_owned(
    of: ChainOf, key: bytes, batch: int = 500
) -> tuple[int, list[ChainProblem], list[Claim]]:
    """One kind of owned chain (suggestions or plans): each chain, then each record."""
    owners = await _owners(of)
    problems: list[ChainProblem] = []
    claims: list[Claim] = []
    by_id = {o["id"]: o for o in owners}
    latest: dict[tuple[str, int], Vouched] = {}
    seen: set[tuple[str, int]] = set()
    moved_to: dict[tuple[str, int], int] = {}
    for start in range(0, len(owners), batch):
        part = [o["id"] for o in owners[start : start + batch]]
        events = await events_of(of, part)
        for owner_id in part:
            found = check_owned_chain(by_id[owner_id], events[owner_id], of, key)
            if found:
                problems.append(found)
            claims += _claims(of, by_id[owner_id], events[owner_id])
        latest.update(vouched_records(events))
    for start in range(0, len(owners), batch):
        part = [o["id"] for o in owners[start : start + batch]]
        if of is SUGGESTION:
            contents = await owned_records.contents_of_suggestions(part)
            revisions = await owned_records.revisions_of_suggestions(part)
            pdfs: dict[int, str] = {}
        else:
            contents = await owned_records.contents_of_plans(part)
            revisions = {}
            pdfs = await _plan_pdf_digests([k[1] for k in contents if k[0] == "document"])
        found_problems, found_seen = check_records(by_id, latest, contents, revisions, pdfs, key)
        problems += found_problems
        seen |= found_seen
        moved_to.update({k: owner_id for k, (owner_id, _) in contents.items()})
    problems += missing_records(by_id, latest, seen, moved_to)
    return len(owners), problems, claims


async def _plan_pdf_digests(document_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    if document_ids:
        rows = await Document.select(Document.id, Document.pdf).where(
            Document.id.is_in(document_ids)
        )
        for row in rows:
            found[row["id"]] = hashlib.sha256(bytes(row["pdf"] or b"")).hexdigest()
    return found


# Links between chains --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    """One event's ``data["links"]`` entry: the chain ``source`` (an owner's row) says,
    at ``event``, that ``target`` chain's owner ``target_id`` was at ``head``."""

    source: str
    owner: dict[str, Any]
    event: dict[str, Any]
    target: str
    target_id: int
    target_reference: str
    head: str


ONE_WAY = frozenset({"plan"})
"""Chains whose links need not be named back (a plan item names its topic; the topic
does not name the plan)."""
_CHAINS = {"topic": TOPIC, "suggestion": SUGGESTION, "plan": PLAN}
_OPENING = {"topic": "its opening", "suggestion": "its screening", "plan": "its events"}


def _claims(of: ChainOf, owner: dict[str, Any], events: list[dict[str, Any]]) -> list[Claim]:
    found = []
    for event in events:
        data = json.loads(event["data"] or "{}") if "links" in (event["data"] or "") else {}
        for link in data.get("links", []):
            found.append(
                Claim(
                    source=of.name,
                    owner=owner,
                    event=event,
                    target=str(link.get("chain")),
                    target_id=int(link.get("id", 0)),
                    target_reference=str(link.get("reference", "")),
                    head=str(link.get("head", "")),
                )
            )
    return found


async def check_chain_links(claims: list[Claim]) -> list[ChainProblem]:
    """Each link an event names (``chain.link``): the other chain's owner exists, the
    head it names is an event of that chain, and (but for a plan's) that chain names
    this one back. A broken link is reported on the naming chain, as "suggestion JY-…
    names topic HSL-… but its opening does not name it"."""
    problems = []
    named = {(c.source, c.owner["id"], c.target, c.target_id) for c in claims}
    for claim in claims:
        of = _CHAINS.get(claim.target)
        source = f"{claim.source} {claim.owner['reference']}"
        target = f"{claim.target} {claim.target_reference}"
        if of is None:
            problems.append(_problem(claim.owner, claim.event, f"names an unknown chain {target}"))
            continue
        table = of.event_table
        found = (
            await table.select(table.id)  # type: ignore[attr-defined]
            .where(
                (getattr(table, of.owner) == claim.target_id) & (table.hash == claim.head)  # type: ignore[attr-defined]
            )
            .first()
        )
        if found is None:
            problems.append(
                _problem(
                    claim.owner,
                    claim.event,
                    f"{source} names {target} at an event its chain does not have",
                )
            )
            continue
        if claim.source in ONE_WAY:
            continue
        if (claim.target, claim.target_id, claim.source, claim.owner["id"]) not in named:
            problems.append(
                _problem(
                    claim.owner,
                    claim.event,
                    f"{source} names {target} but {_OPENING[claim.target]} does not name it",
                )
            )
    return problems


async def stored_pdf_digests(topic_ids: list[int]) -> dict[int, str]:
    """SHA-256 of each stored PDF of these topics, as the bytes are now."""
    found: dict[int, str] = {}
    if topic_ids:
        rows = await Document.select(Document.id, Document.pdf).where(
            Document.topic.is_in(topic_ids), Document.status != "rendering"
        )
        for row in rows:
            found[row["id"]] = hashlib.sha256(bytes(row["pdf"] or b"")).hexdigest()
    return found


# Published heads ------------------------------------------------------------------------


def heads_digest(heads: Iterable[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical(list(heads)).encode()).hexdigest()


HEAD_LISTS = (
    ("heads", "digest", TOPIC, "topic_reference"),
    ("suggestion_heads", "suggestion_digest", SUGGESTION, "suggestion_reference"),
    ("plan_heads", "plan_digest", PLAN, "plan_reference"),
)
"""The lists of chain heads: their key, their digest's key, the chain, and the name of
the reference in each head. A copy saved before issue 27 has the first only."""


_PUBLIC_TOPIC_COLUMNS = (
    "o.township AS township, o.village AS village, o.state AS state, "
    "o.opened_by AS opened_by, o.due_on AS due_on, o.workflow_key AS workflow_key, "
    "o.workflow_version AS workflow_version, "
)


async def _heads_of(of: ChainOf, reference: str, full: bool) -> list[dict[str, Any]]:
    """Each owner's latest event, named: every owner's (``full``), or those the public
    may read: the topics the policy lets the public read (the topic page's own rule,
    ``permissions.allowed(None, "topic.read", …)``: from 决议 on), the screened
    suggestions, the plans with a published version."""
    where = ""
    if of is SUGGESTION and not full:
        screened = ", ".join(f"'{s}'" for s in SCREENED_STATUSES)
        where = f" WHERE o.status IN ({screened})"
    if of is PLAN and not full:
        published = ", ".join(f"'{s}'" for s in PUBLISHED_PLAN_STATUSES)
        where = (
            " WHERE EXISTS (SELECT 1 FROM plan_version v WHERE v.plan = o.id "
            f"AND v.status IN ({published}))"
        )
    policy_columns = _PUBLIC_TOPIC_COLUMNS if of is TOPIC and not full else ""
    rows = await of.owner_table.raw(
        f"SELECT {policy_columns}o.reference AS reference, e.seq AS seq, e.hash AS hash "
        f"FROM {of.owners} o JOIN {of.events} e ON e.{of.owner} = o.id AND e.seq = o.event_seq"
        f"{where} ORDER BY o.id"
    )
    if policy_columns:
        rows = [r for r in rows if allowed(None, "topic.read", Subject.of_topic(r))]
    return [{reference: r["reference"], "seq": int(r["seq"]), "hash": r["hash"]} for r in rows]


ROOT_LAG = timedelta(minutes=5)
"""How far behind the answer the root's ``root_as_of`` is (then rounded down to the
minute). An event is stamped when its write starts (a publish: before its PDF is
rendered, waiting for the township's turn) and is committed later; the root counts the
events stamped at or before ``root_as_of``, so no write still open may stamp one then.
docs/decisions.md, "The public chain: named heads and one root"."""

_CHAIN_ORDER = {"topic": 0, "suggestion": 1, "plan": 2}


def root_as_of(now: datetime) -> str:
    """The moment the root of an answer made at ``now`` stands at (UTC, whole minute)."""
    moment = (now - ROOT_LAG).astimezone(UTC).replace(second=0, microsecond=0)
    return moment.isoformat(timespec="seconds")


async def leaves_at(as_of: datetime) -> list[dict[str, Any]]:
    """Every chain's head at ``as_of``, hidden ones too: for each topic, suggestion and
    plan with an event stamped at or before it, the last such event (chain, reference,
    seq, hash), ordered by chain then reference. Only the root over them is published."""
    sqlite = is_sqlite(bound_engine())
    leaves: list[dict[str, Any]] = []
    for of in (TOPIC, SUGGESTION, PLAN):
        # julianday on SQLite: the stamps are text there, compared as times.
        stamped = "julianday(x.created_at) <= julianday({})" if sqlite else "x.created_at <= {}"
        rows = await of.owner_table.raw(
            f"SELECT o.reference AS reference, e.seq AS seq, e.hash AS hash FROM "
            f"(SELECT x.{of.owner} AS owner, MAX(x.seq) AS seq FROM {of.events} x "
            f"WHERE {stamped} GROUP BY x.{of.owner}) m "
            f"JOIN {of.owners} o ON o.id = m.owner "
            f"JOIN {of.events} e ON e.{of.owner} = m.owner AND e.seq = m.seq",
            as_of,
        )
        leaves += [
            {"chain": of.name, "reference": r["reference"], "seq": int(r["seq"]), "hash": r["hash"]}
            for r in rows
        ]
    leaves.sort(key=lambda leaf: (_CHAIN_ORDER[leaf["chain"]], leaf["reference"]))
    return leaves


def root_of(as_of: str, leaves: list[dict[str, Any]]) -> str:
    """The root: SHA-256 over ``as_of`` (as written in the answer) and the ordered
    leaves, in canonical JSON. A hidden chain's head hash is keyed, so the root names
    nothing and cannot be tried against guessed counts."""
    return hashlib.sha256(canonical({"as_of": as_of, "leaves": leaves}).encode()).hexdigest()


async def root_at(as_of: str) -> str:
    """The root over every chain's head at ``as_of`` (an ISO time), from the database."""
    return root_of(as_of, await leaves_at(datetime.fromisoformat(as_of)))


async def chain_heads(full: bool = False) -> dict[str, Any]:
    """The latest event of each topic the public may read and one digest over them all
    (what ``GET /api/v1/public/chain-heads`` publishes), and in lists of their own with
    their own digests, the screened suggestions' and the published plans' (issue 27).
    ``full`` (the township's staff, the county signed in, and the command line): every
    topic's, suggestion's and plan's, hidden ones too, so that the audit catches a
    pending suggestion deleted (docs/decisions.md, "Suggestions and plans: the spine").
    Both carry one ``root`` over every chain's head at ``root_as_of`` (issue 29), named
    or not: a saved copy still proves that no hidden chain lost or changed an event."""
    now = utcnow()
    found: dict[str, Any] = {
        "as_of": now.astimezone(UTC).isoformat(timespec="seconds"),
        "full": full,
    }
    for key, digest_key, of, reference in HEAD_LISTS:
        heads = await _heads_of(of, reference, full)
        found[key] = heads
        found[digest_key] = heads_digest(heads)
    found["root_as_of"] = root_as_of(now)
    found["root"] = await root_at(found["root_as_of"])
    return found


async def check_against(saved: dict[str, Any]) -> list[str]:
    """What differs from a saved copy of the chain heads: every event it names must
    still be there with the same hash, and (a copy with a ``root``, issue 29) every
    chain's head at its ``root_as_of`` must give the same root. A copy in the shape
    before issue 27 (topics only) or 29 (no root) is checked as it is. Problems are
    plain sentences."""
    heads = saved.get("heads")
    if not isinstance(heads, list):
        return ["the saved file has no list of heads"]
    problems = []
    for key, digest_key, of, reference_name in HEAD_LISTS:
        listed = saved.get(key)
        if listed is None and key != "heads":
            continue  # saved before issue 27
        if not isinstance(listed, list):
            problems.append(f"the saved file's {key} is not a list")
            continue
        if saved.get(digest_key) != heads_digest(listed):
            problems.append(
                f"the saved file's {digest_key} does not match its {key} (the copy was altered)"
            )
        for head in listed:
            problems += await _check_head(of, head, reference_name)
    if "root" in saved:  # saved before issue 29: no root
        problems += await _check_root(saved.get("root"), saved.get("root_as_of"))
    return problems


async def _check_root(root: Any, as_of: Any) -> list[str]:
    try:
        moment = datetime.fromisoformat(as_of) if isinstance(as_of, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not isinstance(root, str):
        return ["the saved file's root or root_as_of is not readable (the copy was altered)"]
    if root_of(as_of, await leaves_at(moment)) != root:
        return [
            f"the root over every chain at {as_of} differs: an event stamped by then was "
            "removed or changed on a chain, named in the file or not (or the copy was altered)"
        ]
    return []


async def _check_head(of: ChainOf, head: Any, reference_name: str) -> list[str]:
    if not isinstance(head, dict):
        return [f"a saved {of.name} head is not an object"]
    reference, seq, wanted = head.get(reference_name), head.get("seq"), head.get("hash")
    table = of.owner_table
    owner = (
        await table.select(table.id)  # type: ignore[attr-defined]
        .where(table.reference == reference)  # type: ignore[attr-defined]
        .first()
    )
    if owner is None:
        return [f"{reference}: the {of.name} is gone"]
    events = of.event_table
    event = (
        await events.select(events.hash)  # type: ignore[attr-defined]
        .where((getattr(events, of.owner) == owner["id"]) & (events.seq == seq))  # type: ignore[attr-defined]
        .first()
    )
    if event is None:
        return [f"{reference}: event seq={seq} is gone"]
    if event["hash"] != wanted:
        return [f"{reference}: event seq={seq} changed"]
    return []


# Re-keying the first release's chains ---------------------------------------------------


def legacy_hash(prev_hash: str, topic_id: int, event: dict[str, Any]) -> str:
    """How the first release hashed an event: plain SHA-256 over fewer fields (in the
    same canonical JSON)."""
    content = canonical(
        {
            "topic_id": topic_id,
            "seq": event["seq"],
            "trigger": event["trigger"],
            "from_state": event["from_state"],
            "to_state": event["to_state"],
            "actor_id": event["actor"],
            "comment": event["comment"],
            "created_at": event["created_at"],
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


BACKFILL_NOTE = "升级时补记：此前的版本未把该记录写入审计链"


async def check_key() -> None:
    """Refuse to run with a key that is not the chain's (a server would otherwise write
    events no audit could verify)."""
    stored = await ChainKey.select(ChainKey.fingerprint).first()
    if stored is not None and stored["fingerprint"] != fingerprint():
        raise ChainKeyMismatch(
            "审计密钥与本数据库审计链所用的不一致（DELIBERATION_AUDIT_KEY 或 var/audit_key），"
            "请使用原来的密钥"
        )


async def rekey(now: datetime | None = None) -> int:
    """Make sure the chain is hashed with the current key. The first time, check every
    unkeyed chain with the old rule (refusing to vouch for a tampered one), re-hash it
    with the key and store the key's fingerprint. Returns the events re-hashed."""
    key = current_key()
    if await ChainKey.exists():
        await check_key()
        return 0
    rehashed = 0
    async with write_transaction():
        async for topics, by_topic in _batches(500):
            for topic in topics:
                prev_legacy = prev_new = GENESIS
                for event in by_topic[topic["id"]]:
                    if (
                        event["prev_hash"] != prev_legacy
                        or legacy_hash(prev_legacy, topic["id"], event) != event["hash"]
                    ):
                        raise ChainKeyMismatch(
                            f"{topic['reference']}：第 {event['seq']} 条事件按原有规则校验不通过，"
                            "审计链已被改动，不予用新密钥重新签名"
                        )
                    prev_legacy = event["hash"]
                    new = chain_hash(prev_new, Event.of_row(topic["id"], event).content(), key)
                    await TopicEvent.update(
                        {TopicEvent.prev_hash: prev_new, TopicEvent.hash: new}
                    ).where(TopicEvent.id == event["id"])
                    prev_new = new
                    rehashed += 1
            # Records of the first release were never on the chain: vouch for them now,
            # as they are, so that a later edit of the row is caught.
            contents = await contents_of_topics(list(by_topic))
            for (record, record_id), (topic_id, content) in sorted(contents.items()):
                if record == "topic":  # vouched by revouch, which follows
                    continue
                await _append(
                    topic_id,
                    "record.created",
                    actor_id=None,
                    comment=BACKFILL_NOTE,
                    data=record_data(record, record_id, content),
                    now=now,
                )
        await ChainKey.insert(ChainKey(fingerprint=fingerprint(key), keyed_at=now or utcnow()))
    return rehashed


REVOUCH_NOTE = "升级时补记：审计链自此逐项核对议题本身、记录所在议题、历次修订和文件"


class ChainNotIntact(RuntimeError):
    """The chain shows edits: it is not re-vouched under a new scheme (that would bless them)."""


async def revouch(now: datetime | None = None) -> int:
    """Bring a chain vouched under an earlier scheme (chain.SCHEME) up to date, once:
    check it under its own scheme first (refusing to vouch for edited records), then
    append one ``chain.revouched`` event per topic vouching for the topic's own facts
    and every record with its kept revisions. Returns the topics re-vouched."""
    stored = await ChainKey.select(ChainKey.id, ChainKey.scheme).first()
    if stored is None or stored["scheme"] >= SCHEME:
        return 0
    _, problems = await verify_all()
    # Scheme 1 never vouched for the topic's own facts: their absence is expected.
    problems = [
        p
        for p in problems
        if not (p.reason.startswith("topic id=") and p.reason.endswith("not on the chain"))
    ]
    if problems:
        raise ChainNotIntact(
            "审计链校验未通过，不予按新规则补记（请先用 deliberation audit verify 查明）：\n"
            + "\n".join(p.describe() for p in problems[:20])
        )
    count = 0
    async with write_transaction():
        async for topics, _ in _batches(500):
            ids = [t["id"] for t in topics]
            contents = await contents_of_topics(ids)
            revisions = await revisions_of_topics(ids)
            items: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
            for (record, record_id), (topic_id, content) in sorted(contents.items()):
                items[topic_id].append(
                    vouched_item(record, record_id, content, revisions.get((record, record_id)))
                )
            for topic_id in ids:
                own = next(i for i in items[topic_id] if i["record"] == "topic")
                others = [i for i in items[topic_id] if i["record"] != "topic"]
                await _append(
                    topic_id,
                    "chain.revouched",
                    actor_id=None,
                    comment=REVOUCH_NOTE,
                    data={"v": SCHEME, **own, "also": others},
                    now=now,
                )
                count += 1
        await ChainKey.update({ChainKey.scheme: SCHEME}).where(ChainKey.id == stored["id"])
    return count
