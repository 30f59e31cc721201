"""A big topic, seeded in bulk: thousands of opinions on one topic, with the chain
events the app would have written for them (``record.created``, and
``opinion.answered`` for those answered), hashed with ``deliberation.chain`` so that
``audit verify`` passes. Shared by the tests (tests/api/test_big_topic.py) and the
benchmark (bench/big_topic.py); the caller has the database engine bound and the
audit key in use.

Adding 10 000 opinions through the API takes minutes (each is a transaction with its
event); here they are rows inserted 500 at a time and events hashed in one pass.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from deliberation import chain
from deliberation.clock import utcnow
from deliberation.record_content import content_of
from deliberation.tables import Opinion, Topic, TopicEvent

STANCES = ("support", "oppose", "suggestion")
ADOPTIONS = ("adopted", "partly_adopted", "not_adopted")
CHUNK = 500


def answered(i: int, answered_every: int) -> bool:
    """Whether the ``i``-th seeded opinion (from 0) is answered."""
    return answered_every > 0 and i % answered_every == 0


async def seed_opinions(
    topic_id: int,
    authors: list[int],
    count: int,
    *,
    staff_id: int,
    answered_every: int = 2,
) -> list[int]:
    """Add ``count`` opinions to the topic (authors in turn, stances in turn; every
    ``answered_every``-th answered by ``staff_id``), with their events on its chain.
    Returns the new opinions' ids, oldest first."""
    start = utcnow() - timedelta(seconds=count // 1000 + 20)
    last = (
        await Opinion.select(Opinion.id)
        .where(Opinion.topic == topic_id)
        .order_by(Opinion.id, ascending=False)
        .first()
    )
    floor = last["id"] if last else 0
    rows: list[Opinion] = []
    for i in range(count):
        done = answered(i, answered_every)
        created = start + timedelta(milliseconds=i)
        rows.append(
            Opinion(
                topic=topic_id,
                author=authors[i % len(authors)],
                content=f"第{i + 1}条意见：沿河路段路灯应尽快修复，建议由村委会落实日常巡查和维护。",
                stance=STANCES[i % len(STANCES)],
                on_behalf_of="" if i % 5 else f"村民{i % 97}",
                adoption=ADOPTIONS[(i // max(answered_every, 1)) % 3] if done else None,
                answer_reason=f"已研究第{i + 1}条意见，纳入实施方案。" if done else "",
                answered_by=staff_id if done else None,
                answered_at=created + timedelta(microseconds=500) if done else None,
                revision=1,
                created_at=created,
            )
        )
    for at in range(0, len(rows), CHUNK):
        await Opinion.insert(*rows[at : at + CHUNK])
    stored = (
        await Opinion.select()
        .where((Opinion.topic == topic_id) & (Opinion.id > floor))
        .order_by(Opinion.id)
    )
    seq, prev_hash = await chain.head(topic_id)
    topic = await Topic.select(Topic.state).where(Topic.id == topic_id).first()
    assert topic is not None
    state = topic["state"]
    events: list[dict[str, Any]] = []

    def append(kind: str, actor: int, data: dict[str, Any], when: Any) -> None:
        nonlocal seq, prev_hash
        seq += 1
        event = chain.Event(
            topic_id=topic_id,
            seq=seq,
            kind=kind,
            trigger="",
            from_state=state,
            to_state=state,
            actor_id=actor,
            comment="",
            created_at=when,
            data=chain.canonical(data),
        )
        hashed = chain.chain_hash(prev_hash, event.content())
        events.append(
            {
                "topic": topic_id,
                "seq": seq,
                "kind": kind,
                "data": event.data,
                "trigger": "",
                "from_state": state,
                "to_state": state,
                "actor": actor,
                "comment": "",
                "created_at": when,
                "prev_hash": prev_hash,
                "hash": hashed,
            }
        )
        prev_hash = hashed

    for row in stored:
        unanswered = {
            **row,
            "adoption": None,
            "answer_reason": "",
            "answered_by": None,
            "answered_at": None,
        }
        content = content_of("opinion", unanswered)
        append(
            "record.created",
            row["author"],
            chain.record_data("opinion", row["id"], content),
            row["created_at"],
        )
        if row["adoption"] is not None:
            append(
                "opinion.answered",
                row["answered_by"],
                chain.record_data("opinion", row["id"], content_of("opinion", row)),
                row["answered_at"],
            )
    for at in range(0, len(events), CHUNK):
        await TopicEvent.insert(*(TopicEvent(**e) for e in events[at : at + CHUNK]))
    await Topic.update({Topic.event_seq: seq}).where(Topic.id == topic_id)
    return [r["id"] for r in stored]
