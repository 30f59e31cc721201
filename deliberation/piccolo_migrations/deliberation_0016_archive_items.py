"""Archive items (归档): the archive code's per-year item number (件号) given to a
finished topic the first time its bag is made, kept so the code never changes, and the
per-year counter that hands the numbers out without gaps. And the roster's version:
raised with every change to a township, village or account (not by sign-ins), so the
cached statistics know when their names are stale."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Archive items, roster version"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE TABLE archive_counter (id INTEGER PRIMARY KEY, last_number INTEGER NOT NULL)"
        )
        await engine.run_ddl(
            "CREATE TABLE archive_item (id INTEGER PRIMARY KEY REFERENCES topic (id), "
            "year INTEGER NOT NULL, number INTEGER NOT NULL, archived_at TIMESTAMPTZ NOT NULL, "
            "UNIQUE (year, number))"
        )
        await engine.run_ddl(
            "CREATE TABLE roster_version (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)"
        )
        await engine.run_ddl("INSERT INTO roster_version (id, version) VALUES (1, 0)")

    manager.add_raw(run)
    return manager
