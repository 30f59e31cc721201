"""The chains of suggestions and plans (issue 27): the topic chain's hashing, key and
vouching, generalised (``chain.ChainOf``) without changing a topic event's hash; and
what ``audit verify`` catches on them (docs/decisions.md, "Suggestions and plans: the
spine")."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from deliberation import audit, chain
from deliberation.changes import suggestion_change
from deliberation.database import write_transaction
from deliberation.tables import (
    OutboxEvent,
    PlanItem,
    Suggestion,
    SuggestionEvent,
    SuggestionScreening,
    SuggestionSupport,
    TopicEvent,
)
from deliberation.topics import insert_topic
from tests.cli import run_cli
from tests.deliberation.owned import accept, file_suggestion, start_plan, support
from tests.world import World
from workflows import WORKFLOW

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

    # Accepted: the topic's opening names the suggestion's head, the screening the
    # topic's; the screening moves the status from pending to accepted.
    topic = await accept(world.a["staff"].principal, suggestion["id"])
    opening = (
        await TopicEvent.select(TopicEvent.data, TopicEvent.hash)
        .where((TopicEvent.topic == topic["id"]) & (TopicEvent.seq == 1))
        .first()
    )
    assert opening is not None
    assert json.loads(opening["data"])["links"] == [
        {
            "chain": "suggestion",
            "id": suggestion["id"],
            "reference": suggestion["reference"],
            "head": prev,
        }
    ]
    screened = (
        await SuggestionEvent.select()
        .where((SuggestionEvent.suggestion == suggestion["id"]) & (SuggestionEvent.seq == 3))
        .first()
    )
    assert screened is not None
    assert (screened["kind"], screened["from_state"], screened["to_state"]) == (
        "suggestion.screened",
        "pending",
        "accepted",
    )
    assert json.loads(screened["data"])["links"][0]["head"] == opening["hash"]


# What the audit catches --------------------------------------------------------------


class _Undo(Exception):
    pass


@asynccontextmanager
async def undone() -> AsyncIterator[None]:
    """Edits made inside are seen by the audit inside, then rolled back (the suite's
    database stays intact for the other tests)."""
    try:
        async with write_transaction():
            yield
            raise _Undo
    except _Undo:
        pass


async def _reasons(chain_name: str, owner_id: int) -> list[str]:
    _, problems = await audit.verify_chains()
    return [p.reason for p in problems if p.chain == chain_name and p.owner_id == owner_id]


async def test_audit_names_an_edited_suggestion_support_screening_and_plan_item(
    world: World,
) -> None:
    staff = world.a["staff"].principal
    suggestion = await file_suggestion(None, world.a.id, world.a.villages[0]["id"])
    support_id = await support(world.a["representative"].principal, suggestion["id"])
    topic = await accept(staff, suggestion["id"])
    screening = await SuggestionScreening.select(SuggestionScreening.id).where(
        SuggestionScreening.suggestion == suggestion["id"]
    )
    plan = await start_plan(
        staff,
        world.a.id,
        2090,
        [
            {
                "quarter": 2,
                "title": "路灯维修",
                "workflow_key": "standard",
                "lead_unit": "镇建设办",
                "suggestion": suggestion["id"],
                "topic": topic["id"],
            }
        ],
    )
    sid = suggestion["id"]
    assert await _reasons("suggestion", sid) == []
    assert await _reasons("plan", plan["id"]) == []
    edits = [
        (Suggestion, sid, "public_content", "改过的公开文本", "suggestion", sid),
        (Suggestion, sid, "submitter_phone", "13900000000", "suggestion", sid),
        (SuggestionSupport, support_id, "headcount", 5, "suggestion", sid),
        (SuggestionScreening, screening[0]["id"], "reason", "改过的理由", "suggestion", sid),
        (PlanItem, plan["item_ids"][0], "lead_unit", "别的单位", "plan", plan["id"]),
    ]
    for table, row_id, column, value, chain_name, owner in edits:
        async with undone():
            await table.update({getattr(table, column): value}).where(table.id == row_id)
            record = table._meta.tablename
            assert await _reasons(chain_name, owner) == [
                f"{record} id={row_id}: {column} edited since its latest event"
            ]
    assert await _reasons("suggestion", sid) == []


async def test_the_status_is_the_last_events(world: World) -> None:
    suggestion = await file_suggestion(None, world.a.id, world.a.villages[0]["id"])
    async with undone():
        await Suggestion.update({Suggestion.status: "declined"}).where(
            Suggestion.id == suggestion["id"]
        )
        reasons = await _reasons("suggestion", suggestion["id"])
        assert "suggestion status declined differs from its last event's (pending)" in reasons
        # Named as the suggestion's, never mistaken for a topic's of the same id.
        _, problems = await audit.verify_chains()
        mine = [p for p in problems if p.owner_id == suggestion["id"] and p.chain != "topic"]
        assert mine and all(p.topic_id is None for p in mine)
        assert (
            mine[0]
            .describe()
            .startswith(
                f"{suggestion['reference']} (suggestion id={suggestion['id']}): suggestion: "
            )
        )


async def _delete(suggestion_id: int) -> None:
    for table in (SuggestionEvent, SuggestionSupport, SuggestionScreening):
        await table.delete().where(table.suggestion == suggestion_id)  # type: ignore[attr-defined]
    await Suggestion.delete().where(Suggestion.id == suggestion_id)


async def test_a_deleted_suggestion_is_caught_against_saved_heads(world: World) -> None:
    staff = world.a["staff"].principal
    screened = await file_suggestion(None, world.a.id, world.a.villages[0]["id"])
    topic = await accept(staff, screened["id"])
    pending = await file_suggestion(None, world.a.id, world.a.villages[0]["id"])
    public, full = await audit.chain_heads(), await audit.chain_heads(full=True)
    listed = {h["suggestion_reference"] for h in public["suggestion_heads"]}
    assert screened["reference"] in listed and pending["reference"] not in listed
    assert pending["reference"] in {h["suggestion_reference"] for h in full["suggestion_heads"]}
    assert await audit.check_against(public) == []
    assert await audit.check_against(full) == []
    async with undone():
        await _delete(screened["id"])
        await _delete(pending["id"])
        gone = f"{screened['reference']}: the suggestion is gone"
        assert gone in await audit.check_against(public)
        assert f"{pending['reference']}: the suggestion is gone" in await audit.check_against(full)
        # Without a saved copy the topic's opening still names it.
        assert await _reasons("topic", topic["id"]) == [
            f"topic {topic['reference']} names suggestion {screened['reference']} "
            "at an event its chain does not have"
        ]
    # A copy saved before suggestions (topics only) still verifies as it is.
    old = {k: public[k] for k in ("as_of", "heads", "digest")}
    assert await audit.check_against(old) == []


async def test_a_forged_link_is_reported(world: World) -> None:
    staff = world.a["staff"].principal
    suggestion = await file_suggestion(None, world.a.id, world.a.villages[0]["id"])
    async with undone():
        # The screening names a topic whose opening does not name the suggestion.
        async with suggestion_change(staff, suggestion["id"], "suggestion.screen") as change:
            topic = await insert_topic(
                staff, WORKFLOW, title="另一个议题", description="说明", village_id=None
            )
            link = await chain.link(chain.TOPIC, topic["id"])
            await change.appended(
                "suggestion.screened",
                to_state="pending",
                data={"links": [link, {**link, "head": "f" * 64}]},
            )
        assert await _reasons("suggestion", suggestion["id"]) == [
            f"suggestion {suggestion['reference']} names topic {topic['reference']} "
            "at an event its chain does not have",
            f"suggestion {suggestion['reference']} names topic {topic['reference']} "
            "but its opening does not name it",
        ]


async def test_audit_verify_against_either_shape_of_saved_heads(
    world: World, database_url: str, tmp_path: Path
) -> None:
    suggestion = await file_suggestion(None, world.a.id, world.a.villages[0]["id"])
    await accept(world.a["staff"].principal, suggestion["id"])
    heads = await audit.chain_heads(full=True)
    new, old = tmp_path / "heads.json", tmp_path / "old-heads.json"
    new.write_text(json.dumps(heads), encoding="utf-8")
    old.write_text(
        json.dumps({k: heads[k] for k in ("as_of", "heads", "digest")}), encoding="utf-8"
    )
    for saved in (new, old):
        result = run_cli(database_url, "audit", "verify", "--against", str(saved), cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "审计链完好" in result.stdout and "条建议" in result.stdout
    altered = {**heads, "suggestion_heads": heads["suggestion_heads"][1:]}
    new.write_text(json.dumps(altered), encoding="utf-8")
    result = run_cli(database_url, "audit", "verify", "--against", str(new), cwd=tmp_path)
    assert result.returncode == 1
    assert "suggestion_digest does not match its suggestion_heads" in result.stdout


async def test_the_public_heads_name_only_screened_suggestions(world: World) -> None:
    pending = await file_suggestion(None, world.a.id, world.a.villages[0]["id"])
    screened = await file_suggestion(None, world.a.id, world.a.villages[0]["id"])
    await accept(world.a["staff"].principal, screened["id"])

    async def listed(headers: dict[str, str]) -> tuple[set[str], dict[str, object]]:
        response = await world.client.get("/api/v1/public/chain-heads", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["suggestion_digest"] == audit.heads_digest(body["suggestion_heads"])
        return {h["suggestion_reference"] for h in body["suggestion_heads"]}, body

    public, body = await listed({})
    assert screened["reference"] in public and pending["reference"] not in public
    assert body["full"] is False and body["digest"] == audit.heads_digest(body["heads"])
    for who in (world.a["staff"], world.supervisor):
        everything, body = await listed(who.headers)
        assert {screened["reference"], pending["reference"]} <= everything and body["full"]
    # Another township's representative is the public here.
    theirs, _ = await listed(world.b["representative"].headers)
    assert pending["reference"] not in theirs


def test_a_merged_suggestion_reads_on_the_topics_timeline() -> None:
    from deliberation.overview import event_label
    from deliberation.permissions import event_shown

    assert event_label("suggestion.merged", "", "", reference="JY-2027-0012") == (
        "合并村民建议 JY-2027-0012"
    )
    assert event_shown("public", "suggestion.merged")


async def test_the_webhooks_are_told_without_the_villagers_words(world: World) -> None:
    suggestion = await file_suggestion(
        None, world.a.id, world.a.villages[0]["id"], content="张三家门口 13800138000"
    )
    await accept(world.a["staff"].principal, suggestion["id"])
    rows = await OutboxEvent.select(OutboxEvent.type, OutboxEvent.payload).where(
        OutboxEvent.payload.like(f'%"{suggestion["reference"]}"%')
    )
    told = {r["type"]: json.loads(r["payload"]) for r in rows}
    assert set(told) == {"suggestion.filed", "suggestion.screened"}
    assert told["suggestion.filed"]["filed_by_role"] == "villager"
    assert told["suggestion.screened"]["state_label"] == "已列入议题"
    for payload in told.values():
        text = json.dumps(payload, ensure_ascii=False)
        assert "13800138000" not in text and "张三" not in text and "王小明" not in text
