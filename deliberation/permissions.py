"""Who may see or do what: one policy, built from the workflow declaration.

Every "may this person see or do this" is answered here by :func:`allowed`, with a
reason in Chinese and the error to refuse with. Services ask it before they read or
write; the API's guards, the pages, the documents and the webhooks go through those
services or ask it themselves, so they cannot disagree. ``docs/permissions.md`` is
generated from this module (``python -m deliberation.permissions``; a test keeps it
current).

How a person stands to a topic (its *relation*) decides most answers:

``own_township``  a liaison or staff member of the topic's township;
``own_village``   a representative of the topic's village (or of a township-wide topic);
``other_village`` a representative of another village of the same township;
``other_township`` a signed-in person of another township (or of none: an admin);
``county``        the county supervisor (县政协督办), over every township;
``public``        nobody signed in.

A topic hidden from someone is "not found" (404) for them, never "forbidden": they
learn nothing about it. What a role may never do is refused first (403), whatever the
topic: that says nothing about the topic either. Other townships and the public see a
topic's public version once it reaches ``WORKFLOW.public_from``. The county supervisor
reads every township's topics and records as the township office does, but takes no
part in them: no records, no steps, no drafts; it may urge (督办) an overdue topic.

Which rows a list shows (a township's topics, a person's own list, webhooks, full or
public figures, townships, the ledger's township) is the policy's answer too:
:meth:`Policy.scope` gives a :class:`Scope`, and ``deliberation.scoping`` turns it into
the queries' conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from deliberation.clock import china_today
from deliberation.errors import (
    DomainError,
    Forbidden,
    NotFound,
    StageClosed,
    SuggestionScreened,
    TransitionNotAllowed,
    WorkflowUnavailable,
)
from deliberation.pinning import DEFAULT_KEY, loaded, workflow_of
from deliberation.record_types import NAMED
from deliberation.security import Principal
from workflows import REGISTRY, ROLE_LABELS, VIEWS, WORKFLOW, RecordKind, Workflow
from workflows.declaration import COUNTY, OFFICE, TOWNSHIP, VILLAGE
from workflows.registry import Registry

Relation = Literal[
    "own_township", "own_village", "other_village", "other_township", "county", "public"
]
RELATIONS: Final[tuple[Relation, ...]] = get_args(Relation)

Action = Literal[
    "topic.open",
    "topic.read",
    "topic.list",
    "topic.fire",
    "topic.urge",
    "topic.archive",
    "record.add",
    "record.read",
    "record.correct",
    "event.read",
    "document.draft",
    "document.publish",
    "document.revoke",
    "document.read_draft",
    "webhook.manage",
    "overdue.read",
    "account.manage",
    "county.read",
    "ledger.export",
]
ACTIONS: Final[tuple[Action, ...]] = get_args(Action)

ScopeName = Literal[
    "topic.list",
    "my.list",
    "webhook.list",
    "statistics.full",
    "statistics.liaisons",
    "township.list",
    "ledger.export",
    "suggestion.list",
    "plan.list",
]
"""The lists whose rows depend on who asks (:meth:`Policy.scope`)."""
SCOPES: Final[tuple[ScopeName, ...]] = get_args(ScopeName)

OPENERS: Final = ("liaison", "staff")
"""Who opens topics in a workflow whose file names no ``openers`` (a township's CPPCC
liaisons and its office staff, as standard v1 names them)."""
ADMINS: Final = ("admin",)
SUPERVISORS: Final = COUNTY
"""The county CPPCC: every township's topics, the county view, urging."""
OFFICE_ONLY: Final = ("staff",)
"""The township office: documents, webhooks, the overdue list."""
TOWNSHIP_ACTIONS: Final = ("topic.open", "topic.list", "overdue.read", "ledger.export")
"""Actions on the person's own township rather than on one topic."""
VILLAGE_RECORDS: Final = ("opinion", "satisfaction")
"""Records a representative adds only to topics of their own village (or township-wide)."""
OWN_TOPICS_ONLY: Final = ("liaison",)
"""Whose own list (我的议题) holds only the topics they opened."""
VILLAGE_ACTORS: Final = ("village_cadre",)
"""Roles that act (steps, records, documents, opening) only on topics of their own village
(or township-wide ones): a village cadre (村干部) works their own village's matters."""
VILLAGE_ROLES: Final = VILLAGE
"""Roles of one village: they see the township's topics, but their own list holds their
village's topics (and township-wide ones, and those they gave an opinion on)."""


UNAVAILABLE_REFUSES: Final[frozenset[Action]] = frozenset(
    (
        "topic.fire",
        "topic.urge",
        "topic.archive",
        "record.add",
        "record.correct",
        "document.draft",
        "document.publish",
        "document.revoke",
    )
)
"""What nobody may do on a topic whose workflow version is not loaded: every change,
and the archive bag (which carries the rules it followed)."""


@dataclass(frozen=True, slots=True)
class Subject:
    """What an action is about: a topic (its township, village, state, opener), and
    for a record, who added it. Fields left ``None`` are not known yet (a role-only
    check, as the API's guards make before reading the topic)."""

    township_id: int | None = None
    village_id: int | None = None
    state: str | None = None
    opened_by: int | None = None
    author_id: int | None = None
    overdue: bool = False
    """Past its current stage's due date (only urging asks)."""
    known: bool = True
    """False: no topic at all (a role-only question)."""
    workflow: Workflow = WORKFLOW
    """The workflow version the topic is pinned to: the policy asks its transitions,
    records and documents (standard v1 for a role-only question)."""

    @classmethod
    def of_topic(cls, row: dict[str, Any], author_id: int | None = None) -> Subject:
        """From a topic row as the services read it (``township``, ``village``, …,
        ``workflow_key``/``workflow_version``)."""
        return cls(
            township_id=row["township"],
            village_id=row.get("village"),
            state=row["state"],
            opened_by=row.get("opened_by"),
            author_id=author_id,
            overdue=row.get("due_on") is not None and row["due_on"] < china_today(),
            workflow=workflow_of(row),
        )

    @classmethod
    def township(cls, township_id: int | None) -> Subject:
        """A township's own things (its webhooks, its overdue list, opening a topic)."""
        return cls(township_id=township_id)


ROLE_ONLY = Subject(known=False)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rows of a list a person is shown (:meth:`Policy.scope`): every
    township's (``everywhere``), one township's, or none at all; within the township
    perhaps only the topics of one village (with the township-wide ones and those the
    person gave an opinion on) or those the person opened. ``deliberation.scoping``
    turns it into the queries' conditions.

    A scope of nothing either refuses (``error``, ``reason``: the list is not theirs to
    ask for) or is simply empty (the county's own list, the public figures)."""

    everywhere: bool = False
    township_id: int | None = None
    village_id: int | None = None
    """Only the topics of this village and township-wide ones (and ``spoke_on``)."""
    spoke_on: int | None = None
    """Also the topics this account gave an opinion on."""
    opened_by: int | None = None
    """Only the topics this account opened."""
    screened_only: bool = False
    """Only screened suggestions (``suggestion.list`` for the public)."""
    county_plan: bool = False
    """Also the county's plan drafts (``plan.list`` for the supervisor)."""
    waits_on: Literal["triggers", "records"] = "triggers"
    """What on a topic waits on this person (my list): a step they may take, or a record
    they may add (someone who takes no steps)."""
    reason: str = ""
    error: type[DomainError] | None = None

    def __bool__(self) -> bool:
        return self.everywhere or self.township_id is not None or self.county_plan

    def covers(self, township_id: int | None) -> bool:
        """Whether a township's rows are in this scope (all of them or some)."""
        return self.everywhere or (township_id is not None and township_id == self.township_id)

    def check(self) -> Scope:
        """Raise the refusal of a scope that refuses; return the scope otherwise."""
        if self.error is not None:
            raise self.error(self.reason)
        return self

    def describe(self, nothing: str = "—") -> str:
        """For the generated table: ``all``, ``own township``, … (``nothing`` if none)."""
        if self.everywhere:
            return "all, screened only" if self.screened_only else "all"
        if self.county_plan:
            return "the county's"
        if self.township_id is None:
            return nothing
        parts = ["own township"]
        if self.village_id is not None:
            parts.append("own village and township-wide")
            if self.spoke_on is not None:
                parts.append("spoke on")
        if self.opened_by is not None:
            parts.append("opened by me")
        return " · ".join(parts)


EVERYWHERE: Final = Scope(everywhere=True)
NOWHERE: Final = Scope()


def refused(decision: Decision) -> Scope:
    return Scope(reason=decision.reason, error=decision.error or Forbidden)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: allowed or not, why (Chinese, shown to the person), the error to
    refuse with, and for reads how much is seen (``view``)."""

    allowed: bool
    reason: str = ""
    error: type[DomainError] | None = None
    view: str = "full"

    def __bool__(self) -> bool:
        return self.allowed

    def check(self) -> Decision:
        """Raise the refusal; return the decision when allowed."""
        if not self.allowed:
            raise (self.error or Forbidden)(self.reason)
        return self

    @property
    def status(self) -> int:
        """The HTTP status a refusal maps to (200 when allowed), for docs and tests."""
        return 200 if self.allowed else (self.error or Forbidden).status


def yes(view: str = "full") -> Decision:
    return Decision(True, view=view)


def hidden(reason: str = "议题不存在") -> Decision:
    return Decision(False, reason, NotFound, view="none")


def forbidden(reason: str) -> Decision:
    return Decision(False, reason, Forbidden, view="none")


def member_township(principal: Principal | None) -> int | None:
    """The township a person takes part in: a liaison's, representative's or staff
    member's own. An administrator belongs to no township even when the account was
    placed in one (the demo's is, and older releases allowed it): administrators manage
    accounts, they do not read a township's topics (docs/decisions.md "The history
    shows each person what the records show them")."""
    if principal is None or principal.role not in TOWNSHIP:
        return None
    return principal.township_id


def relation(principal: Principal | None, subject: Subject) -> Relation:
    if principal is None:
        return "public"
    if principal.role in COUNTY:
        return "county"
    township = member_township(principal)
    if township is None or township != subject.township_id:
        return "other_township"
    if principal.role in VILLAGE_ROLES:
        if subject.village_id is None or subject.village_id == principal.village_id:
            return "own_village"
        return "other_village"
    return "own_township"


class Policy:
    """The rules, read from one workflow declaration."""

    def __init__(self, workflow: Workflow = WORKFLOW) -> None:
        self.workflow = workflow
        self.public_states = frozenset(workflow.public_states)
        # Looked up on every topic read (available_triggers): built once.
        self._handlers = {
            action: getattr(self, "_" + action.replace(".", "_")) for action in ACTIONS
        }
        self._scopes = {what: getattr(self, "_scope_" + what.replace(".", "_")) for what in SCOPES}
        self._steppers = frozenset(role for t in workflow.transitions for role in t.roles)
        self._transitions = {t.trigger: t for t in workflow.transitions}
        self._records = {r.name: r for r in workflow.records}
        self._documents = {d.name: d for d in workflow.documents}
        self._from_state = {
            state: tuple(t.trigger for t in workflow.transitions if state in t.sources)
            for state in workflow.state_names
        }

    def _state_label(self, state: str | None) -> str:
        return self.workflow.state(state).label if state else ""

    # The one entry point --------------------------------------------------------------

    def allowed(
        self,
        principal: Principal | None,
        action: Action,
        subject: Subject = ROLE_ONLY,
        kind: str = "",
    ) -> Decision:
        """May ``principal`` (None: the public) do ``action`` on ``subject``?

        ``kind`` names the trigger (``topic.fire``), the record kind (``record.*``) or
        the document kind (``document.*``).
        """
        if subject.known and self.workflow.unavailable and action in UNAVAILABLE_REFUSES:
            return self._unavailable(principal, action, subject, kind)
        decision: Decision = self._handlers[action](principal, subject, kind)
        return decision

    def _unavailable(
        self, principal: Principal | None, action: Action, subject: Subject, kind: str
    ) -> Decision:
        """A write to a topic pinned to a workflow that is not loaded: 404 for whoever
        may not see the topic, 403 for a role that may never do it, else 409
        ``workflow_not_loaded`` saying which version is missing (docs/decisions.md, "A
        workflow removed from the folder")."""
        seen = self._see(principal, subject)
        if not seen or principal is None:
            return seen if not seen else hidden("请先登录")
        decision: Decision = self._handlers[action](principal, subject, kind)
        if not decision and decision.error in (NotFound, Forbidden):
            return decision
        return Decision(False, self.workflow.unavailable, WorkflowUnavailable, view="none")

    def scope(self, principal: Principal | None, what: ScopeName) -> Scope:
        """Which rows of the list ``what`` this person is shown (see :class:`Scope`)."""
        found: Scope = self._scopes[what](principal)
        return found

    # Topics ---------------------------------------------------------------------------

    def _see(self, principal: Principal | None, subject: Subject) -> Decision:
        """Whether the topic is visible at all: fully to its township, as its public
        version to everyone else once public."""
        if not subject.known:
            return yes()
        stands = relation(principal, subject)
        if stands == "county":
            return yes()
        if stands in ("other_township", "public"):
            if subject.state in self.public_states:
                return yes("public")
            return hidden("议题不存在或尚未公开")
        return yes()

    def _member(self, principal: Principal | None, subject: Subject) -> Decision:
        """The topic must be of the person's township (for anything but reading its
        public version): others are told it does not exist."""
        if principal is None:
            return Decision(False, "请先登录", NotFound, view="none")
        if subject.known and relation(principal, subject) in (
            "other_township",
            "county",
            "public",
        ):
            return hidden()
        if (
            subject.known
            and principal.role in VILLAGE_ACTORS
            and relation(principal, subject) == "other_village"
        ):
            return forbidden("该议题属于其他村（社区），村干部只能办理本村（社区）的议题")
        return yes()

    def _lacks(self, principal: Principal | None, subject: Subject, what: str) -> Decision:
        """A record or document kind the topic's workflow does not declare: 409 naming
        the workflow (after 404 for those who may not see the topic)."""
        if principal is None:
            return hidden("请先登录")
        member = self._member(principal, subject)
        if not member and member.error is NotFound:
            return member
        return Decision(
            False,
            f"本议题所用的流程（{self.workflow.label}）没有{what}",
            StageClosed,
            view="none",
        )

    def _record_kind(self, kind: str) -> RecordKind | None:
        return self._records.get(kind)

    def _topic_open(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        openers = self.workflow.openers or OPENERS
        if principal is None or principal.role not in openers:
            who = "或".join(ROLE_LABELS[role] for role in openers)
            return forbidden(f"只有{who}可以提出议题")
        if principal.township_id is None:
            return forbidden("您的账号不属于任何乡镇，不能提出议题")
        if (
            principal.role in VILLAGE_ACTORS
            and subject.village_id is not None
            and subject.village_id != principal.village_id
        ):
            return forbidden("村干部只能为本村（社区）提出议题")
        return yes()

    def _topic_read(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        return self._see(principal, subject)

    def _topic_list(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        """A township's list of topics (with search): its own people, and the county."""
        if principal is not None and principal.role in SUPERVISORS:
            return yes()
        if member_township(principal) is None:
            return forbidden("只有乡镇的账号可以查看本乡镇的议题列表")
        return yes()

    def _topic_fire(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        transition = self._transitions.get(kind)
        if transition is None:  # not a step of the workflow version the topic follows
            return Decision(
                False,
                f"本议题所用的流程（{self.workflow.label}）没有这个操作",
                TransitionNotAllowed,
                view="none",
            )
        if principal is None:
            return hidden("请先登录")
        if principal.role not in transition.roles:
            return forbidden(f"您的角色不能执行“{transition.label}”")
        member = self._member(principal, subject)
        if not member:
            return member
        if not subject.known:
            return yes()
        if transition.opener_only and subject.opened_by != principal.id:
            return forbidden(f"只有提出该议题的人可以执行“{transition.label}”")
        if subject.state not in transition.sources:
            return Decision(
                False,
                f"议题当前状态为“{self._state_label(subject.state)}”，不能执行“{transition.label}”",
                TransitionNotAllowed,
                view="none",
            )
        return yes()

    def _topic_urge(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        """督办: the county supervisor, on a topic past its stage's due date."""
        if principal is None or principal.role not in SUPERVISORS:
            return forbidden("只有县政协督办人员可以督办议题")
        if not subject.known:
            return yes()
        if subject.state is not None and self.workflow.state(subject.state).terminal:
            return Decision(
                False,
                f"议题已{self._state_label(subject.state)}，不需要督办",
                TransitionNotAllowed,
                view="none",
            )
        if not subject.overdue:
            return Decision(False, "议题未逾期，不需要督办", TransitionNotAllowed, view="none")
        return yes()

    def _topic_archive(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        """归档: one bag of a finished topic's whole record, for the township's staff
        and the county (the record names people: nobody else)."""
        if principal is None or principal.role not in (*OFFICE_ONLY, *SUPERVISORS):
            return forbidden("只有工作人员和县政协督办人员可以下载归档包")
        if not subject.known:
            return yes()
        stands = relation(principal, subject)
        if stands not in ("own_township", "county"):
            return hidden("议题不存在")
        if subject.state is not None and not self.workflow.state(subject.state).terminal:
            return Decision(
                False,
                f"议题处于“{self._state_label(subject.state)}”阶段，办结、不予立项或撤回后才能归档",
                TransitionNotAllowed,
                view="none",
            )
        return yes()

    def sees_time_limits(self, principal: Principal | None, subject: Subject) -> bool:
        """The office's own time limits (完成调研期限, 印发会议纪要期限, overdue or not)
        are for those who work the topic: its township's liaisons and staff. A
        representative is shown only when opinions close."""
        if principal is None:
            return False
        stands = relation(principal, subject)
        return stands == "county" or (principal.role in OFFICE and stands == "own_township")

    def available_triggers(self, principal: Principal | None, subject: Subject) -> list[str]:
        """The triggers this person may fire on the topic now, in declaration order
        (only those leaving the topic's state are asked about: the others never are)."""
        return [
            trigger
            for trigger in self._from_state.get(subject.state or "", ())
            if self._topic_fire(principal, subject, trigger)
        ]

    # Records --------------------------------------------------------------------------

    def _record_add(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        record = self._record_kind(kind)
        if record is None:
            return self._lacks(principal, subject, kind_label(kind))
        if principal is None:
            return hidden("请先登录")
        if principal.role not in record.roles:
            return forbidden(f"您的角色不能添加{record.label}")
        member = self._member(principal, subject)
        if not member:
            return member
        if not subject.known:
            return yes()
        if kind in VILLAGE_RECORDS and relation(principal, subject) == "other_village":
            what = "提出意见" if kind == "opinion" else f"添加{record.label}"
            return forbidden(f"该议题属于其他村（社区），只有本村（社区）代表可以{what}")
        if subject.state not in record.open_in:
            return Decision(
                False,
                f"议题处于“{self._state_label(subject.state)}”阶段，不能添加{record.label}",
                StageClosed,
                view="none",
            )
        return yes()

    def _record_read(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        """How much of a record kind this person sees (``view``), or none at all.

        For a subject with ``author_id`` the answer is about that one record (its author
        may see it in full); without, about the kind in general on that topic.
        """
        record = self._record_kind(kind)
        if record is None:  # not a record of the topic's workflow: there is none to read
            return Decision(False, f"{kind_label(kind)}不存在", NotFound, view="none")
        rule = record.read
        if rule is None:
            raise KeyError(f"{kind} is read with another record")
        seen = self._see(principal, subject)
        if not seen:
            return seen
        if seen.view == "public":
            if rule.public == "none":
                return Decision(False, f"{record.label}不公开", NotFound, view="none")
            return yes(rule.public)
        if principal is None:
            return yes(rule.public)
        if principal.role in rule.full or relation(principal, subject) == "county":
            return yes("full")  # the county reads what the township office reads
        if rule.author_full and subject.author_id == principal.id:
            return yes("full")
        if principal.role not in TOWNSHIP:
            return Decision(False, f"您的角色不能查看{record.label}", Forbidden, view="none")
        return yes(self._most(rule.others, rule.public, subject.state))

    def _most(self, others: str, public: str, state: str | None) -> str:
        """The township never sees less than the public does once the topic is public."""
        if state in self.public_states and VIEWS.index(public) < VIEWS.index(others):
            return public
        return others

    def _record_correct(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        record = self._record_kind(kind)
        if record is None:
            return self._lacks(principal, subject, kind_label(kind))
        if principal is None:
            return hidden("请先登录")
        if principal.role not in record.roles or not record.correct_in:
            return forbidden(f"您的角色不能更正{record.label}")
        member = self._member(principal, subject)
        if not member:
            return member
        if not subject.known:
            return yes()
        if record.author_only and subject.author_id != principal.id:
            return forbidden(f"只有提交人本人可以更正{record.label}")
        if kind in VILLAGE_RECORDS and relation(principal, subject) == "other_village":
            return forbidden(f"该议题属于其他村（社区），不能更正{record.label}")
        if subject.state not in record.correct_in:
            return Decision(
                False,
                f"议题处于“{self._state_label(subject.state)}”阶段，不能再更正{record.label}",
                StageClosed,
                view="none",
            )
        return yes()

    # The timeline ---------------------------------------------------------------------

    def _event_read(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        """The topic's history: its township (and the county) reads its events, everyone
        else the public events of a public topic, with roles instead of names. Each
        event then shows what the reader may see of its record: :func:`event_view`."""
        return self._see(principal, subject)

    # Documents ------------------------------------------------------------------------

    def _document(
        self, principal: Principal | None, subject: Subject, kind: str, verb: str
    ) -> Decision:
        document = self._documents.get(kind) if kind else None
        if principal is None:
            return hidden("请先登录")
        if kind and document is None:
            return self._lacks(principal, subject, kind_label(kind, documents=True))
        roles = document.roles if document else OFFICE_ONLY
        if principal.role not in roles:
            return forbidden(f"只有工作人员可以{verb}文件")
        member = self._member(principal, subject)
        if not member:
            return member
        if document is None or not subject.known:
            return yes()
        if verb in ("生成", "发布") and subject.state not in document.states:
            return Decision(
                False,
                f"议题处于“{self._state_label(subject.state)}”阶段，不能{verb}{document.label}",
                StageClosed,
                view="none",
            )
        return yes()

    def _document_draft(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        return self._document(principal, subject, kind, "生成")

    def _document_publish(
        self, principal: Principal | None, subject: Subject, kind: str
    ) -> Decision:
        return self._document(principal, subject, kind, "发布")

    def _document_revoke(
        self, principal: Principal | None, subject: Subject, kind: str
    ) -> Decision:
        return self._document(principal, subject, kind, "撤销")

    def _document_read_draft(
        self, principal: Principal | None, subject: Subject, kind: str
    ) -> Decision:
        """Drafts: the township's staff only (product.md §9); to anyone else a draft
        does not exist."""
        if principal is None or principal.role not in OFFICE_ONLY:
            return hidden("文件不存在")
        if subject.known and relation(principal, subject) != "own_township":
            return hidden("文件不存在")
        return yes()

    # The township's own settings and lists -------------------------------------------

    def _webhook_manage(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        """A township's webhooks: its staff, or an administrator (for any township)."""
        if principal is not None and principal.role in ADMINS:
            return yes()
        if principal is None or principal.role not in OFFICE_ONLY or principal.township_id is None:
            return forbidden("只有工作人员或管理员可以管理消息推送")
        if subject.known and subject.township_id not in (None, principal.township_id):
            return hidden("消息推送不存在")
        return yes()

    def _account_manage(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        """Townships, villages and accounts: administrators only."""
        if principal is None or principal.role not in ADMINS:
            return forbidden("只有管理员可以管理乡镇、村（社区）和账号")
        return yes()

    def _county_read(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        """The county view (every township's topics, overdue first): the supervisor."""
        if principal is None or principal.role not in SUPERVISORS:
            return forbidden("只有县政协督办人员可以查看全县议题总览")
        return yes()

    def _ledger_export(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        """The ledger and the annual report: the township's staff for their township,
        the supervisor for any township or the whole county."""
        if principal is not None and principal.role in SUPERVISORS:
            return yes()
        if principal is None or principal.role not in OFFICE_ONLY or principal.township_id is None:
            return forbidden("只有工作人员和县政协督办人员可以导出台账和年度报告")
        if subject.township_id != principal.township_id:
            return forbidden("只能导出本乡镇的台账和年度报告")
        return yes()

    def _overdue_read(self, principal: Principal | None, subject: Subject, kind: str) -> Decision:
        if principal is not None and principal.role in SUPERVISORS:
            return yes()  # every township's
        if principal is None or principal.role not in OFFICE_ONLY or principal.township_id is None:
            return forbidden("只有工作人员可以查看逾期议题")
        return yes()

    # Scopes: the rows of each list ---------------------------------------------------

    def _scope_topic_list(self, principal: Principal | None) -> Scope:
        """A township's topic list: the person's own township; the county names any."""
        decision = self._topic_list(principal, ROLE_ONLY, "")
        if not decision:
            return refused(decision)
        if principal is not None and principal.role in SUPERVISORS:
            return EVERYWHERE
        return Scope(township_id=member_township(principal))

    def _scope_my_list(self, principal: Principal | None) -> Scope:
        """我的议题: the topics a person takes part in (none for the county and
        administrators, who take part in no township's topics)."""
        township = member_township(principal)
        if principal is None or township is None:
            return NOWHERE
        waits_on: Literal["triggers", "records"] = (
            "triggers" if principal.role in self._steppers else "records"
        )
        if principal.role in OWN_TOPICS_ONLY:
            return Scope(township_id=township, opened_by=principal.id, waits_on=waits_on)
        if principal.role in VILLAGE_ROLES:
            return Scope(
                township_id=township,
                village_id=principal.village_id,
                spoke_on=principal.id,
                waits_on=waits_on,
            )
        return Scope(township_id=township, waits_on=waits_on)

    def _scope_webhook_list(self, principal: Principal | None) -> Scope:
        """Webhooks: an administrator's of every township, a staff member's own."""
        decision = self._webhook_manage(principal, ROLE_ONLY, "")
        if not decision:
            return refused(decision)
        assert principal is not None
        if principal.role in ADMINS:
            return EVERYWHERE
        return Scope(township_id=principal.township_id)

    def _scope_statistics_full(self, principal: Principal | None) -> Scope:
        """The townships whose figures count topics not yet public (the office's own, the
        county's every one); of the others everybody sees the public figures."""
        if principal is not None and principal.role in SUPERVISORS:
            return EVERYWHERE
        if principal is not None and principal.role in OFFICE:
            return Scope(township_id=member_township(principal))
        return NOWHERE

    def _scope_statistics_liaisons(self, principal: Principal | None) -> Scope:
        """Each liaison's participation: the township's staff and the county (a liaison
        sees the office's figures, not a table of their colleagues)."""
        if principal is not None and principal.role in SUPERVISORS:
            return EVERYWHERE
        if principal is not None and principal.role in OFFICE_ONLY:
            return Scope(township_id=member_township(principal))
        return NOWHERE

    def _scope_township_list(self, principal: Principal | None) -> Scope:
        """Townships and villages: administrators and the county every one, others
        their own (the command line, which has no principal, asks for none)."""
        if principal is None:
            return NOWHERE
        if principal.role in (*ADMINS, *SUPERVISORS):
            return EVERYWHERE
        return Scope(township_id=principal.township_id)

    def _scope_ledger_export(self, principal: Principal | None) -> Scope:
        """The ledger and the annual report: the county of any township or all, the
        township's staff of their own (the default when none is named)."""
        if principal is not None and principal.role in SUPERVISORS:
            return EVERYWHERE
        decision = self._ledger_export(
            principal, Subject.township(principal.township_id if principal else None), ""
        )
        if not decision:
            return refused(decision)
        assert principal is not None
        return Scope(township_id=principal.township_id)

    def _scope_suggestion_list(self, principal: Principal | None) -> Scope:
        return suggestion_scope(principal)

    def _scope_plan_list(self, principal: Principal | None) -> Scope:
        return plan_scope(principal)


POLICY: Final = Policy()
"""The policy of the standard workflow, version 1 (role-only questions and scopes)."""

_POLICIES: dict[int, tuple[Workflow, Policy]] = {id(WORKFLOW): (WORKFLOW, POLICY)}


def policy_for(workflow: Workflow) -> Policy:
    """The policy read from ``workflow`` (one per loaded declaration, built once)."""
    found = _POLICIES.get(id(workflow))
    if found is None or found[0] is not workflow:
        found = _POLICIES[id(workflow)] = (workflow, Policy(workflow))
    return found[1]


def scope(principal: Principal | None, what: ScopeName) -> Scope:
    """Which rows of the list ``what`` this person is shown (see :class:`Scope`)."""
    return POLICY.scope(principal, what)


def kind_label(kind: str, documents: bool = False) -> str:
    """A record (or document) kind's Chinese name, from any loaded workflow declaring it."""
    for workflow in loaded():
        for found in workflow.documents if documents else workflow.records:
            if found.name == kind:
                return str(found.label)
    return f"“{kind}”"


def _declares(workflow: Workflow, action: Action, kind: str) -> bool:
    """Whether ``workflow`` has the kind an action names (every workflow, for none)."""
    if not kind:
        return True
    if action.startswith("record."):
        return any(r.name == kind for r in workflow.records)
    if action.startswith("document."):
        return any(d.name == kind for d in workflow.documents)
    if action == "topic.fire":
        return kind in workflow.triggers
    return True


def _role_only(principal: Principal | None, action: Action, kind: str) -> Decision:
    """A question without a topic ("may this role add votes at all?"): allowed if any
    loaded workflow declaring the kind allows it; else the first one's refusal (a kind
    no workflow declares: 404)."""
    refusal: Decision | None = None
    # The default workflow first: its refusals are the ones people know.
    for workflow in sorted(loaded(), key=lambda w: w.key != DEFAULT_KEY):
        if not _declares(workflow, action, kind):
            continue
        decision = policy_for(workflow).allowed(principal, action, ROLE_ONLY, kind)
        if decision:
            return decision
        if refusal is None:  # a refusal is a falsy Decision: keep the first one
            refusal = decision
    if refusal is None:
        return Decision(False, "没有任何流程有这种记录或操作", Forbidden, view="none")
    return refusal


def allowed(
    principal: Principal | None,
    action: Action,
    subject: Subject = ROLE_ONLY,
    kind: str = "",
) -> Decision:
    """May ``principal`` do ``action`` on ``subject``? (see :class:`Policy`), by the
    rules of the workflow the subject is pinned to; without a topic (``ROLE_ONLY``), by
    those of every loaded workflow (:func:`_role_only`)."""
    if not subject.known:
        return _role_only(principal, action, kind)
    return policy_for(subject.workflow).allowed(principal, action, subject, kind)


# Villagers' suggestions and the annual plan (issue 27; every workflow) ----------------

SuggestionAction = Literal[
    "suggestion.file",
    "suggestion.read",
    "suggestion.support",
    "suggestion.enter_supports",
    "suggestion.screen",
    "suggestion.correct",
    "suggestion.settings",
]
SUGGESTION_ACTIONS: Final[tuple[SuggestionAction, ...]] = get_args(SuggestionAction)
PlanAction = Literal["plan.read", "plan.edit", "plan.publish"]
PLAN_ACTIONS: Final[tuple[PlanAction, ...]] = get_args(PlanAction)

SUGGESTION_STATUSES: Final = ("pending", "must_list", "accepted", "merged", "declined")
OPEN_STATUSES: Final = ("pending", "must_list")
"""Before screening: supports may still be added, the office has yet to decide."""
SCREENED_STATUSES: Final = ("accepted", "merged", "declined")
"""After screening: public (masked), by reference and in the list."""
SUGGESTION_STATUS_LABELS: Final = {
    "pending": "征集附议中",
    "must_list": "须列入议题",
    "accepted": "已列入议题",
    "merged": "已合并办理",
    "declined": "不予列入",
}
PLAN_STATUSES: Final = ("draft", "published", "superseded", "discarded")
PUBLISHED_PLAN_STATUSES: Final = ("published", "superseded")


@dataclass(frozen=True, slots=True)
class SuggestionSubject:
    """What a suggestion action is about: its place (``village_id`` None: township-wide),
    its status and who filed it. ``known`` False: a role-only question; for
    ``suggestion.file``, the place filed in (no status yet)."""

    township_id: int | None = None
    village_id: int | None = None
    status: str | None = None
    filed_by: int | None = None
    known: bool = True

    @classmethod
    def of_suggestion(cls, row: dict[str, Any]) -> SuggestionSubject:
        """From a suggestion row (``township``, ``village``, ``status``, ``filed_by``)."""
        return cls(
            township_id=row["township"],
            village_id=row.get("village"),
            status=row["status"],
            filed_by=row.get("filed_by"),
        )

    @classmethod
    def place(cls, township_id: int | None, village_id: int | None) -> SuggestionSubject:
        """Where a suggestion is filed (``suggestion.file``)."""
        return cls(township_id=township_id, village_id=village_id)

    def relation(self, principal: Principal | None) -> Relation:
        """As a topic's (:func:`relation`): a village role is ``own_village`` for a
        suggestion of their village or a township-wide one."""
        return relation(
            principal, Subject(township_id=self.township_id, village_id=self.village_id)
        )


@dataclass(frozen=True, slots=True)
class PlanSubject:
    """What a plan action is about: the series' township (None: the county's plan) and
    the status of the version in question (None: a new draft)."""

    township_id: int | None = None
    status: str | None = None
    known: bool = True


_NO_SUGGESTION = "建议不存在"


def _suggestion_view(principal: Principal | None, subject: SuggestionSubject) -> str:
    """How much of a suggestion a person sees: ``full`` (the villager's own words, name
    and phone: the township's office), ``own`` (the filer's own), ``masked`` (the public
    text and tallies, also before screening: the township's liaisons, the village's own
    representatives and cadres while it is open, the county), ``public`` (the public
    text of a screened one: anyone), or ``none`` (docs/decisions.md, the lead's answer 1)."""
    if not subject.known:
        return "full"
    stands = subject.relation(principal)
    role = principal.role if principal is not None else "public"
    if stands == "own_township" and role in OFFICE_ONLY:
        return "full"
    if principal is not None and subject.filed_by is not None and subject.filed_by == principal.id:
        return "own"
    if stands == "county":
        return "masked"
    if stands == "own_township" and role == "liaison":
        return "masked"
    if stands == "own_village" and subject.status in OPEN_STATUSES:
        return "masked"
    if subject.status in SCREENED_STATUSES:
        return "public"
    return "none"


def _open_or_screened(subject: SuggestionSubject, what: str) -> Decision:
    if subject.known and subject.status is not None and subject.status not in OPEN_STATUSES:
        return Decision(False, f"该建议已审核，不能再{what}", SuggestionScreened, view="none")
    return yes()


def allowed_suggestion(
    principal: Principal | None,
    action: SuggestionAction,
    subject: SuggestionSubject = SuggestionSubject(known=False),
) -> Decision:
    """May ``principal`` (None: nobody signed in) do ``action`` on a suggestion? A
    suggestion hidden from someone is "not found" (404) to them; a role that may never do
    it is refused (403) first; an action on a screened one that only an open one allows
    is 409 ``screened`` (docs/permissions.md, "Suggestions and plans")."""
    role = principal.role if principal is not None else "public"
    if action == "suggestion.settings":
        if role in ADMINS:
            return yes()
        return forbidden("只有管理员可以设置附议门槛、审核期限和不予列入的理由")
    if action == "suggestion.file":
        if role in (*ADMINS, *SUPERVISORS):
            return forbidden("管理员和县政协督办人员不提出议题建议")
        if principal is None or not subject.known:
            return yes()  # a villager without an account (name and phone required)
        stands = subject.relation(principal)
        if stands not in ("own_township", "own_village"):
            return forbidden("只能在本乡镇提出议题建议")
        if role in VILLAGE_ROLES and subject.village_id != principal.village_id:
            return forbidden("村（居）民代表和村干部只能为本村（社区）提出建议")
        return yes()
    view = _suggestion_view(principal, subject)
    if action == "suggestion.read":
        return yes(view) if view != "none" else hidden(_NO_SUGGESTION)
    if action == "suggestion.support":
        if role not in ("representative", "liaison"):
            return forbidden("只有村（居）民代表和政协委员可以附议")
        if not subject.known:
            return yes()
        if view == "none":
            return hidden(_NO_SUGGESTION)
        stands = subject.relation(principal)
        if stands not in ("own_village", "own_township"):
            return forbidden("只能附议本村（社区）或本乡镇的建议")
        return _open_or_screened(subject, "附议")
    if action == "suggestion.enter_supports":
        if role not in ("representative", "staff"):
            return forbidden("只有村（居）民代表和工作人员可以录入纸质附议")
        if not subject.known:
            return yes()
        if view == "none":
            return hidden(_NO_SUGGESTION)
        stands = subject.relation(principal)
        if role == "staff" and stands != "own_township":
            return hidden(_NO_SUGGESTION)
        if role == "representative" and (
            stands != "own_village" or subject.village_id != principal.village_id  # type: ignore[union-attr]
        ):
            return forbidden("村（居）民代表只能为本村（社区）的建议录入纸质附议")
        return _open_or_screened(subject, "录入附议")
    # suggestion.screen and suggestion.correct: the township's office.
    if role not in OFFICE_ONLY:
        what = "审核" if action == "suggestion.screen" else "更正"
        if subject.known and view == "none":
            return hidden(_NO_SUGGESTION)
        return forbidden(f"只有乡镇协商办公室的工作人员可以{what}建议")
    if subject.known and subject.relation(principal) != "own_township":
        return hidden(_NO_SUGGESTION)
    if action == "suggestion.screen":
        return _open_or_screened(subject, "审核")
    return yes()


def allowed_plan(
    principal: Principal | None,
    action: PlanAction,
    subject: PlanSubject = PlanSubject(known=False),
) -> Decision:
    """May ``principal`` read, edit or publish a plan? A published (or superseded)
    version is public; a draft is seen and edited by the township's staff, or by the
    county supervisor for the county's plan; to anyone else it does not exist."""
    role = principal.role if principal is not None else "public"
    county = subject.known and subject.township_id is None
    if county:
        owns = role in SUPERVISORS
    elif subject.known:
        owns = (
            principal is not None
            and role in OFFICE_ONLY
            and member_township(principal) == subject.township_id
        )
    else:
        owns = role in (*OFFICE_ONLY, *SUPERVISORS)
    if action == "plan.read":
        if subject.known and subject.status in PUBLISHED_PLAN_STATUSES:
            return yes("full" if owns else "public")
        return yes() if owns else hidden("协商计划不存在")
    if not owns:
        if role not in (*OFFICE_ONLY, *SUPERVISORS):
            return forbidden(
                "只有乡镇协商办公室的工作人员（县级计划：县政协督办人员）可以编制协商计划"
            )
        if subject.known and subject.status not in PUBLISHED_PLAN_STATUSES:
            return hidden("协商计划不存在")
        return forbidden("只能编制本乡镇的协商计划（县级计划由县政协督办人员编制）")
    if subject.known and subject.status is not None and subject.status != "draft":
        return Decision(False, "只有草稿可以修改或发布", StageClosed, view="none")
    return yes()


def sees_every_chain_head(principal: Principal | None) -> bool:
    """Whether the chain heads list every suggestion's and plan's chain, pending and
    draft ones too (the township's staff and the county, signed in; the command line
    has no principal and reads the database itself), or only what the public may read:
    the screened suggestions and the published plans (the lead's answer 3)."""
    return principal is not None and principal.role in (*OFFICE_ONLY, *SUPERVISORS)


def suggestion_scope(principal: Principal | None) -> Scope:
    """Which suggestions a list shows: the township's office and liaisons their
    township's, every status; a village's representatives and cadres their village's
    and the township-wide ones; the county every township's; everyone else every
    screened one."""
    if principal is not None and principal.role in SUPERVISORS:
        return EVERYWHERE
    township = member_township(principal)
    if principal is None or township is None:
        return Scope(everywhere=True, screened_only=True)
    if principal.role in VILLAGE_ROLES:
        return Scope(township_id=township, village_id=principal.village_id)
    return Scope(township_id=township)


def plan_scope(principal: Principal | None) -> Scope:
    """Whose plan drafts a list shows besides every published plan: the township's
    staff their township's, the supervisor the county's; nobody else any."""
    if principal is not None and principal.role in SUPERVISORS:
        return Scope(county_plan=True)
    if principal is not None and principal.role in OFFICE_ONLY:
        return Scope(township_id=member_township(principal))
    return NOWHERE


PUBLIC_EVENT_KINDS: Final = (
    "topic.opened",
    "transition",
    "document.published",
    "document.revoked",
    "topic.urged",
    "suggestion.merged",
)


def event_shown(view: str, kind: str, record: str = "", workflow: Workflow = WORKFLOW) -> bool:
    """Whether an event shows on the timeline seen with ``view`` (``topic.read``): the
    township sees every event; the public version shows the moves, the published
    documents, and the events of records the public may read."""
    if view == "full":
        return True
    if kind in PUBLIC_EVENT_KINDS:
        return True
    if not record or record in ("document", "topic"):  # documents are listed above
        return False
    rule = workflow.record(record).read
    return rule is not None and rule.public != "none"


READ_AS: Final = {kind: s.stored_as for kind, (_, s) in NAMED.items() if s.stored_as}
"""Record names events use that are read as part of another record (minutes as their
meeting, an answer as its opinion: the record types' ``stored_as``)."""


def event_view(principal: Principal | None, subject: Subject, kind: str, record: str = "") -> str:
    """How much of one event of a topic's history this person sees: ``none`` (not
    listed), ``public`` (a public topic's move or urge, by role), or the view the
    policy gives them of the event's record (``record.read``; ``subject.author_id`` is
    the record's author). Below ``full`` an event keeps its kind and record but not its
    reason, actor or digests (docs/decisions.md "The history shows each person what the
    records show them")."""
    policy = policy_for(subject.workflow)
    seen = policy.allowed(principal, "event.read", subject)
    if not seen:
        return "none"
    if seen.view != "full" and not event_shown(seen.view, kind, record, subject.workflow):
        return "none"
    if not record or record == "topic":  # the topic's own: opened, moved, urged, re-vouched
        return seen.view
    if record == "document":
        if kind == "document.drafted":  # a draft exists for the township's staff only
            drafts = policy.allowed(principal, "document.read_draft", subject)
            return "full" if drafts else "none"
        return seen.view  # published and revoked documents are public
    decision = policy.allowed(principal, "record.read", subject, READ_AS.get(record, record))
    return decision.view if decision else "none"


def available_triggers(principal: Principal | None, topic: dict[str, Any]) -> list[str]:
    subject = Subject.of_topic(topic)
    return policy_for(subject.workflow).available_triggers(principal, subject)


def sees_time_limits(principal: Principal | None, topic: dict[str, Any]) -> bool:
    subject = Subject.of_topic(topic)
    return policy_for(subject.workflow).sees_time_limits(principal, subject)


# The generated table (docs/permissions.md) -------------------------------------------

PERSONAS: Final = (
    "liaison",
    "representative",
    "village_cadre",
    "staff",
    "supervisor",
    "admin",
    "public",
)
ROLE_NAMES: Final = {**ROLE_LABELS, "public": "公众（未登录）"}


def _persona(role: str, relation_: Relation) -> tuple[Principal | None, Subject]:
    """A person of ``role`` standing in ``relation_`` to a topic of township 1,
    village 10, opened by account 1 (the liaison)."""
    if role == "public":
        return None, Subject(township_id=1, village_id=10, opened_by=1)
    township = 2 if relation_ == "other_township" else 1
    if role in ("admin", "supervisor"):
        township = None  # type: ignore[assignment]
    village = {"own_village": 10, "other_village": 11}.get(relation_)
    ident = {
        "liaison": 1,
        "representative": 3,
        "staff": 2,
        "admin": 4,
        "supervisor": 5,
        "village_cadre": 6,
    }[role]
    return (
        Principal(ident, role, role, township, village if role in VILLAGE_ROLES else None),
        Subject(township_id=1, village_id=10, opened_by=1, author_id=ident),
    )


def relations_of(role: str) -> tuple[Relation, ...]:
    if role == "public":
        return ("public",)
    if role == "admin":
        return ("other_township",)
    if role == "supervisor":
        return ("county",)
    if role in VILLAGE_ROLES:
        return ("own_village", "other_village", "other_township")
    return ("own_township", "other_township")


def concrete_actions(workflow: Workflow = WORKFLOW) -> list[tuple[Action, str, str]]:
    """Every (action, kind, description) the policy answers, for the table."""
    found: list[tuple[Action, str, str]] = [
        ("topic.open", "", "提出议题 open a topic"),
        ("topic.read", "", "查看议题 read a topic"),
        ("topic.list", "", "本乡镇议题列表 list the township's topics"),
        ("event.read", "", "办理经过 read the timeline"),
    ]
    found += [
        ("topic.fire", t.trigger, f"{t.label} fire `{t.trigger}`") for t in workflow.transitions
    ]
    found.append(("topic.urge", "", "督办逾期议题 urge an overdue topic"))
    found.append(("topic.archive", "", "归档下载 the archive bag of a finished topic"))
    for record in workflow.records:
        found.append(("record.add", record.name, f"添加{record.label} add `{record.name}`"))
        if record.read is not None:
            found.append(("record.read", record.name, f"查看{record.label} read `{record.name}`"))
        if record.correct_in:
            found.append(
                ("record.correct", record.name, f"更正{record.label} correct `{record.name}`")
            )
    for document in workflow.documents:
        for action, verb in (
            ("document.draft", "生成"),
            ("document.publish", "发布"),
            ("document.revoke", "撤销"),
        ):
            found.append(
                (
                    action,
                    document.name,
                    f"{verb}{document.label} {action.split('.')[1]} `{document.name}`",
                )  # type: ignore[arg-type]
            )
    found += [
        ("document.read_draft", "", "预览草稿 read a draft"),
        ("webhook.manage", "", "管理推送地址 manage webhooks"),
        ("overdue.read", "", "逾期议题 the overdue list"),
        ("account.manage", "", "管理乡镇、村和账号 manage townships, villages, accounts"),
        ("county.read", "", "全县总览 the county view"),
        ("ledger.export", "", "导出台账和年度报告 export the ledger and annual report"),
    ]
    return found


SCOPE_ROWS: Final[tuple[tuple[ScopeName, str, str], ...]] = (
    ("topic.list", "本乡镇议题列表 scope: the townships whose topics are listed", "—"),
    ("my.list", "我的议题 scope: the topics in the person's own list", "—"),
    ("webhook.list", "推送地址列表 scope: whose webhooks are listed and set up", "—"),
    (
        "statistics.full",
        "统计全量/公开 scope: figures counting topics not yet public",
        "public only",
    ),
    ("statistics.liaisons", "联络员参与表 scope: each liaison's participation", "—"),
    ("township.list", "乡镇列表 scope: the townships and villages listed", "—"),
    ("ledger.export", "台账范围 scope: the ledger's and annual report's townships", "—"),
    ("suggestion.list", "村民建议列表 scope: the suggestions listed (issue 27)", "—"),
    ("plan.list", "协商计划草稿 scope: whose plan drafts are listed besides the published", "—"),
)
"""The scope rows of the table: what, its description, and what an empty scope means."""


def scope_cell(role: str, relation_: Relation, what: ScopeName, nothing: str = "—") -> str:
    """One scope cell: which rows of the list a person of ``role`` is shown (a scope is
    the person's own, whatever their relation to a topic)."""
    principal, _ = _persona(role, relation_)
    return POLICY.scope(principal, what).describe(nothing)


def _cell(
    role: str, relation_: Relation, action: Action, kind: str, workflow: Workflow = WORKFLOW
) -> str:
    """One cell: the states of ``workflow`` in which it is allowed (and the view, for
    reads), by that workflow's policy."""
    if action in TOWNSHIP_ACTIONS and relation_ == "other_township":
        return "—"  # about the person's own township, never another's
    principal, subject = _persona(role, relation_)
    policy = policy_for(workflow)
    answers: dict[str, list[str]] = {}
    for state in workflow.state_names:
        at = Subject(
            township_id=subject.township_id,
            village_id=subject.village_id,
            state=state,
            opened_by=subject.opened_by,
            author_id=subject.author_id if action == "record.correct" else None,
            overdue=True,  # urging is for overdue topics (the table says so)
            workflow=workflow,
        )
        decision = policy.allowed(principal, action, at, kind)
        if decision:
            label = decision.view if action.endswith(".read") else "yes"
            answers.setdefault(label, []).append(state)
    if not answers:
        return "—"
    parts = []
    for label, states in answers.items():
        if len(states) == len(workflow.state_names):
            parts.append(label)
        else:
            parts.append(("" if label in ("yes", "full") else f"{label}: ") + ", ".join(states))
    return "; ".join(parts)


SUGGESTION_ROWS: Final[tuple[tuple[SuggestionAction, str], ...]] = (
    ("suggestion.file", "提出建议 file a suggestion (in the village of the column)"),
    ("suggestion.read", "查看建议 read a suggestion"),
    ("suggestion.support", "附议 support"),
    ("suggestion.enter_supports", "录入纸质附议 enter paper supports"),
    ("suggestion.screen", "审核 screen"),
    ("suggestion.correct", "更正公开文本 correct the public text"),
    ("suggestion.settings", "设置门槛和理由 the threshold settings"),
)
PLAN_ROWS: Final[tuple[tuple[PlanAction, str], ...]] = (
    ("plan.read", "查看协商计划 read a plan"),
    ("plan.edit", "编制协商计划 draft a plan"),
    ("plan.publish", "发布协商计划 publish a plan"),
)


def _status_cell(answers: dict[str, list[str]], every: tuple[str, ...]) -> str:
    if not answers:
        return "—"
    parts = []
    for label, statuses in answers.items():
        if len(statuses) == len(every):
            parts.append(label)
        else:
            parts.append(("" if label in ("yes", "full") else f"{label}: ") + ", ".join(statuses))
    return "; ".join(parts)


def suggestion_cell(role: str, relation_: Relation, action: SuggestionAction) -> str:
    """One cell of the suggestions table: the statuses in which a person of ``role``
    standing in ``relation_`` to a suggestion of township 1, village 10 (filed by
    someone else) may do ``action`` (and the view, for reads)."""
    principal, _ = _persona(role, relation_)
    if action in ("suggestion.file", "suggestion.settings"):
        subject = (
            SuggestionSubject.place(1, 10)
            if action == "suggestion.file"
            else SuggestionSubject(known=False)
        )
        return "yes" if allowed_suggestion(principal, action, subject) else "—"
    answers: dict[str, list[str]] = {}
    for status in SUGGESTION_STATUSES:
        subject = SuggestionSubject(township_id=1, village_id=10, status=status)
        decision = allowed_suggestion(principal, action, subject)
        if decision:
            label = decision.view if action == "suggestion.read" else "yes"
            answers.setdefault(label, []).append(status)
    return _status_cell(answers, SUGGESTION_STATUSES)


def plan_cell(role: str, relation_: Relation, action: PlanAction, county: bool) -> str:
    """One cell of the plans table: the version statuses in which it is allowed, on
    township 1's plan or (``county``) the county's."""
    principal, _ = _persona(role, relation_)
    answers: dict[str, list[str]] = {}
    for status in PLAN_STATUSES:
        decision = allowed_plan(principal, action, PlanSubject(None if county else 1, status))
        if decision:
            label = decision.view if action == "plan.read" else "yes"
            answers.setdefault(label, []).append(status)
    return _status_cell(answers, PLAN_STATUSES)


def suggestion_section(columns: list[tuple[str, Relation]], header: str) -> list[str]:
    """The generated section on suggestions and plans, which no workflow changes."""
    statuses = ", ".join(f"`{s}` {SUGGESTION_STATUS_LABELS[s]}" for s in SUGGESTION_STATUSES)
    lines = [
        "## Suggestions and plans (every workflow)",
        "",
        "A villager's suggestion (issue 27; 议题建议 in Chinese) is in one of these",
        f"statuses: {statuses}.",
        "Its relation is a topic's: a village's representatives and cadres are",
        "`own_village` to the suggestions of their village and the township-wide ones.",
        "Views of a suggestion: `full` (the villager's own words, name and phone),",
        "`masked` (the public text and tallies, also before screening, marked 未审核",
        "until screened), `public` (the public text of a screened one); the person who",
        "filed it reads it as `own` whoever they are. Hidden is 404, a role that may",
        "never is 403, and supporting or screening a screened one is 409 `screened`.",
        "Plans are by the status of the version (`draft`, `published`, `superseded`,",
        "`discarded`), of township 1's plan",
        "and of the county's.",
        "",
        header,
        "|" + "---|" * (len(columns) + 1),
    ]
    for action, description in SUGGESTION_ROWS:
        cells = [suggestion_cell(role, rel, action) for role, rel in columns]
        lines.append(f"| {description} | " + " | ".join(cells) + " |")
    for county in (False, True):
        whose = "县级计划 the county's plan" if county else "乡镇计划 a township's plan"
        for plan_action, description in PLAN_ROWS:
            cells = [plan_cell(role, rel, plan_action, county) for role, rel in columns]
            lines.append(f"| {description} · {whose} | " + " | ".join(cells) + " |")
    return lines


def workflow_section(
    workflow: Workflow, columns: list[tuple[str, Relation]], header: str
) -> list[str]:
    """One workflow version's table: its actions (its triggers, records and documents)
    in its own states."""
    states = ", ".join(f"`{s.name}` {s.label}" for s in workflow.states)
    lines = [
        f"## {workflow.label} (`{workflow.key}` v{workflow.version})",
        "",
        f"States: {states}.",
        "",
        header,
        "|" + "---|" * (len(columns) + 1),
    ]
    for action, kind, description in concrete_actions(workflow):
        cells = [_cell(role, rel, action, kind, workflow) for role, rel in columns]
        lines.append(f"| {description} | " + " | ".join(cells) + " |")
    return lines


def permissions_markdown(registry: Registry = REGISTRY) -> str:
    """``docs/permissions.md``: the policy as tables, generated: one section per loaded
    workflow version (its own actions, in its own states), then the scopes, which no
    workflow changes."""
    columns: list[tuple[str, Relation]] = [
        (role, rel) for role in PERSONAS for rel in relations_of(role)
    ]
    header = (
        "| action | "
        + " | ".join(f"{ROLE_NAMES[role]} `{role}` · {rel}" for role, rel in columns)
        + " |"
    )
    lines = [
        "# Who may see or do what",
        "",
        "Generated from `deliberation/permissions.py` (the one policy every API handler,",
        "page, document and webhook asks) and the workflow files under `workflows/`",
        "(`workflows/<key>/v<version>.toml`): one section per loaded workflow version,",
        "since each topic follows the rules of the version it is pinned to. Regenerate with",
        "`python -m deliberation.permissions > docs/permissions.md`; a test fails when",
        "this file is stale.",
        "",
        "Each cell lists the states in which the action is allowed (— for never). For",
        "reads it names how much is seen: `full` (every field, with names), `summary`",
        "(date, place and summary, without the people named), `anonymous` (content and",
        "answer without the author's or villager's name), `counts` (how many of each",
        "stance or rating), `public` (the topic's public version). A topic of another",
        'township is "not found" (404) until it is public; refusals for role are 403,',
        "for the wrong stage 409.",
        "",
        "Relations: `own_township` a liaison or staff member of the topic's township;",
        "`own_village` a representative of the topic's village (or of a township-wide",
        "topic); `other_village` a representative of another village of the township;",
        "`other_township` anyone signed in elsewhere (an admin belongs to no township);",
        "`county` the county supervisor, who belongs to no township and reads",
        "every township's topics as its office does; urging is allowed on overdue topics only;",
        "`public` nobody signed in. For `record.read` and `record.correct` the",
        "representative's own opinions and ratings are theirs in full: the table shows",
        "what they see of others' (reads) and may do with their own (corrections).",
        "`withdraw` is further limited to the liaison who opened the topic.",
        "",
        "The timeline (`GET /api/v1/topics/{id}/events`, and on the topic's page) lists an",
        "event of a record only to those who may read that record (its `record.read`",
        "row; a draft's event only to those who read drafts), and gives its reason, its",
        "actor and its digests only with the `full` view of it: below that the event",
        "keeps its kind, time and record. An administrator placed in a township is",
        "still of none (`other_township`).",
        "",
        "The *scope* rows at the end say which rows of a list the person is shown",
        "(`Policy.scope`; the queries take their conditions from it): `all` (every",
        "township's), `own township`, narrowed to `own village and township-wide`",
        "topics (with those they gave an opinion on: `spoke on`) or to those `opened by",
        "me`; — for none (a list refused, or an empty one). A scope is the person's own,",
        "whatever their relation to a topic, so each role's columns agree.",
    ]
    for workflow in sorted(registry, key=lambda w: (w.key != WORKFLOW.key, w.key, w.version)):
        lines += ["", *workflow_section(workflow, columns, header)]
    lines += ["", *suggestion_section(columns, header)]
    lines += [
        "",
        "## Scopes (every workflow)",
        "",
        header,
        "|" + "---|" * (len(columns) + 1),
    ]
    for what, description, nothing in SCOPE_ROWS:
        cells = [scope_cell(role, rel, what, nothing) for role, rel in columns]
        lines.append(f"| {description} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - the generator's command line
    print(permissions_markdown(), end="")
