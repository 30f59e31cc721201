"""The fast path: every shortcut the hot requests take around plain Piccolo and
Litestar, in one place, each with what it bought and a switch back.

``DELIBERATION_FAST_PATH=0`` turns all of them off (keyed reads go through Piccolo's
engine and pool, every token is decoded, Litestar's queue-listener logging). That they
never change an answer is proven in every test run, on both engines, by
``tests/deliberation/test_fast_path.py`` (each shortcut against plain Piccolo, PyJWT and
Litestar's logging) and ``tests/api/test_fast_path_twins.py`` (an app with them and one
without, asked the same things); a new shortcut adds its case there (``docs/decisions.md``,
"The fast path"). Figures are CPU per keyed ``GET /api/v1/topics/{id}`` measured
in-process with 32 concurrent requests
(``docs/benchmarks.md``, session 2: ~270 µs at the start, ~72 µs with all of them):

- ``BufferedLogHandler`` — the request log written in batches, not handed to a listener
  thread one record at a time: ~270 → ~165 µs.
- ``PostgresReaders`` — a free list of four reader connections for keyed reads instead
  of asyncpg's pool (whose acquire/release cost as much as the query): ~165 → ~143 µs;
  and reads of rows by id asked for in the same event-loop turn share one
  ``WHERE id = ANY($1)`` query: ~143 → ~80 µs.
- ``InlineSQLiteReader`` — a keyed read on SQLite runs on the event loop's thread
  (WAL: tens of µs, never waits for a writer) instead of a GIL hand-off to aiosqlite's
  thread and back.
- ``TokenCache`` — a verified token's signature is not checked again (PyJWT's decode
  is ~175 µs). It caches only the signature check: the session row is read on every
  request (``deliberation.sessions``), so it cannot outlive a revoked session.

Not here, because they are how the engines work rather than shortcuts: the SQLite
engine's few long-lived connections (Piccolo opens one per query, ~2 ms) and asyncpg's
pool without a reset query on release.
"""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import asyncpg
from piccolo.engine.sqlite import dict_factory

SWITCH_ENV = "DELIBERATION_FAST_PATH"


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """On unless ``DELIBERATION_FAST_PATH`` is 0 (or false, no, off)."""
    value = (os.environ if environ is None else environ).get(SWITCH_ENV, "1")
    return value.strip().lower() not in ("0", "false", "no", "off")


# The request log ---------------------------------------------------------------------


class BufferedLogHandler(logging.handlers.MemoryHandler):
    """Keeps records in memory and writes them together: when the buffer is full, at
    once for a warning or worse, and at the latest ``flush_interval`` seconds later, so a
    quiet server's last line is never held back."""

    def __init__(
        self,
        capacity: int = 256,
        flushLevel: int | str = logging.WARNING,
        target: logging.Handler | None = None,
        flush_interval: float = 0.5,
    ) -> None:
        level = logging.getLevelName(flushLevel) if isinstance(flushLevel, str) else flushLevel
        super().__init__(capacity, flushLevel=level, target=target)
        self.flush_interval = flush_interval
        self._stopped = threading.Event()  # not `_closed`: logging.Handler owns that name
        self.flusher = threading.Thread(
            target=self._flush_periodically, name="log-flush", daemon=True
        )
        self.flusher.start()

    def _flush_periodically(self) -> None:
        while not self._stopped.wait(self.flush_interval):
            if self.buffer:
                self.flush()

    def close(self) -> None:
        self._stopped.set()
        super().close()


# Tokens ------------------------------------------------------------------------------

T = TypeVar("T")


class TokenCache(Generic[T]):
    """Verified tokens (bounded LRU), each good until its expiry."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[T, float]] = OrderedDict()

    def get(self, token: str, now: float) -> T | None:
        found = self._entries.get(token)
        if found is None:
            return None
        value, expires = found
        if now >= expires:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return value

    def put(self, token: str, value: T, expires: float) -> None:
        self._entries[token] = (value, expires)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)


# SQLite ------------------------------------------------------------------------------


class InlineSQLiteReader:
    """Short keyed reads on the event loop's own thread, on a read-only connection."""

    def __init__(self, connection_kwargs: Mapping[str, Any]) -> None:
        self._kwargs = {k: v for k, v in connection_kwargs.items() if k != "timeout"}
        self._connection: sqlite3.Connection | None = None

    def read(self, query: str, args: list[Any]) -> list[dict[str, Any]]:
        if self._connection is None:
            self._connection = sqlite3.connect(**self._kwargs, timeout=1.0, check_same_thread=False)
            self._connection.row_factory = dict_factory
            self._connection.execute("PRAGMA query_only = 1")
        return self._connection.execute(query, args).fetchall()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# PostgreSQL --------------------------------------------------------------------------

CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    OSError,
    # 57xxx: the server is shutting down or an administrator ended the session.
    asyncpg.exceptions.OperatorInterventionError,
)

READER_APPLICATION_NAME = "deliberation-reader"
"""How the keyed-read connections show in ``pg_stat_activity``."""


class PostgresReaders:
    """A few connections kept for keyed reads, on a plain free list, and rows by id
    asked for in one event-loop turn read together.

    A reader that fails for any reason other than an SQL error is dropped and replaced
    on next use, and the read is retried once (it only reads), so a restarted server
    costs no failed request."""

    def __init__(self, config: Mapping[str, Any], count: int = 4) -> None:
        self.config = dict(config)
        self.count = count
        self._free: asyncio.Queue[asyncpg.Connection | None] | None = None
        # Rows by id asked for in this turn of the event loop, per SELECT.
        self._wanted: dict[str, dict[int, list[asyncio.Future[Any]]]] = {}
        self._batches: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        free: asyncio.Queue[asyncpg.Connection | None] = asyncio.Queue()
        for _ in range(self.count):
            free.put_nowait(await self._connect())
        self._free = free

    async def _connect(self) -> asyncpg.Connection:
        settings = {"application_name": READER_APPLICATION_NAME}
        return await asyncpg.connect(**self.config, server_settings=settings)

    async def stop(self) -> None:
        free, self._free = self._free, None
        while free is not None and not free.empty():
            connection = free.get_nowait()
            if connection is not None:
                await connection.close()

    def row_by_id(self, select: str, row_id: int) -> asyncio.Future[Any]:
        """The row with ``row_id`` (or None), read together with every other row of the
        same ``select`` asked for in this turn of the event loop (one ``WHERE id =
        ANY($1)`` query). A lone request waits for nothing: its query goes out at the
        end of the current loop turn."""
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
            rows = await self.read(f"{select} WHERE id = ANY($1::bigint[])", [list(wanted)])
            by_id = {row["id"]: row for row in rows}  # the select must name the id
        except BaseException as error:
            for waiters in wanted.values():
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        for row_id, waiters in wanted.items():
            row = by_id.get(row_id)
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(row)

    async def read(self, sql: str, args: list[Any]) -> list[asyncpg.Record]:
        try:
            return await self._read_once(sql, args, fresh=False)
        except asyncpg.PostgresError as error:
            if not isinstance(error, CONNECTION_LOST):
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
                connection = await self._connect()
            rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
            keep = True
            return rows
        except asyncpg.PostgresError as error:
            # An SQL error leaves the connection usable; a lost connection does not.
            lost = isinstance(error, CONNECTION_LOST)
            keep = not lost and connection is not None and not connection.is_closed()
            raise
        finally:
            if not keep and connection is not None:
                connection.terminate()
            free.put_nowait(connection if keep else None)
