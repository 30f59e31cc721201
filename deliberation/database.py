"""Database engines: which one, bound to every table, and their life cycle.

``DELIBERATION_DATABASE_URL`` picks the engine: ``sqlite:///path`` or
``postgresql://user@host:port/db``. The engine is bound explicitly to every
table (and to Piccolo's migration table) before the first query, so nothing
depends on the current folder or on import order.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosqlite
import asyncpg
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.querystring import QueryString
from piccolo.table import Table

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

    def __init__(self, path: str, pool_size: int = 4, **connection_kwargs: Any) -> None:
        connection_kwargs.setdefault("timeout", 30.0)
        super().__init__(path=path, **connection_kwargs)
        self.pool_size = pool_size
        self._inline: sqlite3.Connection | None = None
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

    def read_inline(self, query: str, args: list[Any]) -> list[dict[str, Any]]:
        """Run a short read (a lookup by key) on the event loop's own thread.

        Handing a query to aiosqlite's thread costs a GIL hand-off each way, which
        under load is most of a request's time; a keyed read in WAL mode takes tens
        of microseconds and never waits for writers, so it runs inline instead.
        Only for reads that touch a handful of rows.
        """
        if self._inline is None:
            kwargs = {k: v for k, v in self.connection_kwargs.items() if k != "timeout"}
            self._inline = sqlite3.connect(**kwargs, timeout=1.0, check_same_thread=False)
            self._inline.row_factory = dict_factory
            self._inline.execute("PRAGMA query_only = 1")
        return self._inline.execute(query, args).fetchall()

    async def close_pool(self) -> None:
        if self._inline is not None:
            self._inline.close()
            self._inline = None
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


_CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    OSError,
    # 57xxx: the server is shutting down or an administrator ended the session.
    asyncpg.exceptions.OperatorInterventionError,
)

READER_APPLICATION_NAME = "deliberation-reader"
"""How the keyed-read connections show in ``pg_stat_activity``."""


class PooledPostgresEngine(PostgresEngine):
    """Piccolo's PostgreSQL engine plus a few connections kept for keyed reads.

    asyncpg's pool spends about as much CPU on an acquire/release pair (timeouts,
    inactivity callbacks, the release hook) as on the query itself: measured here,
    45 µs of CPU per pooled ``fetchrow`` against 21 µs on a connection taken from a
    plain free list. Keyed reads outside a transaction (the hottest path of the API)
    use that free list; transactions and every other query use Piccolo's pool.

    A reader that fails for any reason other than an SQL error is dropped and
    replaced on next use, and the read is retried once (it only reads), so a
    restarted server costs no failed request.
    """

    def __init__(self, config: dict[str, Any], readers: int = 4) -> None:
        super().__init__(config=config)
        self.readers = readers
        self._free: asyncio.Queue[asyncpg.Connection | None] | None = None
        # Rows by id asked for in this turn of the event loop, per SELECT.
        self._wanted: dict[str, dict[int, list[asyncio.Future[Any]]]] = {}
        self._batches: set[asyncio.Task[None]] = set()

    @property
    def readers_open(self) -> bool:
        return self._free is not None

    async def open_readers(self) -> None:
        free: asyncio.Queue[asyncpg.Connection | None] = asyncio.Queue()
        for _ in range(self.readers):
            free.put_nowait(await self._connect_reader())
        self._free = free

    async def _connect_reader(self) -> asyncpg.Connection:
        settings = {"application_name": READER_APPLICATION_NAME}
        return await asyncpg.connect(**self.config, server_settings=settings)

    async def close_readers(self) -> None:
        free, self._free = self._free, None
        while free is not None and not free.empty():
            connection = free.get_nowait()
            if connection is not None:
                await connection.close()

    def row_by_id(self, select: str, row_id: int) -> asyncio.Future[Any]:
        """The row with ``row_id`` (or None), read together with every other row
        of the same ``select`` asked for in this turn of the event loop.

        Under load many requests wait on the database at once; each of them costs
        a round trip, a statement execution and a wake-up. Here they share one
        ``WHERE id = ANY($1)`` query instead (measured in-process with 32 concurrent
        requests: ~145 µs of CPU per GET of a topic → ~95 µs). A lone request
        waits for nothing: its query goes out at the end of the current loop turn.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        wanted = self._wanted.get(select)
        if wanted is None:
            wanted = self._wanted[select] = {}
            loop.call_soon(self._send_batch, select)
        wanted.setdefault(row_id, []).append(waiter)
        return waiter

    def _send_batch(self, select: str) -> None:
        wanted = self._wanted.pop(select)
        task = asyncio.get_running_loop().create_task(self._answer(select, wanted))
        self._batches.add(task)
        task.add_done_callback(self._batches.discard)

    async def _answer(self, select: str, wanted: dict[int, list[asyncio.Future[Any]]]) -> None:
        try:
            rows = await self.read_keyed(f"{select} WHERE id = ANY($1::bigint[])", [list(wanted)])
        except BaseException as error:
            for waiters in wanted.values():
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        by_id = {row["id"]: row for row in rows}
        for row_id, waiters in wanted.items():
            row = by_id.get(row_id)
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(row)

    async def read_keyed(self, sql: str, args: list[Any]) -> list[asyncpg.Record]:
        try:
            return await self._read_once(sql, args, fresh=False)
        except asyncpg.PostgresError as error:
            if not isinstance(error, _CONNECTION_LOST):
                raise  # an SQL error: the same read would fail again
        except Exception:
            pass  # the client library lost track of the connection's state
        # Dropped by the server (a restart, an administrator) or left unusable:
        # once more, on a new connection, since the other readers may be gone too.
        return await self._read_once(sql, args, fresh=True)

    async def _read_once(self, sql: str, args: list[Any], fresh: bool) -> list[asyncpg.Record]:
        if self._free is None:
            raise RuntimeError("the PostgreSQL readers are not open; call open_engine() first")
        free = self._free
        connection = await free.get()
        keep = False
        try:
            if connection is not None and (fresh or connection.is_closed()):
                connection.terminate()
                connection = None
            if connection is None:
                connection = await self._connect_reader()
            rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
            keep = True
            return rows
        except asyncpg.PostgresError as error:
            # An SQL error leaves the connection usable; a lost connection does not.
            lost = isinstance(error, _CONNECTION_LOST)
            keep = not lost and connection is not None and not connection.is_closed()
            raise
        finally:
            if not keep and connection is not None:
                connection.terminate()
            free.put_nowait(connection if keep else None)


def engine_for_url(url: str) -> Engine[Any]:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        raw_path = unquote(url[len("sqlite://") :])
        # sqlite:///relative/path  -> "relative/path"; sqlite:////abs/path -> "/abs/path"
        path = raw_path[1:] if raw_path.startswith("/") else raw_path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return PooledSQLiteEngine(path=path)
    if parts.scheme in ("postgres", "postgresql"):
        config: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "user": unquote(parts.username) if parts.username else "postgres",
            "database": parts.path.lstrip("/") or "postgres",
        }
        if parts.password:
            config["password"] = unquote(parts.password)
        return PooledPostgresEngine(config=config)
    raise UnsupportedDatabaseURL(f"unsupported database URL scheme: {parts.scheme!r}")


_bound: Engine[Any] | None = None


def bind_engine(engine: Engine[Any]) -> None:
    """Make ``engine`` the one every table (and the migration runner) uses."""
    global _bound
    _bound = engine
    tables: tuple[type[Table], ...] = (*TABLES, Migration)
    for table in tables:
        table._meta.db = engine


def bound_engine() -> Engine[Any]:
    if _bound is None:
        raise RuntimeError("no database engine is bound; call bind_engine() first")
    return _bound


def is_sqlite(engine: Engine[Any]) -> bool:
    return engine.engine_type == "sqlite"


async def row_by_id(select: str, row_id: int) -> dict[str, Any] | None:
    """One row by primary key, the cheapest way each engine can.

    ``select`` is ``SELECT <columns> FROM <table>`` (constant text; the id is a
    parameter). Outside a transaction it runs inline on SQLite (see
    ``read_inline``) and coalesced with concurrent reads on PostgreSQL (see
    ``PooledPostgresEngine.row_by_id``); inside one, on the transaction's connection.
    """
    engine = bound_engine()
    if engine.current_transaction.get() is None:
        if isinstance(engine, PooledSQLiteEngine):
            rows = engine.read_inline(f"{select} WHERE id = ?", [row_id])
            return rows[0] if rows else None
        if isinstance(engine, PooledPostgresEngine) and engine.readers_open:
            row = await engine.row_by_id(select, row_id)
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
    if isinstance(engine, PooledPostgresEngine):
        await engine.open_readers()


async def close_engine(engine: Engine[Any]) -> None:
    if isinstance(engine, PooledPostgresEngine):
        await engine.close_readers()
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
