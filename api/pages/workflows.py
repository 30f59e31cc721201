"""协商流程: the public flowchart of each loaded workflow (``/workflows/{key}``), with
who acts, what each step requires, its basis (依据) and each stage's time limit; and
the list of them (``/workflows``)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Template

from api.controllers.workflow_catalog import LoadedWorkflows, provide_workflows
from api.pages.signin import PageController
from deliberation import workflow_catalog


class WorkflowPageController(PageController):
    path = "/workflows"
    dependencies = {
        **PageController.dependencies,
        "workflows": Provide(provide_workflows, sync_to_thread=False),
    }

    @get("/", operation_id="workflows_page")
    async def index(self, workflows: LoadedWorkflows) -> Template:
        return Template(
            "workflows.html",
            context={
                "catalogue": workflow_catalog.catalogue(workflows),
                "scopes": workflow_catalog.SCOPE_LABELS,
                "roles_text": workflow_catalog.roles_text,
            },
        )

    @get("/{key:str}", operation_id="workflow_page")
    async def flowchart(
        self,
        workflows: LoadedWorkflows,
        key: Annotated[str, Parameter(max_length=64)],
        version: Annotated[int | None, Parameter(ge=1, le=10_000)] = None,
    ) -> Template:
        workflow = workflow_catalog.find(workflows, key, version)
        return Template(
            "workflow.html",
            context={
                "workflow": workflow,
                "versions": workflow_catalog.versions(workflows, key),
                "stages": workflow_catalog.flowchart(workflow),
                "scope": workflow_catalog.SCOPE_LABELS[workflow.scope],
                "openers": workflow_catalog.roles_text(workflow.openers),
            },
        )
