from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, JSONBody

from api.auth import CurrentPrincipal, record_guard
from api.dependencies import CurrentPublishing
from api.paging import PAGED, CurrentWindow, paged
from deliberation import corrections, records
from deliberation.errors import NotFound
from deliberation.record_types import GENERIC, NAMED, Storage
from deliberation.schemas import (
    MeetingRead,
    MinutesPatch,
    MinutesUpdate,
    OpinionAnswer,
    OpinionRead,
    ProgressCreate,
    ProgressRead,
    RevisionRead,
    Tallies,
)

REVISED_PATHS: dict[str, tuple[str, Storage]] = {
    **{s.path: (kind, s) for kind, (_, s) in NAMED.items() if s.path and s.revised and s.correct},
    **{
        t.generic.path: ("", t.generic)
        for t in GENERIC.values()
        if t.generic is not None and t.generic.revised
    },
}
"""The collections whose records keep revisions (from the record types): path → the
kind (none for a generic table: each row names its kind) and its storage."""


class TopicRecordsController(Controller):
    """Records attached to a topic: add one (roles from the workflow), list them."""

    path = "/api/v1/topics/{topic_id:int}"
    tags = ["records"]

    @get("/tallies", operation_id="topic_tallies")
    async def tallies(self, principal: CurrentPrincipal, topic_id: FromPath[int]) -> Tallies:
        """Opinions by stance and ratings by kind, without names: what everyone of the
        township sees of others' opinions and ratings."""
        return await records.topic_tallies(principal, topic_id)


class RecordController(Controller):
    """Actions on a record itself: answering an opinion, minutes, progress."""

    path = "/api/v1"
    tags = ["records"]

    @post(
        "/opinions/{opinion_id:int}/answer",
        operation_id="answer_opinion",
        status_code=200,
        guards=[record_guard("opinion_answer")],
    )
    async def answer_opinion(
        self, principal: CurrentPrincipal, opinion_id: FromPath[int], data: JSONBody[OpinionAnswer]
    ) -> OpinionRead:
        return await records.answer_opinion(principal, opinion_id, data)

    @put(
        # ``record_id`` as in the PATCH of the same address (one path in the OpenAPI).
        "/meetings/{record_id:int}/minutes",
        operation_id="record_minutes",
        guards=[record_guard("minutes")],
    )
    async def record_minutes(
        self, principal: CurrentPrincipal, record_id: FromPath[int], data: JSONBody[MinutesUpdate]
    ) -> MeetingRead:
        return await records.record_minutes(principal, record_id, data)

    # The correction of minutes lives beside their recording: one address, one route
    # (Litestar cannot share a path between two controllers).
    @patch("/meetings/{record_id:int}/minutes", operation_id="correct_minutes")
    async def correct_minutes(
        self,
        principal: CurrentPrincipal,
        publishing: CurrentPublishing,
        record_id: FromPath[int],
        data: JSONBody[MinutesPatch],
    ) -> MeetingRead:
        return await records.correct_minutes(principal, record_id, data, publishing)

    @post(
        "/resolution-items/{item_id:int}/progress",
        operation_id="add_progress",
        guards=[record_guard("progress")],
    )
    async def add_progress(
        self, principal: CurrentPrincipal, item_id: FromPath[int], data: JSONBody[ProgressCreate]
    ) -> ProgressRead:
        return await records.add_progress(principal, item_id, data)

    @get("/resolution-items/{item_id:int}/progress", operation_id="list_progress", **PAGED)
    async def list_progress(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        item_id: FromPath[int],
        window: CurrentWindow,
    ) -> Response[list[ProgressRead]]:
        return paged(request, await records.page_progress(principal, item_id, window))


class CorrectionController(Controller):
    """Corrections with a reason (``PATCH`` on a record's own URL) and the record's
    earlier revisions; never an overwrite."""

    path = "/api/v1"
    tags = ["corrections"]

    @get(
        [
            *(f"/{path}/{{record_id:int}}/revisions" for path in REVISED_PATHS),
            "/meetings/{record_id:int}/minutes/revisions",
        ],
        operation_id=lambda handler, method, parts: (
            "revisions_of_"
            + "_".join(
                str(p) for p in parts if isinstance(p, str) and p not in ("api", "v1")
            ).replace("-", "_")
        ),
    )
    async def revisions(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, record_id: FromPath[int]
    ) -> list[RevisionRead]:
        """The record's revisions, oldest first; the current one last."""
        record = await record_of_path(request.url.path, record_id)
        return await corrections.revisions(principal, record, record_id)


async def record_of_path(path: str, record_id: int) -> str:
    """``/api/v1/meetings/7/minutes/revisions`` → ``minutes``; ``/api/v1/votes/3/…``
    → the kind vote 3 is of."""
    parts = path.strip("/").split("/")
    if parts[-2] == "minutes":
        return "minutes"
    kind, storage = REVISED_PATHS[parts[2]]
    if kind:
        return kind
    table: Any = storage.table
    row = await table.select(table.kind).where(table.id == record_id).first()
    if row is None:
        raise NotFound("记录不存在")
    return str(row["kind"])
