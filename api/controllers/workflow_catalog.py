"""The workflows' public catalogue: every loaded workflow, and each one's whole
declaration with its versions (api.md "v1.2 additions"). Public, read only."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import Example
from litestar.params import Parameter

from deliberation import pinning, workflow_catalog
from deliberation.workflow_schemas import WorkflowDeclaration, WorkflowSummary
from workflows.registry import Registry


def provide_workflows(request: Request[Any, Any, Any]) -> Registry:
    """The app's loaded workflows (``app.state.workflows``; else the ones topics are
    pinned from, ``deliberation.pinning.loaded``: the shipped ones by default)."""
    registry: Registry | None = request.app.state.get("workflows")
    return registry if registry is not None else pinning.loaded()


LoadedWorkflows = NamedDependency[Registry]
"""Handler parameter type for the app's loaded workflows."""


class WorkflowCatalogController(Controller):
    path = "/api/v1/workflows"
    tags = ["workflow"]
    opt = {"exclude_from_auth": True}
    dependencies = {"workflows": Provide(provide_workflows, sync_to_thread=False)}

    @get("/", operation_id="list_workflows")
    async def list_workflows(self, workflows: LoadedWorkflows) -> list[WorkflowSummary]:
        """Every loaded workflow, the newest version of each."""
        return workflow_catalog.catalogue(workflows)

    @get("/{key:str}", operation_id="describe_workflow_by_key")
    async def describe(
        self,
        workflows: LoadedWorkflows,
        key: Annotated[str, Parameter(max_length=64, examples=[Example(value="standard")])],
        version: Annotated[int | None, Parameter(ge=1, le=10_000)] = None,
    ) -> WorkflowDeclaration:
        """One workflow's whole declaration (its newest version unless ``version``), with
        every loaded version in ``versions``."""
        return workflow_catalog.declaration(workflows, key, version)
