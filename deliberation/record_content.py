"""What of each record its chain events vouch for: the fields whose digest an event
carries, read the same way when the record is written and when it is audited."""

from __future__ import annotations

from typing import Any

from piccolo.table import Table

from deliberation.tables import (
    Document,
    Investigation,
    Meeting,
    MeetingAttendee,
    Opinion,
    ProgressReport,
    ResolutionItem,
    SatisfactionRating,
    SiteConsultation,
)

FIELDS: dict[str, tuple[type[Table], tuple[str, ...]]] = {
    "opinion": (
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
    ),
    "investigation": (
        Investigation,
        ("visited_on", "place", "participants", "findings", "recorded_by", "revision"),
    ),
    "site_consultation": (
        SiteConsultation,
        ("held_on", "place", "participants", "summary", "recorded_by", "revision"),
    ),
    # The minutes are part of their meeting: one record, one digest.
    "meeting": (
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
    ),
    "resolution_item": (
        ResolutionItem,
        ("content", "responsible_unit", "due_date", "completed", "revision"),
    ),
    "progress": (ProgressReport, ("item", "note", "percent", "completed", "reported_by")),
    "satisfaction": (SatisfactionRating, ("representative", "rating", "comment", "revision")),
    "document": (
        Document,
        ("kind", "status", "sha256", "number_year", "number", "revoke_reason"),
    ),
}
ALIASES = {"minutes": "meeting"}
"""Record names events use that share another record's row."""

BOOLEANS = frozenset({"completed"})


def record_key(record: str) -> str:
    return ALIASES.get(record, record)


def content_of(
    record: str, row: dict[str, Any], attendees: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The vouched-for fields of a row (as a Piccolo select returns it)."""
    _, fields = FIELDS[record_key(record)]
    content = {name: (bool(row[name]) if name in BOOLEANS else row[name]) for name in fields}
    if record_key(record) == "meeting":
        content["attendees"] = [[a["name"], a["unit"], a["attendance"]] for a in attendees or []]
    return content


async def attendees_of(meeting_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in meeting_ids}
    if meeting_ids:
        rows = (
            await MeetingAttendee.select()
            .where(MeetingAttendee.meeting.is_in(meeting_ids))
            .order_by(MeetingAttendee.meeting)
            .order_by(MeetingAttendee.position)
        )
        for row in rows:
            found[row["meeting"]].append(row)
    return found


async def load_content(record: str, record_id: int) -> dict[str, Any]:
    """A record's vouched-for content as stored now (inside the caller's transaction)."""
    table, _ = FIELDS[record_key(record)]
    row = await table.select().where(table.id == record_id).first()  # type: ignore[attr-defined]
    if row is None:
        raise LookupError(f"{record} {record_id} does not exist")
    attendees = None
    if record_key(record) == "meeting":
        attendees = (await attendees_of([record_id]))[record_id]
    return content_of(record, row, attendees)


async def contents_of_topics(
    topic_ids: list[int],
) -> dict[tuple[str, int], tuple[int, dict[str, Any]]]:
    """Every record of these topics: (record, id) → (topic id, content)."""
    found: dict[tuple[str, int], tuple[int, dict[str, Any]]] = {}
    if not topic_ids:
        return found
    for record, (table, _) in FIELDS.items():
        if record == "progress":
            rows = await ProgressReport.select(
                *ProgressReport.all_columns(), ProgressReport.item.topic.as_alias("topic")
            ).where(ProgressReport.item.topic.is_in(topic_ids))
        elif record == "document":
            # A draft still rendering (or left so by a killed server) is not a document
            # yet: it has no event until its PDF is stored.
            rows = await Document.select().where(
                Document.topic.is_in(topic_ids), Document.status != "rendering"
            )
        else:
            rows = await table.select().where(table.topic.is_in(topic_ids))  # type: ignore[attr-defined]
        attendees = await attendees_of([r["id"] for r in rows]) if record == "meeting" else {}
        for row in rows:
            found[(record, row["id"])] = (
                row["topic"],
                content_of(record, row, attendees.get(row["id"])),
            )
    return found
