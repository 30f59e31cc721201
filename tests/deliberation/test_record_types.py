"""The record types (deliberation/record_types.py) keep what the chain has vouched for:
the vouched fields of every record name are those events carried before the types (a
field once vouched is never renamed), and every kind a shipped workflow declares has a
storage, a form where the page offers one, and the messages the page says."""

from __future__ import annotations

from pathlib import Path

from deliberation import record_content, record_types
from deliberation.tables import Vote
from workflows.declaration import RECORD_TYPES
from workflows.loader import load

ROOT = Path(__file__).resolve().parents[2]

VOUCHED_BEFORE = {
    "opinion": (
        "author",
        "content",
        "stance",
        "on_behalf_of",
        "adoption",
        "answer_reason",
        "answered_by",
        "revision",
    ),
    "investigation": ("visited_on", "place", "participants", "findings", "recorded_by", "revision"),
    "site_consultation": ("held_on", "place", "participants", "summary", "recorded_by", "revision"),
    "meeting": (
        "scheduled_at",
        "place",
        "host",
        "minutes_summary",
        "minutes_decisions",
        "minutes_recorded_by",
        "revision",
    ),
    "resolution_item": ("content", "responsible_unit", "due_date", "completed", "revision"),
    "progress": ("item", "note", "percent", "completed", "reported_by"),
    "satisfaction": ("representative", "rating", "comment", "revision"),
}
"""``record_content.FIELDS`` as main had it before the record types (topic and document
are not record kinds and stay as they were)."""


def test_the_vouched_fields_are_the_ones_events_carried() -> None:
    kinds = {k: v for k, v in record_content.FIELDS.items() if k not in ("topic", "document")}
    assert {k: fields for k, (_, fields) in kinds.items()} == VOUCHED_BEFORE
    assert record_content.ALIASES == {"minutes": "meeting"}
    assert frozenset(VOUCHED_BEFORE) - {"progress"} == record_content.REVISED
    # Every vote kind, whatever its name: the vote table and its fields as before.
    table, fields = record_content.fields_of("vote")
    assert table is Vote and fields[0] == "kind" and "presided_by" in fields
    assert record_content.is_revised("vote") and record_content.is_revised("minutes")


def test_every_type_is_described_and_every_shipped_kind_is_stored() -> None:
    assert set(record_types.TYPES) == set(RECORD_TYPES)
    for path in sorted(ROOT.glob("workflows/*/v*.toml")):
        workflow = load(path)
        for kind in workflow.records:
            storage = record_types.storage_for(kind.name, kind.type)
            assert storage is not None, f"{path}: {kind.name} ({kind.type}) has no storage"
            assert storage.saved, f"{kind.name}: the page says nothing once one is saved"
            if record_types.TYPES[kind.type].under_next:
                assert storage.form and storage.button, f"{kind.name}: no page form"


def test_a_new_note_kind_goes_to_the_note_table_and_other_new_names_nowhere() -> None:
    note = record_types.storage_for("village_walk", "note")
    assert note is not None and note.has_kind and note.table._meta.tablename == "note_record"
    assert record_types.storage_for("ballot", "vote") is record_types.TYPES["vote"].generic
    # A type without a generic storage stores only the kinds it names (docs/record-kinds.md).
    assert record_types.storage_for("council", "meeting") is None
