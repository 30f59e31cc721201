"""The API shapes of suggestions (议题建议): filing, reading, similar, correcting.

Read shapes carry only the masked text (``title``/``content`` are the public twins);
the office's view adds ``original``, ``masks``, ``flags`` and ``submitter``
(docs/decisions.md "Suggestions: what the public reads")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from deliberation.schemas import Id, Input, LongText, NonBlank, Title

SubmitterName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=50,
        pattern=r"^(?=[\s\S]*\S)[^\x00-\x1f\x7f\ue000-\uf8ff\U000e0000-\U0010ffff]*$",
    ),
]
"""The filer's name: 1–50 characters on one line, no control characters."""
Phone = Annotated[str, Meta(min_length=1, max_length=30)]
"""A mobile number as typed (separators, +86 and full-width digits allowed); checked
and normalised by ``deliberation.suggestions.filing.normalised_phone``."""
Reason = Annotated[str, NonBlank, Meta(max_length=500)]

Status = Literal["pending", "must_list", "accepted", "merged", "declined"]
View = Literal["office", "own", "masked", "public"]


class SuggestionCreate(Input):
    """``POST /api/v1/suggestions``. Without an account ``submitter_name``,
    ``submitter_phone`` and ``village_id`` are required; signed in they are refused,
    except for staff entering a paper suggestion on a villager's behalf."""

    title: Title
    content: LongText
    village_id: Id | None = None
    """The village it is about; none: township-wide (liaisons and staff only)."""
    submitter_name: SubmitterName | None = None
    submitter_phone: Phone | None = None


class SuggestionCreated(Struct, kw_only=True):
    """What a filer gets back: never the text (an anonymous filer cannot read it)."""

    id: int
    reference: str
    status: Status


class MaskRead(Struct, kw_only=True):
    field: str
    kind: str
    """``id_number``, ``mobile`` or ``filer_name``."""
    start: int
    end: int
    """Offsets into the original text."""
    shown: str


class FlagRead(Struct, kw_only=True):
    """Something the office should check (请核对): kept in the public text."""

    field: str
    kind: str
    """``id_number_invalid``, ``landline`` or ``name``."""
    start: int
    end: int
    message: str


class OriginalText(Struct, kw_only=True):
    title: str
    content: str


class SubmitterRead(Struct, kw_only=True):
    """Who filed it (office only)."""

    name: str
    phone: str
    filed_by: int | None
    """The account that filed it; null: no account."""
    entered_by: int | None
    """The staff member who typed a paper suggestion in."""


class SuggestionRead(Struct, kw_only=True):
    id: int
    reference: str
    township_id: int
    village_id: int | None
    title: str
    """The public title: ID and mobile numbers and the filer's name masked."""
    content: str
    status: Status
    status_label: str
    supports: int
    """All supports (accounts, paper names, the filer)."""
    supports_representatives: int
    screening_due_on: date | None
    must_list_at: datetime | None
    topic_id: int | None
    revision: int
    created_at: datetime
    updated_at: datetime
    view: View
    """What the caller sees: ``office`` (the original too), ``own`` (their own
    suggestion), ``masked`` (members of its place) or ``public`` (screened only)."""
    original: OriginalText | None = None
    masks: list[MaskRead] | None = None
    flags: list[FlagRead] | None = None
    submitter: SubmitterRead | None = None


class SuggestionPage(Struct, kw_only=True):
    items: list[SuggestionRead]
    total: int
    limit: int
    offset: int


class SuggestionPatch(Input, kw_only=True):
    """``PATCH /api/v1/suggestions/{id}`` (township staff): the public text corrected
    where masking missed something or masked too much; masked again before it is kept."""

    public_title: Title | UnsetType = UNSET
    public_content: LongText | UnsetType = UNSET
    reason: Reason


class SimilarSuggestion(Struct, kw_only=True):
    id: int
    reference: str
    title: str
    status: Status
    score: float
    """Dice similarity of the titles' character bigrams (0–1)."""


class SimilarTopic(Struct, kw_only=True):
    id: int
    reference: str
    title: str
    state_label: str
    score: float


class SimilarRead(Struct, kw_only=True):
    """Open suggestions and topics with a title like the one being typed, each kind
    at most 5, best first, as far as the caller may read them."""

    suggestions: list[SimilarSuggestion]
    topics: list[SimilarTopic]


class SuggestionEventRead(Struct, kw_only=True):
    seq: int
    kind: str
    """suggestion.filed, support.added, suggestion.must_list, suggestion.corrected,
    suggestion.screened, suggestion.merged_in."""
    data: dict[str, Any]
    from_state: str | None
    to_state: str
    actor_id: int | None
    comment: str
    """A correction's or screening's reason; empty below the office's view."""
    created_at: datetime
    prev_hash: str
    hash: str
