"""The notice board's version: one row whose number goes up in the same transaction
as every change to what the public notice board shows (a publish, a revocation), so
each server process can keep the board's pages in memory and know, with one keyed
read, whether they are still current (``deliberation.documents.board``)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T06:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Notice board version"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE TABLE notice_board (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)"
        )
        await engine.run_ddl("INSERT INTO notice_board (id, version) VALUES (1, 0)")

    manager.add_raw(run)
    return manager
