"""Bearer-token authentication and role guards built from the workflow declaration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware

from api.middleware import raw_header
from deliberation import sessions
from deliberation.errors import PasswordChangeRequired, Unauthenticated
from deliberation.permissions import ROLE_ONLY, Action, allowed
from deliberation.pinning import loaded
from deliberation.security import Principal, TokenIssuer

PUBLIC_PATHS = (
    "^/healthz",
    "^/schema",
    "^/api/v1/auth/token$",
    "^/api/v1/workflow",
    "^/api/v1/public/",
    "^/api/v1/documents/[0-9]+/pdf$",
    "^/api/v1/statistics$",
    "^/verify/",
    "^/notices",
    "^/statistics",
    "^/open-data",
    "^/login$",
    "^/logout$",
    "^/me$",
    "^/me/password$",
    "^/text-size$",
    "^/topics/",
    "^/static/",
    # Villagers' suggestions and the annual plans (issue 27): anyone may file and read
    # what is public; the handlers take an optional caller for the rest.
    "^/api/v1/suggestions",
    "^/api/v1/plans",
    "^/suggestions",
    "^/plans",
)


def bearer_token(scope: Any) -> str | None:
    """The bearer token of a request, straight from the raw headers (building
    ``connection.headers`` decodes them all)."""
    scheme, _, token = (raw_header(scope, b"authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def session_principal(app: Any, token: str, csrf_token: str | None = None) -> Principal:
    """The caller a token (bearer or page cookie) names, if its session is still open.
    The signature check may come from the token cache; the session row is read on every
    request, so an ended session is refused at once on every process."""
    issuer: TokenIssuer = app.state.token_issuer
    idle = app.state.settings.session_idle_seconds
    return await sessions.check(issuer.verify(token), idle, csrf_token)


WHILE_MUST_CHANGE = {
    ("PUT", "/api/v1/me/password"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/me"),
}
"""What an account may do between an administrator's reset and its new password."""

CHANGE_FIRST = "请先设置新密码：当前密码是管理员设置的临时密码（PUT /api/v1/me/password）"


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = bearer_token(connection.scope)
        if token is None:
            raise Unauthenticated("请先登录：缺少访问令牌（Authorization: Bearer …）")
        principal = await session_principal(connection.app, token)
        if principal.must_change_password and (
            (connection.scope.get("method"), connection.scope["path"]) not in WHILE_MUST_CHANGE
        ):
            raise PasswordChangeRequired(CHANGE_FIRST)
        return AuthenticationResult(user=principal, auth=token)


def auth_middleware() -> DefineMiddleware:
    return DefineMiddleware(BearerTokenMiddleware, exclude=list(PUBLIC_PATHS))


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    user = request.user
    if not isinstance(user, Principal):
        raise Unauthenticated("请先登录")
    return user


async def provide_optional_principal(request: Request[Any, Any, Any]) -> Principal | None:
    """On public routes: the caller if a token came with the request (a bad or ended
    one is 401)."""
    token = bearer_token(request.scope)
    if token is None:
        return None
    principal = await session_principal(request.app, token)
    if principal.must_change_password:
        raise PasswordChangeRequired(CHANGE_FIRST)
    return principal


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def policy_guard(action: Action, kind: str = "") -> Guard:
    """The policy's role-only answer, before the handler reads anything (403)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            return  # Litestar's own answer (204 with Allow): nothing is read or done
        # ``scope["user"]``, not ``connection.user``: no middleware sets it on routes
        # outside authentication, and reading the property there raises.
        user = connection.scope.get("user")
        principal = user if isinstance(user, Principal) else None
        allowed(principal, action, ROLE_ONLY, kind).check()

    guard.__name__ = f"may_{action.replace('.', '_')}_{kind}".rstrip("_")
    return guard


def record_guard(record: str) -> Guard:
    """Who may add ``record``, as the policy (from the workflow declaration) says."""
    return policy_guard("record.add", record)


def record_type_guard(record_type: str) -> Guard:
    """Who may add a record of ``record_type`` (``vote``): the policy's role-only answer
    for the kinds of that type the loaded workflows declare (allowed if any allows)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            return
        user = connection.scope.get("user")
        principal = user if isinstance(user, Principal) else None
        kinds = {r.name for w in loaded() for r in w.records if r.type == record_type}
        decisions = [allowed(principal, "record.add", ROLE_ONLY, kind) for kind in sorted(kinds)]
        if decisions and not any(decisions):
            decisions[0].check()

    guard.__name__ = f"may_add_{record_type}"
    return guard


CurrentPrincipal = NamedDependency[Principal]
"""Handler parameter type for the signed-in caller (``principal: CurrentPrincipal``)."""
