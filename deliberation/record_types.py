"""Record *types* in code, record *kinds* in workflow files (docs/record-kinds.md).

A record kind of a workflow file (``[[records]]``) names its ``type``: ``opinion``,
``answer``, ``note``, ``meeting``, ``minutes``, ``item``, ``progress``, ``rating`` or
``vote``. Each type is described here once, as a :class:`RecordType`: where its kinds
are stored, their API shapes, the fields the chain vouches for, whether a correction
keeps revisions, who authored a record, what it is part of, the page's form and what
the page says once saved. Every table that used to list the kinds one by one is made
from these descriptions (``record_content.FIELDS``, the requirement facts, the page
forms, the topic page's sections).

A type stores its kinds in two ways:

- :attr:`RecordType.kinds` names the kinds that have a table (and routes) of their own
  since before record types: the standard consultation's (``investigation``,
  ``site_consultation``, …). Their tables, routes and operation ids never change.
- :attr:`RecordType.generic` stores every other kind of the type in one table with a
  ``kind`` column (``vote``, ``note_record``): a new kind of such a type is a workflow
  file edit only, with no code change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from piccolo.table import Table

from deliberation import schemas as s
from deliberation.pinning import loaded
from deliberation.tables import (
    Investigation,
    Meeting,
    NoteRecord,
    Opinion,
    ProgressReport,
    ResolutionItem,
    SatisfactionRating,
    SiteConsultation,
    Vote,
)
from workflows.declaration import Workflow
from workflows.loader import Mistake, WorkflowInvalid
from workflows.registry import Registry, RegistryInvalid


@dataclass(frozen=True)
class FormField:
    """One field of a record's page form (and of the form correcting it): its name as
    posted (the API shape's), its Chinese label, the widget and, for text, its rows."""

    name: str
    label: str
    widget: str = "text"
    """``text``, ``textarea``, ``date``, ``datetime-local`` or ``number``."""
    rows: int = 0


def _china_time(data: dict[str, Any]) -> dict[str, Any]:
    """A ``datetime-local`` field (``2026-12-01T09:30``, some browsers add seconds) has
    no zone: the meeting is in China time."""
    given = dict(data)
    when = str(given.get("scheduled_at") or "")
    if _LOCAL_TIME.fullmatch(when):
        seconds = "" if when.count(":") == 2 else ":00"
        given["scheduled_at"] = f"{when}{seconds}+08:00"
    return given


_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def roster_rows(data: dict[str, Any]) -> list[dict[str, str]]:
    """The minutes' roster editor's rows as posted (name, unit, attendance per row)."""
    names = _as_list(data.get("attendee_name"))
    units = _as_list(data.get("attendee_unit"))
    kinds = _as_list(data.get("attendee_attendance"))
    return [
        {
            "name": name,
            "unit": units[i] if i < len(units) else "",
            "attendance": kinds[i] if i < len(kinds) else "present",
        }
        for i, name in enumerate(names)
    ]


def _roster(data: dict[str, Any]) -> dict[str, Any]:
    """The roster rows with a name become the minutes' attendees; empty rows are spare."""
    given = {k: v for k, v in data.items() if not k.startswith("attendee_")}
    attendees = [
        {k: v for k, v in row.items() if v} for row in roster_rows(data) if row["name"].strip()
    ]
    if attendees:  # none is a missing field, named with the others
        given["attendees"] = attendees
    return given


def _checkbox(data: dict[str, Any]) -> dict[str, Any]:
    given = dict(data)
    given["completed"] = str(given.get("completed") or "") == "true"
    return given


@dataclass(frozen=True)
class Storage:
    """Where and how records of a kind (or of a type's generic kinds) live and are
    served."""

    table: type[Table]
    vouched: tuple[str, ...]
    """The fields whose digests the chain carries (a field once vouched is never renamed)."""
    path: str = ""
    """The API's collection path (``/api/v1/topics/{id}/<path>``, ``/api/v1/<path>/{rid}``)."""
    create: type[Any] | None = None
    read: type[Any] | None = None
    patch: type[Any] | None = None
    add: str = ""
    """The service in ``deliberation.records`` that adds one (from the page too)."""
    correct: str = ""
    """The service in ``deliberation.records`` that corrects one with a reason."""
    operations: tuple[str, str, str] = ("", "", "")
    """The operation ids: add, list, correct."""
    revised: bool = False
    """A correction (or answering, rating again) keeps the earlier revision."""
    author: str = ""
    """The column naming who added it, for kinds only their author may correct or read."""
    form: tuple[FormField, ...] = ()
    """The page's form, also used for correcting one (with the reason)."""
    form_id: str = ""
    """The form's HTML id, without ``-form`` (default: the kind's name)."""
    button: str = ""
    saved: str = ""
    """What the page says once one is added (``{label}``: the kind's label)."""
    corrected: str = ""
    """What the page says once one is corrected."""
    posted: Callable[[dict[str, Any]], dict[str, Any]] = dict
    """How the page's posted fields become the API's shape."""
    missing: tuple[tuple[str, str], ...] = ()
    """Plainer words than "请填写此项" for a field left empty."""
    correct_missing: tuple[tuple[str, str], ...] = ()
    publishing: bool = False
    """The correction service takes the document renderer too (minutes: a redraft)."""
    topic_via: str = ""
    """The column leading to the topic when the table has none (progress → its item)."""
    stored_as: str = ""
    """The record name its events use when it lives on another kind's row (minutes on
    their meeting's)."""
    has_kind: bool = False
    """The table's ``kind`` column names the workflow's kind (a generic storage)."""
    present_when: str = ""
    """For a record kept on its parent's row: the column set once it is recorded
    (minutes: ``minutes_recorded_at``); ``records`` counts rows with it set, and
    ``of = "latest"`` asks whether the latest row has it."""
    counted: bool = True
    """``records`` counts it (votes are read as votes, by the ``quorum`` requirement)."""
    refreshes_due: bool = False
    """Adding or correcting one moves the topic's due date (a meeting's day, items' dates)."""
    attendees: bool = False
    """Its content includes its roster (a meeting's attendees, saved with the minutes)."""


@dataclass(frozen=True)
class RecordType:
    """A record type: the storage of each of its own kinds, and a generic one for any
    other kind of it a workflow file declares."""

    name: str
    kinds: dict[str, Storage] = field(default_factory=dict)
    generic: Storage | None = None
    parent: str = ""
    """The type its records belong to (``part_of``): the page's form for one is sent
    with the parent record's id."""
    under_next: bool = False
    """Its form may stand under 下一步 when a step waits for one."""
    prompt: str = ""
    """What a representative's list says when they may add one."""
    done_once: str = ""
    """Added once per person (a rating): the list says this once they have."""


_NOTE_FORM_TAIL = (FormField("place", "地点"), FormField("participants", "参加人员", rows=2))
_RECORD_SAVED = "更正已保存\uff0c原来的记录作为历史版本保留。"

TYPES: dict[str, RecordType] = {
    t.name: t
    for t in (
        RecordType(
            "opinion",
            kinds={
                "opinion": Storage(
                    Opinion,
                    (
                        "author",
                        "content",
                        "stance",
                        "on_behalf_of",
                        "adoption",
                        "answer_reason",
                        "answered_by",
                        "revision",
                    ),
                    path="opinions",
                    create=s.OpinionCreate,
                    read=s.OpinionRead,
                    patch=s.OpinionPatch,
                    add="add_opinion",
                    correct="correct_opinion",
                    operations=("add_opinion", "list_opinions", "correct_opinion"),
                    revised=True,
                    author="author",
                    saved="您的意见已提交\uff0c答复后会显示在下方。",
                    corrected="更正已保存\uff0c原来的内容作为历史版本保留。",
                )
            },
            prompt="可以提出意见",
        ),
        RecordType(
            "answer",
            kinds={
                "opinion_answer": Storage(
                    Opinion,
                    (),
                    create=s.OpinionAnswer,
                    read=s.OpinionRead,
                    add="answer_opinion",
                    operations=("answer_opinion", "", ""),
                    saved="答复已保存。",
                    stored_as="opinion",
                )
            },
            parent="opinion",
        ),
        RecordType(
            "note",
            kinds={
                "investigation": Storage(
                    Investigation,
                    ("visited_on", "place", "participants", "findings", "recorded_by", "revision"),
                    path="investigations",
                    create=s.InvestigationCreate,
                    read=s.InvestigationRead,
                    patch=s.InvestigationPatch,
                    add="add_investigation",
                    correct="correct_investigation",
                    operations=(
                        "add_investigation",
                        "list_investigations",
                        "correct_investigation",
                    ),
                    revised=True,
                    form=(
                        FormField("visited_on", "调研日期", "date"),
                        *_NOTE_FORM_TAIL,
                        FormField("findings", "调研发现", rows=4),
                    ),
                    button="保存调研记录",
                    saved="调研记录已保存。",
                    corrected=_RECORD_SAVED,
                ),
                "site_consultation": Storage(
                    SiteConsultation,
                    ("held_on", "place", "participants", "summary", "recorded_by", "revision"),
                    path="site-consultations",
                    create=s.SiteConsultationCreate,
                    read=s.SiteConsultationRead,
                    patch=s.SiteConsultationPatch,
                    add="add_site_consultation",
                    correct="correct_site_consultation",
                    operations=(
                        "add_site_consultation",
                        "list_site_consultations",
                        "correct_site_consultation",
                    ),
                    revised=True,
                    form=(
                        FormField("held_on", "协商日期", "date"),
                        *_NOTE_FORM_TAIL,
                        FormField("summary", "协商情况", rows=4),
                    ),
                    button="保存现场协商记录",
                    saved="现场协商记录已保存。",
                    corrected=_RECORD_SAVED,
                ),
            },
            # Every other note kind (村民说事's own, a county's 入户走访记录, …): one table.
            generic=Storage(
                NoteRecord,
                ("kind", "held_on", "place", "participants", "summary", "recorded_by", "revision"),
                path="notes",
                create=s.NoteCreate,
                read=s.NoteRead,
                patch=s.NotePatch,
                add="add_note",
                correct="correct_note",
                operations=("add_note", "list_notes", "correct_note"),
                revised=True,
                form=(
                    FormField("held_on", "日期", "date"),
                    *_NOTE_FORM_TAIL,
                    FormField("summary", "情况", rows=4),
                ),
                button="保存{label}",
                saved="{label}已保存。",
                corrected=_RECORD_SAVED,
                has_kind=True,
            ),
            under_next=True,
        ),
        RecordType(
            "meeting",
            kinds={
                "meeting": Storage(
                    Meeting,
                    (
                        "scheduled_at",
                        "place",
                        "host",
                        "minutes_summary",
                        "minutes_decisions",
                        "minutes_recorded_by",
                        "revision",
                    ),
                    path="meetings",
                    create=s.MeetingCreate,
                    read=s.MeetingRead,
                    patch=s.MeetingPatch,
                    add="schedule_meeting",
                    correct="correct_meeting",
                    operations=("schedule_meeting", "list_meetings", "correct_meeting"),
                    revised=True,
                    form=(
                        FormField("scheduled_at", "会议时间", "datetime-local"),
                        FormField("place", "地点"),
                        FormField("host", "主持人"),
                    ),
                    button="安排会议",
                    saved="会议已安排。",
                    corrected="会议信息已更正\uff0c原来的信息作为历史版本保留。",
                    posted=_china_time,
                    missing=(("scheduled_at", "请选择会议的日期和时间"),),
                    attendees=True,
                    refreshes_due=True,
                )
            },
            under_next=True,
        ),
        RecordType(
            "minutes",
            kinds={
                # The minutes are part of their meeting: one record, one digest.
                "minutes": Storage(
                    Meeting,
                    (),
                    create=s.MinutesUpdate,
                    read=s.MeetingRead,
                    patch=s.MinutesPatch,
                    add="record_minutes",
                    correct="correct_minutes",
                    operations=("record_minutes", "", "correct_minutes"),
                    revised=True,
                    saved="会议纪要已保存。",
                    corrected="会议纪要已更正\uff0c原来的纪要作为历史版本保留。"
                    "如纪要已经印发\uff0c印发的文件不会改变\uff1a已生成新的会议纪要草稿\uff0c"
                    "请预览后发布\uff0c发布后替代原件。",
                    posted=_roster,
                    missing=(("attendees", "请至少填写一位参会人员的姓名"),),
                    correct_missing=(("attendees", "请至少填写一位参会人员的姓名"),),
                    publishing=True,
                    stored_as="meeting",
                    present_when="minutes_recorded_at",
                )
            },
            parent="meeting",
        ),
        RecordType(
            "item",
            kinds={
                "resolution_item": Storage(
                    ResolutionItem,
                    ("content", "responsible_unit", "due_date", "completed", "revision"),
                    path="resolution-items",
                    create=s.ResolutionItemCreate,
                    read=s.ResolutionItemRead,
                    patch=s.ResolutionItemPatch,
                    add="add_resolution_item",
                    correct="correct_resolution_item",
                    operations=(
                        "add_resolution_item",
                        "list_resolution_items",
                        "correct_resolution_item",
                    ),
                    revised=True,
                    form=(
                        FormField("content", "成果内容", rows=3),
                        FormField("responsible_unit", "牵头落实单位"),
                        FormField("due_date", "完成时限", "date"),
                    ),
                    form_id="item",
                    refreshes_due=True,
                    button="添加成果",
                    saved="协商成果已添加。",
                    corrected="协商成果已更正\uff0c原来的内容作为历史版本保留。",
                )
            },
            under_next=True,
        ),
        RecordType(
            "progress",
            kinds={
                "progress": Storage(
                    ProgressReport,
                    ("item", "note", "percent", "completed", "reported_by"),
                    create=s.ProgressCreate,
                    read=s.ProgressRead,
                    add="add_progress",
                    operations=("add_progress", "list_progress", ""),
                    saved="落实进展已保存。",
                    posted=_checkbox,
                    topic_via="item",
                )
            },
            parent="item",
        ),
        RecordType(
            "rating",
            kinds={
                "satisfaction": Storage(
                    SatisfactionRating,
                    ("representative", "rating", "comment", "revision"),
                    path="satisfaction",
                    create=s.SatisfactionCreate,
                    read=s.SatisfactionRead,
                    add="rate_satisfaction",
                    operations=("rate_satisfaction", "list_satisfaction", ""),
                    revised=True,
                    author="representative",
                    form_id="rating",
                    saved="您的评价已提交\uff0c谢谢\uff01",
                )
            },
            prompt="请评价落实情况",
            done_once="已评价",
        ),
        RecordType(
            "vote",
            # Every vote kind is stored in one table, its declared kind in ``kind``.
            generic=Storage(
                Vote,
                (
                    "kind",
                    "body",
                    "held_on",
                    "roster_size",
                    "present",
                    "votes_for",
                    "against",
                    "abstain",
                    "method",
                    "presided_by",
                    "notice_given_on",
                    "author",
                    "revision",
                ),
                path="votes",
                create=s.VoteCreate,
                read=s.VoteRead,
                patch=s.VotePatch,
                add="add_vote",
                correct="correct_vote",
                operations=("add_vote", "list_votes", "correct_vote"),
                revised=True,
                saved="表决记录已保存。",
                corrected="表决记录已更正\uff0c原来的数字作为历史版本保留。",
                has_kind=True,
                counted=False,
            ),
        ),
    )
}
"""Every record type, by name (``workflows.declaration.RECORD_TYPES``)."""

NAMED: dict[str, tuple[RecordType, Storage]] = {
    kind: (t, storage) for t in TYPES.values() for kind, storage in t.kinds.items()
}
"""The kinds with storage of their own: kind → (type, storage)."""

GENERIC: dict[str, RecordType] = {t.name: t for t in TYPES.values() if t.generic is not None}
"""The types storing their (other) kinds in one table with a ``kind`` column."""


def type_of(kind: str) -> RecordType | None:
    """The type of a record kind: its own storage's, or as a loaded workflow declares it."""
    if kind in NAMED:
        return NAMED[kind][0]
    for workflow in loaded():
        for record in workflow.records:
            if record.name == kind:
                return TYPES.get(record.type)
    return None


def storage_of(kind: str) -> Storage | None:
    """Where a kind's records live: its own table, else its type's generic one."""
    if kind in NAMED:
        return NAMED[kind][1]
    found = type_of(kind)
    return found.generic if found is not None else None


def tables_of(type_name: str) -> list[type[Table]]:
    """Every table records of a type are kept in (its kinds' own, then its generic one)."""
    found = TYPES[type_name]
    storages = [*found.kinds.values(), *([found.generic] if found.generic else [])]
    return list(dict.fromkeys(s.table for s in storages))


def storage_for(kind: str, type_name: str) -> Storage | None:
    """Where records of a kind declared with ``type_name`` live."""
    if kind in NAMED:
        return NAMED[kind][1]
    found = TYPES.get(type_name)
    return found.generic if found is not None else None


def generic_kinds(type_name: str) -> Iterator[tuple[str, str]]:
    """Every kind of a generic type that the loaded workflows declare: (name, label)."""
    seen: set[str] = set()
    for workflow in loaded():
        for record in workflow.records:
            if record.type == type_name and record.name not in NAMED and record.name not in seen:
                seen.add(record.name)
                yield record.name, record.label


def parent_storage(kind: str) -> Storage | None:
    """The storage of the record a kind's page form is sent for: its parent's (an
    answer's opinion, minutes' meeting, progress's item), else its own."""
    found = type_of(kind)
    if found is None or not found.parent:
        return storage_of(kind)
    parent = TYPES[found.parent]
    storages = [*parent.kinds.values(), *([parent.generic] if parent.generic else [])]
    return storages[0] if storages else None


def storage_mistakes(workflow: Workflow) -> list[Mistake]:
    """What in a workflow's ``[[records]]`` no storage can keep: a name with a table of
    its own declared with another type, or a new name of a type without a generic table
    (only a kind of a generic type is a file edit: docs/record-kinds.md). The loader
    cannot ask this (it knows no tables); ``workflow check`` and ``create_app`` do."""
    mistakes = []
    generic = "、".join(sorted(GENERIC))
    for index, record in enumerate(workflow.records):
        place = f"records[{index}] ({record.name}).type"
        if record.name in NAMED:
            own = NAMED[record.name][0].name
            if own != record.type:
                mistakes.append(
                    Mistake(
                        place,
                        f'记录种类 "{record.name}" 已有自己的存储，类型是 "{own}"，'
                        f'不能声明为 "{record.type}"（另起新名）',
                    )
                )
        elif record.type not in GENERIC:
            mistakes.append(
                Mistake(
                    place,
                    f'类型 "{record.type}" 的记录种类没有通用存储，不能起新名 "{record.name}"：'
                    f"新名称只能用于 {generic} 类型，或沿用该类型已有的种类名"
                    f"（{'、'.join(k for k, (t, _) in NAMED.items() if t.name == record.type)}）",
                )
            )
    return mistakes


def check_storage(registry: Registry) -> None:
    """Every loaded workflow's record kinds have a storage, or RegistryInvalid naming
    each that has none (the server refuses to start, as for any other mistake in a file)."""
    invalid = []
    for workflow in registry:
        mistakes = storage_mistakes(workflow)
        if mistakes:
            source = str(registry.directory / workflow.key / f"v{workflow.version}.toml")
            invalid.append(WorkflowInvalid(source, mistakes))
    if invalid:
        raise RegistryInvalid(invalid)
