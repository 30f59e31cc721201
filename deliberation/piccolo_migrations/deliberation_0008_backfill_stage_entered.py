"""Existing topics entered their current state when they were last updated
(hand-written: runs after 0007 added the column). Their due dates are filled in by
the reminder scheduler (``deliberation.reminders.refresh_missing_due``)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T17:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Backfill topic.stage_entered_on"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def backfill() -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "sqlite":
            await engine.run_ddl(
                "UPDATE topic SET stage_entered_on = date(updated_at) "
                "WHERE stage_entered_on IS NULL"
            )
        else:
            await engine.run_ddl(
                "UPDATE topic "
                "SET stage_entered_on = (updated_at AT TIME ZONE 'Asia/Shanghai')::date "
                "WHERE stage_entered_on IS NULL"
            )

    manager.add_raw(backfill)
    return manager
