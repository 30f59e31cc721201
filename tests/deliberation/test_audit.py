"""The hash chain: tampering is detected and named, by the service and the CLI."""

from __future__ import annotations

from pathlib import Path

from deliberation.audit import verify_all
from deliberation.tables import TopicEvent
from tests.cli import run_cli
from tests.world import World, topic_in_state


async def test_tampered_event_is_named_by_audit_verify(
    world: World, database_url: str, tmp_path: Path
) -> None:
    topic = await topic_in_state(world.a, "meeting")
    events = (
        await TopicEvent.select().where(TopicEvent.topic == topic["id"]).order_by(TopicEvent.seq)
    )
    victim = events[2]
    _, before = await verify_all()
    assert [p for p in before if p.topic_id == topic["id"]] == []

    await TopicEvent.update({TopicEvent.comment: "被篡改的说明"}).where(
        TopicEvent.id == victim["id"]
    )
    try:
        _, problems = await verify_all()
        mine = [p for p in problems if p.topic_id == topic["id"]]
        assert len(mine) == 1 and mine[0].seq == victim["seq"] and mine[0].event_id == victim["id"]

        result = run_cli(database_url, "audit", "verify", cwd=tmp_path)
        assert result.returncode == 1, result.stdout + result.stderr
        assert (
            f"{topic['reference']} (topic id={topic['id']}): event seq={victim['seq']} (id={victim['id']})"
            in result.stdout
        )
    finally:
        await TopicEvent.update({TopicEvent.comment: victim["comment"]}).where(
            TopicEvent.id == victim["id"]
        )


async def test_deleted_last_event_is_detected(world: World) -> None:
    topic = await topic_in_state(world.a, "investigated")
    last = (
        await TopicEvent.select()
        .where(TopicEvent.topic == topic["id"])
        .order_by(TopicEvent.seq, ascending=False)
        .first()
    )
    await TopicEvent.delete().where(TopicEvent.id == last["id"])
    try:
        _, problems = await verify_all()
        mine = [p for p in problems if p.topic_id == topic["id"]]
        assert len(mine) == 1 and "events" in mine[0].reason
    finally:
        await TopicEvent.insert(TopicEvent(**{k: v for k, v in last.items() if k != "id"}))
    _, problems = await verify_all()
    assert [p for p in problems if p.topic_id == topic["id"]] == []


async def test_intact_chain_passes_audit_verify(
    world: World, database_url: str, tmp_path: Path
) -> None:
    await topic_in_state(world.a, "resolution")
    result = run_cli(database_url, "audit", "verify", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "审计链完好" in result.stdout
