"""The chain vouches for every stored fact (docs/decisions.md "The chain"): which scheme
the chain's events vouch with (``chain_key.scheme``; 2 = keyed digests of each field, the
topic's own facts, kept revisions), raised by ``audit.revouch`` once every topic and
record is vouched under it. And the chain position a document draft was made from
(``document.source_seq``), so a draft made before a later change is known to be stale."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T10:17:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Chain vouching scheme, document source position"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("ALTER TABLE chain_key ADD COLUMN scheme INTEGER NOT NULL DEFAULT 1")
        await engine.run_ddl("ALTER TABLE document ADD COLUMN source_seq INTEGER")

    manager.add_raw(run)
    return manager
