"""公开栏: the public notice board, newest first, with keyword and date-range search."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import get
from litestar.params import QueryParameter
from litestar.response import Template

from api.dependencies import CurrentPublishing
from api.pages.signin import PageController
from deliberation import deadlines, documents
from deliberation.schemas import DocumentPage
from deliberation.validation import REVERSED_RANGE

PAGE_SIZE = 20


def _parse_date(raw: str | None) -> tuple[date | None, str | None]:
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, raw


class NoticeBoardController(PageController):
    """公开栏: published documents, newest first, keyword and date-range search."""

    path = "/notices"

    @get("/", operation_id="notice_board")
    async def board(
        self,
        publishing: CurrentPublishing,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        date_from: Annotated[str | None, QueryParameter(name="from", max_length=10)] = None,
        date_to: Annotated[str | None, QueryParameter(name="to", max_length=10)] = None,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    ) -> Template:
        start, bad_from = _parse_date(date_from)
        end, bad_to = _parse_date(date_to)
        errors = {}
        if bad_from:
            errors["from"] = "日期格式应为 年-月-日\uff0c例如 2026-01-05"
        if bad_to:
            errors["to"] = "日期格式应为 年-月-日\uff0c例如 2026-01-05"
        if start and end and end < start:
            # Said plainly, with no list (a reversed range would silently find nothing).
            errors["to"] = REVERSED_RANGE
            found = DocumentPage(items=[], total=0)
        else:
            found = await documents.public_notices(
                publishing,
                q=q,
                date_from=start,
                date_to=end,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
        context: dict[str, Any] = {
            "q": q or "",
            "date_from": date_from or "",
            "date_to": date_to or "",
            "errors": errors,
            "notices": found.items,
            "posting_left": await deadlines.postings_left(
                (d.id, d.posting_ends_on) for d in found.items
            ),
            "total": found.total,
            "page": page,
            "pages": max(1, -(-found.total // PAGE_SIZE)),
        }
        return Template("notices.html", context=context, status_code=200)
