"""Keyset paging for every list that grows (docs/decisions.md, "Paged lists").

A page is at most ``limit`` rows in the list's own order (ascending id or seq: oldest
first, as the lists always were; webhook deliveries newest first), starting after the
key ``after`` of the last row of the page before. The query asks for ``limit + 1`` rows
to know whether a next page exists, and the key is indexed, so page 200 costs what page
1 costs; rows added between two pages are neither skipped nor repeated.

Where what a reader may see of a row is decided row by row in Python (the timeline,
opinions as the policy shows them), ``scan`` reads chunks in key order until the page is
full: rows the reader may not see are passed over, never counted, never shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from deliberation.errors import BadPage

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_KEY = 2**31 - 1
"""The largest key ``after`` may name: ids and seqs are 32-bit integers (PostgreSQL
refuses a larger number compared with one)."""
UNBOUNDED = 2**62
"""A ``limit`` that is no limit (``Window.everything``)."""

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Window:
    """Which page: at most ``limit`` rows whose key comes after ``after`` (none: the first)."""

    limit: int = DEFAULT_LIMIT
    after: int | None = None

    @classmethod
    def everything(cls) -> Window:
        """No bound (internal callers that need the whole list, e.g. the archive)."""
        return cls(limit=UNBOUNDED)

    @classmethod
    def parse(cls, limit: str | None, after: str | None) -> Window:
        """The window the query string names; ``BadPage`` (400) for anything else."""
        return cls(limit=_parsed("limit", limit, 1, MAX_LIMIT, DEFAULT_LIMIT), after=_after(after))


def _parsed(name: str, raw: str | None, low: int, high: int, default: int) -> int:
    if raw is None or raw == "":
        return default
    text = raw.strip()
    digits = text.isascii() and text.isdigit() and len(text) <= len(str(high))
    if not digits or not low <= int(text) <= high:
        raise BadPage(f"参数 {name} 应为 {low} 至 {high} 之间的整数", field=name)
    return int(text)


def _after(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    return _parsed("after", raw, 0, MAX_KEY, 0)


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of a list: its rows, and the key to ask the next page ``after`` (none
    on the last page)."""

    items: list[T] = field(default_factory=list)
    next_after: int | None = None

    def map(self, convert: Callable[[list[T]], list[R]]) -> Page[R]:
        return Page(convert(self.items), self.next_after)


def keyed(query: Any, key: Any, window: Window, *, descending: bool = False) -> Any:
    """``query`` (a Piccolo select) narrowed to ``window``: after its key, in key order,
    one row more than the page holds."""
    if window.after is not None:
        query = query.where(key < window.after if descending else key > window.after)
    query = query.order_by(key, ascending=not descending)
    if window.limit < UNBOUNDED:
        query = query.limit(window.limit + 1)
    return query


def page_of(rows: Sequence[T], window: Window, key: Callable[[T], int]) -> Page[T]:
    """The page made of ``rows`` as ``keyed`` read them (``limit + 1`` at most)."""
    items = list(rows[: window.limit])
    more = len(rows) > window.limit
    return Page(items, key(items[-1]) if more and items else None)


async def scan(
    read: Callable[[Window], Awaitable[Sequence[R]]],
    row_key: Callable[[R], int],
    keep: Callable[[Sequence[R]], Awaitable[list[T]] | list[T]],
    item_key: Callable[[T], int],
    window: Window,
) -> Page[T]:
    """A page of a list filtered row by row: ``read`` chunks (each a ``keyed`` query
    for the window it is given) until ``limit + 1`` rows are kept or the list ends.
    ``keep`` turns a chunk's rows into the items the reader sees (fewer, or as many)."""
    kept: list[T] = []
    after = window.after
    chunk = window.limit
    while len(kept) <= window.limit:
        rows = await read(Window(limit=chunk, after=after))  # ``keyed``: chunk + 1 at most
        chosen = keep(rows)
        kept += chosen if isinstance(chosen, list) else await chosen
        if len(rows) <= chunk or window.limit >= UNBOUNDED:  # the list ends here
            break
        after = row_key(rows[-1])
        chunk = min(chunk * 2, MAX_LIMIT * 4)
    return page_of(kept, window, item_key)
