"""The consultation workflow as data, the machine built from it, and its diagram."""

from workflows.declaration import (
    REQUIREMENTS,
    ROLE_LABELS,
    ROLES,
    VIEWS,
    WORKFLOW,
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
from workflows.machine import MACHINE, TriggerNotAllowed, WorkflowMachine, machine_kwargs

__all__ = [
    "MACHINE",
    "REQUIREMENTS",
    "ROLES",
    "ROLE_LABELS",
    "VIEWS",
    "WORKFLOW",
    "DocumentKind",
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
