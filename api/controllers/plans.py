"""The annual plan (api.md "v1.2 additions"): drafts and publishing for the office (a
township's staff, the county's supervisor); published plans are public."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import CurrentPrincipal, provide_optional_principal
from api.dependencies import CurrentPublishing
from deliberation import plans
from deliberation.plans import PlanCreate, PlanPublish, PlanRead
from deliberation.security import Principal


class PlanController(Controller):
    path = "/api/v1/plans"
    tags = ["plans"]

    @get(
        "",
        operation_id="list_plans",
        opt={"exclude_from_auth": True},
        dependencies={"caller": Provide(provide_optional_principal)},
    )
    async def list_plans(
        self,
        caller: NamedDependency[Principal | None],
        publishing: CurrentPublishing,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2099)] = None,
        township_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> list[PlanRead]:
        """Published plans (and superseded versions) for everyone; drafts too for those
        who edit the plan."""
        return await plans.list_plans(caller, publishing, year=year, township_id=township_id)

    @post("", operation_id="create_plan", status_code=201)
    async def create_plan(
        self, principal: CurrentPrincipal, publishing: CurrentPublishing, data: JSONBody[PlanCreate]
    ) -> PlanRead:
        """A new draft version of the year's plan (an older draft is discarded)."""
        return await plans.create_plan(principal, data, publishing)

    @get(
        "/{plan_id:int}",
        operation_id="get_plan",
        opt={"exclude_from_auth": True},
        dependencies={"caller": Provide(provide_optional_principal)},
    )
    async def get_plan(
        self,
        caller: NamedDependency[Principal | None],
        publishing: CurrentPublishing,
        plan_id: FromPath[int],
    ) -> PlanRead:
        """One version of a plan (``id`` is the version's)."""
        return await plans.get_plan(caller, plan_id, publishing)

    @post("/{plan_id:int}/publish", operation_id="publish_plan", status_code=200)
    async def publish_plan(
        self,
        principal: CurrentPrincipal,
        publishing: CurrentPublishing,
        plan_id: FromPath[int],
        data: JSONBody[PlanPublish],
    ) -> PlanRead:
        """Publish a draft: its notice numbered and frozen, the version before superseded."""
        return await plans.publish_plan(principal, plan_id, data.posting_days, publishing)
