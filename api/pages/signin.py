"""Who is looking at a page: the session cookie (HttpOnly, SameSite=Lax, Secure where
the browser keeps it, CSRF-bound), read once per request, and the two dependencies
page handlers ask for instead of checking by hand:

- ``principal: SignedIn``: the signed-in person; anyone else is sent to sign in and
  brought back to the page afterwards (``SignInRequired``);
- ``visitor: Visitor``: the signed-in person or None, for the pages anyone may read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Controller, Request, Response
from litestar.di import NamedDependency, Provide
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect

from api.auth import session_principal
from deliberation import accounts
from deliberation.errors import PasswordChangeRequired, Unauthenticated
from deliberation.security import Principal
from workflows import ROLE_LABELS

SESSION_COOKIE = "hsl_session"
PASSWORD_PAGE = "/me/password"
CSRF_COOKIE = "csrftoken"
"""Litestar's CSRF cookie; a new one is given at sign-in and bound to the session."""


def secure_cookies(public_url: str) -> bool:
    """Secure cookies travel only over https; browsers also keep them for loopback."""
    parts = urlsplit(public_url)
    return parts.scheme == "https" or parts.hostname in ("127.0.0.1", "localhost", "::1")


def safe_next(target: str | None, fallback: str = "/me") -> str:
    """Only paths of this site (no ``//host`` or ``http://``): no open redirect. Spaces
    and control characters are refused too: browsers drop a tab or newline from an
    address, which would turn ``/\t/host`` into ``//host``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target):
        return fallback
    return target


PRINCIPAL = "page_principal"
VIEWER = "viewer"


async def page_principal(request: Request[Any, Any, Any]) -> Principal | None:
    """The signed-in caller of a page, from the session cookie (None when absent,
    expired, ended or idle too long), looked up once per request. After an
    administrator's reset, every page but the password form sends the person there
    first."""
    if PRINCIPAL in request.state:
        principal: Principal | None = request.state[PRINCIPAL]
    else:
        principal = await _session_of(request)
        request.state[PRINCIPAL] = principal
    forced = principal is not None and principal.must_change_password
    if forced and request.url.path != PASSWORD_PAGE:
        raise PasswordChangeRequired("请先设置新密码")
    return principal


async def _session_of(request: Request[Any, Any, Any]) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    # A form (anything but a read) must carry the CSRF token of this very session.
    csrf = None if request.method in ("GET", "HEAD") else request.cookies.get(CSRF_COOKIE, "")
    try:
        return await session_principal(request.app, token, csrf)
    except Unauthenticated:
        return None


HOMES = {"supervisor": ("/county", "全县总览"), "admin": ("/admin", "系统管理")}
"""Where a role's work is (the header's link and where /me sends them); others: /me."""
HOME = ("/me", "我的工作")


@dataclass(frozen=True)
class Viewer:
    """Who the page header names: the signed-in person and their role, and where their
    work is."""

    name: str
    role: str
    home: str = HOME[0]
    home_label: str = HOME[1]


async def remember_viewer(request: Request[Any, Any, Any]) -> None:
    """Before every page (handlers marked ``opt={"page": True}``): who is signed in, for
    the header. The handler's own ``page_principal`` then costs nothing."""
    if not request.route_handler.opt.get("page"):
        return
    try:
        principal = await page_principal(request)
    except PasswordChangeRequired:
        principal = None  # the handler sends them to the password form (or signs out)
    if principal is not None:
        request.state[VIEWER] = await _viewer(principal)


async def _viewer(principal: Principal) -> Viewer:
    user = await accounts.current_user(principal)
    home, label = HOMES.get(user.role, HOME)
    return Viewer(user.display_name, ROLE_LABELS[user.role], home, label)


async def remember_viewer_for_error(request: Request[Any, Any, Any]) -> None:
    """An error page's header: who is signed in, also where no page handler ran (an
    address that does not exist, a method a page does not take). Only their name is
    shown, so the session is read without the form's CSRF check; nothing is done."""
    if request.state.get(VIEWER) is not None:
        return
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return
    try:
        principal = await session_principal(request.app, token, None)
    except Unauthenticated:
        return
    if not principal.must_change_password:
        request.state[VIEWER] = await _viewer(principal)


class SignInRequired(Exception):
    """A page that needs a signed-in person was asked for without one."""


def _page_to_return_to(request: Request[Any, Any, Any]) -> str:
    """After signing in: the page itself, or for a form the page it was on (a topic's
    forms post under the topic's address)."""
    if request.method in ("GET", "HEAD"):
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    topic_id = request.path_params.get("topic_id")
    return f"/topics/{topic_id}" if topic_id is not None else request.url.path


def handle_sign_in_required(request: Request[Any, Any, Any], _: SignInRequired) -> Response[Any]:
    """To the sign-in page, and back to the page afterwards."""
    login = f"/login?next={quote(_page_to_return_to(request), safe='/?=&')}"
    if request.headers.get("HX-Request") == "true":
        # htmx swaps answers into the page: the whole browser goes to the sign-in page.
        return ClientRedirect(login)
    return Redirect(login, status_code=303)


async def provide_signed_in(request: Request[Any, Any, Any]) -> Principal:
    principal = await page_principal(request)
    if principal is None:
        raise SignInRequired
    return principal


async def provide_visitor(request: Request[Any, Any, Any]) -> Principal | None:
    return await page_principal(request)


SignedIn = NamedDependency[Principal]
"""A page handler's ``principal: SignedIn``: only for the signed-in."""

Visitor = NamedDependency[Principal | None]
"""A page handler's ``visitor: Visitor``: the signed-in person, or None."""


class PageController(Controller):
    """What every page controller shares: outside the API's bearer-token check and its
    OpenAPI document, marked as a page (the header's viewer), and given the page
    dependencies (the API's own ``principal`` is the bearer token's)."""

    tags = ["pages"]
    opt = {"exclude_from_auth": True, "page": True}
    include_in_schema = False
    dependencies = {
        "principal": Provide(provide_signed_in),
        "visitor": Provide(provide_visitor),
    }
