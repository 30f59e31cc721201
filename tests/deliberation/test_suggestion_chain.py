"""The chains of suggestions and plans (issue 27): the topic chain's hashing, key and
vouching, generalised (``chain.ChainOf``) without changing a topic event's hash; and
what ``audit verify`` catches on them (docs/decisions.md, "Suggestions and plans: the
spine")."""

from __future__ import annotations

from datetime import UTC, datetime

from deliberation import chain
from deliberation.tables import SuggestionEvent
from tests.deliberation.owned import file_suggestion, support
from tests.world import World

FIXED_KEY = b"fixed-vector-key-0123456789"


def _event(chain_name: str = "topic") -> chain.Event:
    return chain.Event(
        topic_id=7,
        seq=3,
        kind="record.created",
        trigger="",
        from_state="proposed",
        to_state="proposed",
        actor_id=2,
        comment="补充说明",
        created_at=datetime(2026, 11, 30, 8, 15, 0, 123456, tzinfo=UTC),
        data='{"v":2}',
        chain=chain_name,
    )


def test_a_topic_events_hash_is_what_it_was_before_there_were_other_chains() -> None:
    """Computed by the chain module of main at 5466ae9, before ``ChainOf``: every topic
    event already written still verifies."""
    event = _event()
    assert event.content() == (
        '{"actor_id":2,"comment":"补充说明","created_at":"2026-11-30T08:15:00.123456+00:00",'
        '"data":"{\\"v\\":2}","from_state":"proposed","kind":"record.created","seq":3,'
        '"to_state":"proposed","topic_id":7,"trigger":""}'
    )
    assert chain.chain_hash("ab" * 32, event.content(), FIXED_KEY) == (
        "8873d87903275a6d84814c89069696d47bf00eb10fab796ad9bd3e86f5623281"
    )


def test_the_same_event_on_another_chain_hashes_differently() -> None:
    hashes = {
        name: chain.chain_hash(chain.GENESIS, _event(name).content(), FIXED_KEY)
        for name in ("topic", "suggestion", "plan")
    }
    assert len(set(hashes.values())) == 3


async def test_a_suggestions_events_chain_on_its_own(world: World) -> None:
    suggestion = await file_suggestion(None, world.a.id, world.a.villages[0]["id"])
    await support(world.a["representative"].principal, suggestion["id"])
    rows = (
        await SuggestionEvent.select()
        .where(SuggestionEvent.suggestion == suggestion["id"])
        .order_by(SuggestionEvent.seq)
    )
    assert [(r["seq"], r["kind"], r["from_state"], r["to_state"]) for r in rows] == [
        (1, "suggestion.filed", None, "pending"),
        (2, "support.added", "pending", "pending"),
    ]
    prev = chain.GENESIS
    for row in rows:
        content = chain.Event.of_row(suggestion["id"], row, "suggestion").content()
        assert row["prev_hash"] == prev
        assert chain.chain_hash(prev, content) == row["hash"]
        # Read as a topic's event, it does not verify.
        assert (
            chain.chain_hash(prev, chain.Event.of_row(suggestion["id"], row).content())
            != (row["hash"])
        )
        prev = row["hash"]
    assert await chain.head(suggestion["id"], chain.SUGGESTION) == (2, prev)
