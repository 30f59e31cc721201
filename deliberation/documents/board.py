"""The public notice board's pages, kept in memory while the board is unchanged.

Everyone who opens 公开栏 or searches it asks one of a few questions (the newest
notices, a village's name, a word like 路灯), and the answers change only when a
document is published or revoked: a few times a day against thousands of visits. Each
such change raises the ``notice_board`` row's version in its own transaction
(:func:`changed`). A request reads that version (one keyed read, inline on SQLite),
and a page cached under the same version is the answer the database would give;
any other version is a miss. So the board is never staler than the last commit, in
one process or many.

Misses for the same question and version share one query (concurrent visitors after
a publish do not all scan the texts). The cache holds raw rows: links are made per
request from the app's public address.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from piccolo.querystring import QueryString

from deliberation.database import bound_engine, row_by_id

VERSION_SELECT = "SELECT id, version FROM notice_board"


@dataclass(frozen=True)
class BoardPage:
    rows: list[dict[str, Any]]
    total: int


async def current_version() -> int:
    row = await row_by_id(VERSION_SELECT, 1)
    return int(row["version"]) if row else 0


async def changed() -> None:
    """Call inside the transaction that changes what the board shows."""
    await bound_engine().run_querystring(
        QueryString("UPDATE notice_board SET version = version + 1 WHERE id = 1")
    )


class BoardCache:
    """Board pages by question, each good for the board version it was read at."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._engine: object | None = None
        self._pages: OrderedDict[Hashable, tuple[int, BoardPage]] = OrderedDict()
        self._pending: dict[tuple[int, Hashable], asyncio.Future[BoardPage]] = {}

    async def page(self, key: Hashable, load: Callable[[], Awaitable[BoardPage]]) -> BoardPage:
        engine = bound_engine()
        if engine is not self._engine:
            # Another database (a test run, a bench): nothing cached belongs to it.
            self._engine = engine
            self._pages.clear()
            self._pending.clear()
        version = await current_version()
        cached = self._pages.get(key)
        if cached is not None and cached[0] == version:
            self._pages.move_to_end(key)
            return cached[1]
        pending = self._pending.get((version, key))
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request was cancelled, not the one it waited on
                return await load()
        future: asyncio.Future[BoardPage] = asyncio.get_running_loop().create_future()
        self._pending[(version, key)] = future
        try:
            found = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # waiters see it; nobody else has to retrieve it
            raise
        finally:
            del self._pending[(version, key)]
        future.set_result(found)
        self._pages[key] = (version, found)
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)
        return found


pages = BoardCache()
