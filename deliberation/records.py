"""The records of a consultation: opinions, investigations, site consultations,
meetings with minutes, resolution items with progress, satisfaction ratings.

Each write checks the caller's township (404), the role (403) and that the
topic's state accepts the record (409 ``stage_closed``), all from the workflow
declaration, inside one transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from deliberation.clock import utcnow
from deliberation.database import write_transaction
from deliberation.deadlines import refresh_due
from deliberation.errors import Forbidden, NotFound, StageClosed, ValidationFailed
from deliberation.notifications.outbox import record_event, topic_data
from deliberation.schemas import (
    AttendeeRead,
    InvestigationCreate,
    InvestigationRead,
    MeetingCreate,
    MeetingRead,
    MinutesUpdate,
    OpinionAnswer,
    OpinionCreate,
    OpinionRead,
    ProgressCreate,
    ProgressRead,
    ResolutionItemCreate,
    ResolutionItemRead,
    SatisfactionCreate,
    SatisfactionRead,
    SiteConsultationCreate,
    SiteConsultationRead,
)
from deliberation.security import Principal
from deliberation.tables import (
    Investigation,
    Meeting,
    MeetingAttendee,
    Opinion,
    ProgressReport,
    ResolutionItem,
    SatisfactionRating,
    SiteConsultation,
)
from deliberation.topics import valid_id, visible_topic
from workflows import WORKFLOW

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


def check_dates(**days: date) -> None:
    """Dates people type (visits, meetings, deadlines) within 2000–2099: a slip of the
    keyboard (year 0001 or 9999) is refused as bad input, not stored or crashed on."""
    bad = [
        {"field": name, "message": "日期应在 2000 年至 2099 年之间"}
        for name, day in days.items()
        if not EARLIEST <= day <= LATEST
    ]
    if bad:
        raise ValidationFailed(bad)


def check_record_allowed(record: str, principal: Principal, topic: dict[str, Any]) -> None:
    """Role (403) then state (409 stage_closed) for adding ``record`` to ``topic``."""
    kind = WORKFLOW.record(record)
    if principal.role not in kind.roles:
        raise Forbidden(f"您的角色不能添加{kind.label}")
    if topic["state"] not in kind.open_in:
        state_label = WORKFLOW.state(topic["state"]).label
        raise StageClosed(f"议题处于“{state_label}”阶段,不能添加{kind.label}")


def _check_village(principal: Principal, topic: dict[str, Any], what: str) -> None:
    if topic["village"] is not None and topic["village"] != principal.village_id:
        raise Forbidden(f"该议题属于其他村(社区),只有本村(社区)代表可以{what}")


async def _topic_of(
    table: Any, record_id: int, principal: Principal, label: str
) -> tuple[Any, dict[str, Any]]:
    row = (
        await table.objects().where(table.id == record_id).first() if valid_id(record_id) else None
    )
    if row is None:
        raise NotFound(f"{label}不存在")
    try:
        topic = await visible_topic(principal, row.topic)
    except NotFound as error:
        raise NotFound(f"{label}不存在") from error
    return row, topic


# Opinions ---------------------------------------------------------------------------


def _opinion_read(row: dict[str, Any]) -> OpinionRead:
    return OpinionRead(
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
)


async def _read_opinion(opinion_id: int) -> OpinionRead:
    row = await Opinion.select(*_OPINION_COLUMNS).where(Opinion.id == opinion_id).first()
    assert row is not None
    return _opinion_read(row)


async def add_opinion(principal: Principal, topic_id: int, data: OpinionCreate) -> OpinionRead:
    async with write_transaction():
        topic = await visible_topic(principal, topic_id)
        check_record_allowed("opinion", principal, topic)
        _check_village(principal, topic, "提出意见")
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
        state = topic["state"]
        await record_event(
            "opinion.submitted",
            topic["township"],
            topic_id,
            {
                **topic_data(topic, state, WORKFLOW.state(state).label),
                "opinion_id": inserted[0]["id"],
                "stance": data.stance,
            },
        )
    return await _read_opinion(inserted[0]["id"])


async def list_opinions(principal: Principal, topic_id: int) -> list[OpinionRead]:
    await visible_topic(principal, topic_id)
    rows = (
        await Opinion.select(*_OPINION_COLUMNS)
        .where(Opinion.topic == topic_id)
        .order_by(Opinion.id)
    )
    return [_opinion_read(r) for r in rows]


async def answer_opinion(principal: Principal, opinion_id: int, data: OpinionAnswer) -> OpinionRead:
    async with write_transaction():
        _, topic = await _topic_of(Opinion, opinion_id, principal, "意见")
        check_record_allowed("opinion_answer", principal, topic)
        await Opinion.update(
            {
                Opinion.adoption: data.adoption,
                Opinion.answer_reason: data.reason.strip(),
                Opinion.answered_by: principal.id,
                Opinion.answered_at: utcnow(),
            }
        ).where(Opinion.id == opinion_id)
    return await _read_opinion(opinion_id)


# Investigations and site consultations ---------------------------------------------------


def _investigation_read(r: dict[str, Any]) -> InvestigationRead:
    return InvestigationRead(
        id=r["id"],
        topic_id=r["topic"],
        visited_on=r["visited_on"],
        place=r["place"],
        participants=r["participants"],
        findings=r["findings"],
        recorded_by=r["recorded_by"],
        created_at=r["created_at"],
    )


async def add_investigation(
    principal: Principal, topic_id: int, data: InvestigationCreate
) -> InvestigationRead:
    check_dates(visited_on=data.visited_on)
    async with write_transaction():
        topic = await visible_topic(principal, topic_id)
        check_record_allowed("investigation", principal, topic)
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
    return _investigation_read(row.to_dict())


async def list_investigations(principal: Principal, topic_id: int) -> list[InvestigationRead]:
    await visible_topic(principal, topic_id)
    rows = (
        await Investigation.select()
        .where(Investigation.topic == topic_id)
        .order_by(Investigation.id)
    )
    return [_investigation_read(r) for r in rows]


def _site_consultation_read(r: dict[str, Any]) -> SiteConsultationRead:
    return SiteConsultationRead(
        id=r["id"],
        topic_id=r["topic"],
        held_on=r["held_on"],
        place=r["place"],
        participants=r["participants"],
        summary=r["summary"],
        recorded_by=r["recorded_by"],
        created_at=r["created_at"],
    )


async def add_site_consultation(
    principal: Principal, topic_id: int, data: SiteConsultationCreate
) -> SiteConsultationRead:
    check_dates(held_on=data.held_on)
    async with write_transaction():
        topic = await visible_topic(principal, topic_id)
        check_record_allowed("site_consultation", principal, topic)
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
    return _site_consultation_read(row.to_dict())


async def list_site_consultations(
    principal: Principal, topic_id: int
) -> list[SiteConsultationRead]:
    await visible_topic(principal, topic_id)
    rows = (
        await SiteConsultation.select()
        .where(SiteConsultation.topic == topic_id)
        .order_by(SiteConsultation.id)
    )
    return [_site_consultation_read(r) for r in rows]


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
        )
        for m in meeting_rows
    ]


async def _read_meeting(meeting_id: int) -> MeetingRead:
    rows = await Meeting.select().where(Meeting.id == meeting_id)
    return (await _meeting_reads(rows))[0]


async def schedule_meeting(principal: Principal, topic_id: int, data: MeetingCreate) -> MeetingRead:
    check_dates(scheduled_at=data.scheduled_at.date())
    async with write_transaction():
        topic = await visible_topic(principal, topic_id)
        check_record_allowed("meeting", principal, topic)
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
        await refresh_due(topic_id, topic["state"], topic["stage_entered_on"])
    return await _read_meeting(inserted[0]["id"])


async def list_meetings(principal: Principal, topic_id: int) -> list[MeetingRead]:
    await visible_topic(principal, topic_id)
    rows = await Meeting.select().where(Meeting.topic == topic_id).order_by(Meeting.id)
    return await _meeting_reads(rows)


async def record_minutes(principal: Principal, meeting_id: int, data: MinutesUpdate) -> MeetingRead:
    async with write_transaction():
        _, topic = await _topic_of(Meeting, meeting_id, principal, "会议")
        check_record_allowed("minutes", principal, topic)
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
        )
        for i in item_rows
    ]


async def add_resolution_item(
    principal: Principal, topic_id: int, data: ResolutionItemCreate
) -> ResolutionItemRead:
    check_dates(due_date=data.due_date)
    async with write_transaction():
        topic = await visible_topic(principal, topic_id)
        check_record_allowed("resolution_item", principal, topic)
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
        await refresh_due(topic_id, topic["state"], topic["stage_entered_on"])
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


async def add_progress(principal: Principal, item_id: int, data: ProgressCreate) -> ProgressRead:
    async with write_transaction():
        _, topic = await _topic_of(ResolutionItem, item_id, principal, "协商成果")
        check_record_allowed("progress", principal, topic)
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
        await refresh_due(topic["id"], topic["state"], topic["stage_entered_on"])
    return _progress_read(row.to_dict())


async def list_progress(principal: Principal, item_id: int) -> list[ProgressRead]:
    await _topic_of(ResolutionItem, item_id, principal, "协商成果")
    rows = (
        await ProgressReport.select()
        .where(ProgressReport.item == item_id)
        .order_by(ProgressReport.id)
    )
    return [_progress_read(r) for r in rows]


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
    )


async def rate_satisfaction(
    principal: Principal, topic_id: int, data: SatisfactionCreate
) -> SatisfactionRead:
    """One rating per representative per topic: a new rating replaces the old one."""
    now = utcnow()
    where = (SatisfactionRating.topic == topic_id) & (
        SatisfactionRating.representative == principal.id
    )
    async with write_transaction():
        topic = await visible_topic(principal, topic_id)
        check_record_allowed("satisfaction", principal, topic)
        _check_village(principal, topic, "评价满意度")
        if await SatisfactionRating.exists().where(where):
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
    row = await SatisfactionRating.select().where(where).first()
    assert row is not None
    return _satisfaction_read(row)


async def list_satisfaction(principal: Principal, topic_id: int) -> list[SatisfactionRead]:
    await visible_topic(principal, topic_id)
    rows = (
        await SatisfactionRating.select()
        .where(SatisfactionRating.topic == topic_id)
        .order_by(SatisfactionRating.id)
    )
    return [_satisfaction_read(r) for r in rows]


__all__ = [
    "add_investigation",
    "add_opinion",
    "add_progress",
    "add_resolution_item",
    "add_site_consultation",
    "answer_opinion",
    "check_record_allowed",
    "list_investigations",
    "list_meetings",
    "list_opinions",
    "list_progress",
    "list_resolution_items",
    "list_satisfaction",
    "list_site_consultations",
    "rate_satisfaction",
    "record_minutes",
    "schedule_meeting",
]
