"""A reminder is emitted once per topic, kind and due date; pending deliveries are
claimed in due order (hand-written: runs after 0009 created the tables)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T17:47:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Reminder uniqueness and the delivery queue index"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX reminder_sent_uq ON reminder_sent (topic, kind, due_on)"
        )
        await engine.run_ddl(
            "CREATE INDEX delivery_queue ON delivery (next_attempt_at, id) WHERE status = 'pending'"
        )

    manager.add_raw(indexes)
    return manager
