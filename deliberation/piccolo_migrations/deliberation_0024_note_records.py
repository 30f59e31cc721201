"""Note records of any kind (docs/record-kinds.md): every record kind of type ``note``
a workflow file declares that has no table of its own (a county's 入户走访记录, …) is
stored in one ``note_record`` table, its declared kind in ``kind`` — a new kind is then a
workflow-file edit only. Hand-written like 0020 (the vote table): the same DDL on both
engines apart from the id. A new table: no row to fill, nothing read from the clock."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Note records of any kind"

NOTE_COLUMNS = (
    "topic INTEGER NOT NULL REFERENCES topic (id) ON DELETE RESTRICT, "
    "kind VARCHAR(40) NOT NULL, "
    "held_on DATE NOT NULL, "
    "place VARCHAR(200) NOT NULL, "
    "participants TEXT NOT NULL, "
    "summary TEXT NOT NULL, "
    "recorded_by INTEGER NOT NULL REFERENCES account (id) ON DELETE RESTRICT, "
    "revision INTEGER NOT NULL DEFAULT 1, "
    "created_at TIMESTAMPTZ NOT NULL"
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        serial = (
            "SERIAL PRIMARY KEY"
            if engine.engine_type == "postgres"
            else "INTEGER PRIMARY KEY AUTOINCREMENT"
        )
        await engine.run_ddl(f"CREATE TABLE note_record (id {serial}, {NOTE_COLUMNS})")
        await engine.run_ddl("CREATE INDEX note_record_topic_ix ON note_record (topic)")

    manager.add_raw(run)
    return manager
