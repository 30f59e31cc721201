"""Corrections, not overwrites (product.md §9): a record is changed only by a
correction with a reason; the record as it was is kept as an earlier revision, readable
at ``…/revisions``, and the change goes on the topic's chain with the digests of each
changed field before and after."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import msgspec

from deliberation import chain
from deliberation.clock import utcnow
from deliberation.errors import ConditionFailed, NotFound, ValidationFailed
from deliberation.permissions import Subject, allowed, kind_label
from deliberation.record_content import fields_of, load_content, record_key, revision_kinds
from deliberation.record_types import NAMED, storage_of
from deliberation.schemas import RevisionRead
from deliberation.security import Principal
from deliberation.tables import Document, MeetingAttendee, RecordRevision
from deliberation.topics import topic_row, valid_id, visible_topic
from deliberation.validation import check_dates
from workflows import WORKFLOW

AUTHORS = {kind: storage.author for kind, (_, storage) in NAMED.items() if storage.author}
"""The column naming who added the record, for records their author may correct/read."""


def _label(record: str) -> str:
    """A record kind's Chinese name (standard's, or any loaded workflow's)."""
    try:
        return WORKFLOW.record(record).label
    except KeyError:
        return kind_label(record)


async def keep_revision(
    topic_id: int,
    record: str,
    record_id: int,
    content: dict[str, Any],
    reason: str,
    principal: Principal,
) -> int:
    """Keep the record as it is now (``content``, its vouched-for fields) as an earlier
    revision, and give the record its next revision number. Returns that number."""
    revision = int(content.get("revision", 1))
    await RecordRevision.insert(
        RecordRevision(
            topic=topic_id,
            record_kind=record,
            record_id=record_id,
            revision=revision,
            data=chain.canonical(content),
            reason=reason,
            created_by=principal.id,
            created_at=utcnow(),
        )
    )
    table, _ = fields_of(record)
    await table.update({table.revision: revision + 1}).where(table.id == record_id)  # type: ignore[attr-defined]
    return revision + 1


async def record_row(record: str, record_id: int) -> dict[str, Any] | None:
    """A row of ``record``'s table by id (on the transaction's connection, if any)."""
    if not valid_id(record_id):
        return None
    table, _ = fields_of(record)
    row = await table.select().where(table.id == record_id).first()  # type: ignore[attr-defined]
    return dict(row) if row is not None else None


async def _record_and_topic(record: str, record_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    row = await record_row(record, record_id)
    if row is None:
        raise NotFound(f"{_label(record)}不存在")
    return row, await topic_row(row["topic"])


async def readable_record(
    principal: Principal, record: str, record_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``record`` and its topic, for those who read the topic in full (404 otherwise)."""
    row, topic = await _record_and_topic(record, record_id)
    try:
        await visible_topic(principal, topic["id"])
    except NotFound as error:
        raise NotFound(f"{_label(record)}不存在") from error
    return row, topic


def _plain(value: Any) -> Any:
    """A value as the record's content holds it (for comparing before and after)."""
    return json.loads(chain.canonical(value)) if isinstance(value, (date, datetime)) else value


async def correct(
    principal: Principal,
    record: str,
    record_id: int,
    changes: dict[str, Any],
    reason: str,
) -> dict[str, Any]:
    """Correct ``record`` with ``changes`` (column → new value; ``attendees`` for the
    minutes' roster) and a reason. Returns what the caller should know besides the
    record: ``{"redraft": True}`` when the minutes were already in a published
    document (a new draft must be published to supersede it)."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed([{"field": "reason", "message": "请说明更正理由"}])
    check_dates(
        **{
            k: v.date() if isinstance(v, datetime) else v
            for k, v in changes.items()
            if isinstance(v, date)
        }
    )
    redraft = False
    from deliberation.changes import record_change

    async with record_change(principal, "record.correct", record, record, record_id) as change:
        row, topic = change.record, change.topic
        assert row is not None
        if record == "opinion" and row["adoption"] is not None:
            raise ConditionFailed("这条意见已经答复，不能再更正；如有新的想法，请另提一条意见")
        if record == "minutes":
            if row["minutes_recorded_at"] is None:
                raise ConditionFailed("这次会议还没有记录会议纪要")
            redraft = await Document.exists().where(
                Document.topic == topic["id"],
                Document.kind == "minutes",
                Document.status == "published",
            )
        before = await load_content(record, record_id)
        roster = changes.pop("attendees", None)
        changed = {k: v for k, v in changes.items() if _plain(v) != _plain(before.get(k))}
        if roster is not None and [list(a) for a in roster] != before.get("attendees"):
            changed["attendees"] = roster
        if not changed:
            raise ValidationFailed(
                [{"field": "reason", "message": "没有需要更正的内容：请修改至少一项"}]
            )
        await keep_revision(topic["id"], record, record_id, before, reason, principal)
        table, _ = fields_of(record)
        columns = {getattr(table, k): v for k, v in changed.items() if k != "attendees"}
        if columns:
            await table.update(columns).where(table.id == record_id)  # type: ignore[attr-defined]
        if "attendees" in changed:
            await MeetingAttendee.delete().where(MeetingAttendee.meeting == record_id)
            await MeetingAttendee.insert(
                *[
                    MeetingAttendee(
                        meeting=record_id, position=i, name=name, unit=unit, attendance=kind
                    )
                    for i, (name, unit, kind) in enumerate(roster or [])
                ]
            )
        storage = storage_of(record)
        if storage is not None and storage.refreshes_due:
            await change.refresh_due()
        await change.corrected(record, record_id, before=before, comment=reason)
    return {"redraft": redraft}


async def revisions(principal: Principal, record: str, record_id: int) -> list[RevisionRead]:
    """The record's revisions, oldest first, the current one last: for those who may
    read the record in full."""
    row, topic = await readable_record(principal, record, record_id)
    read_as = record_key(record)
    author = row.get(AUTHORS[record]) if record in AUTHORS else None
    decision = allowed(principal, "record.read", Subject.of_topic(topic, author), read_as)
    if decision.view != "full":
        raise NotFound(f"{_label(record)}不存在")
    kinds = revision_kinds(record)
    rows = (
        await RecordRevision.select()
        .where(RecordRevision.record_kind.is_in(kinds), RecordRevision.record_id == record_id)
        .order_by(RecordRevision.revision)
    )
    found = [
        RevisionRead(
            revision=r["revision"],
            content=json.loads(r["data"]),
            current=False,
            reason=r["reason"],
            replaced_by=r["created_by"],
            replaced_at=r["created_at"],
        )
        for r in rows
    ]
    current = msgspec.json.decode(chain.canonical(await load_content(record, record_id)))
    found.append(
        RevisionRead(
            revision=int(current.get("revision", 1)),
            content=current,
            current=True,
            reason="",
            replaced_by=None,
            replaced_at=None,
        )
    )
    return found
