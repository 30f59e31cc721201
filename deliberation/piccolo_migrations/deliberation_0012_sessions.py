"""Sessions that end and the security log (product.md §9): one row per sign-in, read on
every request; the flag an administrator's reset sets; the log of sign-ins and account
changes (hand-written, the same DDL on both engines apart from the new tables' ids)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T06:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Sessions and the security log"

SESSION_COLUMNS = (
    "account INTEGER NOT NULL REFERENCES account (id) ON DELETE RESTRICT, "
    "kind VARCHAR(10) NOT NULL, "
    "client VARCHAR(64) NOT NULL DEFAULT '', "
    "created_at TIMESTAMPTZ NOT NULL, "
    "last_seen_at TIMESTAMPTZ NOT NULL, "
    "ended_at TIMESTAMPTZ NULL, "
    "ended_reason VARCHAR(30) NOT NULL DEFAULT '', "
    "must_change_password BOOLEAN NOT NULL DEFAULT false, "
    "csrf_digest VARCHAR(64) NOT NULL DEFAULT ''"
)
SECURITY_EVENT_COLUMNS = (
    "created_at TIMESTAMPTZ NOT NULL, "
    "kind VARCHAR(40) NOT NULL, "
    "username VARCHAR(64) NOT NULL DEFAULT '', "
    "account INTEGER NULL REFERENCES account (id) ON DELETE RESTRICT, "
    "actor INTEGER NULL REFERENCES account (id) ON DELETE RESTRICT, "
    "client VARCHAR(64) NOT NULL DEFAULT '', "
    "result VARCHAR(20) NOT NULL DEFAULT '', "
    "detail TEXT NOT NULL DEFAULT ''"
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
        statements = [
            "ALTER TABLE account ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT false",
            f"CREATE TABLE auth_session (id {serial}, {SESSION_COLUMNS})",
            "CREATE INDEX auth_session_account_ix ON auth_session (account)",
            f"CREATE TABLE security_event (id {serial}, {SECURITY_EVENT_COLUMNS})",
            "CREATE INDEX security_event_created_at_ix ON security_event (created_at)",
        ]
        for statement in statements:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
