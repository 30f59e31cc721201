"""What of each record its chain events vouch for: the fields whose digest an event
carries, read the same way when the record is written and when it is audited."""

from __future__ import annotations

from typing import Any

from piccolo.table import Table

from deliberation import record_types
from deliberation.tables import Document, MeetingAttendee, RecordRevision, Topic

Fields = tuple[type[Table], tuple[str, ...]]

FIELDS: dict[str, Fields] = {
    # The topic's own facts, vouched by its ``topic.opened`` event (never changed after).
    "topic": (
        Topic,
        ("reference", "title", "description", "category", "township", "village", "opened_by"),
    ),
    # The kinds with a table of their own, from their record types (docs/record-kinds.md).
    **{
        kind: (storage.table, storage.vouched)
        for kind, (_, storage) in record_types.NAMED.items()
        if storage.vouched
    },
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
"""Records by name → (table, vouched fields). The other kinds of a generic type (every
vote kind, a note kind without a table) are found through :func:`fields_of`."""
LEGACY_FIELDS = {
    "document": ("kind", "status", "sha256", "number_year", "number", "revoke_reason"),
}
"""Fields whose plain digest scheme 1 events carried, where fewer than now."""
ALIASES = {
    kind: storage.stored_as
    for kind, (_, storage) in record_types.NAMED.items()
    if storage.stored_as and storage.revised
}
"""Record names events use that share another record's row (minutes: their meeting's)."""

REVISED = frozenset(
    kind for kind, (_, storage) in record_types.NAMED.items() if storage.revised and kind in FIELDS
)
"""Kinds with a table of their own that keep earlier revisions when corrected, answered
again or rated again (a generic type's kinds: :func:`is_revised`)."""

GENERIC = {
    name: (t.generic.table, t.generic.vouched)
    for name, t in record_types.GENERIC.items()
    if t.generic is not None
}
"""Each generic type's one table (its rows' ``kind`` names the record kind)."""


def fields_of(record: str) -> Fields:
    """The table and vouched fields of a record name (a kind of a generic type too)."""
    key = record_key(record)
    if key in FIELDS:
        return FIELDS[key]
    storage = record_types.storage_of(key)
    if storage is None or not storage.vouched:
        raise KeyError(record)
    return storage.table, storage.vouched


def is_revised(record: str) -> bool:
    key = record_key(record)
    if key in FIELDS:
        return key in REVISED
    storage = record_types.storage_of(key)
    return storage is not None and storage.revised


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
    if not is_revised(record):
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
    record: str,
    row: dict[str, Any],
    attendees: list[dict[str, Any]] | None = None,
    fields: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The vouched-for fields of a row (as a Piccolo select returns it); ``fields``
    when the caller knows them (a generic type's table)."""
    if fields is None:
        _, fields = fields_of(record)
    content = {
        name: (bool(row[name]) if name in BOOLEANS else row[name])
        for name in fields
        if not (name in OPTIONAL and row.get(name) is None)
    }
    if _has_attendees(record):
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
    table, _ = fields_of(record)
    row = await table.select().where(table.id == record_id).first()  # type: ignore[attr-defined]
    if row is None:
        raise LookupError(f"{record} {record_id} does not exist")
    attendees = None
    if _has_attendees(record):
        attendees = (await attendees_of([record_id]))[record_id]
    return content_of(record, row, attendees)


def _has_attendees(record: str) -> bool:
    storage = record_types.storage_of(record_key(record))
    return storage is not None and storage.attendees


async def contents_of_topics(
    topic_ids: list[int],
) -> dict[tuple[str, int], tuple[int, dict[str, Any]]]:
    """Every record of these topics: (record, id) → (topic id, content); a generic
    type's rows under the kind each names."""
    found: dict[tuple[str, int], tuple[int, dict[str, Any]]] = {}
    if not topic_ids:
        return found
    tables: list[tuple[str | None, type[Table], tuple[str, ...] | None]] = [
        *((record, table, None) for record, (table, _) in FIELDS.items()),
        *((None, table, vouched) for table, vouched in GENERIC.values()),
    ]
    for record, table, vouched in tables:
        storage = record_types.storage_of(record) if record else None
        via = storage.topic_via if storage is not None else ""
        if record == "topic":
            rows = [
                {**row, "topic": row["id"]}
                for row in await Topic.select().where(Topic.id.is_in(topic_ids))
            ]
        elif via:
            parent = getattr(table, via)
            rows = await table.select(*table.all_columns(), parent.topic.as_alias("topic")).where(
                parent.topic.is_in(topic_ids)
            )
        elif record == "document":
            # A draft still rendering (or left so by a killed server) is not a document
            # yet: it has no event until its PDF is stored.
            rows = await Document.select(*_DOCUMENT_COLUMNS).where(
                Document.topic.is_in(topic_ids), Document.status != "rendering"
            )
        else:
            rows = await table.select().where(table.topic.is_in(topic_ids))  # type: ignore[attr-defined]
        roster = record is not None and _has_attendees(record)
        attendees = await attendees_of([r["id"] for r in rows]) if roster else {}
        for row in rows:
            name = record or row["kind"]
            found[(name, row["id"])] = (
                row["topic"],
                content_of(name, row, attendees.get(row["id"]), vouched),
            )
    return found
