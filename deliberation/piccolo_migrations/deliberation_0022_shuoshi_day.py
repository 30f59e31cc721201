"""Each village's 说事日: the day of the month (1–28) villagers raise matters for the
村民说事 workflow (workflows/shuoshi/v1.toml; docs/decisions.md "The 说事日").
Hand-written: one nullable column on an existing table, the same DDL on both engines;
no village has one until an administrator sets it."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Villages' 说事日"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("ALTER TABLE village ADD COLUMN shuoshi_day INTEGER NULL")

    manager.add_raw(run)
    return manager
