"""The demo database, built once a run by the command ``make run`` uses (a build is
~21 s of CPU) and copied for each test that reads or changes it. The demo tests run on
SQLite files whichever engine the suite uses, so a copy is a file copy (SQLite's
backup, which also takes what is still in the write-ahead log)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from tests.cli import run_cli

SERVED_AT = ("127.0.0.1", 8123)
"""Where the session's demo says it is served, as ``make run PORT=8123`` builds it."""


@dataclass(frozen=True)
class DemoBuild:
    database: Path
    printed: str
    """What ``deliberation demo`` printed: what was made and the accounts to sign in with."""


def build_demo(folder: Path) -> DemoBuild:
    """``deliberation migrate`` then ``deliberation demo --if-empty --host … --port …`` on
    a new database, as ``make run`` does."""
    database = folder / "demo.sqlite3"
    url = f"sqlite:///{database}"
    migrated = run_cli(url, "migrate", cwd=folder)
    assert migrated.returncode == 0, migrated.stderr
    host, port = SERVED_AT
    seeded = run_cli(url, "demo", "--if-empty", "--host", host, "--port", str(port), cwd=folder)
    assert seeded.returncode == 0, seeded.stderr
    return DemoBuild(database, seeded.stdout)


def demo_copy(build: DemoBuild, folder: Path) -> Path:
    """A copy of the built demo of the test's own, in ``folder``."""
    copy = folder / "demo.sqlite3"
    with (
        closing(sqlite3.connect(build.database)) as source,
        closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)
    return copy
