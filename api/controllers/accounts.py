from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from api.auth import CurrentPrincipal, policy_guard
from api.middleware import client_address
from deliberation import accounts
from deliberation.schemas import (
    TokenRequest,
    TokenResponse,
    TownshipCreate,
    TownshipRead,
    UserCreate,
    UserRead,
    VillageCreate,
    VillageRead,
)

admin_only = policy_guard("account.manage")


class AuthController(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @post(
        "/auth/token", operation_id="issue_token", status_code=200, opt={"exclude_from_auth": True}
    )
    async def issue_token(
        self, request: Request[Any, Any, Any], data: JSONBody[TokenRequest]
    ) -> TokenResponse:
        settings = request.app.state.settings
        client = client_address(request.scope, request.app.state.settings.trusted_proxies)
        user = await accounts.authenticate(
            data.username, data.password, client, request.app.state.login_limits
        )
        token = request.app.state.token_issuer.issue(accounts.principal_of(user))
        return TokenResponse(
            access_token=token,
            token_type="bearer",
            expires_in=settings.token_ttl_seconds,
            user=user,
        )

    @get("/me", operation_id="me")
    async def me(self, principal: CurrentPrincipal) -> UserRead:
        return await accounts.current_user(principal)


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["accounts"]
    guards = [admin_only]

    @post("/", operation_id="create_user")
    async def create_user(self, data: JSONBody[UserCreate]) -> UserRead:
        return await accounts.create_user(data)

    @get("/", operation_id="list_users")
    async def list_users(self, principal: CurrentPrincipal) -> list[UserRead]:
        return await accounts.list_users(principal)


class TownshipController(Controller):
    path = "/api/v1/townships"
    tags = ["accounts"]

    @post("/", operation_id="create_township", guards=[admin_only])
    async def create_township(self, data: JSONBody[TownshipCreate]) -> TownshipRead:
        return await accounts.create_township(data.name)

    @get("/", operation_id="list_townships")
    async def list_townships(self, principal: CurrentPrincipal) -> list[TownshipRead]:
        return await accounts.list_townships(principal)


class VillageController(Controller):
    path = "/api/v1/villages"
    tags = ["accounts"]

    @post("/", operation_id="create_village", guards=[admin_only])
    async def create_village(self, data: JSONBody[VillageCreate]) -> VillageRead:
        return await accounts.create_village(data.name, data.township_id)

    @get("/", operation_id="list_villages")
    async def list_villages(self, principal: CurrentPrincipal) -> list[VillageRead]:
        return await accounts.list_villages(principal)
