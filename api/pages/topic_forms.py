"""The forms of a topic's page: for each, the API's input shape, the service call
that saves it and how posted fields become that shape; what the page says once saved;
and each field's length limit, taken from the shapes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from api.forms import max_lengths
from deliberation import county, documents, records, topics
from deliberation.schemas import (
    AttendeeIn,
    DocumentCreate,
    DocumentPublish,
    DocumentRevoke,
    InvestigationCreate,
    InvestigationPatch,
    MeetingCreate,
    MeetingPatch,
    MinutesPatch,
    MinutesUpdate,
    OpinionAnswer,
    OpinionCreate,
    OpinionPatch,
    ProgressCreate,
    ResolutionItemCreate,
    ResolutionItemPatch,
    SatisfactionCreate,
    SiteConsultationCreate,
    SiteConsultationPatch,
    TransitionRequest,
    UrgeRequest,
    VoteCreate,
    VotePatch,
)

CHINA_OFFSET = "+08:00"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")


def _meeting_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A ``datetime-local`` field (``2026-12-01T09:30``, some browsers add seconds) has
    no zone: the meeting is in China time."""
    given = dict(data)
    when = str(given.get("scheduled_at") or "")
    if _LOCAL_TIME.fullmatch(when):
        seconds = "" if when.count(":") == 2 else ":00"
        given["scheduled_at"] = f"{when}{seconds}{CHINA_OFFSET}"
    return given


ROSTER_ROWS = 3
"""Empty roster rows the minutes form offers beyond the people already on it."""


def roster_rows(data: dict[str, Any]) -> list[dict[str, str]]:
    """The roster editor's rows as posted (name, unit, attendance per row)."""
    names = _as_list(data.get("attendee_name"))
    units = _as_list(data.get("attendee_unit"))
    kinds = _as_list(data.get("attendee_attendance"))
    rows = []
    for i, name in enumerate(names):
        rows.append(
            {
                "name": name,
                "unit": units[i] if i < len(units) else "",
                "attendance": kinds[i] if i < len(kinds) else "present",
            }
        )
    return rows


def roster(posted: dict[str, Any]) -> dict[str, Any]:
    """The roster as it was posted back: the named rows, the empty rows again, and more
    empty rows when "再加一行" was pressed without JavaScript."""
    rows = roster_rows(posted)
    named = [row for row in rows if row["name"].strip()]
    spare = len(rows) - len(named) + (ROSTER_ROWS if posted.get("more_rows") else 0)
    return {"roster": named, "roster_spare": spare, "roster_default": ROSTER_ROWS}


def _minutes_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The roster rows with a name become the minutes' attendees; empty rows are spare."""
    given = {k: v for k, v in data.items() if not k.startswith("attendee_")}
    attendees = [
        {k: v for k, v in row.items() if v} for row in roster_rows(data) if row["name"].strip()
    ]
    if attendees:  # none is a missing field, named with the others
        given["attendees"] = attendees
    return given


def _progress_fields(data: dict[str, Any]) -> dict[str, Any]:
    given = dict(data)
    given["completed"] = str(given.get("completed") or "") == "true"
    return given


@dataclass(frozen=True)
class PageForm:
    """A record form on the topic page: the API's input shape, the service call that
    saves it, and how the posted fields become that shape."""

    shape: type[Any]
    save: Callable[..., Awaitable[Any]]
    fields: Callable[[dict[str, Any]], dict[str, Any]] = dict
    missing: dict[str, str] = field(default_factory=dict)
    """Plainer words than "请填写此项" for a field left empty."""
    publishing: bool = False
    """``save`` takes the document renderer too (after the values)."""
    refused_on_top: bool = False
    """A refusal is said at the top of the page, not in the form (a step: the topic
    may have moved on, and its form with it)."""


RECORD_FORMS: dict[str, PageForm] = {
    "opinion": PageForm(OpinionCreate, records.add_opinion),
    "investigation": PageForm(InvestigationCreate, records.add_investigation),
    "site_consultation": PageForm(SiteConsultationCreate, records.add_site_consultation),
    "meeting": PageForm(
        MeetingCreate,
        records.schedule_meeting,
        _meeting_fields,
        {"scheduled_at": "请选择会议的日期和时间"},
    ),
    "resolution_item": PageForm(ResolutionItemCreate, records.add_resolution_item),
    "satisfaction": PageForm(SatisfactionCreate, records.rate_satisfaction),
    # Every record kind of type ``vote`` (docs/record-kinds.md "The vote kind").
    "vote": PageForm(VoteCreate, records.add_vote),
}
"""Forms that add a record to the topic (to whom: the workflow's record kinds)."""

RECORD_ACTION_FORMS: dict[str, PageForm] = {
    "opinion_answer": PageForm(OpinionAnswer, records.answer_opinion),
    "minutes": PageForm(
        MinutesUpdate,
        records.record_minutes,
        _minutes_fields,
        {"attendees": "请至少填写一位参会人员的姓名"},
    ),
    "progress": PageForm(ProgressCreate, records.add_progress, _progress_fields),
}
"""Forms on one record of the topic: answer an opinion, a meeting's minutes, an item's
progress. The record's id follows the kind in the form's address."""


CORRECTION_FORMS: dict[str, PageForm] = {
    "opinion": PageForm(OpinionPatch, records.correct_opinion),
    "investigation": PageForm(InvestigationPatch, records.correct_investigation),
    "site_consultation": PageForm(SiteConsultationPatch, records.correct_site_consultation),
    "meeting": PageForm(MeetingPatch, records.correct_meeting, _meeting_fields),
    "minutes": PageForm(
        MinutesPatch,
        records.correct_minutes,
        _minutes_fields,
        {"attendees": "请至少填写一位参会人员的姓名"},
        publishing=True,
    ),
    "resolution_item": PageForm(ResolutionItemPatch, records.correct_resolution_item),
    # Every record kind of type ``vote``: its figures, with the reason.
    "vote": PageForm(VotePatch, records.correct_vote),
}
"""Corrections (更正) of a record, with the reason; the record's id follows the kind."""


SAVED: dict[str, str] = {
    "opinion": "您的意见已提交\uff0c答复后会显示在下方。",
    "investigation": "调研记录已保存。",
    "site_consultation": "现场协商记录已保存。",
    "meeting": "会议已安排。",
    "resolution_item": "协商成果已添加。",
    "satisfaction": "您的评价已提交\uff0c谢谢\uff01",
    "opinion_answer": "答复已保存。",
    "minutes": "会议纪要已保存。",
    "progress": "落实进展已保存。",
    "vote": "表决记录已保存。",
    "document": "草稿已生成\uff0c请预览后发布。",
    "urge": "已督办\uff1a乡镇会在议题页和工作台看到督办意见\uff0c直到议题进入下一阶段。",
    "publish": "文件已发布\uff0c已出现在公开栏。",
    "revoke": "文件已撤销\uff0c核验页会显示撤销原因。",
    "correct_opinion": "更正已保存\uff0c原来的内容作为历史版本保留。",
    "correct_investigation": "更正已保存\uff0c原来的记录作为历史版本保留。",
    "correct_site_consultation": "更正已保存\uff0c原来的记录作为历史版本保留。",
    "correct_meeting": "会议信息已更正\uff0c原来的信息作为历史版本保留。",
    "correct_minutes": "会议纪要已更正\uff0c原来的纪要作为历史版本保留。"
    "如纪要已经印发\uff0c印发的文件不会改变\uff1a已生成新的会议纪要草稿\uff0c"
    "请预览后发布\uff0c发布后替代原件。",
    "correct_resolution_item": "协商成果已更正\uff0c原来的内容作为历史版本保留。",
    "correct_vote": "表决记录已更正\uff0c原来的数字作为历史版本保留。",
}
"""What the page says after a form was saved (``?saved=<kind>``)."""


DOCUMENT_FORMS: dict[str, PageForm] = {
    "document": PageForm(
        DocumentCreate,
        lambda who, tid, values, publishing: documents.create_document(
            who, tid, values.kind, publishing
        ),
        publishing=True,
    ),
    "publish": PageForm(
        DocumentPublish,
        lambda who, did, values, publishing: documents.publish_document(
            who, did, values.posting_days, publishing
        ),
        publishing=True,
    ),
    "revoke": PageForm(
        DocumentRevoke,
        lambda who, did, values, publishing: documents.revoke_document(
            who, did, values.reason, publishing
        ),
        publishing=True,
    ),
}
"""Staff's document forms: make a draft of a kind, publish a draft, revoke one."""

DOCUMENT_ACTIONS = ("publish", "revoke")

FIRE_FORM = PageForm(
    TransitionRequest,
    lambda who, tid, values: topics.fire_trigger(
        who, tid, values.trigger, values.version, values.comment
    ),
    refused_on_top=True,
)
"""A step of the workflow (its button, with an optional comment)."""

URGE_FORM = PageForm(
    UrgeRequest,
    lambda who, tid, values: county.urge(who, tid, values.note),
    missing={"note": "请写明督办意见"},
)
"""督办: the county supervisor's note on an overdue topic."""

LIMITS: dict[str, dict[str, int]] = {
    **{kind: max_lengths(form.shape) for kind, form in RECORD_FORMS.items()},
    **{kind: max_lengths(form.shape) for kind, form in RECORD_ACTION_FORMS.items()},
    **{f"correct_{kind}": max_lengths(form.shape) for kind, form in CORRECTION_FORMS.items()},
    "urge": max_lengths(UrgeRequest),
    **{kind: max_lengths(form.shape) for kind, form in DOCUMENT_FORMS.items()},
    "fire": max_lengths(TransitionRequest),
    "attendee": max_lengths(AttendeeIn),
}
"""The longest input each page form takes, per field: the API's own limit (a form's
kind is its name before any ``-id``), so the page never cuts or allows more."""
