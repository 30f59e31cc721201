from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import CurrentPrincipal, policy_guard
from api.middleware import client_of
from deliberation import accounts, security_log
from deliberation.schemas import (
    PasswordChange,
    Role,
    SecurityLogPage,
    TemporaryPassword,
    TokenRequest,
    TokenResponse,
    TownshipCreate,
    TownshipRead,
    UserCreate,
    UserRead,
    UserUpdate,
    VillageCreate,
    VillageRead,
    VillageRename,
)
from deliberation.security import Principal
from deliberation.security_log import Actor

admin_only = policy_guard("account.manage")


def actor_of(request: Request[Any, Any, Any], principal: Principal) -> Actor:
    """The administrator making a change, and where from (for the security log)."""
    return Actor(principal, client_of(request))


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
        signed_in = await accounts.sign_in(
            data.username, data.password, client_of(request), request.app.state.login_limits, "api"
        )
        return TokenResponse(
            access_token=request.app.state.token_issuer.issue(signed_in.principal),
            token_type="bearer",
            expires_in=settings.token_ttl_seconds,
            user=signed_in.user,
            must_change_password=signed_in.must_change_password,
        )

    @post("/auth/logout", operation_id="logout_api", status_code=204)
    async def logout(self, request: Request[Any, Any, Any], principal: CurrentPrincipal) -> None:
        """Ends this token's session (and the page session it is) on every process."""
        await accounts.sign_out(principal, client_of(request))

    @get("/me", operation_id="me")
    async def me(self, principal: CurrentPrincipal) -> UserRead:
        return await accounts.current_user(principal)

    @put("/me/password", operation_id="change_my_password", status_code=204)
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[PasswordChange],
    ) -> None:
        """Every other session of the account ends; this one goes on."""
        await accounts.change_password(
            principal, data, client_of(request), request.app.state.login_limits
        )


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["accounts"]
    guards = [admin_only]

    @post("/", operation_id="create_user")
    async def create_user(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[UserCreate],
    ) -> UserRead:
        return await accounts.create_user(data, actor_of(request, principal))

    @get("/", operation_id="list_users")
    async def list_users(
        self,
        principal: CurrentPrincipal,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        role: Annotated[Role | None, QueryParameter()] = None,
        township_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> list[UserRead]:
        """Every account, or those whose username or name contains ``q``, of a role, of a
        township."""
        return await accounts.list_users(principal, q=q, role=role, township_id=township_id)

    @patch("/{user_id:int}", operation_id="update_user")
    async def update_user(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        user_id: FromPath[int],
        data: JSONBody[UserUpdate],
    ) -> UserRead:
        """Deactivating, or changing role, township or village, ends the account's
        sessions at once."""
        return await accounts.update_user(actor_of(request, principal), user_id, data)

    @post("/{user_id:int}/password-reset", operation_id="reset_password", status_code=200)
    async def reset_password(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, user_id: FromPath[int]
    ) -> TemporaryPassword:
        """A temporary password, shown once; the account must choose a new one."""
        temporary = await accounts.reset_password(actor_of(request, principal), user_id)
        return TemporaryPassword(temporary_password=temporary)


class SecurityLogController(Controller):
    path = "/api/v1/security-log"
    tags = ["accounts"]
    guards = [admin_only]

    @get("/", operation_id="security_log")
    async def security_log(
        self,
        principal: CurrentPrincipal,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
        kind: Annotated[str | None, QueryParameter(max_length=40)] = None,
        username: Annotated[str | None, QueryParameter(max_length=64)] = None,
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> SecurityLogPage:
        """Newest first; ``from`` and ``to`` are China dates, both included."""
        return await security_log.entries(
            principal,
            limit=limit,
            offset=offset,
            kind=kind,
            username=username,
            date_from=date_from,
            date_to=date_to,
        )


class TownshipController(Controller):
    path = "/api/v1/townships"
    tags = ["accounts"]

    @post("/", operation_id="create_township", guards=[admin_only])
    async def create_township(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[TownshipCreate],
    ) -> TownshipRead:
        return await accounts.create_township(data.name, actor_of(request, principal))

    @get("/", operation_id="list_townships")
    async def list_townships(self, principal: CurrentPrincipal) -> list[TownshipRead]:
        return await accounts.list_townships(principal)

    @patch("/{township_id:int}", operation_id="rename_township", guards=[admin_only])
    async def rename_township(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        township_id: FromPath[int],
        data: JSONBody[TownshipCreate],
    ) -> TownshipRead:
        return await accounts.rename_township(township_id, data.name, actor_of(request, principal))


class VillageController(Controller):
    path = "/api/v1/villages"
    tags = ["accounts"]

    @post("/", operation_id="create_village", guards=[admin_only])
    async def create_village(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[VillageCreate],
    ) -> VillageRead:
        return await accounts.create_village(
            data.name, data.township_id, actor_of(request, principal)
        )

    @get("/", operation_id="list_villages")
    async def list_villages(self, principal: CurrentPrincipal) -> list[VillageRead]:
        return await accounts.list_villages(principal)

    @patch("/{village_id:int}", operation_id="rename_village", guards=[admin_only])
    async def rename_village(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        village_id: FromPath[int],
        data: JSONBody[VillageRename],
    ) -> VillageRead:
        return await accounts.rename_village(village_id, data.name, actor_of(request, principal))
