"""Which workflows each township and each village offers (issue 26; docs/workflows.md,
"Which workflows a township offers"). Hand-written: one nullable column added to two
existing tables, the same DDL on both engines.

The column holds a JSON list of workflow keys the administrator ticked; NULL (every
place that exists now, and every new one) means "every loaded workflow of the place's
scope", so nothing changes for a township until the administrator chooses
(docs/decisions.md, "Which workflows a place offers: everything loaded, until chosen")."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Workflows offered by each township and village"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("ALTER TABLE township ADD COLUMN offered_workflows TEXT NULL")
        await engine.run_ddl("ALTER TABLE village ADD COLUMN offered_workflows TEXT NULL")

    manager.add_raw(run)
    return manager
