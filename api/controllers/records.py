from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import CurrentPrincipal, record_guard, record_type_guard
from api.dependencies import CurrentPublishing
from deliberation import corrections, records
from deliberation.errors import NotFound
from deliberation.record_types import GENERIC, NAMED, Storage
from deliberation.schemas import (
    InvestigationCreate,
    InvestigationPatch,
    InvestigationRead,
    MeetingCreate,
    MeetingPatch,
    MeetingRead,
    MinutesPatch,
    MinutesUpdate,
    NoteCreate,
    NotePatch,
    NoteRead,
    OpinionAnswer,
    OpinionCreate,
    OpinionPatch,
    OpinionRead,
    ProgressCreate,
    ProgressRead,
    ResolutionItemCreate,
    ResolutionItemPatch,
    ResolutionItemRead,
    RevisionRead,
    SatisfactionCreate,
    SatisfactionRead,
    SiteConsultationCreate,
    SiteConsultationPatch,
    SiteConsultationRead,
    Tallies,
    VoteCreate,
    VotePatch,
    VoteRead,
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

    @post("/opinions", operation_id="add_opinion", guards=[record_guard("opinion")])
    async def add_opinion(
        self, principal: CurrentPrincipal, topic_id: FromPath[int], data: JSONBody[OpinionCreate]
    ) -> OpinionRead:
        return await records.add_opinion(principal, topic_id, data)

    @get("/opinions", operation_id="list_opinions")
    async def list_opinions(
        self, principal: CurrentPrincipal, topic_id: FromPath[int]
    ) -> list[OpinionRead]:
        return await records.list_opinions(principal, topic_id)

    @post(
        "/investigations", operation_id="add_investigation", guards=[record_guard("investigation")]
    )
    async def add_investigation(
        self,
        principal: CurrentPrincipal,
        topic_id: FromPath[int],
        data: JSONBody[InvestigationCreate],
    ) -> InvestigationRead:
        return await records.add_investigation(principal, topic_id, data)

    @get("/investigations", operation_id="list_investigations")
    async def list_investigations(
        self, principal: CurrentPrincipal, topic_id: FromPath[int]
    ) -> list[InvestigationRead]:
        return await records.list_investigations(principal, topic_id)

    @post(
        "/site-consultations",
        operation_id="add_site_consultation",
        guards=[record_guard("site_consultation")],
    )
    async def add_site_consultation(
        self,
        principal: CurrentPrincipal,
        topic_id: FromPath[int],
        data: JSONBody[SiteConsultationCreate],
    ) -> SiteConsultationRead:
        return await records.add_site_consultation(principal, topic_id, data)

    @get("/site-consultations", operation_id="list_site_consultations")
    async def list_site_consultations(
        self, principal: CurrentPrincipal, topic_id: FromPath[int]
    ) -> list[SiteConsultationRead]:
        return await records.list_site_consultations(principal, topic_id)

    @post("/meetings", operation_id="schedule_meeting", guards=[record_guard("meeting")])
    async def schedule_meeting(
        self, principal: CurrentPrincipal, topic_id: FromPath[int], data: JSONBody[MeetingCreate]
    ) -> MeetingRead:
        return await records.schedule_meeting(principal, topic_id, data)

    @get("/meetings", operation_id="list_meetings")
    async def list_meetings(
        self, principal: CurrentPrincipal, topic_id: FromPath[int]
    ) -> list[MeetingRead]:
        return await records.list_meetings(principal, topic_id)

    @post(
        "/resolution-items",
        operation_id="add_resolution_item",
        guards=[record_guard("resolution_item")],
    )
    async def add_resolution_item(
        self,
        principal: CurrentPrincipal,
        topic_id: FromPath[int],
        data: JSONBody[ResolutionItemCreate],
    ) -> ResolutionItemRead:
        return await records.add_resolution_item(principal, topic_id, data)

    @get("/resolution-items", operation_id="list_resolution_items")
    async def list_resolution_items(
        self, principal: CurrentPrincipal, topic_id: FromPath[int]
    ) -> list[ResolutionItemRead]:
        return await records.list_resolution_items(principal, topic_id)

    @post("/satisfaction", operation_id="rate_satisfaction", guards=[record_guard("satisfaction")])
    async def rate_satisfaction(
        self,
        principal: CurrentPrincipal,
        topic_id: FromPath[int],
        data: JSONBody[SatisfactionCreate],
    ) -> SatisfactionRead:
        return await records.rate_satisfaction(principal, topic_id, data)

    @post("/votes", operation_id="add_vote", guards=[record_type_guard("vote")])
    async def add_vote(
        self, principal: CurrentPrincipal, topic_id: FromPath[int], data: JSONBody[VoteCreate]
    ) -> VoteRead:
        """A body's vote (表决), for workflows that declare a record kind of type
        ``vote`` (409 ``stage_closed`` for a topic whose workflow declares none)."""
        return await records.add_vote(principal, topic_id, data)

    @get("/votes", operation_id="list_votes")
    async def list_votes(
        self, principal: CurrentPrincipal, topic_id: FromPath[int]
    ) -> list[VoteRead]:
        return await records.list_votes(principal, topic_id)

    @post("/notes", operation_id="add_note", guards=[record_type_guard("note")])
    async def add_note(
        self, principal: CurrentPrincipal, topic_id: FromPath[int], data: JSONBody[NoteCreate]
    ) -> NoteRead:
        """A note of a record kind of type ``note`` that the topic's workflow declares
        without a table of its own (``kind`` names it; 422 for a kind it has not): a
        workflow file adds such a kind with no code change (docs/record-kinds.md)."""
        return await records.add_note(principal, topic_id, data)

    @get("/notes", operation_id="list_notes")
    async def list_notes(
        self,
        principal: CurrentPrincipal,
        topic_id: FromPath[int],
        kind: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> list[NoteRead]:
        """The topic's notes (of ``kind``, or of all its note kinds), as far as the
        caller may read each kind."""
        return await records.list_notes(principal, topic_id, kind)

    @get("/tallies", operation_id="topic_tallies")
    async def tallies(self, principal: CurrentPrincipal, topic_id: FromPath[int]) -> Tallies:
        """Opinions by stance and ratings by kind, without names: what everyone of the
        township sees of others' opinions and ratings."""
        return await records.topic_tallies(principal, topic_id)

    @get("/satisfaction", operation_id="list_satisfaction")
    async def list_satisfaction(
        self, principal: CurrentPrincipal, topic_id: FromPath[int]
    ) -> list[SatisfactionRead]:
        return await records.list_satisfaction(principal, topic_id)


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

    @get("/resolution-items/{item_id:int}/progress", operation_id="list_progress")
    async def list_progress(
        self, principal: CurrentPrincipal, item_id: FromPath[int]
    ) -> list[ProgressRead]:
        return await records.list_progress(principal, item_id)


class CorrectionController(Controller):
    """Corrections with a reason (``PATCH`` on a record's own URL) and the record's
    earlier revisions; never an overwrite."""

    path = "/api/v1"
    tags = ["corrections"]

    @patch("/opinions/{record_id:int}", operation_id="correct_opinion")
    async def correct_opinion(
        self, principal: CurrentPrincipal, record_id: FromPath[int], data: JSONBody[OpinionPatch]
    ) -> OpinionRead:
        return await records.correct_opinion(principal, record_id, data)

    @patch("/investigations/{record_id:int}", operation_id="correct_investigation")
    async def correct_investigation(
        self,
        principal: CurrentPrincipal,
        record_id: FromPath[int],
        data: JSONBody[InvestigationPatch],
    ) -> InvestigationRead:
        return await records.correct_investigation(principal, record_id, data)

    @patch("/site-consultations/{record_id:int}", operation_id="correct_site_consultation")
    async def correct_site_consultation(
        self,
        principal: CurrentPrincipal,
        record_id: FromPath[int],
        data: JSONBody[SiteConsultationPatch],
    ) -> SiteConsultationRead:
        return await records.correct_site_consultation(principal, record_id, data)

    @patch("/meetings/{record_id:int}", operation_id="correct_meeting")
    async def correct_meeting(
        self, principal: CurrentPrincipal, record_id: FromPath[int], data: JSONBody[MeetingPatch]
    ) -> MeetingRead:
        return await records.correct_meeting(principal, record_id, data)

    @patch("/resolution-items/{record_id:int}", operation_id="correct_resolution_item")
    async def correct_resolution_item(
        self,
        principal: CurrentPrincipal,
        record_id: FromPath[int],
        data: JSONBody[ResolutionItemPatch],
    ) -> ResolutionItemRead:
        return await records.correct_resolution_item(principal, record_id, data)

    @patch("/notes/{record_id:int}", operation_id="correct_note")
    async def correct_note(
        self, principal: CurrentPrincipal, record_id: FromPath[int], data: JSONBody[NotePatch]
    ) -> NoteRead:
        return await records.correct_note(principal, record_id, data)

    @patch("/votes/{record_id:int}", operation_id="correct_vote")
    async def correct_vote(
        self, principal: CurrentPrincipal, record_id: FromPath[int], data: JSONBody[VotePatch]
    ) -> VoteRead:
        return await records.correct_vote(principal, record_id, data)

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
