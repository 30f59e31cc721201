"""Server-rendered pages (Simplified Chinese, phone first): the public notice board
and the topic page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from api.controllers.session import page_principal
from api.dependencies import CurrentPublishing
from api.errors import STATUS_OF_CODE
from api.forms import FormData, parse_form, to_login
from deliberation import accounts, documents, records, topics
from deliberation.documents import Publishing
from deliberation.errors import DomainError, NotFound, ValidationFailed
from deliberation.overview import Overview, may_add, topic_overview
from deliberation.schemas import (
    InvestigationCreate,
    OpinionCreate,
    OpinionRead,
    SatisfactionCreate,
    SiteConsultationCreate,
    TopicCreate,
)
from deliberation.security import Principal
from deliberation.topics import OPENER_ROLES

PAGE_SIZE = 20


def _parse_date(raw: str | None) -> tuple[date | None, str | None]:
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, raw


class NoticeBoardController(Controller):
    """公开栏: published documents, newest first, keyword and date-range search."""

    path = "/notices"
    tags = ["pages"]
    opt = {"exclude_from_auth": True}
    include_in_schema = False

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
            "total": found.total,
            "page": page,
            "pages": max(1, -(-found.total // PAGE_SIZE)),
        }
        return Template("notices.html", context=context, status_code=200)


async def _new_topic_form(
    principal: Principal, values: dict[str, Any], problems: dict[str, str], status: int = 200
) -> Template:
    allowed = principal.role in OPENER_ROLES
    villages = await accounts.list_villages(principal) if allowed else []
    return Template(
        "new_topic.html",
        context={
            "allowed": allowed,
            "villages": villages,
            "values": values,
            "problems": problems,
        },
        status_code=status if allowed else 403,
    )


RECORD_FORMS: dict[str, tuple[type[Any], Callable[..., Awaitable[Any]]]] = {
    "opinion": (OpinionCreate, records.add_opinion),
    "investigation": (InvestigationCreate, records.add_investigation),
    "site_consultation": (SiteConsultationCreate, records.add_site_consultation),
    "satisfaction": (SatisfactionCreate, records.rate_satisfaction),
}
"""The record forms the topic page offers (to whom: the workflow's record kinds)."""


async def _opinions_for(principal: Principal | None, view: Overview) -> list[OpinionRead]:
    """Opinions and how they were answered: a representative sees their own; the
    township's other people see all; the public none."""
    if view.public or principal is None:
        return []
    found = await records.list_opinions(principal, view.topic["id"])
    if principal.role == "representative":
        return [o for o in found if o.author_id == principal.id]
    return found


class TopicPageController(Controller):
    """A topic's page: the step indicator, the timeline, the results and documents;
    its township's people can fire the triggers the workflow allows them."""

    path = "/topics"
    tags = ["pages"]
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    async def _render(
        self,
        request: Request[Any, Any, Any],
        publishing: Publishing,
        topic_id: int,
        error: str | None = None,
        status_code: int = 200,
        form: str | None = None,
        values: dict[str, Any] | None = None,
        problems: dict[str, str] | None = None,
    ) -> Template:
        principal = page_principal(request)
        try:
            view = await topic_overview(principal, topic_id, publishing)
        except NotFound as missing:
            return Template(
                "not_found.html",
                context={"message": missing.detail, "signed_in": principal is not None},
                status_code=404,
            )
        return Template(
            "topic.html",
            context={
                "view": view,
                "error": error,
                "signed_in": principal is not None,
                "forms": {
                    kind: not view.public and may_add(principal, view.topic, kind)
                    for kind in RECORD_FORMS
                },
                "opinions": await _opinions_for(principal, view),
                "form": form,
                "values": values or {},
                "problems": problems or {},
            },
            status_code=status_code,
        )

    @get("/new", operation_id="new_topic_page")
    async def new_topic(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        principal = page_principal(request)
        if principal is None:
            return to_login("/topics/new")
        return await _new_topic_form(principal, {}, {})

    @post("/new", operation_id="new_topic_submit", status_code=303)
    async def new_topic_submit(
        self,
        request: Request[Any, Any, Any],
        data: FormData,
    ) -> Template | Redirect:
        principal = page_principal(request)
        if principal is None:
            return to_login("/topics/new")
        values, problems = parse_form(data, TopicCreate)
        if values is None:
            return await _new_topic_form(principal, data, problems, 422)
        try:
            opened = await topics.open_topic(principal, values)
        except ValidationFailed as refused:
            found = {e["field"]: e["message"] for e in refused.errors}
            return await _new_topic_form(principal, data, found, 422)
        except DomainError as refused:
            return await _new_topic_form(principal, data, {"form": refused.detail}, 403)
        return Redirect(f"/topics/{opened.id}", status_code=303)

    @post("/{topic_id:int}/records/{kind:str}", operation_id="topic_page_record", status_code=303)
    async def add_record(
        self,
        request: Request[Any, Any, Any],
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        kind: FromPath[str],
        data: FormData,
    ) -> Redirect | Template:
        principal = page_principal(request)
        if principal is None:
            return to_login(f"/topics/{topic_id}")
        if kind not in RECORD_FORMS:
            return await self._render(request, publishing, -1)
        shape, add = RECORD_FORMS[kind]
        values, problems = parse_form(data, shape)
        if values is None:
            return await self._render(
                request, publishing, topic_id, None, 422, kind, data, problems
            )
        try:
            await add(principal, topic_id, values)
        except DomainError as refused:
            status = STATUS_OF_CODE.get(refused.code, 400)
            return await self._render(
                request, publishing, topic_id, None, status, kind, data, {"form": refused.detail}
            )
        return Redirect(f"/topics/{topic_id}#{kind}-sent", status_code=303)

    @get("/{topic_id:int}", operation_id="topic_page")
    async def page(
        self,
        request: Request[Any, Any, Any],
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
    ) -> Template:
        return await self._render(request, publishing, topic_id)

    @post("/{topic_id:int}/transitions", operation_id="topic_page_fire", status_code=303)
    async def fire(
        self,
        request: Request[Any, Any, Any],
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        data: FormData,
    ) -> Redirect | Template:
        principal = page_principal(request)
        if principal is None:
            return to_login(f"/topics/{topic_id}")
        try:
            version = int(str(data.get("version") or "0"))
        except ValueError:
            version = 0
        try:
            await topics.fire_trigger(
                principal,
                topic_id,
                str(data.get("trigger") or ""),
                version,
                str(data.get("comment") or "")[:2000],
            )
        except DomainError as refused:
            status = STATUS_OF_CODE.get(refused.code, 400)
            return await self._render(request, publishing, topic_id, refused.detail, status)
        return Redirect(f"/topics/{topic_id}", status_code=303)
