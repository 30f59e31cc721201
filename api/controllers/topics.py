from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import CurrentPrincipal
from api.controllers.accounts import download
from api.paging import PAGED, CurrentWindow, paged
from deliberation import archive, county, topics
from deliberation.schemas import (
    CountyRead,
    EventRead,
    TopicCreate,
    TopicPage,
    TopicRead,
    TransitionRequest,
    UrgeRead,
    UrgeRequest,
)


class TopicController(Controller):
    path = "/api/v1/topics"
    tags = ["topics"]

    @post("/", operation_id="open_topic")
    async def open_topic(
        self, principal: CurrentPrincipal, data: JSONBody[TopicCreate]
    ) -> TopicRead:
        return await topics.open_topic(principal, data)

    @get("/", operation_id="list_topics")
    async def list_topics(
        self,
        principal: CurrentPrincipal,
        state_filter: Annotated[str | None, QueryParameter(name="state", max_length=30)] = None,
        village_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
        township_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> TopicPage:
        """A township's topics, newest first (the county supervisor names the township
        with ``township_id``; everyone else sees their own)."""
        return await topics.list_topics(
            principal,
            state=state_filter,
            village_id=village_id,
            q=q,
            limit=limit,
            offset=offset,
            township_id=township_id,
        )

    @get("/{topic_id:int}", operation_id="get_topic")
    async def get_topic(self, principal: CurrentPrincipal, topic_id: FromPath[int]) -> TopicRead:
        return await topics.get_topic(principal, topic_id)

    @post("/{topic_id:int}/transitions", operation_id="fire_transition", status_code=200)
    async def fire_transition(
        self,
        principal: CurrentPrincipal,
        topic_id: FromPath[int],
        data: JSONBody[TransitionRequest],
    ) -> TopicRead:
        return await topics.fire_trigger(
            principal, topic_id, data.trigger, data.version, data.comment
        )

    @post("/{topic_id:int}/urge", operation_id="urge_topic", status_code=201)
    async def urge(
        self, principal: CurrentPrincipal, topic_id: FromPath[int], data: JSONBody[UrgeRequest]
    ) -> UrgeRead:
        """督办 (the county supervisor): a note on an overdue topic; on its chain, on its
        page until it moves on, and sent to its township's webhooks as ``topic.urged``."""
        return await county.urge(principal, topic_id, data.note)

    @get("/{topic_id:int}/archive", operation_id="topic_archive", media_type="application/zip")
    async def archive(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, topic_id: FromPath[int]
    ) -> Response[bytes]:
        """一事一档: a closed, rejected or withdrawn topic as one BagIt bag (RFC 8493) —
        its published PDFs (every version), the record and its chain as JSON with the
        chain's check, the manifests, and ``bag-info.txt`` with the archive code (档号).
        The township's staff and the county supervisor; 409 before the topic ends."""
        bag = await archive.topic_bag(principal, topic_id, request.app.state.settings.archive())
        return download(bag.content, "application/zip", f"{bag.name}.zip")

    @get("/{topic_id:int}/events", operation_id="list_topic_events", **PAGED)
    async def list_events(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        topic_id: FromPath[int],
        window: CurrentWindow,
    ) -> Response[list[EventRead]]:
        """The topic's chain, oldest first, a page at a time by ``seq``."""
        return paged(request, await topics.page_events(principal, topic_id, window))


@get("/api/v1/overdue", operation_id="list_overdue_topics", tags=["topics"])
async def list_overdue(
    principal: CurrentPrincipal,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
) -> TopicPage:
    """Topics past their stage's due date (staff), the longest overdue first."""
    return await topics.overdue_topics(principal, limit=limit, offset=offset)


@get("/api/v1/county", operation_id="county_view", tags=["topics"])
async def county_view(principal: CurrentPrincipal) -> CountyRead:
    """Every township's topics by state, overdue and urged counts and on-time share, then
    the overdue topics, the longest overdue first (the county supervisor)."""
    return await county.county_view(principal)
