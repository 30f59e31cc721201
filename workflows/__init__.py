"""The consultation workflows as validated data files, the machine built from them, and
their diagrams. ``WORKFLOW`` is the standard workflow, version 1, loaded from
``workflows/standard/v1.toml``."""

from workflows.declaration import (
    RECORD_TYPES,
    REQUIREMENT_KINDS,
    ROLE_LABELS,
    ROLES,
    VIEWS,
    DocumentKind,
    ReadRule,
    RecordKind,
    Requirement,
    State,
    TimeLimit,
    Transition,
    Workflow,
)
from workflows.diagram import mermaid
from workflows.machine import EVERYTHING, Facts, TriggerNotAllowed, WorkflowMachine, machine_kwargs
from workflows.registry import REGISTRY, WORKFLOW

MACHINE = REGISTRY.machine(WORKFLOW)
"""The standard workflow's machine."""

REQUIREMENTS = WORKFLOW.requirements
"""The standard workflow's requirements, once by name."""

__all__ = [
    "EVERYTHING",
    "MACHINE",
    "RECORD_TYPES",
    "REGISTRY",
    "REQUIREMENTS",
    "REQUIREMENT_KINDS",
    "ROLES",
    "ROLE_LABELS",
    "VIEWS",
    "WORKFLOW",
    "DocumentKind",
    "Facts",
    "ReadRule",
    "RecordKind",
    "Requirement",
    "State",
    "TimeLimit",
    "Transition",
    "TriggerNotAllowed",
    "Workflow",
    "WorkflowMachine",
    "machine_kwargs",
    "mermaid",
]
