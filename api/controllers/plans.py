"""The annual plan (api.md "v1.2 additions"): drafts and publishing for the office (a
township's staff, the county's supervisor); published plans are public."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import provide_optional_principal
from api.dependencies import CurrentPublishing
from deliberation import plans
from deliberation.errors import Unauthenticated
from deliberation.plans import PlanCreate, PlanPublish, PlanRead
from deliberation.security import Principal


async def provide_signed_in(request: Request[Any, Any, Any]) -> Principal:
    """The caller, who must be signed in: the plans' routes are public (reads), so the
    token of a write is checked here rather than by the middleware."""
    principal = await provide_optional_principal(request)
    if principal is None:
        raise Unauthenticated("请先登录：缺少访问令牌（Authorization: Bearer …）")
    return principal


class PlanController(Controller):
    path = "/api/v1/plans"
    tags = ["plans"]
    opt = {"exclude_from_auth": True}
    dependencies = {
        "caller": Provide(provide_optional_principal),
        "principal": Provide(provide_signed_in),
    }

    @get("", operation_id="list_plans")
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
        self,
        principal: NamedDependency[Principal],
        publishing: CurrentPublishing,
        data: JSONBody[PlanCreate],
    ) -> PlanRead:
        """A new draft version of the year's plan (an older draft is discarded)."""
        return await plans.create_plan(principal, data, publishing)

    @get("/{plan_id:int}", operation_id="get_plan")
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
        principal: NamedDependency[Principal],
        publishing: CurrentPublishing,
        plan_id: FromPath[int],
        data: JSONBody[PlanPublish],
    ) -> PlanRead:
        """Publish a draft: its notice numbered and frozen, the version before superseded."""
        return await plans.publish_plan(principal, plan_id, data.posting_days, publishing)
