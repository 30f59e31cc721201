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

from dataclasses import dataclass
from typing import Any

from piccolo.querystring import QueryString

from deliberation.caching import VersionedCache
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


class BoardCache(VersionedCache[BoardPage]):
    """Board pages by question, each good for the board version it was read at."""

    def __init__(self, size: int = 512) -> None:
        super().__init__(current_version, size)


pages = BoardCache()
