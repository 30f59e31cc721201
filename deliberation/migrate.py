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
    # The chain is hashed with a key that is not in the database: re-key the first
    # release's chains once, and refuse a key that is not the chain's.
    from deliberation import audit

    try:
        rehashed = await audit.rekey()
        revouched = await audit.revouch()
    except (audit.ChainKeyMismatch, audit.ChainNotIntact) as error:
        raise MigrationFailed(str(error)) from error
    if rehashed:
        out.write(f"re-keyed {rehashed} chain events with the audit key\n")
    if revouched:
        out.write(f"re-vouched {revouched} topics and their records under the new chain scheme\n")
    return out.getvalue()
