"""The hash-chained topic history: appending events and verifying the chains.

Each event's ``hash`` is SHA-256 over the previous event's hash and the event's
canonical content (sorted-key JSON). The first event of a topic chains from
``GENESIS``. A topic's ``version`` equals its number of events and its ``state``
the last event's ``to_state``, so a deleted tail is detected too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deliberation.tables import Topic, TopicEvent

GENESIS = "0" * 64


def canonical_content(
    *,
    topic_id: int,
    seq: int,
    trigger: str,
    from_state: str | None,
    to_state: str,
    actor_id: int | None,
    comment: str,
    created_at: datetime,
) -> str:
    return json.dumps(
        {
            "topic_id": topic_id,
            "seq": seq,
            "trigger": trigger,
            "from_state": from_state,
            "to_state": to_state,
            "actor_id": actor_id,
            "comment": comment,
            "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


async def append_event(
    *,
    topic_id: int,
    seq: int,
    trigger: str,
    from_state: str | None,
    to_state: str,
    actor_id: int | None,
    comment: str,
    created_at: datetime,
) -> None:
    """Append event ``seq`` to the topic's chain. Call inside the write transaction."""
    if seq == 1:
        prev_hash = GENESIS
    else:
        last = (
            await TopicEvent.select(TopicEvent.hash)
            .where((TopicEvent.topic == topic_id) & (TopicEvent.seq == seq - 1))
            .first()
        )
        prev_hash = last["hash"] if last else GENESIS
    content = canonical_content(
        topic_id=topic_id,
        seq=seq,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor_id,
        comment=comment,
        created_at=created_at,
    )
    await TopicEvent.insert(
        TopicEvent(
            topic=topic_id,
            seq=seq,
            trigger=trigger,
            from_state=from_state,
            to_state=to_state,
            actor=actor_id,
            comment=comment,
            created_at=created_at,
            prev_hash=prev_hash,
            hash=chain_hash(prev_hash, content),
        )
    )


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


def check_chain(topic: dict[str, Any], events: list[dict[str, Any]]) -> ChainProblem | None:
    """The first problem in one topic's chain, or None if it is intact."""

    def problem(event: dict[str, Any] | None, reason: str) -> ChainProblem:
        return ChainProblem(
            topic_id=topic["id"],
            reference=topic["reference"],
            seq=event["seq"] if event else None,
            event_id=event["id"] if event else None,
            reason=reason,
        )

    prev_hash = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event["seq"] != expected_seq:
            return problem(event, f"sequence gap: expected seq {expected_seq}")
        if event["prev_hash"] != prev_hash:
            return problem(event, "prev_hash does not match the previous event's hash")
        content = canonical_content(
            topic_id=topic["id"],
            seq=event["seq"],
            trigger=event["trigger"],
            from_state=event["from_state"],
            to_state=event["to_state"],
            actor_id=event["actor"],
            comment=event["comment"],
            created_at=event["created_at"],
        )
        if chain_hash(prev_hash, content) != event["hash"]:
            return problem(event, "hash does not match the event's content")
        prev_hash = event["hash"]
    if len(events) != topic["version"]:
        return problem(None, f"topic version {topic['version']} but {len(events)} events")
    if events and events[-1]["to_state"] != topic["state"]:
        return problem(None, f"topic state {topic['state']} differs from the last event's")
    return None


_EVENT_COLUMNS = (
    TopicEvent.id,
    TopicEvent.topic,
    TopicEvent.seq,
    TopicEvent.trigger,
    TopicEvent.from_state,
    TopicEvent.to_state,
    TopicEvent.actor,
    TopicEvent.comment,
    TopicEvent.created_at,
    TopicEvent.prev_hash,
    TopicEvent.hash,
)


async def verify_all(batch: int = 500) -> tuple[int, list[ChainProblem]]:
    """Check every topic's chain. Returns (topics checked, problems found)."""
    problems: list[ChainProblem] = []
    checked = 0
    last_id = 0
    while True:
        topics = (
            await Topic.select(Topic.id, Topic.reference, Topic.version, Topic.state)
            .where(Topic.id > last_id)
            .order_by(Topic.id)
            .limit(batch)
        )
        if not topics:
            break
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
        for topic in topics:
            found = check_chain(topic, by_topic[topic["id"]])
            if found:
                problems.append(found)
        checked += len(topics)
        last_id = ids[-1]
    return checked, problems
