"""A vote's notice date (通知日期): a 村民会议 must be announced ten days before it is
held (村委会组织法第二十一条), which its quorum rule checks (docs/decisions.md, "村民会议
at the 决议 step"). One nullable column, the same DDL on both engines; earlier votes keep
no date and their vouched content is unchanged."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Vote notice date"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("ALTER TABLE vote ADD COLUMN notice_given_on DATE NULL")

    manager.add_raw(run)
    return manager
