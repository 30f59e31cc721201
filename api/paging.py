"""The HTTP side of keyset paging (docs/decisions.md, "Paged lists"): ``limit`` and
``after`` in the query string, the next page's address in an RFC 8288 ``Link`` header
(``rel="next"``, absent on the last page), the body a JSON array as it always was.

A paged route adds ``**PAGED`` to its decorator, takes ``window: CurrentWindow`` and answers
``paged(request, page)``; OpenAPI documents the two parameters and the header."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from deliberation.paging import DEFAULT_LIMIT, MAX_KEY, MAX_LIMIT, Page, Window

T = TypeVar("T")

# Read as text and checked by ``Window.parse`` (a 400 ``bad_page`` naming the parameter,
# where a typed parameter would be the generic 422); documented as the integers they are.
LimitQuery = Annotated[
    str | None,
    QueryParameter(
        name="limit",
        description=f"How many rows a page holds: 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
        schema_extra={
            "one_of": None,
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
        },
    ),
]
AfterQuery = Annotated[
    str | None,
    QueryParameter(
        name="after",
        description=(
            "The key (id, or seq for events) of the last row of the previous page; "
            'the next page\'s address is in the `Link` header (rel="next").'
        ),
        schema_extra={"one_of": None, "type": "integer", "minimum": 0, "maximum": MAX_KEY},
    ),
]


async def page_window(limit: LimitQuery = None, after: AfterQuery = None) -> Window:
    return Window.parse(limit, after)


LINK_HEADER = ResponseHeader(
    name="Link",
    description=(
        'RFC 8288: `<address of the next page>; rel="next"` while there are more rows '
        "(the same query with `after` set); absent on the last page."
    ),
    documentation_only=True,
)

CurrentWindow = NamedDependency[Window]
"""Handler parameter type for the page asked for (``window: CurrentWindow``)."""

PAGED: dict[str, Any] = {
    "dependencies": {"window": Provide(page_window)},
    "response_headers": [LINK_HEADER],
}
"""Decorator arguments of a paged route."""


def next_link(request: Request[Any, Any, Any], after: int) -> str:
    """The root-relative address of the page after ``after``: the same path and query."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
    query.append(("after", str(after)))
    return f'<{request.url.path}?{urlencode(query)}>; rel="next"'


def paged(request: Request[Any, Any, Any], page: Page[T]) -> Response[list[T]]:
    """The page's rows as the body; the next page's address in ``Link``."""
    headers = {} if page.next_after is None else {"Link": next_link(request, page.next_after)}
    return Response(page.items, headers=headers)
