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

from deliberation.errors import Forbidden, Unauthenticated
from deliberation.security import Principal, TokenIssuer
from workflows import WORKFLOW

PUBLIC_PATHS = (
    "^/healthz",
    "^/schema",
    "^/api/v1/auth/token$",
    "^/api/v1/workflow",
    "^/api/v1/public/",
)


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        # Straight from the raw headers: building ``connection.headers`` decodes them all.
        header = next(
            (v.decode("latin-1") for k, v in connection.scope["headers"] if k == b"authorization"),
            "",
        )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("请先登录:缺少访问令牌(Authorization: Bearer …)")
        issuer: TokenIssuer = connection.app.state.token_issuer
        principal = issuer.verify(token.strip())
        return AuthenticationResult(user=principal, auth=token)


def auth_middleware() -> DefineMiddleware:
    return DefineMiddleware(BearerTokenMiddleware, exclude=list(PUBLIC_PATHS))


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    user = request.user
    if not isinstance(user, Principal):
        raise Unauthenticated("请先登录")
    return user


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def require_roles(*roles: str, action: str = "执行此操作") -> Guard:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.user
        if not isinstance(principal, Principal) or principal.role not in roles:
            raise Forbidden(f"您的角色不能{action}")

    guard.__name__ = f"require_{'_or_'.join(roles)}"
    return guard


def record_guard(record: str) -> Guard:
    """Who may add ``record``, as the workflow declaration says."""
    kind = WORKFLOW.record(record)
    return require_roles(*kind.roles, action=f"添加{kind.label}")


CurrentPrincipal = NamedDependency[Principal]
"""Handler parameter type for the signed-in caller (``principal: CurrentPrincipal``)."""
