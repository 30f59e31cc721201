"""Each topic is pinned to the workflow it follows (issue 26, item 5): the migration
pins every existing topic to standard v1, opening pins a new one to the newest loaded
version of the key it names, and the topic keeps its version's rules after a newer one
is loaded."""

from __future__ import annotations

from deliberation.audit import verify_all
from deliberation.database import bound_engine
from deliberation.tables import Topic
from tests.cli import run_cli
from tests.world import World, open_topic

MIGRATION_0019 = "2026-12-06T04:30:00:000000"
STANDARD_V1 = {"key": "standard", "version": 1, "label": "标准协商"}


async def _restore_columns() -> None:
    """Put the columns back if the migration under test failed (the session's database
    is shared by the tests after this one)."""
    engine = bound_engine()
    try:
        await engine.run_ddl("SELECT workflow_key, workflow_version FROM topic LIMIT 1")
    except Exception:
        await engine.run_ddl(
            "ALTER TABLE topic ADD COLUMN workflow_key VARCHAR(40) NOT NULL DEFAULT 'standard'"
        )
        await engine.run_ddl(
            "ALTER TABLE topic ADD COLUMN workflow_version INTEGER NOT NULL DEFAULT 1"
        )


async def test_the_migration_pins_every_existing_topic_to_standard_v1(
    world: World, migrated: str
) -> None:
    """A database from before 0019: a topic without the columns. After ``migrate`` it
    reads back, through the API, as the standard workflow's first version."""
    topic = await open_topic(world.a, "迁移前的议题")
    engine = bound_engine()
    await engine.run_ddl("ALTER TABLE topic DROP COLUMN workflow_key")
    await engine.run_ddl("ALTER TABLE topic DROP COLUMN workflow_version")
    try:
        await engine.run_ddl(f"DELETE FROM migration WHERE name = '{MIGRATION_0019}'")
        migrated_again = run_cli(migrated, "migrate")
        assert migrated_again.returncode == 0, migrated_again.stderr
    finally:
        await _restore_columns()
    row = (
        await Topic.select(Topic.workflow_key, Topic.workflow_version)
        .where(Topic.id == topic["id"])
        .first()
    )
    assert row == {"workflow_key": "standard", "workflow_version": 1}
    read = await world.a["liaison"].get(f"/api/v1/topics/{topic['id']}")
    assert read.status_code == 200, read.text
    assert read.json()["workflow"] == STANDARD_V1


async def test_a_topic_opened_without_naming_a_workflow_follows_the_standard_one(
    world: World,
) -> None:
    topic = await open_topic(world.a)
    assert topic["workflow"] == STANDARD_V1
    named = await open_topic(world.a, workflow="standard")
    assert named["workflow"] == STANDARD_V1
    listed = await world.a["staff"].get("/api/v1/topics", params={"q": named["title"]})
    assert [t["workflow"] for t in listed.json()["items"]] == [STANDARD_V1]


async def test_an_unknown_workflow_is_refused_naming_the_field_and_the_workflows_offered(
    world: World,
) -> None:
    before = await Topic.count()
    body = {"title": "不存在的流程", "description": "说明", "workflow": "nosuch"}
    answer = await world.a["liaison"].post("/api/v1/topics", body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == "validation_error"
    assert [e["field"] for e in problem["errors"]] == ["workflow"]
    assert "standard（标准协商）" in problem["detail"]
    assert await Topic.count() == before
    too_long = await world.a["liaison"].post("/api/v1/topics", {**body, "workflow": "x" * 41})
    assert too_long.status_code == 400 or too_long.status_code == 422, too_long.text
    assert too_long.json()["code"]


async def test_the_chain_vouches_for_the_pin_and_the_audit_catches_a_changed_one(
    world: World,
) -> None:
    topic = await open_topic(world.a)
    events = await world.a["liaison"].get(f"/api/v1/topics/{topic['id']}/events")
    opened = events.json()[0]
    assert opened["kind"] == "topic.opened"
    assert opened["data"]["workflow"] == {"key": "standard", "version": 1}
    _, problems = await verify_all()
    assert [p for p in problems if p.topic_id == topic["id"]] == []

    await Topic.update({Topic.workflow_version: 2}).where(Topic.id == topic["id"])
    try:
        _, problems = await verify_all()
        mine = [p.reason for p in problems if p.topic_id == topic["id"]]
        assert mine == ["topic follows workflow standard v2 but was opened in standard v1"]
    finally:
        await Topic.update({Topic.workflow_version: 1}).where(Topic.id == topic["id"])
