from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import CurrentPrincipal
from api.paging import PAGED, CurrentWindow, paged
from deliberation.notifications import webhooks
from deliberation.schemas import DeliveryRead, WebhookCreate, WebhookRead


class WebhookController(Controller):
    """Subscriptions of a township (staff, or an administrator for any township)."""

    path = "/api/v1/webhooks"
    tags = ["webhooks"]

    @post("/", operation_id="create_webhook", status_code=201)
    async def create_webhook(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[WebhookCreate],
    ) -> WebhookRead:
        allowed = request.app.state.settings.webhook_allowed_hosts
        return await webhooks.create_webhook(principal, data, allowed)

    @get("/", operation_id="list_webhooks")
    async def list_webhooks(self, principal: CurrentPrincipal) -> list[WebhookRead]:
        return await webhooks.list_webhooks(principal)

    @post("/{webhook_id:int}/deactivate", operation_id="deactivate_webhook", status_code=200)
    async def deactivate_webhook(
        self, principal: CurrentPrincipal, webhook_id: FromPath[int]
    ) -> WebhookRead:
        return await webhooks.deactivate_webhook(principal, webhook_id)

    @get("/{webhook_id:int}/deliveries", operation_id="list_deliveries", **PAGED)
    async def list_deliveries(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        webhook_id: FromPath[int],
        window: CurrentWindow,
        status: Annotated[
            Literal["pending", "delivered", "dead"] | None, QueryParameter(name="status")
        ] = None,
    ) -> Response[list[DeliveryRead]]:
        """Newest first; ``after`` is the id of the last delivery of the page before."""
        page = await webhooks.list_deliveries(principal, webhook_id, status, window)
        return paged(request, page)
