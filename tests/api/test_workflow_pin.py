"""Each topic is pinned to the workflow it follows (issue 26, item 5): the migration
pins every existing topic to standard v1, opening pins a new one to the newest loaded
version of the key it names, and the topic keeps its version's rules after a newer one
is loaded."""

from __future__ import annotations

from deliberation.database import bound_engine
from deliberation.tables import Topic
from tests.cli import run_cli
from tests.world import World, open_topic

MIGRATION_0019 = "2026-12-06T04:30:00:000000"


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
