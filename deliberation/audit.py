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
    TRANSITION_KINDS,
    Event,
    append,
    canonical,
    chain_hash,
    current_key,
    digest,
    fingerprint,
    record_data,
)
from deliberation.clock import utcnow
from deliberation.database import write_transaction
from deliberation.record_content import contents_of_topics, record_key
from deliberation.tables import ChainKey, Topic, TopicEvent


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


def check_records(
    topics: dict[int, dict[str, Any]],
    events: dict[int, list[dict[str, Any]]],
    contents: dict[tuple[str, int], tuple[int, dict[str, Any]]],
) -> list[ChainProblem]:
    """Every record must match the digest of its latest event, and have one."""
    latest: dict[tuple[str, int], tuple[str, dict[str, Any]]] = {}
    for topic_events in events.values():
        for event in topic_events:
            data = json.loads(event["data"] or "{}")
            vouched = [data] if "record" in data and "digest" in data else []
            for item in [*vouched, *data.get("also", [])]:
                latest[(record_key(item["record"]), int(item["id"]))] = (item["digest"], event)
    problems = []
    for (record, record_id), (topic_id, content) in sorted(contents.items()):
        topic = topics[topic_id]
        found = latest.get((record, record_id))
        if found is None:
            problems.append(_problem(topic, None, f"{record} id={record_id} is not on the chain"))
        elif digest(content) != found[0]:
            problems.append(
                _problem(
                    topic,
                    found[1],
                    f"{record} id={record_id} differs from the digest of its latest event",
                )
            )
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
_TOPIC_COLUMNS = (Topic.id, Topic.reference, Topic.version, Topic.state, Topic.event_seq)


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
    """Check every topic's chain and records. Returns (topics checked, problems found)."""
    key = current_key()
    problems: list[ChainProblem] = []
    checked = 0
    async for topics, by_topic in _batches(batch):
        for topic in topics:
            found = check_chain(topic, by_topic[topic["id"]], key)
            if found:
                problems.append(found)
        contents = await contents_of_topics(list(by_topic))
        problems += check_records({t["id"]: t for t in topics}, by_topic, contents)
        checked += len(topics)
    return checked, problems


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
                await append(
                    topic_id,
                    "record.created",
                    actor_id=None,
                    comment=BACKFILL_NOTE,
                    data=record_data(record, record_id, content),
                    now=now,
                )
        await ChainKey.insert(ChainKey(fingerprint=fingerprint(key), keyed_at=now or utcnow()))
    return rehashed
