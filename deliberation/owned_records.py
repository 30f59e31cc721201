"""What of suggestions, plans and their records the chains vouch for (issue 27): the
fields whose keyed digests an event of the suggestion's or the plan's chain carries,
read the same way when written and when audited. The twin of ``record_content`` for
the records that do not belong to a topic (docs/decisions.md, "Suggestions and plans:
the spine").

Every record names its owner in a vouched field (a support its ``suggestion``, a plan
item its ``plan_version``), so a record moved to another owner no longer matches.
Not vouched, as with topics: the due date, ``client``, ``phone_digest``, the title
grams, ``event_seq``, the times a row was written."""

from __future__ import annotations

from typing import Any

from piccolo.table import Table

from deliberation.chain import PLAN, SUGGESTION, ChainOf
from deliberation.record_content import _DOCUMENT_COLUMNS
from deliberation.record_content import content_of as topic_record_content
from deliberation.tables import (
    Document,
    Plan,
    PlanItem,
    PlanVersion,
    Suggestion,
    SuggestionRevision,
    SuggestionScreening,
    SuggestionSupport,
)

FIELDS: dict[str, tuple[type[Table], tuple[str, ...]]] = {
    "suggestion": (
        Suggestion,
        (
            "reference",
            "township",
            "village",
            "title",
            "content",
            "public_title",
            "public_content",
            "masks",
            "submitter_name",
            "submitter_phone",
            "filed_by",
            "entered_by",
            "status",
            "must_list_rule",
            "topic",
            "merged_into",
            "revision",
        ),
    ),
    "suggestion_support": (
        SuggestionSupport,
        (
            "suggestion",
            "kind",
            "account",
            "standing",
            "names",
            "headcount",
            "sheet_note",
            "entered_by",
        ),
    ),
    "suggestion_screening": (
        SuggestionScreening,
        (
            "suggestion",
            "decision",
            "reason",
            "public_reason",
            "ground",
            "workflow_key",
            "workflow_version",
            "topic",
            "merged_into",
            "screened_by",
            "screened_at",
        ),
    ),
    # The series' own facts, vouched by its first ``plan.drafted``.
    "plan": (Plan, ("year", "township", "reference")),
    "plan_version": (PlanVersion, ("plan", "version", "status", "note", "document")),
    "plan_item": (
        PlanItem,
        (
            "plan_version",
            "position",
            "quarter",
            "title",
            "workflow_key",
            "lead_unit",
            "suggestion",
            "topic",
            "township",
            "carried_from",
        ),
    ),
}
"""Record name → (table, vouched fields). A plan's documents are vouched as a topic's
are (``record_content.FIELDS["document"]``), on the plan's chain."""

CHAIN_OF: dict[str, ChainOf] = {
    "suggestion": SUGGESTION,
    "suggestion_support": SUGGESTION,
    "suggestion_screening": SUGGESTION,
    "plan": PLAN,
    "plan_version": PLAN,
    "plan_item": PLAN,
}
"""Which chain vouches for each record."""

REVISED = frozenset({"suggestion"})
"""Records whose earlier revisions are kept (``suggestion_revision``)."""


def content_of(record: str, row: dict[str, Any]) -> dict[str, Any]:
    """The vouched-for fields of a row (as a Piccolo select returns it)."""
    _, fields = FIELDS[record]
    return {name: row[name] for name in fields}


async def load_content(record: str, record_id: int) -> dict[str, Any]:
    """A record's vouched-for content as stored now (inside the caller's transaction)."""
    table, _ = FIELDS[record]
    row = await table.select().where(table.id == record_id).first()  # type: ignore[attr-defined]
    if row is None:
        raise LookupError(f"{record} {record_id} does not exist")
    return content_of(record, row)


async def load_revisions(record: str, record_id: int) -> list[dict[str, Any]]:
    """A suggestion's kept revisions as stored (none for the other records)."""
    if record not in REVISED:
        return []
    rows = await SuggestionRevision.select().where(SuggestionRevision.suggestion == record_id)
    return [dict(r) for r in rows]


Contents = dict[tuple[str, int], tuple[int, dict[str, Any]]]


async def contents_of_suggestions(ids: list[int]) -> Contents:
    """Every record of these suggestions: (record, id) → (suggestion id, content)."""
    found: Contents = {}
    if not ids:
        return found
    for row in await Suggestion.select().where(Suggestion.id.is_in(ids)):
        found[("suggestion", row["id"])] = (row["id"], content_of("suggestion", row))
    for record, table in (
        ("suggestion_support", SuggestionSupport),
        ("suggestion_screening", SuggestionScreening),
    ):
        for row in await table.select().where(table.suggestion.is_in(ids)):
            found[(record, row["id"])] = (row["suggestion"], content_of(record, row))
    return found


async def revisions_of_suggestions(ids: list[int]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    found: dict[tuple[str, int], list[dict[str, Any]]] = {}
    if ids:
        rows = await SuggestionRevision.select().where(SuggestionRevision.suggestion.is_in(ids))
        for row in rows:
            found.setdefault(("suggestion", row["suggestion"]), []).append(dict(row))
    return found


async def contents_of_plans(ids: list[int]) -> Contents:
    """Every record of these plan series, their documents too: (record, id) → (plan
    id, content)."""
    found: Contents = {}
    if not ids:
        return found
    for row in await Plan.select().where(Plan.id.is_in(ids)):
        found[("plan", row["id"])] = (row["id"], content_of("plan", row))
    plan_of: dict[int, int] = {}
    for row in await PlanVersion.select().where(PlanVersion.plan.is_in(ids)):
        plan_of[row["id"]] = row["plan"]
        found[("plan_version", row["id"])] = (row["plan"], content_of("plan_version", row))
    if not plan_of:
        return found
    versions = list(plan_of)
    for row in await PlanItem.select().where(PlanItem.plan_version.is_in(versions)):
        found[("plan_item", row["id"])] = (
            plan_of[row["plan_version"]],
            content_of("plan_item", row),
        )
    documents = await Document.select(*_DOCUMENT_COLUMNS).where(
        Document.plan_version.is_in(versions), Document.status != "rendering"
    )
    for row in documents:
        found[("document", row["id"])] = (
            plan_of[row["plan_version"]],
            topic_record_content("document", row),
        )
    return found


__all__ = [
    "CHAIN_OF",
    "FIELDS",
    "REVISED",
    "content_of",
    "contents_of_plans",
    "contents_of_suggestions",
    "load_content",
    "load_revisions",
    "revisions_of_suggestions",
]
