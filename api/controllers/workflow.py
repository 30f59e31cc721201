from __future__ import annotations

from litestar import Controller, MediaType, get

from deliberation.schemas import (
    RequirementRead,
    StateRead,
    TimeLimitRead,
    TransitionRead,
    WorkflowRead,
)
from workflows import WORKFLOW, mermaid


class WorkflowController(Controller):
    """``/api/v1/workflow``: the standard workflow (``standard`` version 1) in the v1.0
    shape, kept as it was for the clients that read it. It is an alias: every workflow,
    this one included, is described whole at ``/api/v1/workflows/{key}``."""

    path = "/api/v1/workflow"
    tags = ["workflow"]
    opt = {"exclude_from_auth": True}

    @get("/", operation_id="describe_workflow")
    async def describe(self) -> WorkflowRead:
        """The standard workflow (an alias of ``/api/v1/workflows/standard?version=1``
        in the v1.0 shape)."""
        return WorkflowRead(
            initial=WORKFLOW.initial,
            states=[
                StateRead(
                    name=s.name,
                    label=s.label,
                    terminal=s.terminal,
                    time_limit=TimeLimitRead(
                        label=s.time_limit.label,
                        working_days=s.time_limit.working_days,
                        counted_from=s.time_limit.counted_from,
                    )
                    if s.time_limit
                    else None,
                )
                for s in WORKFLOW.states
            ],
            transitions=[
                TransitionRead(
                    trigger=t.trigger,
                    label=t.label,
                    sources=list(t.sources),
                    dest=t.dest,
                    roles=list(t.roles),
                    requires=[RequirementRead(name=r.name, label=r.label) for r in t.requires],
                    opener_only=t.opener_only,
                )
                for t in WORKFLOW.transitions
            ],
        )

    @get("/diagram", operation_id="workflow_diagram", media_type=MediaType.TEXT)
    async def diagram(self) -> str:
        return mermaid()
