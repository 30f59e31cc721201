"""What a workflow declares (product.md §3), as frozen dataclasses.

The workflows themselves are data files (``workflows/<key>/v<version>.toml``, see
docs/workflows.md) that ``workflows.loader`` validates into these classes and
``workflows.registry`` holds. Everything that knows about states, triggers, roles and
requirements reads a loaded declaration: the `transitions` machine, the API guards,
``available_triggers``, the ``/api/v1/workflow`` description and the Mermaid diagram.
It imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

ROLES: Final = ("admin", "liaison", "representative", "staff", "supervisor", "village_cadre")

ROLE_LABELS: Final = MappingProxyType(
    {
        "admin": "系统管理员",
        "liaison": "政协委员/联络员",
        "representative": "村（居）民代表",
        "staff": "工作人员",
        "supervisor": "县政协督办",
        "village_cadre": "村干部",
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
    window: bool = False
    """The stage is a window (an opinion window): ``window_closed`` is met once it ends."""


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
    kind: str = ""
    """Its entry in the vocabulary (``REQUIREMENT_KINDS``): ``records``,
    ``document_published``, ``items_completed``, ``ratings``, ``comment``, ``min_wait``,
    ``quorum``, ``window_closed`` or ``any_of``."""
    params: tuple[tuple[str, Any], ...] = ()
    """The vocabulary entry's parameters, sorted by name (``("at_least", 1)``, …)."""
    basis: str = ""
    """The rule's legal or local basis, quoted in its refusal."""
    alternatives: tuple[Requirement, ...] = ()
    """An ``any_of`` requirement's alternatives: it is met when one of them is (a
    村民代表会议 or a 村民会议 resolves, docs/workflows.md)."""

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    @property
    def leaves(self) -> tuple[Requirement, ...]:
        """The plain requirements it is made of: its alternatives, or itself."""
        return self.alternatives or (self,)


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
    basis: str = ""
    """The step's legal or local basis, if it has one of its own."""

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
    type: str = ""
    """Its record type (``RECORD_TYPES``): what requirements may ask of it."""
    part_of: str = ""
    """The record kind it belongs to (an answer to its opinion, minutes to a meeting)."""


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
    template: str = ""
    """The document template it is rendered with (default: its name)."""


@dataclass(frozen=True, slots=True)
class Workflow:
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    records: tuple[RecordKind, ...]
    documents: tuple[DocumentKind, ...] = ()
    public_from: str = ""
    """From this state of the main path on, a topic has a public page."""
    key: str = ""
    """Its key (``standard``): with ``version``, what a topic is pinned to."""
    version: int = 0
    label: str = ""
    """Its name, in Chinese (标准协商)."""
    summary: str = ""
    """One line for the opener choosing a workflow, in Chinese."""
    basis: tuple[str, ...] = ()
    """The rules it follows (laws, the county's rules), in Chinese."""
    scope: Literal["township", "village"] = "township"
    """Whether a township or a village offers it."""
    openers: tuple[str, ...] = ()
    """The roles that may open a topic in it."""
    shuoshi_day: bool = False
    """Its topics are raised on the village's monthly 说事日 (村民说事): their pages, and
    the new-topic page of a village that has one, show the village's next 说事日."""

    @property
    def unavailable(self) -> str:
        """Why no step can be taken in it now, in Chinese: empty for a loaded workflow;
        the stand-in of a pin whose file is gone says so (``workflows.registry``)."""
        return ""

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

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        """Every requirement it declares (transitions, then documents), once by name."""
        found: dict[str, Requirement] = {}
        for transition in self.transitions:
            for requirement in transition.requires:
                found.setdefault(requirement.name, requirement)
        for document in self.documents:
            if document.requires is not None:
                found.setdefault(document.requires.name, document.requires)
        return tuple(found.values())


TOWNSHIP: Final = ("liaison", "representative", "staff", "village_cadre")
"""The roles that belong to a township and take part in its topics."""
VILLAGE: Final = ("representative", "village_cadre")
"""The roles of one village (村（居）民代表, 村干部): placed in a township and one of its
villages; they read the township's topics, their own list holds their village's."""
OFFICE: Final = ("liaison", "staff")
"""The township's CPPCC liaisons and office staff: they see the record in full."""
COUNTY: Final = ("supervisor",)
"""The county CPPCC (县政协 / 县级协商办): no township of its own; reads every township's
topics and records as the township office does, never drafts, and urges (督办)
overdue topics."""

REQUIREMENT_KINDS: Final = (
    "records",
    "document_published",
    "items_completed",
    "ratings",
    "comment",
    "min_wait",
    "quorum",
    "window_closed",
    "any_of",
)
"""The fixed vocabulary of requirements, implemented once in the domain (``any_of``:
one of several others, e.g. a 村民代表会议's or a 村民会议's vote)."""

RECORD_TYPES: Final = (
    "opinion",
    "answer",
    "note",
    "meeting",
    "minutes",
    "item",
    "progress",
    "rating",
    "vote",
)
"""The types a record kind may have: what it holds and what requirements may ask."""
