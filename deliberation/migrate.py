"""Applying the Piccolo migrations to the bound engine."""

from __future__ import annotations

import contextlib
import io
import os

from piccolo.apps.migrations.commands.forwards import run_forwards

PICCOLO_CONF_MODULE = "deliberation.piccolo_conf"


class MigrationFailed(RuntimeError):
    pass


def use_package_conf() -> None:
    """Point Piccolo at the package's conf, whatever the current folder is."""
    os.environ["PICCOLO_CONF"] = PICCOLO_CONF_MODULE


async def migrate(quiet: bool = False) -> str:
    """Apply every pending migration; returns Piccolo's report."""
    use_package_conf()
    out = io.StringIO()
    with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="deliberation", migration_id="all", fake=False)
    if not result.success:
        raise MigrationFailed(result.message or "migration failed")
    return out.getvalue()
