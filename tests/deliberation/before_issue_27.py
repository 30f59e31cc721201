"""A database as issue 26 left it (migrations up to 0024), holding the demo's rows: the
schema is made by the migrations of that time, then every row of the built demo is
copied in, column by column for the columns that schema has. ``migrate`` then runs
0025 and 0026 over real data (topics to back-fill, documents to rebuild on SQLite)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from piccolo.apps.migrations.commands.forwards import run_forwards

from deliberation.context import AppContext, entered
from deliberation.database import bind_engine, close_engine, engine_for_url, open_engine
from deliberation.migrate import use_package_conf

ISSUE_26 = "2026-12-06T23:00:00:000000"
"""The last migration before issue 27 (0024, note records)."""


def _in_own_context(work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` on an event loop and application context of its own (the caller may
    be a test on the suite's loop)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            with entered(AppContext()):
                outcome["result"] = asyncio.run(work())  # type: ignore[arg-type]
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, name="before-issue-27")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


async def _migrate_to_issue_26(url: str) -> None:
    use_package_conf()
    engine = engine_for_url(url)
    bind_engine(engine)
    await open_engine(engine)
    try:
        result = await run_forwards(app_name="deliberation", migration_id=ISSUE_26, fake=False)
        assert result.success, result.message
    finally:
        await close_engine(engine)


def _source_rows(source: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    with closing(sqlite3.connect(source)) as db:
        names = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'migration'"
            )
        ]
        tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
        for name in names:
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = db.execute(f'SELECT {listed} FROM "{name}"')
            tables[name] = (columns, [tuple(row) for row in rows])
        return tables


def _copy_into_sqlite(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(target)) as db:
        db.execute("PRAGMA foreign_keys = OFF")
        db.execute("ATTACH DATABASE ? AS source", (str(source),))
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM main.sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'migration'"
            )
        ]
        for table in tables:
            have = {r[1] for r in db.execute(f'PRAGMA source.table_info("{table}")')}
            columns = [r[1] for r in db.execute(f'PRAGMA main.table_info("{table}")')]
            shared = ", ".join(f'"{c}"' for c in columns if c in have)
            db.execute(f'DELETE FROM main."{table}"')  # the rows a migration seeded
            db.execute(
                f'INSERT INTO main."{table}" ({shared}) SELECT {shared} FROM source."{table}"'
            )
        db.commit()
        db.execute("DETACH DATABASE source")


def _plain(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "timestamp with time zone":
        return datetime.fromisoformat(value) if isinstance(value, str) else value
    if kind == "date":
        return date.fromisoformat(value) if isinstance(value, str) else value
    if kind == "boolean":
        return bool(value)
    if kind == "bytea":
        return bytes(value) if not isinstance(value, str) else value.encode()
    return value


async def _copy_into_postgres(source: Path, url: str) -> None:
    import asyncpg

    tables = _source_rows(source)
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            # Foreign keys are checked by the source's own migrations; rows go in table
            # by table in any order.
            await connection.execute("SET LOCAL session_replication_role = replica")
            kinds: dict[str, dict[str, str]] = {}
            for row in await connection.fetch(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public'"
            ):
                kinds.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
            for table, (columns, rows) in tables.items():
                target = kinds.get(table)
                if target is None:
                    continue
                await connection.execute(f'DELETE FROM "{table}"')  # a migration's seed
                shared = [i for i, c in enumerate(columns) if c in target]
                names = ", ".join(f'"{columns[i]}"' for i in shared)
                marks = ", ".join(f"${n}" for n in range(1, len(shared) + 1))
                await connection.executemany(
                    f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                    [tuple(_plain(row[i], target[columns[i]]) for i in shared) for row in rows],
                )
                if "id" in target:
                    await connection.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f'(SELECT max(id) FROM "{table}"))'
                    )
    finally:
        await connection.close()


async def _recreate_postgres(url: str, name: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def built(demo: Path, suite_url: str, folder: Path) -> str:
    """A database before issue 27 with the demo's rows, on the suite's engine: its URL
    (PostgreSQL: a database of its own beside the suite's, ``…_before27``)."""
    if suite_url.startswith("postgres"):
        name = f"{urlsplit(suite_url).path.lstrip('/') or 'postgres'}_before27"
        url = _in_own_context(lambda: _recreate_postgres(suite_url, name))
        _in_own_context(lambda: _migrate_to_issue_26(url))
        _in_own_context(lambda: _copy_into_postgres(demo, url))
        return str(url)
    target = folder / "before27.sqlite3"
    url = f"sqlite:///{target}"
    _in_own_context(lambda: _migrate_to_issue_26(url))
    _copy_into_sqlite(demo, target)
    return url


def documents(url: str) -> list[tuple[Any, ...]]:
    """Every document's id, owner, kind, number and the SHA-256 of its stored PDF."""

    async def read() -> list[tuple[Any, ...]]:
        engine = engine_for_url(url)
        bind_engine(engine)
        await open_engine(engine)
        try:
            rows = await engine.run_ddl(
                "SELECT id, topic, township, kind, status, number_year, number, sha256, pdf "
                "FROM document ORDER BY id"
            )
        finally:
            await close_engine(engine)
        import hashlib

        return [
            (
                r["id"],
                r["topic"],
                r["township"],
                r["kind"],
                r["status"],
                r["number_year"],
                r["number"],
                r["sha256"],
                hashlib.sha256(bytes(r["pdf"])).hexdigest(),
            )
            for r in rows
        ]

    return list(_in_own_context(read))


def run_sql(url: str, sql: str) -> Any:
    """One statement on ``url`` (its rows, or the error it raised)."""

    async def run() -> Any:
        engine = engine_for_url(url)
        bind_engine(engine)
        await open_engine(engine)
        try:
            return await engine.run_ddl(sql)
        except Exception as error:
            return error
        finally:
            await close_engine(engine)

    return _in_own_context(run)
