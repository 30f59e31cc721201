"""Checking the topic chains (``deliberation audit verify``) and publishing their heads.

What is checked, for every topic:
- each event's keyed hash (``deliberation.chain``) and its link to the one before;
- that the chain has as many events as the topic counts (``event_seq``), as many
  transitions as its ``version``, and ends in the topic's ``state``;
- that every record of the topic matches the digest its latest event carries (an
  edited row is caught), and that no record is missing from the chain;
- with a saved copy of ``GET /api/v1/public/chain-heads`` (``--against``): that every
  event it names is still there, unchanged. Without the key nobody can recompute the
  hashes after editing; with a saved copy nobody can drop the newest events unseen.

The first release hashed without a key. :func:`rekey` checks those chains once with
the old rule, then re-hashes them with the key, and remembers the key's fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deliberation.chain import (
    GENESIS,
    SCHEME,
    TRANSITION_KINDS,
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
from deliberation.database import write_transaction
from deliberation.record_content import (
    contents_of_topics,
    legacy_content,
    record_key,
    revisions_of_topics,
)
from deliberation.tables import ChainKey, Document, Topic, TopicEvent


@dataclass(frozen=True, slots=True)
class ChainProblem:
    topic_id: int
    reference: str
    seq: int | None
    event_id: int | None
    reason: str

    def describe(self) -> str:
        where = f"event seq={self.seq} (id={self.event_id})" if self.seq is not None else "topic"
        return f"{self.reference} (topic id={self.topic_id}): {where}: {self.reason}"


class ChainKeyMismatch(RuntimeError):
    """The configured audit key is not the one the chain was hashed with."""


def _problem(topic: dict[str, Any], event: dict[str, Any] | None, reason: str) -> ChainProblem:
    return ChainProblem(
        topic_id=topic["id"],
        reference=topic["reference"],
        seq=event["seq"] if event else None,
        event_id=event["id"] if event else None,
        reason=reason,
    )


LEGACY_PIN = ("standard", 1)
"""The workflow of a topic opened before topics were pinned (its opening names none)."""


def _pinned_by(opening: dict[str, Any]) -> tuple[str, int]:
    """The workflow version a topic's opening event pins it to."""
    pinned = json.loads(opening["data"] or "{}").get("workflow")
    if not pinned:
        return LEGACY_PIN
    return (str(pinned["key"]), int(pinned["version"]))


def check_chain(
    topic: dict[str, Any], events: list[dict[str, Any]], key: bytes | None = None
) -> ChainProblem | None:
    """The first problem in one topic's chain, or None if it is intact."""
    prev_hash = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event["seq"] != expected_seq:
            return _problem(topic, event, f"sequence gap: expected seq {expected_seq}")
        if event["prev_hash"] != prev_hash:
            return _problem(topic, event, "prev_hash does not match the previous event's hash")
        content = Event.of_row(topic["id"], event).content()
        if chain_hash(prev_hash, content, key) != event["hash"]:
            return _problem(topic, event, "hash does not match the event's content")
        prev_hash = event["hash"]
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
                    f"{name} was moved here from topic id={found.topic_id}, whose chain vouches it",
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
            topic = topics[rows[0]["topic"]]
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
            reason = f"{name} was moved to topic id={moved_to[(record, record_id)]}"
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
    """Check every topic's chain, then every record, kept revision and stored PDF
    against the latest event naming it. Returns (topics checked, problems found)."""
    key = current_key()
    problems: list[ChainProblem] = []
    checked = 0
    latest: dict[tuple[str, int], Vouched] = {}
    topics: dict[int, dict[str, Any]] = {}
    async for batch_topics, by_topic in _batches(batch):
        for topic in batch_topics:
            topics[topic["id"]] = topic
            found = check_chain(topic, by_topic[topic["id"]], key)
            if found:
                problems.append(found)
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
    return checked, sorted(problems, key=lambda p: (p.topic_id, p.seq or 0, p.reason))


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


async def chain_heads() -> dict[str, Any]:
    """Every topic's latest event and one digest over them all (what
    ``GET /api/v1/public/chain-heads`` publishes)."""
    rows = await Topic.raw(
        "SELECT t.reference AS topic_reference, e.seq AS seq, e.hash AS hash "
        "FROM topic t JOIN topic_event e ON e.topic = t.id AND e.seq = t.event_seq "
        "ORDER BY t.id"
    )
    heads = [
        {"topic_reference": r["topic_reference"], "seq": int(r["seq"]), "hash": r["hash"]}
        for r in rows
    ]
    return {
        "as_of": utcnow().astimezone(UTC).isoformat(timespec="seconds"),
        "heads": heads,
        "digest": heads_digest(heads),
    }


async def check_against(saved: dict[str, Any]) -> list[str]:
    """What differs from a saved copy of the chain heads: every event it names must
    still be there with the same hash. Problems are plain sentences."""
    heads = saved.get("heads")
    if not isinstance(heads, list):
        return ["the saved file has no list of heads"]
    problems = []
    if saved.get("digest") != heads_digest(heads):
        problems.append("the saved file's digest does not match its heads (the copy was altered)")
    for head in heads:
        reference, seq, wanted = head.get("topic_reference"), head.get("seq"), head.get("hash")
        topic = await Topic.select(Topic.id).where(Topic.reference == reference).first()
        if topic is None:
            problems.append(f"{reference}: the topic is gone")
            continue
        event = (
            await TopicEvent.select(TopicEvent.hash)
            .where((TopicEvent.topic == topic["id"]) & (TopicEvent.seq == seq))
            .first()
        )
        if event is None:
            problems.append(f"{reference}: event seq={seq} is gone")
        elif event["hash"] != wanted:
            problems.append(f"{reference}: event seq={seq} changed")
    return problems


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
