"""Document numbers (and their counters) unique per township and year, and at most
one published document of a kind per topic (hand-written: runs after 0005 has created
the tables; partial indexes work on both engines)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T17:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Document number and published-per-kind uniques"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def uniques() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX document_number_uq ON document (township, number_year, number)"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX document_counter_uq ON document_counter (township, year)"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX document_published_uq ON document (topic, kind) "
            "WHERE status = 'published'"
        )

    manager.add_raw(uniques)
    return manager
