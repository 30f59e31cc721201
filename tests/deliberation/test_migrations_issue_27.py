"""Migrations 0025 (suggestions) and 0026 (plans; on SQLite the first table rebuild, of
``document``) over a database issue 26 left, holding the demo: its chains still verify,
its documents are all there with the same PDFs, and a document now needs exactly one
owner (docs/decisions.md, "Suggestions and plans: the spine")."""

from __future__ import annotations

from pathlib import Path

from deliberation.tables import TABLES
from tests.cli import run_cli
from tests.deliberation import before_issue_27
from tests.demo import DemoBuild


def test_a_demo_database_from_issue_26_migrates_and_still_verifies(
    demo_build: DemoBuild, database_url: str, tmp_path: Path
) -> None:
    url = before_issue_27.built(demo_build.database, database_url, tmp_path)
    before = before_issue_27.documents(url)
    assert len(before) >= 3 and all(row[1] is not None for row in before)

    migrated = run_cli(url, "migrate", cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "2026-12-08T10:00:00:000000" in migrated.stdout

    verified = run_cli(url, "audit", "verify", cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "审计链完好" in verified.stdout

    # Every document kept, with its owner, number and the very same PDF bytes.
    assert before_issue_27.documents(url) == before
    # The topics' title grams were filled in.
    rows = before_issue_27.run_sql(url, "SELECT title, title_grams FROM topic ORDER BY id")
    assert rows and all(r["title_grams"] for r in rows)
    assert rows[0]["title_grams"].split()[0] == rows[0]["title"][:2].lower()
    # A document of neither a topic nor a plan version is refused by the database.
    refused = before_issue_27.run_sql(
        url, f"UPDATE document SET topic = NULL WHERE id = {before[0][0]}"
    )
    assert isinstance(refused, Exception) and "document_one_owner" in str(refused)
    assert before_issue_27.documents(url) == before


def test_every_column_of_the_tables_is_in_the_migrated_database(migrated: str) -> None:
    """The table classes and the hand-written migrations agree (a column only in
    ``tables.py`` would fail at its first insert)."""
    postgres = migrated.startswith("postgres")
    missing = []
    for table in TABLES:
        name = table._meta.tablename
        sql = (
            "SELECT column_name AS name FROM information_schema.columns "
            f"WHERE table_schema = 'public' AND table_name = '{name}'"
            if postgres
            else f"SELECT name FROM pragma_table_info('{name}')"
        )
        rows = before_issue_27.run_sql(migrated, sql)
        assert not isinstance(rows, Exception), rows
        have = {r["name"] for r in rows}
        missing += [
            f"{name}.{c._meta.db_column_name}"
            for c in table._meta.columns
            if c._meta.db_column_name not in have
        ]
    assert missing == []
