"""The API shapes of the workflows' public catalogue (``/api/v1/workflows``): each
loaded declaration as it is, read only. api.md "v1.2 additions" fixes the names."""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

ParamValue = str | int | bool


class WorkflowSummary(Struct, kw_only=True):
    """One workflow in the catalogue: its newest loaded version."""

    key: str
    version: int
    label: str
    """Its name, in Chinese (标准协商)."""
    summary: str
    """One line for the opener choosing a workflow, in Chinese."""
    basis: list[str]
    """The rules it follows (laws, the county's rules), in Chinese."""
    scope: Literal["township", "village"]
    openers: list[str]
    """The roles that may open a topic in it."""
    versions: list[int]
    """Every loaded version, oldest first."""


class WorkflowTimeLimit(Struct, kw_only=True):
    label: str
    working_days: int
    counted_from: str
    """``entered``, ``meeting`` or ``items`` (docs/workflows.md)."""
    window: bool
    """The stage is a window (an opinion window): ``window_closed`` is met once it ends."""


class WorkflowState(Struct, kw_only=True):
    name: str
    label: str
    terminal: bool
    time_limit: WorkflowTimeLimit | None


class WorkflowRequirement(Struct, kw_only=True, omit_defaults=True):
    name: str
    """Stable: the API's ``missing`` and the pages' ``missing-<name>`` use it."""
    label: str
    kind: str
    """Its vocabulary entry: records, document_published, items_completed, ratings,
    comment, min_wait, quorum, window_closed, any_of."""
    params: dict[str, ParamValue]
    """The entry's parameters as the file gives them (``records``, ``at_least`` …)."""
    basis: str
    """The rule's legal or local basis; empty when it has none of its own."""
    any_of: list[WorkflowRequirement] = []
    """An ``any_of`` requirement's alternatives (met when one of them is)."""


class WorkflowTransition(Struct, kw_only=True):
    trigger: str
    label: str
    sources: list[str]
    dest: str
    roles: list[str]
    requires: list[WorkflowRequirement]
    opener_only: bool
    danger: bool
    basis: str
    """The step's own basis; empty when the workflow's ``basis`` covers it."""


class WorkflowReadRule(Struct, kw_only=True):
    full: list[str]
    author_full: bool
    others: str
    public: str


class WorkflowRecordKind(Struct, kw_only=True):
    name: str
    label: str
    type: str
    part_of: str
    roles: list[str]
    open_in: list[str]
    correct_in: list[str]
    author_only: bool
    read: WorkflowReadRule | None
    """None: read as part of the record kind it belongs to (``part_of``)."""


class WorkflowDocumentKind(Struct, kw_only=True):
    name: str
    label: str
    template: str
    roles: list[str]
    states: list[str]
    requires: WorkflowRequirement | None


class WorkflowDeclaration(Struct, kw_only=True):
    """One loaded version of a workflow, whole."""

    key: str
    version: int
    versions: list[int]
    """Every loaded version of this workflow, oldest first (``?version=N`` picks one)."""
    label: str
    summary: str
    basis: list[str]
    scope: Literal["township", "village"]
    openers: list[str]
    initial: str
    public_from: str
    main_path: list[str]
    """The states a topic passes through when nothing goes back or stops early."""
    states: list[WorkflowState]
    transitions: list[WorkflowTransition]
    records: list[WorkflowRecordKind]
    documents: list[WorkflowDocumentKind]
    requirements: list[WorkflowRequirement]
    """Every requirement it declares (transitions, then documents), once by name."""
