"""Each topic pinned to the workflow it follows, ``(workflow_key, workflow_version)``
(issue 26; hand-written: two columns added to an existing table, the same DDL on both
engines). Every topic that exists already followed the one process there was, so the
defaults make each of them ``standard`` version 1."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T04:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Topics pinned to their workflow"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "ALTER TABLE topic ADD COLUMN workflow_key VARCHAR(40) NOT NULL DEFAULT 'standard'"
        )
        await engine.run_ddl(
            "ALTER TABLE topic ADD COLUMN workflow_version INTEGER NOT NULL DEFAULT 1"
        )

    manager.add_raw(run)
    return manager
