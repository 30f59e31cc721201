"""The paging core on its own (docs/decisions.md, "Paged lists"): walking the pages of
a list filtered row by row (``paging.scan``) gives every row the reader may see, once,
in order, in full pages, whatever is hidden and whatever is added between two pages;
``Window.parse`` takes exactly the values the API documents."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from deliberation.errors import BadPage
from deliberation.paging import MAX_KEY, Page, Window, page_of, scan


class Table:
    """Rows keyed 1, 2, …; ``hidden`` keys are what the reader may not see."""

    def __init__(self, n: int, hidden: set[int]) -> None:
        self.keys = list(range(1, n + 1))
        self.hidden = hidden

    async def read(self, window: Window) -> list[int]:  # what ``keyed`` does in SQL
        after = window.after or 0
        return [k for k in self.keys if k > after][: window.limit + 1]

    def keep(self, rows: Sequence[int]) -> list[str]:
        return [f"row{k}" for k in rows if k not in self.hidden]

    async def page(self, window: Window) -> Page[str]:
        return await scan(self.read, lambda k: k, self.keep, lambda s: int(s[3:]), window)


async def walk(table: Table, limit: int, grow: int = 0) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = await table.page(Window(limit=limit, after=after))
        pages.append(page.items)
        if page.next_after is None:
            return pages
        after = page.next_after
        for _ in range(grow):  # rows added between two pages
            table.keys.append(table.keys[-1] + 1 if table.keys else 1)


async def test_every_visible_row_once_in_full_pages() -> None:
    for n in range(0, 9):
        for mask in itertools.product((False, True), repeat=n):
            hidden = {k for k, h in zip(range(1, n + 1), mask, strict=True) if h}
            visible = [f"row{k}" for k in range(1, n + 1) if k not in hidden]
            for limit in (1, 2, 3, 5):
                pages = await walk(Table(n, hidden), limit)
                assert [s for p in pages for s in p] == visible
                assert all(len(p) == limit for p in pages[:-1])  # never short but the last
                assert len(pages[-1]) <= limit and (pages[-1] or len(pages) == 1)


async def test_rows_added_between_pages_come_at_the_end_once() -> None:
    table = Table(7, hidden={2, 5})
    pages = await walk(table, limit=2, grow=1)
    seen = [s for p in pages for s in p]
    assert seen == [f"row{k}" for k in table.keys if k not in table.hidden]
    assert len(seen) == len(set(seen)) and len(table.keys) > 7


def test_page_of_says_whether_there_is_more() -> None:
    window = Window(limit=2)
    assert page_of([1, 2, 3], window, lambda k: k) == Page([1, 2], 2)
    assert page_of([1, 2], window, lambda k: k) == Page([1, 2], None)
    assert page_of([], window, lambda k: k) == Page([], None)


@pytest.mark.parametrize(
    ("limit", "after", "expected"),
    [
        (None, None, Window(100, None)),
        ("", "", Window(100, None)),
        ("1", "0", Window(1, 0)),
        ("500", str(MAX_KEY), Window(500, MAX_KEY)),
        (" 7 ", None, Window(7, None)),
        ("007", "0001", Window(7, 1)),
    ],
)
def test_the_documented_values_are_taken(
    limit: str | None, after: str | None, expected: Window
) -> None:
    assert Window.parse(limit, after) == expected


@pytest.mark.parametrize(
    ("limit", "after", "field"),
    [
        ("0", None, "limit"),
        ("501", None, "limit"),
        ("-1", None, "limit"),
        ("1e2", None, "limit"),
        ("١٠", None, "limit"),  # Arabic-Indic digits: str.isdigit, not ASCII
        (None, "-1", "after"),
        (None, "abc", "after"),
        (None, str(MAX_KEY + 1), "after"),
        (None, "9" * 5000, "after"),  # past Python's int() digit limit: still a 400
    ],
)
def test_anything_else_is_a_bad_page(limit: str | None, after: str | None, field: str) -> None:
    with pytest.raises(BadPage) as raised:
        Window.parse(limit, after)
    assert raised.value.extra == {"field": field} and field in raised.value.detail
