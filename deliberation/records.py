"""The records of a consultation: opinions, investigations, site consultations,
meetings with minutes, resolution items with progress, satisfaction ratings.

Each write checks the caller's township (404), the role (403) and that the
topic's state accepts the record (409 ``stage_closed``), all from the workflow
declaration, inside one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import msgspec

from deliberation.changes import record_change, topic_change
from deliberation.clock import china_date, china_today, utcnow
from deliberation.corrections import correct, keep_revision, readable_record
from deliberation.errors import NotFound, StageClosed, ValidationFailed, WorkflowUnavailable
from deliberation.paging import Page, Window, keyed, page_of, scan
from deliberation.permissions import ROLE_ONLY, Subject, allowed, kind_label
from deliberation.pinning import loaded, workflow_of
from deliberation.record_content import load_content
from deliberation.record_types import storage_for
from deliberation.schemas import (
    AttendeeRead,
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
from deliberation.security import Principal
from deliberation.tables import (
    Investigation,
    Meeting,
    MeetingAttendee,
    NoteRecord,
    Opinion,
    ProgressReport,
    ResolutionItem,
    SatisfactionRating,
    SiteConsultation,
    Vote,
)
from deliberation.tallies import stance_and_rating_tallies
from deliberation.topics import topic_row, valid_id, visible_topic
from deliberation.validation import EARLIEST, LATEST, check_dates, check_meeting_held
from workflows import RecordKind, Workflow


def check_record_allowed(record: str, principal: Principal, topic: dict[str, Any]) -> None:
    """The policy on adding ``record`` to ``topic``: township (404), role and village
    (403), then state (409 stage_closed)."""
    allowed(principal, "record.add", Subject.of_topic(topic), record).check()


def view_of(
    principal: Principal | None, topic: dict[str, Any], kind: str, author_id: int | None = None
) -> str:
    """How much of a ``kind`` record (by ``author_id``) the caller sees on ``topic``."""
    decision = allowed(principal, "record.read", Subject.of_topic(topic, author_id), kind)
    return decision.view if decision else "none"


# Opinions ---------------------------------------------------------------------------


def _opinion_read(row: dict[str, Any], view: str = "full") -> OpinionRead:
    return OpinionRead(
        view=view,
        id=row["id"],
        topic_id=row["topic"],
        author_id=row["author"],
        author_name=row["author.display_name"],
        content=row["content"],
        stance=row["stance"],
        on_behalf_of=row["on_behalf_of"],
        adoption=row["adoption"],
        answer_reason=row["answer_reason"],
        answered_at=row["answered_at"],
        created_at=row["created_at"],
        revision=row["revision"],
    )


_OPINION_COLUMNS = (
    Opinion.id,
    Opinion.topic,
    Opinion.author,
    Opinion.author.display_name,
    Opinion.content,
    Opinion.stance,
    Opinion.on_behalf_of,
    Opinion.adoption,
    Opinion.answer_reason,
    Opinion.answered_at,
    Opinion.created_at,
    Opinion.revision,
)


async def _read_opinion(opinion_id: int) -> OpinionRead:
    row = await Opinion.select(*_OPINION_COLUMNS).where(Opinion.id == opinion_id).first()
    assert row is not None
    return _opinion_read(row)


async def add_opinion(principal: Principal, topic_id: int, data: OpinionCreate) -> OpinionRead:
    async with topic_change(principal, topic_id, "record.add", "opinion") as change:
        inserted = await Opinion.insert(
            Opinion(
                topic=topic_id,
                author=principal.id,
                content=data.content.strip(),
                stance=data.stance,
                on_behalf_of=data.on_behalf_of.strip(),
                answer_reason="",
                created_at=utcnow(),
            )
        )
        await change.created("opinion", inserted[0]["id"], extra={"stance": data.stance})
    return await _read_opinion(inserted[0]["id"])


async def list_opinions(principal: Principal, topic_id: int) -> list[OpinionRead]:
    return await opinions_seen(principal, await visible_topic(principal, topic_id))


async def opinions_seen(principal: Principal | None, topic: dict[str, Any]) -> list[OpinionRead]:
    """The opinions the caller may see, each as much as the policy allows: in full
    (the office, their author), the answer without names (``anonymous``, once the
    topic is public), or not at all (counted in ``tallies`` only)."""
    rows = (
        await Opinion.select(*_OPINION_COLUMNS)
        .where(Opinion.topic == topic["id"])
        .order_by(Opinion.id)
    )
    return _opinions_shown(principal, topic, rows)


def _shown_where(view: str) -> Any:
    """The opinions a reader with ``view`` of them is shown, as SQL (None: every one)."""
    if view == "full":
        return None
    if view == "anonymous":
        return Opinion.adoption.is_not_null()
    return Opinion.id < 0  # none


def readable_opinions(principal: Principal | None, topic: dict[str, Any]) -> Any:
    """The SQL for the opinions ``_opinions_shown`` keeps, so that a page reads the rows
    it shows and not the ones it would pass over (its check stays the last word)."""
    where = Opinion.topic == topic["id"]
    others = _shown_where(view_of(principal, topic, "opinion", 0))  # 0: nobody's id
    if principal is None:
        return where if others is None else where & others
    own = _shown_where(view_of(principal, topic, "opinion", principal.id))
    if others is None and own is None:
        return where
    mine = Opinion.author == principal.id
    not_mine = (Opinion.author != principal.id) | Opinion.author.is_null()
    return where & (
        (mine if own is None else mine & own) | (not_mine if others is None else not_mine & others)
    )


async def page_opinions(principal: Principal, topic_id: int, window: Window) -> Page[OpinionRead]:
    """A page of the opinions the caller may see (``opinions_seen``), by id."""
    topic = await visible_topic(principal, topic_id)
    where = readable_opinions(principal, topic)
    return await scan(
        lambda w: keyed(Opinion.select(*_OPINION_COLUMNS).where(where), Opinion.id, w),
        lambda row: int(row["id"]),
        lambda rows: _opinions_shown(principal, topic, rows),
        lambda opinion: opinion.id,
        window,
    )


def opinion_shown(
    principal: Principal | None, topic: dict[str, Any], row: dict[str, Any]
) -> OpinionRead | None:
    """One opinion row as this reader sees it, or None: the author's name for a full
    view, none for an anonymous one (answered opinions only) (docs/permissions.md)."""
    view = view_of(principal, topic, "opinion", row["author"])
    if view == "full":
        return _opinion_read(row)
    if view == "anonymous" and row["adoption"] is not None:
        return _opinion_read(
            {**row, "author": None, "author.display_name": "", "on_behalf_of": ""}, view
        )
    return None


def _opinions_shown(
    principal: Principal | None, topic: dict[str, Any], rows: Sequence[dict[str, Any]]
) -> list[OpinionRead]:
    return [o for o in (opinion_shown(principal, topic, r) for r in rows) if o is not None]


async def answer_opinion(principal: Principal, opinion_id: int, data: OpinionAnswer) -> OpinionRead:
    async with record_change(
        principal, "record.add", "opinion_answer", "opinion", opinion_id
    ) as change:
        row, topic = change.record, change.topic
        assert row is not None
        before = None
        if row["adoption"] is not None:  # answered again: the earlier answer is kept
            before = await load_content("opinion", opinion_id)
            await keep_revision(topic["id"], "opinion", opinion_id, before, "重新答复", principal)
        await Opinion.update(
            {
                Opinion.adoption: data.adoption,
                Opinion.answer_reason: data.reason.strip(),
                Opinion.answered_by: principal.id,
                Opinion.answered_at: utcnow(),
            }
        ).where(Opinion.id == opinion_id)
        await change.vouched("opinion.answered", "opinion", opinion_id, before=before)
    return await _read_opinion(opinion_id)


# Investigations and site consultations ---------------------------------------------------


NoteLike = TypeVar("NoteLike", InvestigationRead, SiteConsultationRead, NoteRead)
_NAMED_PEOPLE = {"participants": "", "recorded_by": None}
"""A note's fields that name people, and what a ``summary`` view shows instead."""


def _note_like_read(shape: type[NoteLike], r: dict[str, Any], view: str, **extra: Any) -> NoteLike:
    """A note-shaped record (investigation, site consultation, any note kind) as ``view``
    shows it: ``summary`` leaves out the people it names (docs/permissions.md)."""
    full = view == "full"
    values = {"topic_id": r["topic"], "view": view, **extra}
    for name in shape.__struct_fields__:
        if name not in values:
            values[name] = r[name] if full or name not in _NAMED_PEOPLE else _NAMED_PEOPLE[name]
    return shape(**values)


def _investigation_read(r: dict[str, Any], view: str = "full") -> InvestigationRead:
    return _note_like_read(InvestigationRead, r, view)


async def add_investigation(
    principal: Principal, topic_id: int, data: InvestigationCreate
) -> InvestigationRead:
    check_dates(visited_on=data.visited_on)
    async with topic_change(principal, topic_id, "record.add", "investigation") as change:
        row = Investigation(
            topic=topic_id,
            visited_on=data.visited_on,
            place=data.place.strip(),
            participants=data.participants.strip(),
            findings=data.findings.strip(),
            recorded_by=principal.id,
            created_at=utcnow(),
        )
        await row.save()
        await change.created("investigation", row.id)
    return _investigation_read(row.to_dict())


async def list_investigations(principal: Principal, topic_id: int) -> list[InvestigationRead]:
    return await investigations_seen(principal, await visible_topic(principal, topic_id))


async def investigations_seen(
    principal: Principal | None, topic: dict[str, Any]
) -> list[InvestigationRead]:
    view = view_of(principal, topic, "investigation")
    if view == "none":
        return []
    rows = (
        await Investigation.select()
        .where(Investigation.topic == topic["id"])
        .order_by(Investigation.id)
    )
    return [_investigation_read(r, view) for r in rows]


async def page_investigations(
    principal: Principal, topic_id: int, window: Window
) -> Page[InvestigationRead]:
    return await _page_of_kind(
        principal, topic_id, window, Investigation, "investigation", _investigation_read
    )


async def _page_of_kind(
    principal: Principal,
    topic_id: int,
    window: Window,
    table: Any,
    kind: str,
    read: Callable[[dict[str, Any], str], NoteLike],
) -> Page[NoteLike]:
    """A page of a kind whose rows a reader sees all or none of (one view per kind)."""
    topic = await visible_topic(principal, topic_id)
    view = view_of(principal, topic, kind)
    if view == "none":
        return Page()
    rows = await keyed(table.select().where(table.topic == topic_id), table.id, window)
    return page_of([read(r, view) for r in rows], window, lambda r: r.id)


def _site_consultation_read(r: dict[str, Any], view: str = "full") -> SiteConsultationRead:
    return _note_like_read(SiteConsultationRead, r, view)


async def add_site_consultation(
    principal: Principal, topic_id: int, data: SiteConsultationCreate
) -> SiteConsultationRead:
    check_dates(held_on=data.held_on)
    async with topic_change(principal, topic_id, "record.add", "site_consultation") as change:
        row = SiteConsultation(
            topic=topic_id,
            held_on=data.held_on,
            place=data.place.strip(),
            participants=data.participants.strip(),
            summary=data.summary.strip(),
            recorded_by=principal.id,
            created_at=utcnow(),
        )
        await row.save()
        await change.created("site_consultation", row.id)
    return _site_consultation_read(row.to_dict())


async def list_site_consultations(
    principal: Principal, topic_id: int
) -> list[SiteConsultationRead]:
    return await site_consultations_seen(principal, await visible_topic(principal, topic_id))


async def site_consultations_seen(
    principal: Principal | None, topic: dict[str, Any]
) -> list[SiteConsultationRead]:
    view = view_of(principal, topic, "site_consultation")
    if view == "none":
        return []
    rows = (
        await SiteConsultation.select()
        .where(SiteConsultation.topic == topic["id"])
        .order_by(SiteConsultation.id)
    )
    return [_site_consultation_read(r, view) for r in rows]


async def page_site_consultations(
    principal: Principal, topic_id: int, window: Window
) -> Page[SiteConsultationRead]:
    return await _page_of_kind(
        principal, topic_id, window, SiteConsultation, "site_consultation", _site_consultation_read
    )


# Notes of any other kind (a kind of type ``note`` without a table of its own) ------------


def _note_read(r: dict[str, Any], label: str, view: str = "full") -> NoteRead:
    return _note_like_read(NoteRead, r, view, kind_label=label)


def note_kinds(workflow: Workflow) -> list[RecordKind]:
    """The workflow's kinds of type ``note`` stored as notes (docs/record-kinds.md): the
    ones without a table of their own, in declaration order."""
    return [
        r
        for r in workflow.records
        if (storage := storage_for(r.name, r.type)) is not None and storage.table is NoteRecord
    ]


def _not_a_note(kind: str, workflow: Workflow) -> ValidationFailed:
    names = "、".join(f"{k.name}（{k.label}）" for k in note_kinds(workflow)) or "无"
    message = f"“{kind}”不是本议题所用流程（{workflow.label}）的记录种类；可用的：{names}"
    return ValidationFailed([{"field": "kind", "message": message}])


async def add_note(principal: Principal, topic_id: int, data: NoteCreate) -> NoteRead:
    """Add a note of ``data.kind``, a kind of type ``note`` the topic's workflow declares
    (a 422 naming the kinds it has for any other name; its rules — who, in which states —
    are the declaration's, like every kind's)."""
    check_dates(held_on=data.held_on)
    topic = await topic_row(topic_id)
    workflow = workflow_of(topic)
    declared = {k.name: k for k in note_kinds(workflow)}
    if data.kind not in declared:
        await visible_topic(principal, topic_id)  # another township's: 404 first
        if workflow.unavailable:  # its file is gone: no kinds can be known to it
            raise WorkflowUnavailable(workflow.unavailable)
        raise _not_a_note(data.kind, workflow)
    async with topic_change(principal, topic_id, "record.add", data.kind) as change:
        row = NoteRecord(
            topic=topic_id,
            kind=data.kind,
            held_on=data.held_on,
            place=data.place.strip(),
            participants=data.participants.strip(),
            summary=data.summary.strip(),
            recorded_by=principal.id,
            created_at=utcnow(),
        )
        await row.save()
        await change.created(data.kind, row.id)
    return _note_read(row.to_dict(), declared[data.kind].label)


async def list_notes(
    principal: Principal, topic_id: int, kind: str | None = None
) -> list[NoteRead]:
    return await notes_seen(principal, await visible_topic(principal, topic_id), kind)


async def notes_seen(
    principal: Principal | None, topic: dict[str, Any], kind: str | None = None
) -> list[NoteRead]:
    """The topic's notes (of ``kind``, or of every note kind of its workflow), oldest
    first, each as much as the caller may read its kind."""
    views = {
        k.name: (k.label, view)
        for k in note_kinds(workflow_of(topic))
        if (kind is None or k.name == kind)
        and (view := view_of(principal, topic, k.name)) != "none"
    }
    if not views:
        return []
    rows = (
        await NoteRecord.select()
        .where((NoteRecord.topic == topic["id"]) & NoteRecord.kind.is_in(list(views)))
        .order_by(NoteRecord.id)
    )
    return [_note_read(r, *views[r["kind"]]) for r in rows]


async def page_notes(
    principal: Principal, topic_id: int, kind: str | None, window: Window
) -> Page[NoteRead]:
    """A page of ``notes_seen``, by id."""
    topic = await visible_topic(principal, topic_id)
    views = {
        k.name: (k.label, view)
        for k in note_kinds(workflow_of(topic))
        if (kind is None or k.name == kind)
        and (view := view_of(principal, topic, k.name)) != "none"
    }
    if not views:
        return Page()
    query = NoteRecord.select().where(
        (NoteRecord.topic == topic_id) & NoteRecord.kind.is_in(list(views))
    )
    rows = await keyed(query, NoteRecord.id, window)
    return page_of([_note_read(r, *views[r["kind"]]) for r in rows], window, lambda r: r.id)


# Meetings and minutes ---------------------------------------------------------------------


async def _meeting_reads(meeting_rows: list[dict[str, Any]]) -> list[MeetingRead]:
    ids = [m["id"] for m in meeting_rows]
    attendees: dict[int, list[AttendeeRead]] = {i: [] for i in ids}
    if ids:
        rows = (
            await MeetingAttendee.select()
            .where(MeetingAttendee.meeting.is_in(ids))
            .order_by(MeetingAttendee.meeting)
            .order_by(MeetingAttendee.position)
        )
        for r in rows:
            attendees[r["meeting"]].append(
                AttendeeRead(name=r["name"], unit=r["unit"], attendance=r["attendance"])
            )
    return [
        MeetingRead(
            id=m["id"],
            topic_id=m["topic"],
            scheduled_at=m["scheduled_at"],
            place=m["place"],
            host=m["host"],
            minutes_recorded=m["minutes_recorded_at"] is not None,
            minutes_summary=m["minutes_summary"],
            minutes_decisions=m["minutes_decisions"],
            minutes_recorded_at=m["minutes_recorded_at"],
            attendees=attendees[m["id"]],
            created_at=m["created_at"],
            revision=m["revision"],
        )
        for m in meeting_rows
    ]


async def _read_meeting(meeting_id: int) -> MeetingRead:
    rows = await Meeting.select().where(Meeting.id == meeting_id)
    return (await _meeting_reads(rows))[0]


async def schedule_meeting(principal: Principal, topic_id: int, data: MeetingCreate) -> MeetingRead:
    check_dates(scheduled_at=data.scheduled_at.date())
    async with topic_change(principal, topic_id, "record.add", "meeting") as change:
        inserted = await Meeting.insert(
            Meeting(
                topic=topic_id,
                scheduled_at=data.scheduled_at,
                place=data.place.strip(),
                host=data.host.strip(),
                minutes_summary="",
                minutes_decisions="",
                created_by=principal.id,
                created_at=utcnow(),
            )
        )
        await change.refresh_due()
        await change.created("meeting", inserted[0]["id"])
    return await _read_meeting(inserted[0]["id"])


async def list_meetings(principal: Principal, topic_id: int) -> list[MeetingRead]:
    topic = await visible_topic(principal, topic_id)
    allowed(principal, "record.read", Subject.of_topic(topic), "meeting").check()
    rows = await Meeting.select().where(Meeting.topic == topic_id).order_by(Meeting.id)
    return await _meeting_reads(rows)


async def page_meetings(principal: Principal, topic_id: int, window: Window) -> Page[MeetingRead]:
    topic = await visible_topic(principal, topic_id)
    allowed(principal, "record.read", Subject.of_topic(topic), "meeting").check()
    rows = await keyed(Meeting.select().where(Meeting.topic == topic_id), Meeting.id, window)
    return page_of(await _meeting_reads(rows), window, lambda r: r.id)


async def record_minutes(principal: Principal, meeting_id: int, data: MinutesUpdate) -> MeetingRead:
    async with record_change(principal, "record.add", "minutes", "meeting", meeting_id) as change:
        row, topic = change.record, change.topic
        assert row is not None
        check_meeting_held(row["scheduled_at"])
        before = None
        reason = data.reason.strip()
        if row["minutes_recorded_at"] is not None:
            # Recorded already: saving again is a correction, with a reason, and the
            # minutes as they were stay readable as an earlier revision.
            if not reason:
                raise ValidationFailed(
                    [{"field": "reason", "message": "会议纪要已记录，修改须说明更正理由"}]
                )
            before = await load_content("minutes", meeting_id)
            await keep_revision(topic["id"], "minutes", meeting_id, before, reason, principal)
        await Meeting.update(
            {
                Meeting.minutes_summary: data.summary.strip(),
                Meeting.minutes_decisions: data.decisions.strip(),
                Meeting.minutes_recorded_at: utcnow(),
                Meeting.minutes_recorded_by: principal.id,
            }
        ).where(Meeting.id == meeting_id)
        # The roster belongs to the minutes and is saved with them as a whole.
        await MeetingAttendee.delete().where(MeetingAttendee.meeting == meeting_id)
        await MeetingAttendee.insert(
            *[
                MeetingAttendee(
                    meeting=meeting_id,
                    position=position,
                    name=a.name.strip(),
                    unit=a.unit.strip(),
                    attendance=a.attendance,
                )
                for position, a in enumerate(data.attendees)
            ]
        )
        if before is not None:
            await change.corrected("minutes", meeting_id, before=before, comment=reason)
        else:
            await change.created("minutes", meeting_id)
    return await _read_meeting(meeting_id)


# Resolution items and progress --------------------------------------------------------------


def _progress_read(r: dict[str, Any]) -> ProgressRead:
    return ProgressRead(
        id=r["id"],
        item_id=r["item"],
        note=r["note"],
        percent=r["percent"],
        completed=r["completed"],
        reported_by=r["reported_by"],
        created_at=r["created_at"],
    )


async def item_reads(item_rows: list[dict[str, Any]]) -> list[ResolutionItemRead]:
    ids = [i["id"] for i in item_rows]
    latest: dict[int, ProgressRead] = {}
    if ids:
        rows = (
            await ProgressReport.select()
            .where(ProgressReport.item.is_in(ids))
            .order_by(ProgressReport.id)
        )
        for r in rows:
            latest[r["item"]] = _progress_read(r)
    return [
        ResolutionItemRead(
            id=i["id"],
            topic_id=i["topic"],
            content=i["content"],
            responsible_unit=i["responsible_unit"],
            due_date=i["due_date"],
            completed=i["completed"],
            latest_progress=latest.get(i["id"]),
            created_at=i["created_at"],
            revision=i["revision"],
        )
        for i in item_rows
    ]


async def add_resolution_item(
    principal: Principal, topic_id: int, data: ResolutionItemCreate
) -> ResolutionItemRead:
    check_dates(due_date=data.due_date)
    async with topic_change(principal, topic_id, "record.add", "resolution_item") as change:
        inserted = await ResolutionItem.insert(
            ResolutionItem(
                topic=topic_id,
                content=data.content.strip(),
                responsible_unit=data.responsible_unit.strip(),
                due_date=data.due_date,
                completed=False,
                created_by=principal.id,
                created_at=utcnow(),
            )
        )
        await change.refresh_due()
        await change.created("resolution_item", inserted[0]["id"])
    rows = await ResolutionItem.select().where(ResolutionItem.id == inserted[0]["id"])
    return (await item_reads(rows))[0]


async def list_resolution_items(principal: Principal, topic_id: int) -> list[ResolutionItemRead]:
    await visible_topic(principal, topic_id)
    rows = (
        await ResolutionItem.select()
        .where(ResolutionItem.topic == topic_id)
        .order_by(ResolutionItem.id)
    )
    return await item_reads(rows)


async def page_resolution_items(
    principal: Principal, topic_id: int, window: Window
) -> Page[ResolutionItemRead]:
    await visible_topic(principal, topic_id)
    query = ResolutionItem.select().where(ResolutionItem.topic == topic_id)
    rows = await keyed(query, ResolutionItem.id, window)
    return page_of(await item_reads(rows), window, lambda r: r.id)


async def add_progress(principal: Principal, item_id: int, data: ProgressCreate) -> ProgressRead:
    async with record_change(
        principal, "record.add", "progress", "resolution_item", item_id
    ) as change:
        row = ProgressReport(
            item=item_id,
            note=data.note.strip(),
            percent=data.percent,
            completed=data.completed,
            reported_by=principal.id,
            created_at=utcnow(),
        )
        await row.save()
        await ResolutionItem.update({ResolutionItem.completed: data.completed}).where(
            ResolutionItem.id == item_id
        )
        await change.refresh_due()
        await change.created("progress", row.id, also=(("resolution_item", item_id),))
    return _progress_read(row.to_dict())


async def list_progress(principal: Principal, item_id: int) -> list[ProgressRead]:
    await readable_record(principal, "resolution_item", item_id)
    rows = (
        await ProgressReport.select()
        .where(ProgressReport.item == item_id)
        .order_by(ProgressReport.id)
    )
    return [_progress_read(r) for r in rows]


async def page_progress(principal: Principal, item_id: int, window: Window) -> Page[ProgressRead]:
    await readable_record(principal, "resolution_item", item_id)
    query = ProgressReport.select().where(ProgressReport.item == item_id)
    rows = await keyed(query, ProgressReport.id, window)
    return page_of([_progress_read(r) for r in rows], window, lambda r: r.id)


# Satisfaction -----------------------------------------------------------------------------


def _satisfaction_read(r: dict[str, Any]) -> SatisfactionRead:
    return SatisfactionRead(
        id=r["id"],
        topic_id=r["topic"],
        representative_id=r["representative"],
        rating=r["rating"],
        comment=r["comment"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        revision=r["revision"],
        representative_name=r.get("representative.display_name", ""),
    )


RATING_COLUMNS = (
    *SatisfactionRating.all_columns(),
    SatisfactionRating.representative.display_name,
)
"""A rating with its rater's name."""


async def rate_satisfaction(
    principal: Principal, topic_id: int, data: SatisfactionCreate
) -> SatisfactionRead:
    """One rating per representative per topic: a new rating replaces the old one."""
    now = utcnow()
    where = (SatisfactionRating.topic == topic_id) & (
        SatisfactionRating.representative == principal.id
    )
    async with topic_change(principal, topic_id, "record.add", "satisfaction") as change:
        existing = await SatisfactionRating.select(SatisfactionRating.id).where(where).first()
        before = None
        if existing is not None:  # rated again: the earlier rating is kept
            before = await load_content("satisfaction", existing["id"])
            await keep_revision(
                topic_id, "satisfaction", existing["id"], before, "重新评价", principal
            )
            await SatisfactionRating.update(
                {
                    SatisfactionRating.rating: data.rating,
                    SatisfactionRating.comment: data.comment.strip(),
                    SatisfactionRating.updated_at: now,
                }
            ).where(where)
        else:
            await SatisfactionRating.insert(
                SatisfactionRating(
                    topic=topic_id,
                    representative=principal.id,
                    rating=data.rating,
                    comment=data.comment.strip(),
                    created_at=now,
                    updated_at=now,
                )
            )
        row = await SatisfactionRating.select(*RATING_COLUMNS).where(where).first()
        assert row is not None
        await change.vouched("satisfaction.rated", "satisfaction", row["id"], before=before)
    return _satisfaction_read(row)


async def list_satisfaction(principal: Principal, topic_id: int) -> list[SatisfactionRead]:
    return await ratings_seen(principal, await visible_topic(principal, topic_id))


async def ratings_seen(
    principal: Principal | None, topic: dict[str, Any]
) -> list[SatisfactionRead]:
    """The ratings the caller sees in full (the office; a representative their own);
    everyone else sees only how many of each (``tallies``)."""
    rows = (
        await SatisfactionRating.select(*RATING_COLUMNS)
        .where(SatisfactionRating.topic == topic["id"])
        .order_by(SatisfactionRating.id)
    )
    return [
        _satisfaction_read(r)
        for r in rows
        if view_of(principal, topic, "satisfaction", r["representative"]) == "full"
    ]


async def page_satisfaction(
    principal: Principal, topic_id: int, window: Window
) -> Page[SatisfactionRead]:
    """A page of ``ratings_seen``, by id."""
    topic = await visible_topic(principal, topic_id)
    where = SatisfactionRating.topic == topic_id
    return await scan(
        lambda w: keyed(
            SatisfactionRating.select(*RATING_COLUMNS).where(where), SatisfactionRating.id, w
        ),
        lambda row: int(row["id"]),
        lambda rows: [
            _satisfaction_read(r)
            for r in rows
            if view_of(principal, topic, "satisfaction", r["representative"]) == "full"
        ],
        lambda rating: rating.id,
        window,
    )


async def tallies(principal: Principal | None, topic: dict[str, Any]) -> Tallies:
    """Opinions by stance and ratings by kind: no names, for anyone who sees the topic
    (counted in SQL: ``deliberation.tallies``)."""
    return await stance_and_rating_tallies(topic["id"])


async def topic_tallies(principal: Principal, topic_id: int) -> Tallies:
    return await tallies(principal, await visible_topic(principal, topic_id))


# Votes (表决) ----------------------------------------------------------------------------


def vote_kind(workflow: Workflow) -> RecordKind | None:
    """The workflow's record kind of type ``vote`` (the declaration names it), if any."""
    return next((r for r in workflow.records if r.type == "vote"), None)


def vote_bodies(workflow: Workflow, kind: str) -> tuple[str, ...]:
    """The bodies whose votes ``kind`` records: those the workflow's ``quorum`` rules on
    it name (transitions and documents), in declaration order (docs/record-kinds.md)."""
    found: dict[str, None] = {}
    requirements = [r for t in workflow.transitions for r in t.requires]
    requirements += [d.requires for d in workflow.documents if d.requires is not None]
    for requirement in (leaf for r in requirements for leaf in r.leaves):
        if requirement.kind == "quorum" and requirement.param("quorum") == kind:
            found.setdefault(str(requirement.param("body")), None)
    return tuple(found)


def _lacks_votes(workflow: Workflow) -> StageClosed:
    return StageClosed(f"本议题所用的流程（{workflow.label}）没有表决记录")


def check_vote(vote: dict[str, Any], topic: dict[str, Any], bodies: tuple[str, ...]) -> None:
    """What a vote's shape cannot say: its figures add up (实到 ≤ 应到; 同意、反对、弃权
    合计 ≤ 实到), it was held between the topic's opening and today, by a body the
    workflow names. Every problem at once, each naming its field (``for`` as on the wire)."""
    bad: list[dict[str, str]] = []
    if bodies and vote["body"] not in bodies:
        bad.append({"field": "body", "message": f"表决会议应为：{'、'.join(bodies)}"})
    held_on, today = vote["held_on"], china_today()
    opened = china_date(topic["created_at"]) if topic.get("created_at") else None
    if not EARLIEST <= held_on <= LATEST:
        bad.append({"field": "held_on", "message": "日期应在 2000 年至 2099 年之间"})
    elif held_on > today:
        message = f"表决日期不能晚于今天（{today.isoformat()}）"
        bad.append({"field": "held_on", "message": message})
    elif opened is not None and held_on < opened:
        message = f"表决日期不能早于议题提出之日（{opened.isoformat()}）"
        bad.append({"field": "held_on", "message": message})
    notice = vote.get("notice_given_on")
    if notice is not None and notice > held_on:
        message = f"通知日期不能晚于表决日期（{held_on.isoformat()}）"
        bad.append({"field": "notice_given_on", "message": message})
    if vote["present"] > vote["roster_size"]:
        message = f"实到人数（{vote['present']}）不能超过应到人数（{vote['roster_size']}）"
        bad.append({"field": "present", "message": message})
    cast = vote["votes_for"] + vote["against"] + vote["abstain"]
    if cast > vote["present"]:
        message = f"同意、反对、弃权合计 {cast} 人，不能超过实到人数（{vote['present']}）"
        bad.append({"field": "for", "message": message})
    if bad:
        raise ValidationFailed(bad)


def _vote_read(r: dict[str, Any], view: str = "full") -> VoteRead:
    return VoteRead(
        id=r["id"],
        topic_id=r["topic"],
        kind=r["kind"],
        body=r["body"],
        held_on=r["held_on"],
        roster_size=r["roster_size"],
        present=r["present"],
        votes_for=r["votes_for"],
        against=r["against"],
        abstain=r["abstain"],
        method=r["method"],
        presided_by=r["presided_by"],
        notice_given_on=r["notice_given_on"],
        author_id=r["author"] if view == "full" else None,
        created_at=r["created_at"],
        revision=r["revision"],
    )


def _vote_values(data: VoteCreate) -> dict[str, Any]:
    return {
        "body": data.body.strip(),
        "held_on": data.held_on,
        "roster_size": data.roster_size,
        "present": data.present,
        "votes_for": data.votes_for,
        "against": data.against,
        "abstain": data.abstain,
        "method": data.method,
        "presided_by": data.presided_by.strip(),
        "notice_given_on": data.notice_given_on,
    }


async def add_vote(principal: Principal, topic_id: int, data: VoteCreate) -> VoteRead:
    """Record a body's vote on the topic, as the kind of type ``vote`` its workflow
    declares (409 when it declares none); the ``quorum`` requirements read it."""
    topic = await topic_row(topic_id)
    workflow = workflow_of(topic)
    kind = vote_kind(workflow)
    if kind is None:
        await visible_topic(principal, topic_id)  # another township's: 404 first
        if workflow.unavailable:  # its file is gone: no votes can be known to it
            raise WorkflowUnavailable(workflow.unavailable)
        raise _lacks_votes(workflow)
    values = _vote_values(data)
    async with topic_change(principal, topic_id, "record.add", kind.name) as change:
        check_vote(values, change.topic, vote_bodies(workflow, kind.name))
        row = Vote(
            topic=topic_id, kind=kind.name, author=principal.id, created_at=utcnow(), **values
        )
        await row.save()
        await change.created(kind.name, row.id)
    return _vote_read(row.to_dict())


async def list_votes(principal: Principal, topic_id: int) -> list[VoteRead]:
    return await votes_seen(principal, await visible_topic(principal, topic_id))


async def votes_seen(principal: Principal | None, topic: dict[str, Any]) -> list[VoteRead]:
    """The topic's votes, oldest first, as far as the caller may read its vote kind
    (none when its workflow has no votes)."""
    kind = vote_kind(workflow_of(topic))
    if kind is None:
        return []
    view = view_of(principal, topic, kind.name)
    if view == "none":
        return []
    rows = (
        await Vote.select()
        .where((Vote.topic == topic["id"]) & (Vote.kind == kind.name))
        .order_by(Vote.id)
    )
    return [_vote_read(r, view) for r in rows]


__all__ = [
    "add_investigation",
    "add_note",
    "add_opinion",
    "add_progress",
    "add_resolution_item",
    "add_site_consultation",
    "add_vote",
    "answer_opinion",
    "check_record_allowed",
    "list_investigations",
    "list_meetings",
    "list_notes",
    "list_opinions",
    "list_progress",
    "list_resolution_items",
    "list_satisfaction",
    "list_site_consultations",
    "list_votes",
    "rate_satisfaction",
    "record_minutes",
    "schedule_meeting",
]


async def page_votes(principal: Principal, topic_id: int, window: Window) -> Page[VoteRead]:
    topic = await visible_topic(principal, topic_id)
    kind = vote_kind(workflow_of(topic))
    if kind is None:
        return Page()
    view = view_of(principal, topic, kind.name)
    if view == "none":
        return Page()
    query = Vote.select().where((Vote.topic == topic_id) & (Vote.kind == kind.name))
    rows = await keyed(query, Vote.id, window)
    return page_of([_vote_read(r, view) for r in rows], window, lambda r: r.id)


# Corrections ------------------------------------------------------------------------


def _changes(data: Any, rename: dict[str, str] | None = None) -> dict[str, Any]:
    """The fields a PATCH body gives (text stripped), under their column names."""
    given: dict[str, Any] = {}
    for name in data.__struct_fields__:
        value = getattr(data, name)
        if name == "reason" or value is msgspec.UNSET:
            continue
        given[(rename or {}).get(name, name)] = value.strip() if isinstance(value, str) else value
    return given


async def correct_opinion(principal: Principal, opinion_id: int, data: OpinionPatch) -> OpinionRead:
    await correct(principal, "opinion", opinion_id, _changes(data), data.reason)
    return await _read_opinion(opinion_id)


async def correct_investigation(
    principal: Principal, record_id: int, data: InvestigationPatch
) -> InvestigationRead:
    await correct(principal, "investigation", record_id, _changes(data), data.reason)
    rows = await Investigation.select().where(Investigation.id == record_id)
    return _investigation_read(rows[0])


async def correct_site_consultation(
    principal: Principal, record_id: int, data: SiteConsultationPatch
) -> SiteConsultationRead:
    await correct(principal, "site_consultation", record_id, _changes(data), data.reason)
    rows = await SiteConsultation.select().where(SiteConsultation.id == record_id)
    return _site_consultation_read(rows[0])


async def correct_meeting(principal: Principal, meeting_id: int, data: MeetingPatch) -> MeetingRead:
    await correct(principal, "meeting", meeting_id, _changes(data), data.reason)
    return await _read_meeting(meeting_id)


async def correct_minutes(
    principal: Principal, meeting_id: int, data: MinutesPatch, publishing: Any = None
) -> MeetingRead:
    """Correct recorded minutes. Minutes already in a published document do not change
    on paper: a new minutes draft is made at once (``redraft_document_id``), to be
    published in place of the old one."""
    changes = _changes(data, {"summary": "minutes_summary", "decisions": "minutes_decisions"})
    if "attendees" in changes:
        changes["attendees"] = [
            (a.name.strip(), a.unit.strip(), a.attendance) for a in changes["attendees"]
        ]
    outcome = await correct(principal, "minutes", meeting_id, changes, data.reason)
    meeting = await _read_meeting(meeting_id)
    if outcome["redraft"] and publishing is not None:
        from deliberation.documents import create_document

        draft = await create_document(principal, meeting.topic_id, "minutes", publishing)
        meeting.redraft_document_id = draft.id
    return meeting


async def correct_resolution_item(
    principal: Principal, item_id: int, data: ResolutionItemPatch
) -> ResolutionItemRead:
    await correct(principal, "resolution_item", item_id, _changes(data), data.reason)
    rows = await ResolutionItem.select().where(ResolutionItem.id == item_id)
    return (await item_reads(rows))[0]


async def correct_note(principal: Principal, record_id: int, data: NotePatch) -> NoteRead:
    """Correct a note with a reason (its kind's correction rule, as any kind's)."""
    row = (
        await NoteRecord.select(NoteRecord.kind).where(NoteRecord.id == record_id).first()
        if valid_id(record_id)
        else None
    )
    if row is None:
        raise NotFound("记录不存在")
    await correct(principal, row["kind"], record_id, _changes(data), data.reason)
    stored = await NoteRecord.select().where(NoteRecord.id == record_id).first()
    assert stored is not None
    return _note_read(stored, kind_label(row["kind"]))


async def correct_vote(principal: Principal, record_id: int, data: VotePatch) -> VoteRead:
    """Correct a vote with a reason; the corrected figures must still add up."""
    changes = _changes(data)
    row = await Vote.select().where(Vote.id == record_id).first() if valid_id(record_id) else None
    kind = (
        row["kind"]
        if row is not None
        else next((k.name for w in loaded() if (k := vote_kind(w)) is not None), "")
    )
    if not kind:
        raise StageClosed("没有任何流程使用表决记录")
    allowed(principal, "record.correct", ROLE_ONLY, kind).check()
    if row is not None:
        topic = await topic_row(row["topic"])
        check_vote({**row, **changes}, topic, vote_bodies(workflow_of(topic), kind))
    await correct(principal, kind, record_id, changes, data.reason)
    rows = await Vote.select().where(Vote.id == record_id)
    return _vote_read(rows[0])
