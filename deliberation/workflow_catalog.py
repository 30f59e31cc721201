"""The workflows' public catalogue: what each loaded workflow declares, for the API
(``/api/v1/workflows``) and the flowchart pages (``/workflows/{key}``). Read only;
every answer comes from the registry it is given (the app's, or a test's)."""

from __future__ import annotations

from dataclasses import dataclass

from deliberation.errors import NotFound
from deliberation.workflow_schemas import (
    WorkflowDeclaration,
    WorkflowDocumentKind,
    WorkflowReadRule,
    WorkflowRecordKind,
    WorkflowRequirement,
    WorkflowState,
    WorkflowSummary,
    WorkflowTimeLimit,
    WorkflowTransition,
)
from workflows.declaration import ROLE_LABELS, Requirement, State, TimeLimit, Workflow
from workflows.registry import Registry

SCOPE_LABELS = {"township": "乡镇（街道）", "village": "村（社区）"}


def versions(registry: Registry, key: str) -> list[int]:
    return sorted(v for (k, v) in registry.workflows if k == key)


def find(registry: Registry, key: str, version: int | None = None) -> Workflow:
    """The workflow ``key`` at ``version`` (its newest when None), or NotFound."""
    known = versions(registry, key)
    if not known:
        raise NotFound(f"没有名为“{key}”的协商流程")
    if version is None:
        return registry.get(key, known[-1])
    if version not in known:
        listed = "、".join(f"第 {v} 版" for v in known)
        raise NotFound(f"协商流程“{key}”没有第 {version} 版（现有{listed}）")
    return registry.get(key, version)


def catalogue(registry: Registry) -> list[WorkflowSummary]:
    """Every loaded workflow, its newest version, in the registry's order."""
    found = []
    for key in registry.keys():  # noqa: SIM118 (a Registry iterates its workflows)
        workflow = registry.latest(key)
        found.append(
            WorkflowSummary(
                key=workflow.key,
                version=workflow.version,
                label=workflow.label,
                summary=workflow.summary,
                basis=list(workflow.basis),
                scope=workflow.scope,
                openers=list(workflow.openers),
                versions=versions(registry, key),
            )
        )
    return found


def _requirement(requirement: Requirement) -> WorkflowRequirement:
    return WorkflowRequirement(
        name=requirement.name,
        label=requirement.label,
        kind=requirement.kind,
        params=dict(requirement.params),
        basis=requirement.basis,
        any_of=[_requirement(r) for r in requirement.alternatives],
    )


def _time_limit(limit: TimeLimit | None) -> WorkflowTimeLimit | None:
    if limit is None:
        return None
    return WorkflowTimeLimit(
        label=limit.label,
        working_days=limit.working_days,
        counted_from=limit.counted_from,
        window=limit.window,
    )


def declaration(registry: Registry, key: str, version: int | None = None) -> WorkflowDeclaration:
    """The whole declaration of ``key`` (newest version unless ``version``)."""
    workflow = find(registry, key, version)
    return WorkflowDeclaration(
        key=workflow.key,
        version=workflow.version,
        versions=versions(registry, key),
        label=workflow.label,
        summary=workflow.summary,
        basis=list(workflow.basis),
        scope=workflow.scope,
        openers=list(workflow.openers),
        initial=workflow.initial,
        public_from=workflow.public_from,
        main_path=list(workflow.main_path),
        states=[
            WorkflowState(
                name=s.name,
                label=s.label,
                terminal=s.terminal,
                time_limit=_time_limit(s.time_limit),
            )
            for s in workflow.states
        ],
        transitions=[
            WorkflowTransition(
                trigger=t.trigger,
                label=t.label,
                sources=list(t.sources),
                dest=t.dest,
                roles=list(t.roles),
                requires=[_requirement(r) for r in t.requires],
                opener_only=t.opener_only,
                danger=t.danger,
                basis=t.basis,
            )
            for t in workflow.transitions
        ],
        records=[
            WorkflowRecordKind(
                name=r.name,
                label=r.label,
                type=r.type,
                part_of=r.part_of,
                roles=list(r.roles),
                open_in=list(r.open_in),
                correct_in=list(r.correct_in),
                author_only=r.author_only,
                read=WorkflowReadRule(
                    full=list(r.read.full),
                    author_full=r.read.author_full,
                    others=r.read.others,
                    public=r.read.public,
                )
                if r.read
                else None,
            )
            for r in workflow.records
        ],
        documents=[
            WorkflowDocumentKind(
                name=d.name,
                label=d.label,
                template=d.template or d.name,
                roles=list(d.roles),
                states=list(d.states),
                requires=_requirement(d.requires) if d.requires else None,
            )
            for d in workflow.documents
        ],
        requirements=[_requirement(r) for r in workflow.requirements],
    )


# The flowchart pages -------------------------------------------------------------------


def roles_text(roles: tuple[str, ...] | list[str]) -> str:
    """The roles by their Chinese names (政协委员/联络员、工作人员)."""
    return "、".join(ROLE_LABELS.get(role, role) for role in roles)


def time_limit_text(limit: TimeLimit | None) -> str:
    """A state's time limit in one Chinese line; empty when it has none."""
    if limit is None:
        return ""
    if limit.counted_from == "items":
        return f"按各项成果自定的完成期限{limit.label}"
    start = "自最近一次会议之日起" if limit.counted_from == "meeting" else "自进入本环节之日起"
    text = f"{start} {limit.working_days} 个工作日内{limit.label}"
    if limit.window:
        text += "（意见征集期，期满后不再收意见）"
    return text


@dataclass(frozen=True, slots=True)
class Step:
    """One transition as the flowchart shows it."""

    trigger: str
    label: str
    dest_label: str
    dest: str
    who: str
    requires: tuple[tuple[str, str], ...]
    """Each requirement's label and its own basis (empty if none)."""
    basis: str
    """The step's basis: its own, else the workflow's."""
    own_basis: bool
    danger: bool
    opener_only: bool


@dataclass(frozen=True, slots=True)
class Stage:
    """One state and the steps that leave it."""

    name: str
    label: str
    number: int
    terminal: bool
    on_main_path: bool
    time_limit: str
    public: bool
    steps: tuple[Step, ...]


def flowchart(workflow: Workflow) -> list[Stage]:
    """The states in the order the file lists them, each with the steps leaving it."""
    labels = {s.name: s.label for s in workflow.states}
    general = "；".join(workflow.basis)
    main = workflow.main_path
    public = set(workflow.public_states)

    def steps(state: State) -> tuple[Step, ...]:
        return tuple(
            Step(
                trigger=t.trigger,
                label=t.label,
                dest=t.dest,
                dest_label=labels[t.dest],
                who=roles_text(t.roles),
                requires=tuple((r.label, r.basis) for r in t.requires),
                basis=t.basis or general,
                own_basis=bool(t.basis),
                danger=t.danger,
                opener_only=t.opener_only,
            )
            for t in workflow.transitions
            if state.name in t.sources
        )

    return [
        Stage(
            name=s.name,
            label=s.label,
            number=index,
            terminal=s.terminal,
            on_main_path=s.name in main,
            time_limit=time_limit_text(s.time_limit),
            public=s.name in public,
            steps=steps(s),
        )
        for index, s in enumerate(workflow.states, start=1)
    ]
