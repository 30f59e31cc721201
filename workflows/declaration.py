"""The consultation workflow, declared once as data (product.md §3).

Everything that knows about states, triggers, roles and requirements reads this
module: the `transitions` machine, the API guards, ``available_triggers``, the
``/api/v1/workflow`` description and the Mermaid diagram in the README.
It imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

ROLES: Final = ("admin", "liaison", "representative", "staff", "supervisor")

ROLE_LABELS: Final = MappingProxyType(
    {
        "admin": "系统管理员",
        "liaison": "政协委员/联络员",
        "representative": "村（居）民代表",
        "staff": "工作人员",
        "supervisor": "县政协督办",
    }
)


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """How long a stage may take, in Chinese working days.

    ``counted_from``: ``entered`` — from the day the topic entered the stage;
    ``meeting`` — from the day of its latest meeting; ``items`` — the earliest due
    date among its resolution items not yet completed (``working_days`` unused).
    """

    label: str
    """What is due, in Chinese (e.g. 完成调研)."""
    working_days: int = 0
    counted_from: Literal["entered", "meeting", "items"] = "entered"


@dataclass(frozen=True, slots=True)
class State:
    name: str
    label: str
    terminal: bool = False
    time_limit: TimeLimit | None = None


@dataclass(frozen=True, slots=True)
class Requirement:
    """A condition a trigger needs; ``label`` names what is missing, in Chinese."""

    name: str
    label: str
    met_by: str = ""
    """What a person does to meet it, for the pages to offer in its place: a record
    kind, ``progress`` (on each item), ``resolution_notice`` (a document published) or
    ``comment`` (the step's own reason)."""


@dataclass(frozen=True, slots=True)
class Transition:
    trigger: str
    label: str
    sources: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    requires: tuple[Requirement, ...] = ()
    opener_only: bool = False
    """Only the account that opened the topic may fire it (``withdraw``)."""
    danger: bool = False
    """Ends the topic for good (不予立项, 撤回): the pages set it apart and ask first."""

    @property
    def needs_reason(self) -> bool:
        """The step is taken with its reason written (a ``comment`` requirement)."""
        return any(r.met_by == "comment" for r in self.requires)


View = Literal["full", "summary", "anonymous", "counts", "none"]
"""How much of a record a person sees, from most to least:

``full`` every field with names; ``summary`` what happened (date, place, summary)
without the private people it names; ``anonymous`` the content and its answer
without the author's or villager's name; ``counts`` only how many of each kind
(stance, rating); ``none`` nothing."""

VIEWS: Final = ("full", "summary", "anonymous", "counts", "none")


@dataclass(frozen=True, slots=True)
class ReadRule:
    """Who sees a kind of record, and how much (product.md §9 "Who sees what").

    ``full``: roles of the topic's township that see every record in full.
    ``author_full``: the person who added a record sees it in full.
    ``others``: what the rest of the township sees.
    ``public``: what anyone sees once the topic is public (``Workflow.public_from``);
    the township's people never see less than that.
    """

    full: tuple[str, ...]
    author_full: bool = False
    others: View = "full"
    public: View = "none"


@dataclass(frozen=True, slots=True)
class RecordKind:
    """A record attached to a topic: who may add it and in which states, who reads
    how much of it, and until when it may be corrected (with a reason)."""

    name: str
    label: str
    roles: tuple[str, ...]
    open_in: tuple[str, ...]
    read: ReadRule | None = None
    """None: read as part of another record (an answer with its opinion)."""
    correct_in: tuple[str, ...] = ()
    """States in which the record may be corrected by the roles that add it."""
    author_only: bool = False
    """Only the person who added a record may correct it (an opinion, a rating)."""


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """An official document of a topic: who drafts and publishes it, and from which
    states (product.md §9 "Documents by state"); ``requires`` names the record it is
    made from (checked by the documents service, 422 ``condition_failed``)."""

    name: str
    label: str
    roles: tuple[str, ...]
    states: tuple[str, ...]
    requires: Requirement | None = None


@dataclass(frozen=True, slots=True)
class Workflow:
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    records: tuple[RecordKind, ...]
    documents: tuple[DocumentKind, ...] = ()
    public_from: str = ""
    """From this state of the main path on, a topic has a public page."""

    def state(self, name: str) -> State:
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(name)

    def transition(self, trigger: str) -> Transition:
        for transition in self.transitions:
            if transition.trigger == trigger:
                return transition
        raise KeyError(trigger)

    def record(self, name: str) -> RecordKind:
        for record in self.records:
            if record.name == name:
                return record
        raise KeyError(name)

    def document(self, name: str) -> DocumentKind:
        for document in self.documents:
            if document.name == name:
                return document
        raise KeyError(name)

    @property
    def public_states(self) -> tuple[str, ...]:
        """``public_from`` and the states after it on the main path."""
        if not self.public_from:
            return ()
        path = self.main_path
        return path[path.index(self.public_from) :]

    @property
    def active_states(self) -> tuple[str, ...]:
        return tuple(state.name for state in self.states if not state.terminal)

    @property
    def main_path(self) -> tuple[str, ...]:
        """The states a topic passes through when nothing goes back or stops early:
        from the initial state, the first declared transition to a state not yet seen."""
        path = [self.initial]
        while True:
            nexts = [
                t.dest for t in self.transitions if path[-1] in t.sources and t.dest not in path
            ]
            if not nexts:
                return tuple(path)
            path.append(nexts[0])

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(state.name for state in self.states)

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(transition.trigger for transition in self.transitions)


# Requirements. Each name is checked by the domain from the topic's records.
INVESTIGATION_RECORDED = Requirement("investigation_recorded", "至少一条调研记录", "investigation")
SITE_CONSULTATION_RECORDED = Requirement(
    "site_consultation_recorded", "至少一条现场协商记录", "site_consultation"
)
MEETING_SCHEDULED = Requirement("meeting_scheduled", "已安排的协商会议", "meeting")
MINUTES_RECORDED = Requirement("minutes_recorded", "会议纪要", "minutes")
RESOLUTION_ITEM_ADDED = Requirement("resolution_item_added", "至少一项协商成果", "resolution_item")
ITEMS_COMPLETED = Requirement("items_completed", "每项协商成果均已报告办结", "progress")
SATISFACTION_RATED = Requirement("satisfaction_rated", "至少一条满意度评价", "satisfaction")
COMMENT_GIVEN = Requirement("comment_given", "说明理由", "comment")
RESOLUTION_NOTICE_PUBLISHED = Requirement(
    "resolution_notice_published", "已发布的协商成果公示", "resolution_notice"
)

REQUIREMENTS: Final = (
    INVESTIGATION_RECORDED,
    SITE_CONSULTATION_RECORDED,
    MEETING_SCHEDULED,
    MINUTES_RECORDED,
    RESOLUTION_ITEM_ADDED,
    ITEMS_COMPLETED,
    SATISFACTION_RATED,
    COMMENT_GIVEN,
    RESOLUTION_NOTICE_PUBLISHED,
)

EARLY_STAGES: Final = ("proposed", "investigated", "site_consultation", "meeting")
ACTIVE: Final = (*EARLY_STAGES, "resolution", "feedback")
TOWNSHIP: Final = ("liaison", "representative", "staff")
"""The roles that belong to a township and take part in its topics."""
OFFICE: Final = ("liaison", "staff")
"""The township's CPPCC liaisons and office staff: they see the record in full."""
COUNTY: Final = ("supervisor",)
"""The county CPPCC (县政协 / 县级协商办): no township of its own; reads every township's
topics and records as the township office does, never drafts, and urges (督办)
overdue topics."""

WORKFLOW: Final = Workflow(
    initial="proposed",
    states=(
        State("proposed", "已提出", time_limit=TimeLimit("完成调研", 10)),
        State("investigated", "已调研", time_limit=TimeLimit("完成现场协商", 10)),
        State("site_consultation", "现场协商", time_limit=TimeLimit("发出会议通知", 5)),
        State(
            "meeting",
            "会议协商",
            time_limit=TimeLimit("印发会议纪要", 7, counted_from="meeting"),
        ),
        State(
            "resolution", "已形成成果", time_limit=TimeLimit("落实协商成果", counted_from="items")
        ),
        State("feedback", "落实反馈", time_limit=TimeLimit("落实协商成果", counted_from="items")),
        State("closed", "已办结", terminal=True),
        State("rejected", "不予立项", terminal=True),
        State("withdrawn", "已撤回", terminal=True),
    ),
    transitions=(
        Transition(
            "investigate",
            "完成调研",
            ("proposed",),
            "investigated",
            ("liaison", "staff"),
            (INVESTIGATION_RECORDED,),
        ),
        Transition(
            "begin_site_consultation",
            "开始现场协商",
            ("investigated",),
            "site_consultation",
            ("liaison", "staff"),
        ),
        Transition(
            "convene_meeting",
            "召开协商会议",
            ("site_consultation",),
            "meeting",
            ("staff",),
            (SITE_CONSULTATION_RECORDED, MEETING_SCHEDULED),
        ),
        Transition(
            "adopt_resolution",
            "形成协商成果",
            ("meeting",),
            "resolution",
            ("staff",),
            (MINUTES_RECORDED, RESOLUTION_ITEM_ADDED),
        ),
        # product.md: start_feedback requires the resolution notice to be published.
        Transition(
            "start_feedback",
            "进入落实反馈",
            ("resolution",),
            "feedback",
            ("staff",),
            (RESOLUTION_NOTICE_PUBLISHED,),
        ),
        Transition(
            "close",
            "办结",
            ("feedback",),
            "closed",
            ("staff",),
            (ITEMS_COMPLETED, SATISFACTION_RATED),
        ),
        Transition(
            "reconsult",
            "重新协商",
            ("feedback",),
            "meeting",
            ("staff",),
            (COMMENT_GIVEN,),
        ),
        Transition(
            "reject",
            "不予立项",
            ("proposed",),
            "rejected",
            ("staff",),
            (COMMENT_GIVEN,),
            danger=True,
        ),
        Transition(
            "withdraw",
            "撤回",
            ("proposed", "investigated"),
            "withdrawn",
            ("liaison",),
            opener_only=True,
            danger=True,
        ),
    ),
    records=(
        # An opinion names its author and a villager: the office and its author see it;
        # other representatives see counts by stance, and the answers without names
        # once the topic is public.
        RecordKind(
            "opinion",
            "意见",
            ("representative",),
            EARLY_STAGES,
            ReadRule(OFFICE, author_full=True, others="counts", public="anonymous"),
            correct_in=EARLY_STAGES,
            author_only=True,
        ),
        RecordKind("opinion_answer", "意见采纳情况", ("staff",), ACTIVE, correct_in=ACTIVE),
        # Investigation and site-consultation records name private people.
        RecordKind(
            "investigation",
            "调研记录",
            OFFICE,
            ("proposed", "investigated", "site_consultation"),
            ReadRule(OFFICE, others="summary", public="summary"),
            correct_in=ACTIVE,
        ),
        RecordKind(
            "site_consultation",
            "现场协商记录",
            OFFICE,
            ("investigated", "site_consultation"),
            ReadRule(OFFICE, others="summary", public="summary"),
            correct_in=ACTIVE,
        ),
        RecordKind(
            "meeting",
            "协商会议",
            ("staff",),
            ("site_consultation", "meeting"),
            ReadRule(TOWNSHIP),
            correct_in=("site_consultation", "meeting"),
        ),
        RecordKind("minutes", "会议纪要", ("staff",), ("meeting",), correct_in=ACTIVE),
        RecordKind(
            "resolution_item",
            "协商成果",
            ("staff",),
            ("meeting", "resolution"),
            ReadRule(TOWNSHIP, public="full"),
            correct_in=("meeting", "resolution", "feedback"),
        ),
        RecordKind(
            "progress",
            "落实进展",
            ("staff",),
            ("resolution", "feedback"),
            ReadRule(TOWNSHIP, public="full"),
        ),
        RecordKind(
            "satisfaction",
            "满意度评价",
            ("representative",),
            ("feedback",),
            ReadRule(OFFICE, author_full=True, others="counts", public="counts"),
        ),
    ),
    documents=(
        DocumentKind(
            "minutes",
            "会议纪要",
            ("staff",),
            ("meeting", "resolution", "feedback"),
            MINUTES_RECORDED,
        ),
        DocumentKind(
            "resolution_notice",
            "协商成果公示",
            ("staff",),
            ("resolution", "feedback"),
            RESOLUTION_ITEM_ADDED,
        ),
        DocumentKind("feedback_report", "落实情况通报", ("staff",), ("feedback", "closed")),
    ),
    public_from="resolution",
)
