from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.params import Parameter

from api.auth import provide_principal
from deliberation import topics
from deliberation.schemas import EventRead, TopicCreate, TopicPage, TopicRead, TransitionRequest
from deliberation.security import Principal


class TopicController(Controller):
    path = "/api/v1/topics"
    tags = ["topics"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}

    @post("/", operation_id="open_topic")
    async def open_topic(self, principal: Principal, data: TopicCreate) -> TopicRead:
        return await topics.open_topic(principal, data)

    @get("/", operation_id="list_topics")
    async def list_topics(
        self,
        principal: Principal,
        state_filter: Annotated[str | None, Parameter(query="state", max_length=30)] = None,
        village_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1)] = None,
        q: Annotated[str | None, Parameter(max_length=100)] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
        offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
    ) -> TopicPage:
        return await topics.list_topics(
            principal, state=state_filter, village_id=village_id, q=q, limit=limit, offset=offset
        )

    @get("/{topic_id:int}", operation_id="get_topic")
    async def get_topic(self, principal: Principal, topic_id: int) -> TopicRead:
        return await topics.get_topic(principal, topic_id)

    @post("/{topic_id:int}/transitions", operation_id="fire_transition", status_code=200)
    async def fire_transition(
        self, principal: Principal, topic_id: int, data: TransitionRequest
    ) -> TopicRead:
        return await topics.fire_trigger(
            principal, topic_id, data.trigger, data.version, data.comment
        )

    @get("/{topic_id:int}/events", operation_id="list_topic_events")
    async def list_events(self, principal: Principal, topic_id: int) -> list[EventRead]:
        return await topics.list_events(principal, topic_id)
