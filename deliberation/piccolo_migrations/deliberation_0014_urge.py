"""The county's urge (督办) on a topic: when, by whom and the note, kept on the topic
for its current stage (the next transition clears them); every urge is also an event
on the topic's chain. Hand-written: columns added to an existing table, the same DDL
on both engines; and the index the county view counts from."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Urges on topics, the county view's index"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in (
            "ALTER TABLE topic ADD COLUMN urged_at TIMESTAMPTZ NULL",
            "ALTER TABLE topic ADD COLUMN urge_note TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE topic ADD COLUMN urged_by INTEGER NULL "
            "REFERENCES account (id) ON DELETE RESTRICT",
            # The county view counts topics by township and state with their due dates
            # and urges: from this index alone (measured: half the time of a table scan).
            "CREATE INDEX topic_county_ix ON topic (township, state, due_on, urged_at)",
        ):
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
