"""Database engines: which one, bound to every table, and their life cycle.

``DELIBERATION_DATABASE_URL`` picks the engine: ``sqlite:///path`` or
``postgresql://user@host:port/db``. Every table (and Piccolo's migration table)
reads its engine from the application context (``deliberation.context``): the engine a
server, a CLI command or a test bound with :func:`bind_engine`, so nothing depends on
the current folder, on import order, or on which other application shares the process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosqlite
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.querystring import QueryString
from piccolo.table import Table, TableMeta

from deliberation.context import current
from deliberation.fast_path import InlineSQLiteReader, PostgresReaders
from deliberation.tables import TABLES


class UnsupportedDatabaseURL(ValueError):
    pass


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, reusing connections outside transactions.

    Piccolo opens a new connection for every query outside a transaction
    (~2 ms each). Here those queries borrow one of a few long-lived connections
    in autocommit mode; transactions still get a connection of their own.
    Every connection uses WAL and waits (``timeout``) for a busy writer.
    """

    def __init__(
        self, path: str, pool_size: int = 4, fast_path: bool = True, **connection_kwargs: Any
    ) -> None:
        connection_kwargs.setdefault("timeout", 30.0)
        super().__init__(path=path, **connection_kwargs)
        self.pool_size = pool_size
        self.inline = InlineSQLiteReader(self.connection_kwargs) if fast_path else None
        self._pool: asyncio.Queue[aiosqlite.Connection] | None = None
        self._opened: list[aiosqlite.Connection] = []
        self._pool_loop: asyncio.AbstractEventLoop | None = None

    async def get_connection(self) -> aiosqlite.Connection:
        pending = aiosqlite.connect(**self.connection_kwargs)
        # A connection left open by a crash must not keep the process alive at exit.
        pending._thread.daemon = True
        connection = await pending
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    async def _ensure_pool(self) -> asyncio.Queue[aiosqlite.Connection]:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._pool_loop is not loop:
            self._pool = asyncio.Queue()
            self._opened = []
            self._pool_loop = loop
            for _ in range(self.pool_size):
                connection = await self.get_connection()
                self._opened.append(connection)
                self._pool.put_nowait(connection)
        return self._pool

    async def close_pool(self) -> None:
        if self.inline is not None:
            self.inline.close()
        opened, self._opened, self._pool = self._opened, [], None
        for connection in opened:
            await connection.close()

    @contextlib.asynccontextmanager
    async def _borrow(self) -> AsyncIterator[aiosqlite.Connection]:
        pool = await self._ensure_pool()
        connection = await pool.get()
        try:
            yield connection
        finally:
            pool.put_nowait(connection)

    async def _run_pooled(self, query: str, args: list[Any] | None) -> Any:
        async with self._borrow() as connection, connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        if self.current_transaction.get() is not None:
            return await super().run_querystring(querystring, in_pool=in_pool)
        query, args = querystring.compile_string(engine_type=self.engine_type)
        return await self._run_pooled(query, args)

    def write_transaction(self) -> Any:
        """A transaction that takes the write lock at once, so writers queue, not fail."""
        return self.transaction(transaction_type=TransactionType.immediate)


class PooledPostgresEngine(PostgresEngine):
    """Piccolo's PostgreSQL engine, with the fast path's keyed readers when it is on
    (``deliberation.fast_path.PostgresReaders``)."""

    def __init__(self, config: dict[str, Any], fast_path: bool = True) -> None:
        super().__init__(config=config)
        self.readers = PostgresReaders(config) if fast_path else None


def engine_for_url(url: str, fast_path: bool = True) -> Engine[Any]:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        raw_path = unquote(url[len("sqlite://") :])
        # sqlite:///relative/path  -> "relative/path"; sqlite:////abs/path -> "/abs/path"
        path = raw_path[1:] if raw_path.startswith("/") else raw_path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return PooledSQLiteEngine(path=path, fast_path=fast_path)
    if parts.scheme in ("postgres", "postgresql"):
        config: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "user": unquote(parts.username) if parts.username else "postgres",
            "database": parts.path.lstrip("/") or "postgres",
        }
        if parts.password:
            config["password"] = unquote(parts.password)
        return PooledPostgresEngine(config=config, fast_path=fast_path)
    raise UnsupportedDatabaseURL(f"unsupported database URL scheme: {parts.scheme!r}")


class _ContextTableMeta(TableMeta):
    """A table's metadata whose ``db`` is the current application's engine."""

    @property
    def db(self) -> Engine[Any]:
        engine = current().engine
        if engine is None:
            raise RuntimeError("no database engine is bound; call bind_engine() first")
        return engine  # type: ignore[no-any-return]

    @db.setter
    def db(self, value: Engine[Any]) -> None:
        current().engine = value


def _tables_use_the_context() -> None:
    tables: tuple[type[Table], ...] = (*TABLES, Migration)
    for table in tables:
        if type(table._meta) is TableMeta:
            table._meta.__class__ = _ContextTableMeta


_tables_use_the_context()


def bind_engine(engine: Engine[Any]) -> None:
    """Make ``engine`` the one every table (and the migration runner) uses, in the
    current application context."""
    current().engine = engine


def bound_engine() -> Engine[Any]:
    engine = current().engine
    if engine is None:
        raise RuntimeError("no database engine is bound; call bind_engine() first")
    return engine  # type: ignore[no-any-return]


def has_engine() -> bool:
    """Whether the current application context has an engine yet."""
    return current().engine is not None


def is_sqlite(engine: Engine[Any]) -> bool:
    return engine.engine_type == "sqlite"


def is_unique_violation(error: BaseException) -> bool:
    """Whether a write failed on a unique constraint or index (either engine): a
    concurrent writer got there first."""
    import sqlite3

    import asyncpg

    if isinstance(error, asyncpg.UniqueViolationError):
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)


async def row_by_id(select: str, row_id: int) -> dict[str, Any] | None:
    """One row by primary key.

    ``select`` is ``SELECT id, <columns> FROM <table>``: constant text that names the id
    (the id itself is a parameter). With the fast path on and outside a transaction it
    runs inline on SQLite and coalesced with concurrent reads on PostgreSQL
    (``deliberation.fast_path``);
    otherwise through Piccolo, on the transaction's connection if there is one.
    """
    engine = bound_engine()
    if engine.current_transaction.get() is None:
        if isinstance(engine, PooledSQLiteEngine) and engine.inline is not None:
            rows = engine.inline.read(f"{select} WHERE id = ?", [row_id])
            return rows[0] if rows else None
        if isinstance(engine, PooledPostgresEngine) and engine.readers is not None:
            row = await engine.readers.row_by_id(select, row_id)
            return dict(row) if row is not None else None
    rows = await engine.run_querystring(QueryString(select + " WHERE id = {}", row_id))
    return dict(rows[0]) if rows else None


def write_transaction(engine: Engine[Any] | None = None) -> Any:
    """The transaction every write path uses: serialising on SQLite, plain on PostgreSQL."""
    engine = engine or bound_engine()
    if isinstance(engine, PooledSQLiteEngine):
        return engine.write_transaction()
    return engine.transaction()


async def _keep_session(connection: Any) -> None:
    """Pool release without asyncpg's default reset query.

    asyncpg still rolls back a transaction left open; its default reset also runs
    ``RESET ALL; UNLISTEN *; …`` on every release, a second round trip per request
    (measured). Nothing here changes session state, so there is nothing to reset.
    """


async def open_engine(engine: Engine[Any], pool_size: int = 10) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=2, max_size=pool_size, reset=_keep_session)
    if isinstance(engine, PooledPostgresEngine) and engine.readers is not None:
        await engine.readers.start()


async def close_engine(engine: Engine[Any]) -> None:
    if isinstance(engine, PooledPostgresEngine) and engine.readers is not None:
        await engine.readers.stop()
    if isinstance(engine, PostgresEngine):
        if engine.pool is not None:
            await engine.close_connection_pool()
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.close_pool()


__all__ = [
    "PooledPostgresEngine",
    "PooledSQLiteEngine",
    "UnsupportedDatabaseURL",
    "bind_engine",
    "bound_engine",
    "close_engine",
    "engine_for_url",
    "is_sqlite",
    "open_engine",
    "row_by_id",
    "write_transaction",
]
