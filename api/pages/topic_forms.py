"""The forms of a topic's page: for each, the API's input shape, the service call
that saves it and how posted fields become that shape; what the page says once saved;
and each field's length limit, taken from the shapes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from api.forms import max_lengths
from deliberation import county, documents, records, topics
from deliberation.permissions import kind_label
from deliberation.record_types import GENERIC, NAMED, Storage, roster_rows, storage_of
from deliberation.schemas import (
    AttendeeIn,
    DocumentCreate,
    DocumentPublish,
    DocumentRevoke,
    TransitionRequest,
    UrgeRequest,
)

ROSTER_ROWS = 3
"""Empty roster rows the minutes form offers beyond the people already on it."""


def roster(posted: dict[str, Any]) -> dict[str, Any]:
    """The roster as it was posted back: the named rows, the empty rows again, and more
    empty rows when "再加一行" was pressed without JavaScript."""
    rows = roster_rows(posted)
    named = [row for row in rows if row["name"].strip()]
    spare = len(rows) - len(named) + (ROSTER_ROWS if posted.get("more_rows") else 0)
    return {"roster": named, "roster_spare": spare, "roster_default": ROSTER_ROWS}


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


def _service(name: str) -> Callable[..., Awaitable[Any]]:
    service: Callable[..., Awaitable[Any]] = getattr(records, name)
    return service


def _posted(storage: Storage, kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The posted fields as the shape takes them; a generic table's shape names the
    kind (the form's address does)."""
    if storage.create is None or "kind" not in storage.create.__struct_fields__:
        return storage.posted
    return lambda data: {**storage.posted(data), "kind": kind}


def _add_form(kind: str, storage: Storage) -> PageForm:
    assert storage.create is not None
    return PageForm(
        storage.create, _service(storage.add), _posted(storage, kind), dict(storage.missing)
    )


def _correction_form(storage: Storage) -> PageForm:
    assert storage.patch is not None
    return PageForm(
        storage.patch,
        _service(storage.correct),
        storage.posted,
        dict(storage.correct_missing),
        publishing=storage.publishing,
    )


RECORD_FORMS: dict[str, PageForm] = {
    kind: _add_form(kind, storage)
    for kind, (kind_type, storage) in NAMED.items()
    if storage.add and not kind_type.parent
}
"""Forms that add a record of a kind with a table of its own to the topic (to whom: the
workflow's record kinds); the other kinds' forms: :func:`record_form`."""

RECORD_ACTION_FORMS: dict[str, PageForm] = {
    kind: _add_form(kind, storage)
    for kind, (kind_type, storage) in NAMED.items()
    if storage.add and kind_type.parent
}
"""Forms on one record of the topic: answer an opinion, a meeting's minutes, an item's
progress (kinds whose type is part of another's). The record's id follows the kind in
the form's address."""

CORRECTION_FORMS: dict[str, PageForm] = {
    kind: _correction_form(storage)
    for kind, (_, storage) in NAMED.items()
    if storage.patch is not None and storage.correct
}
"""Corrections (更正) of a record, with the reason; the record's id follows the kind
(the other kinds': :func:`correction_form`)."""


def _generic(kind: str) -> Storage | None:
    storage = storage_of(kind)
    return storage if storage is not None and storage.has_kind and kind not in NAMED else None


def record_form(kind: str) -> PageForm | None:
    """The form adding a record of ``kind``: its own, or its type's generic form (every
    vote kind, a note kind without a table) for a kind a loaded workflow declares."""
    if kind in RECORD_FORMS:
        return RECORD_FORMS[kind]
    storage = _generic(kind)
    return _add_form(kind, storage) if storage is not None and storage.add else None


def correction_form(kind: str) -> PageForm | None:
    if kind in CORRECTION_FORMS:
        return CORRECTION_FORMS[kind]
    storage = _generic(kind)
    ok = storage is not None and storage.patch is not None and storage.correct
    return _correction_form(storage) if ok and storage is not None else None


_OTHER_SAVED: dict[str, str] = {
    "document": "草稿已生成\uff0c请预览后发布。",
    "urge": "已督办\uff1a乡镇会在议题页和工作台看到督办意见\uff0c直到议题进入下一阶段。",
    "publish": "文件已发布\uff0c已出现在公开栏。",
    "revoke": "文件已撤销\uff0c核验页会显示撤销原因。",
}

SAVED: dict[str, str] = {
    **{kind: storage.saved for kind, (_, storage) in NAMED.items() if storage.saved},
    **{
        f"correct_{kind}": storage.corrected
        for kind, (_, storage) in NAMED.items()
        if storage.corrected
    },
    **_OTHER_SAVED,
}
"""What the page says after a form was saved (``?saved=<kind>``), for the kinds with a
table of their own and the other forms; the generic kinds': :func:`saved_message`."""


def saved_message(key: str) -> str | None:
    """What the page says after the form ``key`` was saved (``kind`` or ``correct_kind``)."""
    if key in SAVED:
        return SAVED[key]
    correcting = key.startswith("correct_")
    kind = key.removeprefix("correct_")
    storage = _generic(kind) if kind.isidentifier() else None
    if storage is None:
        return None
    return (storage.corrected if correcting else storage.saved).format(label=kind_label(kind))


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
    **{
        t.name: max_lengths(t.generic.create)
        for t in GENERIC.values()
        if t.generic and t.generic.create
    },
    **{kind: max_lengths(form.shape) for kind, form in RECORD_ACTION_FORMS.items()},
    **{f"correct_{kind}": max_lengths(form.shape) for kind, form in CORRECTION_FORMS.items()},
    "urge": max_lengths(UrgeRequest),
    **{kind: max_lengths(form.shape) for kind, form in DOCUMENT_FORMS.items()},
    "fire": max_lengths(TransitionRequest),
    "attendee": max_lengths(AttendeeIn),
}
"""The longest input each page form takes, per field: the API's own limit (a form's
kind is its name before any ``-id``), so the page never cuts or allows more. A generic
type's kinds: :func:`limits_for`."""


def limits_for(kinds: list[str]) -> dict[str, dict[str, int]]:
    """:data:`LIMITS` with the forms of these kinds of generic types (a topic's)."""
    found = dict(LIMITS)
    for kind in kinds:
        storage = _generic(kind)
        if storage is not None:
            if storage.create is not None:
                found[kind] = max_lengths(storage.create)
            if storage.patch is not None:
                found[f"correct_{kind}"] = max_lengths(storage.patch)
    return found
