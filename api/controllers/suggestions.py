"""Suggestions (议题建议): filed with or without an account, read as far as the caller
may (docs/permissions.md), corrected by the office. Supports and screening are in
``api/controllers/suggestion_screening.py``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import provide_optional_principal
from api.middleware import client_of
from api.paging import PAGED, CurrentWindow, paged
from deliberation.errors import Unauthenticated
from deliberation.security import Principal
from deliberation.suggestions import filing, read, similar
from deliberation.suggestions.schemas import (
    SimilarRead,
    SuggestionCreate,
    SuggestionCreated,
    SuggestionEventRead,
    SuggestionPage,
    SuggestionPatch,
    SuggestionRead,
)

Caller = NamedDependency[Principal | None]
IdParameter = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)]


class SuggestionController(Controller):
    path = "/api/v1/suggestions"
    tags = ["suggestions"]
    opt = {"exclude_from_auth": True}
    dependencies = {"caller": Provide(provide_optional_principal)}

    @post("/", operation_id="create_suggestion", status_code=201)
    async def create_suggestion(
        self, request: Request[Any, Any, Any], caller: Caller, data: JSONBody[SuggestionCreate]
    ) -> SuggestionCreated:
        """File a suggestion: without an account with ``submitter_name``,
        ``submitter_phone`` and ``village_id``; signed in without them (the office:
        with them, on a villager's behalf). Rate-limited per client, phone and account:
        429 with ``Retry-After``."""
        limits: filing.SuggestionLimits = request.app.state.suggestion_limits
        return await filing.file_suggestion(caller, data, client_of(request), limits)

    @get("/", operation_id="list_suggestions")
    async def list_suggestions(
        self,
        caller: Caller,
        township_id: IdParameter = None,
        village_id: IdParameter = None,
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        mine: Annotated[bool, QueryParameter()] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> SuggestionPage:
        """The public: screened suggestions; members: those of their place, pending
        ones too; the office: all of its township's. Latest changed first."""
        return await read.list_suggestions(
            caller,
            township_id=township_id,
            village_id=village_id,
            status=status,
            q=q,
            mine=mine,
            limit=limit,
            offset=offset,
        )

    @get("/similar", operation_id="similar_suggestions")
    async def similar_suggestions(
        self,
        caller: Caller,
        title: Annotated[str, QueryParameter(max_length=200)],
        village_id: IdParameter = None,
    ) -> SimilarRead:
        """Open suggestions and topics with a title like ``title``, as far as the
        caller may read them (at most 5 of each)."""
        return await similar.similar(caller, title, village_id)

    @get("/{suggestion_id:int}", operation_id="get_suggestion")
    async def get_suggestion(self, caller: Caller, suggestion_id: FromPath[int]) -> SuggestionRead:
        """By the caller's view (404 for anyone who may not read it); the office also
        gets the original text, what was masked, what to check and who filed it."""
        return await read.get_suggestion(caller, suggestion_id)

    @patch("/{suggestion_id:int}", operation_id="correct_suggestion")
    async def correct_suggestion(
        self, caller: Caller, suggestion_id: FromPath[int], data: JSONBody[SuggestionPatch]
    ) -> SuggestionRead:
        """The township's office corrects the public text, with a reason (masked
        again; kept as a revision; on the suggestion's chain)."""
        if caller is None:
            raise Unauthenticated("请先登录")
        await filing.correct_suggestion(caller, suggestion_id, data)
        return await read.get_suggestion(caller, suggestion_id)

    @get("/{suggestion_id:int}/events", operation_id="list_suggestion_events", **PAGED)
    async def list_suggestion_events(
        self,
        request: Request[Any, Any, Any],
        caller: Caller,
        suggestion_id: FromPath[int],
        window: CurrentWindow,
    ) -> Response[list[SuggestionEventRead]]:
        """The suggestion's chain, oldest first (details for the office only)."""
        return paged(request, await read.page_events(caller, suggestion_id, window))
