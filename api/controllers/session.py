"""Signing in to the web pages: a session cookie (HttpOnly, SameSite=Lax, Secure
where the browser will keep it), CSRF on every form, the API's login rate limit,
and the large-text switch (适老化) remembered per browser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.middleware.csrf import generate_csrf_token
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from api.auth import session_principal
from api.dependencies import CurrentPublishing
from api.forms import FormData, parse_form, to_login
from api.middleware import client_of
from deliberation import accounts, documents
from deliberation.errors import (
    PasswordChangeRequired,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from deliberation.overview import TABS, by_state, in_tab, my_topics
from deliberation.permissions import allowed
from deliberation.schemas import PasswordChange
from deliberation.security import Principal
from workflows import ROLE_LABELS, WORKFLOW

SESSION_COOKIE = "hsl_session"
PASSWORD_PAGE = "/me/password"
CSRF_COOKIE = "csrftoken"
"""Litestar's CSRF cookie; a new one is given at sign-in and bound to the session."""
TEXT_COOKIE = "hsl_text"
YEAR = 365 * 24 * 3600
NEWEST = 5
"""Notices on the landing page."""


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
        raise PasswordChangeRequired("管理员已重置您的密码，请先设置新密码")
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


@dataclass(frozen=True)
class Viewer:
    """Who the page header names: the signed-in person and their role."""

    name: str
    role: str


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
        user = await accounts.current_user(principal)
        request.state[VIEWER] = Viewer(user.display_name, ROLE_LABELS[user.role])


def _password_form(
    principal: Principal, errors: dict[str, str], *, status: int = 200, done: bool = False
) -> Template:
    return Template(
        "password.html",
        context={"forced": principal.must_change_password, "errors": errors, "done": done},
        status_code=status,
    )


class SessionController(Controller):
    path = "/"
    tags = ["pages"]
    opt = {"exclude_from_auth": True, "page": True}
    include_in_schema = False

    @get("/", operation_id="landing_page")
    async def landing(
        self, request: Request[Any, Any, Any], publishing: CurrentPublishing
    ) -> Template | Redirect:
        """The front door: what 好商量 is, the board's newest notices and the way in; for
        someone signed in, their work."""
        if await page_principal(request) is not None:
            return Redirect("/me", status_code=303)
        newest = await documents.public_notices(publishing, limit=NEWEST)
        return Template("landing.html", context={"notices": newest.items, "total": newest.total})

    @get("/login", operation_id="login_page")
    async def login_page(
        self, next_path: Annotated[str | None, QueryParameter(name="next", max_length=500)] = None
    ) -> Template:
        return Template(
            "login.html", context={"next": safe_next(next_path), "username": "", "error": None}
        )

    @post("/login", operation_id="login_submit", status_code=303)
    async def login_submit(
        self,
        request: Request[Any, Any, Any],
        data: FormData,
    ) -> Redirect | Template:
        username = str(data.get("username") or "").strip()[:64]
        password = str(data.get("password") or "")[:128]
        target = safe_next(str(data.get("next") or ""))
        client = client_of(request)
        settings = request.app.state.settings
        csrf = generate_csrf_token(secret=settings.secret_key)
        try:
            signed_in = await accounts.sign_in(
                username, password, client, request.app.state.login_limits, "page", csrf
            )
        except RateLimited as refused:
            return Template(
                "login.html",
                context={"next": target, "username": username, "error": refused.detail},
                status_code=429,
                headers={"Retry-After": str(refused.retry_after)},
            )
        except Unauthenticated as refused:
            return Template(
                "login.html",
                context={"next": target, "username": username, "error": refused.detail},
                status_code=401,
            )
        token = request.app.state.token_issuer.issue(signed_in.principal)
        secure = secure_cookies(settings.public_url)
        return Redirect(
            PASSWORD_PAGE if signed_in.must_change_password else target,
            status_code=303,
            cookies=[
                Cookie(
                    key=SESSION_COOKIE,
                    value=token,
                    max_age=settings.token_ttl_seconds,
                    httponly=True,
                    secure=secure,
                    samesite="lax",
                ),
                # A fresh CSRF token, bound to this session (a token planted before
                # sign-in, or another session's, is refused).
                Cookie(key=CSRF_COOKIE, value=csrf, httponly=True, secure=secure, samesite="lax"),
            ],
        )

    @post("/logout", operation_id="logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        """Ends the session on the server too: the cookie's token is refused from now on,
        wherever it was copied to."""
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            try:
                principal = await session_principal(request.app, token)
            except Unauthenticated:
                principal = None
            if principal is not None:
                await accounts.sign_out(principal, client_of(request))
        return Redirect(
            "/login",
            status_code=303,
            cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, httponly=True)],
        )

    @get("/me", operation_id="my_page")
    async def me(
        self,
        request: Request[Any, Any, Any],
        only: Annotated[str | None, QueryParameter(name="state", max_length=30)] = None,
        tab: Annotated[str | None, QueryParameter(max_length=10)] = None,
    ) -> Template | Redirect:
        """The person's list in three tabs (待办, 进行中, 已办结), narrowed to one state
        if asked (any state, finished ones too)."""
        principal = await page_principal(request)
        if principal is None:
            return to_login("/me")
        user = await accounts.current_user(principal)
        found = await my_topics(principal)
        tabs = [
            {"key": k, "label": v, "count": sum(in_tab(t, k) for t in found)}
            for k, v in TABS.items()
        ]
        chosen = only if only in {s.name for s in WORKFLOW.states} else None
        if chosen is not None:
            shown = [t for t in found if t.state == chosen]
            tab = None
        else:
            if tab not in TABS:  # to do if there is any, else what is still moving
                tab = "todo" if tabs[0]["count"] else "open"
            shown = [t for t in found if in_tab(t, tab)]
        return Template(
            "me.html",
            context={
                "user": user,
                "role_label": ROLE_LABELS[user.role],
                "topics": shown,
                "tabs": tabs,
                "tab": tab,
                "states": by_state(found),
                "chosen": chosen,
                "chosen_label": WORKFLOW.state(chosen).label if chosen else None,
                "may_open": bool(allowed(principal, "topic.open")),
            },
        )

    @get(PASSWORD_PAGE, operation_id="password_page")
    async def password_page(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        principal = await page_principal(request)
        if principal is None:
            return to_login(PASSWORD_PAGE)
        return _password_form(principal, {})

    @post(PASSWORD_PAGE, operation_id="password_submit", status_code=200)
    async def password_submit(
        self, request: Request[Any, Any, Any], data: FormData
    ) -> Template | Redirect:
        """The person's own change; their other sessions end. After a reset it is the
        way back in."""
        principal = await page_principal(request)
        if principal is None:
            return to_login(PASSWORD_PAGE)
        change, problems = parse_form(data, PasswordChange)
        if change is None:
            return _password_form(principal, problems, status=422)
        try:
            await accounts.change_password(
                principal, change, client_of(request), request.app.state.login_limits
            )
        except ValidationFailed as refused:
            found: dict[str, str] = {}
            for error in refused.errors:
                joined = "; ".join(filter(None, (found.get(error["field"]), error["message"])))
                found[error["field"]] = joined
            return _password_form(principal, found, status=422)
        except RateLimited as refused:
            return _password_form(principal, {"current_password": refused.detail}, status=429)
        if principal.must_change_password:
            return Redirect("/me", status_code=303)
        return _password_form(principal, {}, done=True)

    @get("/text-size", operation_id="text_size")
    async def text_size(
        self,
        size: Annotated[str, QueryParameter(max_length=10)] = "large",
        next_path: Annotated[str | None, QueryParameter(name="next", max_length=500)] = None,
    ) -> Redirect:
        """The large-text switch: remembered in a cookie for a year."""
        value = "large" if size == "large" else "normal"
        return Redirect(
            safe_next(next_path, "/notices"),
            status_code=303,
            cookies=[Cookie(key=TEXT_COOKIE, value=value, max_age=YEAR, samesite="lax")],
        )
