"""Hand-written msgspec shapes of the API: separate Create and Read structs.

Create shapes forbid unknown fields and bound every string, so bad input is a
422 before anything reaches the database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType, field

NonBlank = Meta(min_length=1, pattern=r"\S")

Username = Annotated[str, Meta(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Password = Annotated[str, Meta(min_length=10, max_length=128)]
"""A new password; the rest of the rules (kinds, not the username) are checked in
``deliberation.security.password_problems`` with plain messages."""
Name = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=100,
        pattern=r"^(?=[\s\S]*\S)[^\x00-\x1f\x7f\ue000-\uf8ff\U000e0000-\U0010ffff]*$",
    ),
]
"""A name (of a place, a person, a unit): not blank, on one line, with no control or
private-use characters (a vertical tab in a township's name once made the county report lose every
township's row: docs/decisions.md, "Names have no control characters")."""
Title = Annotated[str, NonBlank, Meta(max_length=200)]
ShortText = Annotated[str, Meta(max_length=200)]
LongText = Annotated[str, NonBlank, Meta(max_length=5000)]
OptionalLongText = Annotated[str, Meta(max_length=5000)]
Comment = Annotated[str, Meta(max_length=2000)]
Category = Annotated[str, Meta(max_length=50)]
Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Percent = Annotated[int, Meta(ge=0, le=100)]
AwareDatetime = Annotated[datetime, Meta(tz=True)]

Role = Literal["admin", "liaison", "representative", "staff", "supervisor", "village_cadre"]
Stance = Literal["support", "oppose", "suggestion"]
Adoption = Literal["adopted", "partly_adopted", "not_adopted"]
Attendance = Literal["present", "on_leave", "observer"]
Rating = Literal["satisfied", "basically_satisfied", "dissatisfied"]


class Input(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body."""


# Auth and accounts ---------------------------------------------------------------


class TokenRequest(Input):
    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Annotated[str, Meta(min_length=1, max_length=128)]


class UserCreate(Input):
    username: Username
    password: Password
    display_name: Name
    role: Role
    township_id: Id | None = None
    village_id: Id | None = None


class UserUpdate(Input):
    """An administrator's change to an account: any of these fields."""

    display_name: Name | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    township_id: Id | UnsetType | None = UNSET
    village_id: Id | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class UserRead(Struct, kw_only=True):
    id: int
    username: str
    display_name: str
    role: str
    township_id: int | None
    village_id: int | None
    active: bool = True
    phone: str | None = None


class OfferedWorkflow(Struct, kw_only=True):
    """A workflow the signed-in person may open a topic in: offered by their township
    (scope ``township``) or by some of its villages (scope ``village``), and naming
    their role among its openers."""

    key: str
    version: int
    """The version a topic opened now is pinned to."""
    label: str
    summary: str
    scope: Literal["township", "village"]
    village_ids: list[int] | None
    """For a village-scope workflow, the villages that offer it (the topic must name
    one of them); None for a township-scope one (any village of the township, or none)."""


class MeRead(UserRead, kw_only=True):
    """``GET /api/v1/me``: the account, and what it may open."""

    offered_workflows: list[OfferedWorkflow]
    """The workflows this person may open a topic in, in the order the new-topic page
    lists them (empty for an account that opens no topics)."""


class ImportedAccountRead(Struct, kw_only=True):
    row: int
    display_name: str
    username: str
    username_made: bool
    """The row left 用户名 empty: this one was made from the name's pinyin."""
    role: str
    role_label: str
    township_id: int | None
    township_name: str
    village_id: int | None
    village_name: str
    phone: str
    first_password: str | None = None
    """Only in the answer of a real run: shown once, stored as a hash."""


class ImportProblemRead(Struct, kw_only=True):
    row: int
    field: str
    """The column's header in the file (姓名, 角色, …), or ``file``."""
    message: str


class ImportRead(Struct, kw_only=True):
    dry_run: bool
    rows: int
    created: list[ImportedAccountRead]
    """Every account made (empty on a dry run, or when any row has a problem)."""
    checked: list[ImportedAccountRead]
    """The rows without problems, as they would be (or were) created."""
    errors: list[ImportProblemRead]


class TokenResponse(Struct, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int
    user: UserRead
    must_change_password: bool = False
    """After an administrator's reset: only ``PUT /api/v1/me/password`` is allowed."""


class PasswordChange(Input):
    current_password: Annotated[str, Meta(min_length=1, max_length=128)]
    new_password: Password


class TemporaryPassword(Struct, kw_only=True):
    temporary_password: str


class SecurityEventRead(Struct, kw_only=True):
    at: datetime
    kind: str
    kind_label: str
    username: str
    client: str
    result: str
    detail: str


class SecurityLogPage(Struct, kw_only=True):
    items: list[SecurityEventRead]
    total: int


class TownshipCreate(Input):
    name: Name


OfferedKeys = Annotated[
    list[Annotated[str, Meta(min_length=1, max_length=40)]], Meta(max_length=100)
]
"""The keys of the workflows a place offers (``GET /api/v1/workflows`` lists them)."""


Divisor = Annotated[int, Meta(ge=1, le=100)]
DeclineGrounds = Annotated[
    list[Annotated[str, Meta(min_length=1, max_length=200)]], Meta(max_length=20)
]


class TownshipUpdate(Input):
    """An administrator's change to a township: its name, the workflows it offers, or
    both."""

    name: Name | UnsetType = UNSET
    workflows: OfferedKeys | UnsetType = UNSET
    """Township-scope workflow keys; the township's topics may be opened in these only
    (docs/workflows.md, "Which workflows a township offers")."""
    threshold_representatives_divisor: Divisor | UnsetType = UNSET
    """A villager's suggestion must be listed once 1/n of its village's representatives
    support it (5: one fifth, rounded up)."""
    threshold_villagers_divisor: Divisor | UnsetType = UNSET
    """… or 1/n of the village's registered villagers (10: one tenth)."""
    screening_working_days: Annotated[int, Meta(ge=1, le=60)] | UnsetType = UNSET
    """Working days the office has to screen a suggestion once it must be listed."""
    decline_grounds: DeclineGrounds | UnsetType = UNSET
    """The grounds a must-list suggestion may be declined on (its reason quotes one); an
    empty list restores the shipped ones."""


class TownshipRead(Struct, kw_only=True):
    id: int
    name: str
    workflows: list[str]
    """The keys of the township-scope workflows it offers."""
    threshold_representatives_divisor: int = 5
    threshold_villagers_divisor: int = 10
    screening_working_days: int = 10
    decline_grounds: list[str] = msgspec.field(default_factory=list)


class VillageCreate(Input):
    name: Name
    township_id: Id


class VillageRename(Input):
    name: Name


class VillageUpdate(Input):
    """An administrator's change to a village: its name, the workflows it offers, or
    both."""

    name: Name | UnsetType = UNSET
    workflows: OfferedKeys | UnsetType = UNSET
    """Village-scope workflow keys (四议两公开 is offered per village)."""
    shuoshi_day: Annotated[int, Meta(ge=1, le=28)] | UnsetType | None = UNSET
    """Its 说事日, the day of the month (1–28); null clears it."""
    registered_villagers: Annotated[int, Meta(ge=1, le=1_000_000)] | UnsetType | None = UNSET
    """Its 登记村民人数, the roster of the one-tenth rule for suggestions; null switches
    that rule off."""


class VillageRead(Struct, kw_only=True):
    id: int
    name: str
    township_id: int
    workflows: list[str]
    """The keys of the village-scope workflows it offers."""
    shuoshi_day: int | None = None
    """The day of the month of its 说事日 (村民说事), if set."""
    next_shuoshi_day: date | None = None
    """Its next 说事日 from today (the next working day if that day is not one)."""
    registered_villagers: int | None = None
    """Its 登记村民人数 (None: the one-tenth rule is off for it)."""


# Topics and the workflow -----------------------------------------------------------


WorkflowKey = Annotated[str, Meta(min_length=1, max_length=40)]


class TopicCreate(Input):
    title: Title
    description: LongText
    category: Category = ""
    village_id: Id | None = None
    workflow: WorkflowKey = "standard"
    """The key of the workflow the topic follows (``GET /api/v1/workflows`` lists them);
    the topic is pinned to its newest loaded version."""


class TopicWorkflow(Struct, kw_only=True):
    """The workflow a topic is pinned to: its key and version, and its name."""

    key: str
    version: int
    label: str


class TopicRead(Struct, kw_only=True):
    id: int
    reference: str
    title: str
    description: str
    category: str
    township_id: int
    village_id: int | None
    state: str
    state_label: str
    version: int
    opened_by: int
    created_at: datetime
    updated_at: datetime
    available_triggers: list[str]
    due_on: date | None
    """When the current stage should be done (Chinese working days; see the workflow)."""
    due_label: str | None
    due_provisional: bool
    overdue: bool
    urged_at: datetime | None = None
    """When the county supervisor urged (督办) the topic in its current stage, if it did."""
    urge_note: str | None = None
    workflow: TopicWorkflow
    """The workflow version the topic follows, pinned when it was opened."""
    tallies: TopicTallies | None = None
    """Its opinions and ratings counted: in the answer of ``GET /api/v1/topics/{id}``
    (not in lists of topics, nor after a transition)."""


class UrgeRequest(Input):
    note: Annotated[str, Meta(min_length=1, max_length=500)]


class UrgeRead(Struct, kw_only=True):
    topic_id: int
    reference: str
    note: str
    urged_at: datetime
    urged_by: int
    urged_by_name: str
    seq: int
    """The urge's event on the topic's chain."""


class CountyWorkflow(Struct, kw_only=True):
    """One township's topics of one workflow (every version of its key)."""

    label: str
    total: int
    by_state: dict[str, int]
    """Each of the workflow's own states, in its declaration's order (zeros too)."""


class CountyTownship(Struct, kw_only=True):
    """One township on the county view."""

    id: int
    name: str
    by_state: dict[str, int]
    """Topics of every workflow, by state name (``by_workflow`` has each workflow's)."""
    total: int
    active: int
    timed: int
    """Topics now in a stage with a time limit and a due date."""
    overdue: int
    urged: int
    on_time_share: float | None
    """Of ``timed``, the share not past its due date (None when there are none)."""
    by_workflow: dict[str, CountyWorkflow] = msgspec.field(default_factory=dict)
    """Per workflow key with topics in the township: its label and its own states."""
    suggestions_must_list: int = 0
    """Villagers' suggestions that must be listed (须列入议题) and are not screened yet."""
    suggestions_overdue: int = 0
    """Of those, the ones past their screening deadline."""


class OverdueTopicRead(Struct, kw_only=True):
    id: int
    reference: str
    title: str
    township_id: int
    township_name: str
    state: str
    state_label: str
    due_on: date
    due_label: str | None
    days_overdue: int
    urged_at: datetime | None


class OverdueSuggestionRead(Struct, kw_only=True):
    """A suggestion that must be listed, not screened by its deadline (the masked title:
    the county reads suggestions as a supervisor, never the villager's own words)."""

    id: int
    reference: str
    title: str
    township_id: int
    township_name: str
    village_id: int | None
    village_name: str | None
    due_on: date
    days_overdue: int


class CountyRead(Struct, kw_only=True):
    as_of: date
    townships: list[CountyTownship]
    """The township with the most overdue topics first."""
    overdue: list[OverdueTopicRead]
    """The longest overdue first (at most 200)."""
    overdue_total: int
    overdue_suggestions: list[OverdueSuggestionRead] = msgspec.field(default_factory=list)
    """Suggestions past their screening deadline, the longest overdue first (at most 200)."""


class TopicPage(Struct, kw_only=True):
    items: list[TopicRead]
    total: int
    limit: int
    offset: int


class TransitionRequest(Input):
    trigger: Annotated[str, Meta(min_length=1, max_length=40)]
    version: Annotated[int, Meta(ge=1)]
    comment: Comment = ""


class EventRead(Struct, kw_only=True):
    seq: int
    kind: str
    """transition, topic.opened, record.created, record.corrected, opinion.answered,
    satisfaction.rated, document.drafted, document.published, document.revoked, …"""
    data: dict[str, Any]
    """What changed: the record, its revision and the digests the hash covers. Below
    the ``full`` view only the record (``record``, ``id``, ``revision``; for ``counts``
    ``record`` alone): no digests."""
    trigger: str
    from_state: str | None
    to_state: str
    actor_id: int | None
    """Null when nobody acted or the actor may not be named to the caller (an
    opinion's author to those who see opinions as counts, for instance)."""
    comment: str
    """A step's reason, a correction's reason, an urge's note; empty below ``full``."""
    created_at: datetime
    prev_hash: str
    hash: str
    view: str = "full"
    """How much of the event's record the caller sees (the policy's ``record.read``
    view: full, summary, anonymous, counts)."""


class TimeLimitRead(Struct, kw_only=True):
    label: str
    working_days: int
    counted_from: str


class StateRead(Struct, kw_only=True):
    name: str
    label: str
    terminal: bool
    time_limit: TimeLimitRead | None


class RequirementRead(Struct, kw_only=True):
    name: str
    label: str


class TransitionRead(Struct, kw_only=True):
    trigger: str
    label: str
    sources: list[str]
    dest: str
    roles: list[str]
    requires: list[RequirementRead]
    opener_only: bool


class WorkflowRead(Struct, kw_only=True):
    initial: str
    states: list[StateRead]
    transitions: list[TransitionRead]


# Records -----------------------------------------------------------------------------


class OpinionCreate(Input):
    content: LongText
    stance: Stance
    on_behalf_of: Annotated[str, Meta(max_length=50)] = ""


class OpinionAnswer(Input):
    adoption: Adoption
    reason: LongText


class OpinionRead(Struct, kw_only=True):
    id: int
    topic_id: int
    author_id: int | None
    """None (with ``author_name`` and ``on_behalf_of`` empty) in the ``anonymous`` view."""
    author_name: str
    content: str
    stance: str
    on_behalf_of: str
    adoption: str | None
    answer_reason: str
    answered_at: datetime | None
    created_at: datetime
    view: str = "full"
    """How much of it the caller sees: ``full`` or ``anonymous`` (docs/permissions.md)."""
    revision: int = 1
    """Increased by each correction; earlier revisions at ``…/revisions``."""


class InvestigationCreate(Input):
    visited_on: date
    place: Annotated[str, NonBlank, Meta(max_length=200)]
    participants: LongText
    findings: LongText


class InvestigationRead(Struct, kw_only=True):
    id: int
    topic_id: int
    visited_on: date
    place: str
    participants: str
    findings: str
    recorded_by: int | None
    created_at: datetime
    view: str = "full"
    """``summary``: without the people it names (``participants`` empty, no recorder)."""
    revision: int = 1
    """Increased by each correction; earlier revisions at ``…/revisions``."""


class SiteConsultationCreate(Input):
    held_on: date
    place: Annotated[str, NonBlank, Meta(max_length=200)]
    participants: LongText
    summary: LongText


class SiteConsultationRead(Struct, kw_only=True):
    id: int
    topic_id: int
    held_on: date
    place: str
    participants: str
    summary: str
    recorded_by: int | None
    created_at: datetime
    view: str = "full"
    """``summary``: without the people it names (``participants`` empty, no recorder)."""
    revision: int = 1
    """Increased by each correction; earlier revisions at ``…/revisions``."""


RecordKindName = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
"""A record kind's name as a workflow file declares it."""


class NoteCreate(Input):
    """A note of a kind of type ``note`` without a table of its own (the topic's
    workflow declares it: docs/record-kinds.md)."""

    kind: RecordKindName
    held_on: date
    place: Annotated[str, NonBlank, Meta(max_length=200)]
    participants: LongText
    summary: LongText


class NoteRead(Struct, kw_only=True):
    id: int
    topic_id: int
    kind: str
    """The record kind of the topic's workflow (a kind of type ``note``)."""
    kind_label: str
    held_on: date
    place: str
    participants: str
    summary: str
    recorded_by: int | None
    created_at: datetime
    view: str = "full"
    """``summary``: without the people it names (``participants`` empty, no recorder)."""
    revision: int = 1
    """Increased by each correction; earlier revisions at ``…/revisions``."""


class MeetingCreate(Input):
    scheduled_at: AwareDatetime
    place: Annotated[str, NonBlank, Meta(max_length=200)]
    host: Name


class AttendeeIn(Input):
    name: Annotated[str, NonBlank, Meta(max_length=50)]
    attendance: Attendance
    unit: Annotated[str, Meta(max_length=100)] = ""


class MinutesUpdate(Input):
    summary: LongText
    decisions: LongText
    attendees: Annotated[list[AttendeeIn], Meta(min_length=1, max_length=200)]
    reason: Annotated[str, Meta(max_length=2000)] = ""
    """Required once the minutes are recorded: saving them again is a correction."""


class AttendeeRead(Struct, kw_only=True):
    name: str
    unit: str
    attendance: str


class MeetingRead(Struct, kw_only=True):
    id: int
    topic_id: int
    scheduled_at: datetime
    place: str
    host: str
    minutes_recorded: bool
    minutes_summary: str
    minutes_decisions: str
    minutes_recorded_at: datetime | None
    attendees: list[AttendeeRead]
    created_at: datetime
    redraft_document_id: int | None = None
    """After correcting minutes that were published: the new minutes draft to publish."""
    revision: int = 1
    """Increased by each correction; earlier revisions at ``…/revisions``."""


class ResolutionItemCreate(Input):
    content: LongText
    responsible_unit: Annotated[str, NonBlank, Meta(max_length=100)]
    due_date: date


class ProgressCreate(Input):
    note: LongText
    percent: Percent
    completed: bool = False


class ProgressRead(Struct, kw_only=True):
    id: int
    item_id: int
    note: str
    percent: int
    completed: bool
    reported_by: int
    created_at: datetime


class ResolutionItemRead(Struct, kw_only=True):
    id: int
    topic_id: int
    content: str
    responsible_unit: str
    due_date: date
    completed: bool
    latest_progress: ProgressRead | None
    created_at: datetime
    revision: int = 1
    """Increased by each correction; earlier revisions at ``…/revisions``."""


class SatisfactionCreate(Input):
    rating: Rating
    comment: Comment = ""


class SatisfactionRead(Struct, kw_only=True):
    id: int
    topic_id: int
    representative_id: int
    rating: str
    comment: str
    created_at: datetime
    updated_at: datetime
    revision: int = 1
    """Increased by each correction; earlier revisions at ``…/revisions``."""
    representative_name: str = ""
    """Who rated (seen by those who see the rating in full: the office, its author)."""


# Votes (表决, a record type of the village workflows: docs/record-kinds.md) -----------

VoteBody = Annotated[str, NonBlank, Meta(max_length=50)]
"""The body that voted (党员大会, 村民代表会议, …): one of the bodies the topic's workflow
names in its quorum rules (checked by the service)."""
Headcount = Annotated[int, Meta(ge=0, le=100_000)]
VoteMethod = Literal["举手", "无记名投票"]


class VoteCreate(Input):
    body: VoteBody
    held_on: date
    roster_size: Annotated[int, Meta(ge=1, le=100_000)]
    """应到: how many members the body has."""
    present: Headcount
    """实到: how many attended."""
    votes_for: Headcount = field(name="for")
    against: Headcount
    abstain: Headcount
    method: VoteMethod
    presided_by: Name
    notice_given_on: date | None = None
    """When the meeting was announced (a 村民会议's quorum rule asks ten days' notice,
    村委会组织法第二十一条); optional for the other bodies."""


class VoteRead(Struct, kw_only=True):
    id: int
    topic_id: int
    kind: str
    """The record kind of the topic's workflow (a kind of type ``vote``)."""
    body: str
    held_on: date
    roster_size: int
    present: int
    votes_for: int = field(name="for")
    against: int
    abstain: int
    method: str
    presided_by: str
    author_id: int | None
    created_at: datetime
    revision: int = 1
    """Increased by each correction; earlier revisions at ``…/revisions``."""
    notice_given_on: date | None = None


# Corrections (PATCH with a reason; fields left out stay as they are) --------------------

Reason = Annotated[str, NonBlank, Meta(max_length=2000)]
Place = Annotated[str, NonBlank, Meta(max_length=200)]


class OpinionPatch(Input):
    reason: Reason
    content: LongText | UnsetType = UNSET
    stance: Stance | UnsetType = UNSET
    on_behalf_of: Annotated[str, Meta(max_length=50)] | UnsetType = UNSET


class InvestigationPatch(Input):
    reason: Reason
    visited_on: date | UnsetType = UNSET
    place: Place | UnsetType = UNSET
    participants: LongText | UnsetType = UNSET
    findings: LongText | UnsetType = UNSET


class SiteConsultationPatch(Input):
    reason: Reason
    held_on: date | UnsetType = UNSET
    place: Place | UnsetType = UNSET
    participants: LongText | UnsetType = UNSET
    summary: LongText | UnsetType = UNSET


class NotePatch(Input):
    reason: Reason
    held_on: date | UnsetType = UNSET
    place: Place | UnsetType = UNSET
    participants: LongText | UnsetType = UNSET
    summary: LongText | UnsetType = UNSET


class MeetingPatch(Input):
    reason: Reason
    scheduled_at: AwareDatetime | UnsetType = UNSET
    place: Place | UnsetType = UNSET
    host: Name | UnsetType = UNSET


class MinutesPatch(Input):
    reason: Reason
    summary: LongText | UnsetType = UNSET
    decisions: LongText | UnsetType = UNSET
    attendees: Annotated[list[AttendeeIn], Meta(min_length=1, max_length=200)] | UnsetType = UNSET


class ResolutionItemPatch(Input):
    reason: Reason
    content: LongText | UnsetType = UNSET
    responsible_unit: Annotated[str, NonBlank, Meta(max_length=100)] | UnsetType = UNSET
    due_date: date | UnsetType = UNSET


class VotePatch(Input):
    reason: Reason
    body: VoteBody | UnsetType = UNSET
    held_on: date | UnsetType = UNSET
    roster_size: Annotated[int, Meta(ge=1, le=100_000)] | UnsetType = UNSET
    present: Headcount | UnsetType = UNSET
    votes_for: Headcount | UnsetType = field(default=UNSET, name="for")
    against: Headcount | UnsetType = UNSET
    abstain: Headcount | UnsetType = UNSET
    method: VoteMethod | UnsetType = UNSET
    presided_by: Name | UnsetType = UNSET
    notice_given_on: date | UnsetType | None = UNSET


class RevisionRead(Struct, kw_only=True):
    """One revision of a record: its content then, and why and when it was replaced."""

    revision: int
    content: dict[str, Any]
    current: bool
    reason: str
    """Why this revision was replaced (empty for the current one)."""
    replaced_by: int | None
    replaced_at: datetime | None


class ChainHead(Struct, kw_only=True):
    topic_reference: str
    seq: int
    hash: str


class SuggestionHead(Struct, kw_only=True):
    suggestion_reference: str
    seq: int
    hash: str


class PlanHead(Struct, kw_only=True):
    plan_reference: str
    seq: int
    hash: str


class ChainHeads(Struct, kw_only=True):
    """The latest event of each topic and one digest over them all: keep a copy, and
    ``deliberation audit verify --against FILE`` shows that history was only added to.
    The suggestions' and plans' chains are in lists of their own, each with its own
    digest (a copy saved before them still verifies). To the public, the topics the
    public may read (from 决议 on), the screened suggestions and the published plans;
    to the township's staff and the county signed in, every one (``full``). Both carry
    ``root``: one digest over every chain's head at ``root_as_of``, hidden ones too,
    naming none of them (docs/decisions.md, "The public chain: named heads and one
    root")."""

    as_of: str
    heads: list[ChainHead]
    digest: str
    suggestion_heads: list[SuggestionHead] = []
    suggestion_digest: str = ""
    plan_heads: list[PlanHead] = []
    plan_digest: str = ""
    full: bool = False
    root: str = ""
    """SHA-256 over ``root_as_of`` and every topic's, suggestion's and plan's head at
    that moment (chain, reference, seq, hash), in order: named here or not."""
    root_as_of: str = ""
    """The moment (UTC, a few minutes before ``as_of``) the root stands at: each chain's
    head is its last event stamped at or before it."""


class Tallies(Struct, kw_only=True):
    """How many opinions of each stance and ratings of each kind a topic has: what
    anyone who may read the topic sees, with no names."""

    opinions: dict[str, int]
    satisfaction: dict[str, int]


class TopicTallies(Struct, kw_only=True):
    """A topic's opinions and ratings counted (in SQL), with no names: what its page and
    ``GET /api/v1/topics/{id}`` show so that nobody pages a list to count it
    (docs/decisions.md, "Paged lists")."""

    opinions: dict[str, int]
    """By stance (``support``, ``oppose``, ``suggestion``)."""
    adoption: dict[str, int]
    """Answered opinions by adoption (``adopted``, ``partly_adopted``, ``not_adopted``)."""
    unanswered: int
    """Opinions not answered yet."""
    satisfaction: dict[str, int]
    """Ratings by kind (``satisfied``, ``basically_satisfied``, ``dissatisfied``)."""


class Health(Struct):
    status: str


DocumentKind = Literal[
    "minutes",
    "resolution_notice",
    "feedback_report",
    "decision_notice",
    "result_notice",
    "micro_suggestion",
]
PostingDays = Annotated[int, Meta(ge=1, le=60)]


class DocumentCreate(Input):
    kind: DocumentKind


class DocumentPublish(Input):
    posting_days: PostingDays | None = None


class DocumentRevoke(Input):
    reason: Annotated[str, NonBlank, Meta(max_length=500)]


class DocumentRead(Struct, kw_only=True):
    id: int
    topic_id: int | None
    """The topic it belongs to; null for an annual plan's document (docs/decisions.md
    "Documents outside a topic")."""
    topic_reference: str | None
    township_id: int | None
    """Null for the county's documents (the county plan)."""
    township_name: str
    """Empty for the county's documents."""
    kind: str
    kind_label: str
    title: str
    number: str | None
    status: str
    status_label: str
    sha256: str
    size_bytes: int
    pdf_url: str
    verify_url: str
    created_at: datetime
    published_at: datetime | None
    posting_starts_on: date | None
    posting_ends_on: date | None
    posting_provisional: bool
    superseded_by: int | None
    revoked_at: datetime | None
    revoke_reason: str | None
    chain_seq: int | None = None
    chain_hash: str | None = None
    """The topic's chain head when it was published (``GET /api/v1/public/chain-heads``)."""
    source_seq: int | None = None
    """The topic's chain position (events so far) when a draft's words were read."""
    stale: bool = False
    """A draft whose record changed since (已过时): publishing renders it again from the
    record as it is now. Always false for published documents."""
    plan_id: int | None = None
    """The annual plan (series) a plan's document belongs to."""
    plan_version: int | None = None
    """Which version of the plan it issues (第2版)."""
    plan_year: int | None = None


class DocumentPage(Struct, kw_only=True):
    items: list[DocumentRead]
    total: int


# Webhooks ----------------------------------------------------------------------------

EventType = Literal[
    "topic.opened",
    "topic.transitioned",
    "opinion.submitted",
    "document.published",
    "deadline.due_soon",
    "deadline.overdue",
    "topic.urged",
    "suggestion.filed",
    "suggestion.must_list",
    "suggestion.screened",
]
WebhookFormat = Literal["generic", "wecom"]


WebhookTarget = Annotated[str, Meta(min_length=1, max_length=500, pattern=r"^https?://")]
"""Only http(s) addresses are delivered to (``notifications/targets.py``); said in the shape
so the OpenAPI document says it too."""


class WebhookCreate(Input):
    target_url: WebhookTarget
    format: WebhookFormat = "generic"
    events: Annotated[list[EventType], Meta(min_length=1, max_length=10)] | None = None
    """Default: every event type."""
    digest: bool = False
    """One message a day with everything instead of one per event."""
    township_id: Id | None = None
    """Only for an administrator; staff subscribe their own township."""


class WebhookRead(Struct, kw_only=True):
    id: int
    township_id: int
    target_url: str
    format: str
    events: list[str]
    digest: bool
    active: bool
    created_at: datetime
    secret: str | None = None
    """The signing secret: shown once, when the webhook is created."""


class DeliveryRead(Struct, kw_only=True):
    id: int
    event_id: str
    event_type: str
    topic_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime
