"""Votes (表决): a body's vote on a topic — the 党员大会 and 村民代表会议 of 四议两公开
(docs/workflows.md) — that the ``quorum`` requirement reads (hand-written, the same DDL
on both engines apart from the new table's id). A new table: no row to fill, nothing
read from the clock."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Votes"

VOTE_COLUMNS = (
    "topic INTEGER NOT NULL REFERENCES topic (id) ON DELETE RESTRICT, "
    "kind VARCHAR(40) NOT NULL, "
    "body VARCHAR(50) NOT NULL, "
    "held_on DATE NOT NULL, "
    "roster_size INTEGER NOT NULL, "
    "present INTEGER NOT NULL, "
    "votes_for INTEGER NOT NULL, "
    "against INTEGER NOT NULL, "
    "abstain INTEGER NOT NULL, "
    "method VARCHAR(20) NOT NULL, "
    "presided_by VARCHAR(100) NOT NULL, "
    "author INTEGER NOT NULL REFERENCES account (id) ON DELETE RESTRICT, "
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
        await engine.run_ddl(f"CREATE TABLE vote (id {serial}, {VOTE_COLUMNS})")
        await engine.run_ddl("CREATE INDEX vote_topic_ix ON vote (topic)")

    manager.add_raw(run)
    return manager
