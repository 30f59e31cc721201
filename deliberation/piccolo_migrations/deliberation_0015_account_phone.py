"""A mobile number on an account, when a spreadsheet import gave one (hand-written: a
column added to an existing table, the same DDL on both engines)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T07:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Account phone"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("ALTER TABLE account ADD COLUMN phone VARCHAR(20) NOT NULL DEFAULT ''")

    manager.add_raw(run)
    return manager
