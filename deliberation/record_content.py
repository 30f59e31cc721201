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
    RecordRevision,
    ResolutionItem,
    SatisfactionRating,
    SiteConsultation,
    Topic,
    Vote,
)

FIELDS: dict[str, tuple[type[Table], tuple[str, ...]]] = {
    # The topic's own facts, vouched by its ``topic.opened`` event (never changed after).
    "topic": (
        Topic,
        ("reference", "title", "description", "category", "township", "village", "opened_by"),
    ),
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
    # A vote (表决): every record kind of type ``vote`` is stored in one table, its
    # declared kind in ``kind`` (docs/record-kinds.md).
    "vote": (
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
    ),
    "document": (
        Document,
        (
            "kind",
            "title",
            "status",
            "sha256",
            "number_year",
            "number",
            "published_at",
            "posting_starts_on",
            "posting_ends_on",
            "superseded_by",
            "revoke_reason",
        ),
    ),
}
LEGACY_FIELDS = {
    "document": ("kind", "status", "sha256", "number_year", "number", "revoke_reason"),
}
"""Fields whose plain digest scheme 1 events carried, where fewer than now."""
ALIASES = {"minutes": "meeting"}
"""Record names events use that share another record's row."""

REVISED = frozenset(
    {
        "opinion",
        "investigation",
        "site_consultation",
        "meeting",
        "resolution_item",
        "satisfaction",
        "vote",
    }
)
"""Records that keep earlier revisions when corrected, answered again or rated again."""

BOOLEANS = frozenset({"completed"})
OPTIONAL = frozenset({"notice_given_on"})
"""Fields added after records of their kind were vouched for: left out of the content
while empty, so the digests of records written before them still hold
(docs/decisions.md, "村民会议 at the 决议 step")."""


_DOCUMENT_COLUMNS = tuple(c for c in Document.all_columns() if c._meta.name != "pdf")
"""A document's columns without its PDF (read, when needed, by the audit's own query)."""


def record_key(record: str) -> str:
    return ALIASES.get(record, record)


def legacy_content(record: str, content: dict[str, Any]) -> dict[str, Any]:
    """``content`` as a scheme 1 event digested it."""
    fields = LEGACY_FIELDS.get(record_key(record))
    return content if fields is None else {name: content[name] for name in fields}


def revision_kinds(record: str) -> list[str]:
    """The names a record's kept revisions may be filed under (``minutes`` → meeting)."""
    key = record_key(record)
    return [key, *(alias for alias, target in ALIASES.items() if target == key)]


async def load_revisions(record: str, record_id: int) -> list[dict[str, Any]]:
    """A record's kept revisions as stored (inside the caller's transaction)."""
    if record_key(record) not in REVISED:
        return []
    rows = await RecordRevision.select().where(
        RecordRevision.record_kind.is_in(revision_kinds(record)),
        RecordRevision.record_id == record_id,
    )
    return [dict(r) for r in rows]


async def revisions_of_topics(
    topic_ids: list[int],
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Every kept revision filed under these topics: (record, id) → rows."""
    found: dict[tuple[str, int], list[dict[str, Any]]] = {}
    if topic_ids:
        for row in await RecordRevision.select().where(RecordRevision.topic.is_in(topic_ids)):
            found.setdefault((record_key(row["record_kind"]), row["record_id"]), []).append(
                dict(row)
            )
    return found


def content_of(
    record: str, row: dict[str, Any], attendees: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The vouched-for fields of a row (as a Piccolo select returns it)."""
    _, fields = FIELDS[record_key(record)]
    content = {
        name: (bool(row[name]) if name in BOOLEANS else row[name])
        for name in fields
        if not (name in OPTIONAL and row.get(name) is None)
    }
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
        if record == "topic":
            rows = [
                {**row, "topic": row["id"]}
                for row in await Topic.select().where(Topic.id.is_in(topic_ids))
            ]
        elif record == "progress":
            rows = await ProgressReport.select(
                *ProgressReport.all_columns(), ProgressReport.item.topic.as_alias("topic")
            ).where(ProgressReport.item.topic.is_in(topic_ids))
        elif record == "document":
            # A draft still rendering (or left so by a killed server) is not a document
            # yet: it has no event until its PDF is stored.
            rows = await Document.select(*_DOCUMENT_COLUMNS).where(
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
