"""The standard workflow file says exactly what the Python declaration said."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.workflows.standard_v1_reference import REFERENCE
from workflows import REGISTRY, WORKFLOW

# The fields each class had when the standard workflow was declared in Python; the
# fields added since (key, version, requirement kinds, record types…) are checked below.
FIELDS_BEFORE = {
    "Workflow": ("initial", "states", "transitions", "records", "documents", "public_from"),
    "State": ("name", "label", "terminal", "time_limit"),
    "TimeLimit": ("label", "working_days", "counted_from"),
    "Transition": (
        "trigger", "label", "sources", "dest", "roles", "requires", "opener_only", "danger",
    ),
    "Requirement": ("name", "label", "met_by"),
    "ReadRule": ("full", "author_full", "others", "public"),
    "RecordKind": (
        "name", "label", "roles", "open_in", "read", "correct_in", "author_only",
    ),
    "DocumentKind": ("name", "label", "roles", "states", "requires"),
}  # fmt: skip


def before(value: Any) -> Any:
    """``value`` as it could be written before: only the old fields, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = FIELDS_BEFORE[type(value).__name__]
        assert {f.name for f in dataclasses.fields(value)} >= set(names)
        return (type(value).__name__, {n: before(getattr(value, n)) for n in names})
    if isinstance(value, tuple):
        return tuple(before(v) for v in value)
    return value


def test_loaded_standard_equals_the_python_declaration() -> None:
    assert before(WORKFLOW) == before(REFERENCE)
    # Element by element too, so that a difference is easy to read.
    for loaded, declared in zip(WORKFLOW.transitions, REFERENCE.transitions, strict=True):
        assert before(loaded) == before(declared)
    for loaded_record, declared_record in zip(WORKFLOW.records, REFERENCE.records, strict=True):
        assert before(loaded_record) == before(declared_record)
    assert WORKFLOW.main_path == REFERENCE.main_path
    assert WORKFLOW.public_states == REFERENCE.public_states


def test_standard_is_pinned_as_version_one() -> None:
    assert REGISTRY.get("standard", 1) is WORKFLOW
    assert REGISTRY.latest("standard") is WORKFLOW
    assert (WORKFLOW.key, WORKFLOW.version, WORKFLOW.label) == ("standard", 1, "标准协商")
    assert WORKFLOW.scope == "township" and WORKFLOW.openers == ("liaison", "staff")


def test_standard_requirements_come_from_the_vocabulary() -> None:
    kinds = {r.name: (r.kind, dict(r.params)) for r in WORKFLOW.requirements}
    assert kinds == {
        "investigation_recorded": ("records", {"records": "investigation"}),
        "site_consultation_recorded": ("records", {"records": "site_consultation"}),
        "meeting_scheduled": ("records", {"records": "meeting"}),
        "minutes_recorded": ("records", {"records": "minutes", "of": "latest"}),
        "resolution_item_added": ("records", {"records": "resolution_item"}),
        "resolution_notice_published": (
            "document_published",
            {"document_published": "resolution_notice"},
        ),
        "items_completed": ("items_completed", {"items_completed": "resolution_item"}),
        "satisfaction_rated": ("ratings", {"ratings": "satisfaction"}),
        "comment_given": ("comment", {}),
    }
