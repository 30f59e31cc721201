"""Every change on the chain (product.md §9): event kinds and data, a per-topic event
counter, record revisions, the chain head a published document was issued at, and the
fingerprint of the key the chain is hashed with (hand-written: columns added to
existing tables, the same DDL on both engines apart from the new tables' ids).

The existing chains are re-keyed by ``deliberation.audit.rekey`` after the migrations
run (it needs the key, which is not in the database)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T20:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Event kinds, record revisions, keyed chain"

REVISED = (
    "opinion",
    "investigation",
    "site_consultation",
    "meeting",
    "resolution_item",
    "satisfaction_rating",
)

COMMON = [
    # How many events a topic's chain has: the next event's seq comes from here, under
    # the row lock of the UPDATE that takes it.
    "ALTER TABLE topic ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0",
    "UPDATE topic SET event_seq = (SELECT count(*) FROM topic_event e WHERE e.topic = topic.id)",
    "ALTER TABLE topic_event ADD COLUMN kind VARCHAR(40) NOT NULL DEFAULT 'transition'",
    "ALTER TABLE topic_event ADD COLUMN data TEXT NOT NULL DEFAULT '{}'",
    "UPDATE topic_event SET kind = 'topic.opened' WHERE trigger = 'open'",
    *[f"ALTER TABLE {t} ADD COLUMN revision INTEGER NOT NULL DEFAULT 1" for t in REVISED],
    "ALTER TABLE document ADD COLUMN chain_seq INTEGER NULL",
    "ALTER TABLE document ADD COLUMN chain_hash VARCHAR(64) NULL",
]

REVISION_COLUMNS = (
    "topic INTEGER NOT NULL REFERENCES topic (id) ON DELETE RESTRICT, "
    "record_kind VARCHAR(30) NOT NULL, "
    "record_id INTEGER NOT NULL, "
    "revision INTEGER NOT NULL, "
    "data TEXT NOT NULL, "
    "reason TEXT NOT NULL DEFAULT '', "
    "created_by INTEGER NULL REFERENCES account (id) ON DELETE RESTRICT, "
    "created_at TIMESTAMPTZ NOT NULL"
)
CHAIN_KEY_COLUMNS = "fingerprint VARCHAR(64) NOT NULL, keyed_at TIMESTAMPTZ NOT NULL"
AFTER = [
    "CREATE UNIQUE INDEX record_revision_uq ON record_revision (record_kind, record_id, revision)",
    "CREATE INDEX record_revision_topic_ix ON record_revision (topic)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        serial = (
            "SERIAL PRIMARY KEY"
            if engine.engine_type == "postgres"
            else ("INTEGER PRIMARY KEY AUTOINCREMENT")
        )
        statements = [
            *COMMON,
            f"CREATE TABLE record_revision (id {serial}, {REVISION_COLUMNS})",
            f"CREATE TABLE chain_key (id {serial}, {CHAIN_KEY_COLUMNS})",
            *AFTER,
        ]
        for statement in statements:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
