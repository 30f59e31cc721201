"""Signing in and out, the front door, the person's own list and password, and the
large-text switch (适老化) remembered per browser."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.middleware.csrf import generate_csrf_token
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from api.auth import session_principal
from api.dependencies import CurrentPublishing
from api.forms import FormData, parse_form
from api.middleware import client_of
from api.pages.signin import (
    CSRF_COOKIE,
    HOMES,
    PASSWORD_PAGE,
    SESSION_COOKIE,
    PageController,
    SignedIn,
    Visitor,
    safe_next,
    secure_cookies,
)
from api.pages.suggestions import my_suggestions
from deliberation import accounts, deadlines, documents, security_log
from deliberation.errors import RateLimited, Unauthenticated, ValidationFailed
from deliberation.overview import TABS, by_state, in_tab, my_topics
from deliberation.permissions import Scope, allowed, scope
from deliberation.pinning import any_state_label, state_names
from deliberation.schemas import PasswordChange
from deliberation.security import Principal
from workflows import ROLE_LABELS

TEXT_COOKIE = "hsl_text"
YEAR = 365 * 24 * 3600
NEWEST = 5
"""Notices on the landing page."""


def list_title(mine: Scope) -> str:
    """What a person's list on /me holds (the policy's ``my.list`` scope): their
    village's, the topics they opened, or the township's (for the office)."""
    if mine.village_id is not None:
        return "本村议题"
    if mine.opened_by is not None:
        return "我提出的议题"
    return "本镇议题"


CHANGED = f"{PASSWORD_PAGE}?changed=yes"
"""Where a changed password lands: the form again, saying 密码已修改 (a refresh there
posts nothing again)."""
NOT_THE_SAME = "两次输入的新密码不一致\uff0c请重新输入"


async def _password_form(
    principal: Principal, errors: dict[str, str], *, status: int = 200, done: bool = False
) -> Template:
    # Forced: a first password from the office (a new or imported account) or an
    # administrator's reset; the security log tells which.
    forced = None
    if principal.must_change_password:
        forced = "reset" if await security_log.was_reset(principal.id) else "first"
    return Template(
        "password.html",
        context={"forced": forced, "errors": errors, "done": done},
        status_code=status,
    )


class SessionController(PageController):
    path = "/"

    @get("/", operation_id="landing_page")
    async def landing(self, visitor: Visitor, publishing: CurrentPublishing) -> Template | Redirect:
        """The front door: what 好商量 is, the board's newest notices and the way in; for
        someone signed in, their work."""
        if visitor is not None:
            return Redirect("/me", status_code=303)
        newest = await documents.public_notices(publishing, limit=NEWEST)
        posting = await deadlines.postings_left((d.id, d.posting_ends_on) for d in newest.items)
        return Template(
            "landing.html",
            context={"notices": newest.items, "total": newest.total, "posting_left": posting},
        )

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
        principal: SignedIn,
        only: Annotated[str | None, QueryParameter(name="state", max_length=30)] = None,
        tab: Annotated[str | None, QueryParameter(max_length=10)] = None,
    ) -> Template | Redirect:
        """The person's list in three tabs (待办, 进行中, 已办结), narrowed to one state
        if asked (any state, finished ones too)."""
        user = await accounts.current_user(principal)
        if user.role in HOMES:  # the county's work is on its own page
            return Redirect(HOMES[user.role][0], status_code=303)
        found = await my_topics(principal)
        mine = scope(principal, "my.list")
        tabs = [
            {"key": k, "label": v, "count": sum(in_tab(t, k) for t in found)}
            for k, v in TABS.items()
        ]
        chosen = only if only in state_names() else None
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
                "chosen_label": any_state_label(chosen) if chosen else None,
                "may_open": bool(allowed(principal, "topic.open")),
                "list_title": list_title(mine),
                # A village's list is short: tabs are enough.
                "state_filter": mine.village_id is None,
                # 我的建议: filed or supported, with how far it got (issue 27).
                "suggestions": await my_suggestions(principal),
            },
        )

    @get(PASSWORD_PAGE, operation_id="password_page")
    async def password_page(
        self,
        principal: SignedIn,
        changed: Annotated[str | None, QueryParameter(max_length=3)] = None,
    ) -> Template:
        return await _password_form(principal, {}, done=changed == "yes")

    @post(PASSWORD_PAGE, operation_id="password_submit", status_code=200)
    async def password_submit(
        self, request: Request[Any, Any, Any], principal: SignedIn, data: FormData
    ) -> Template | Redirect:
        """The person's own change; their other sessions end. After a reset it is the
        way back in."""
        fields = dict(data)
        confirmation = fields.pop("confirm_password", "")
        change, problems = parse_form(fields, PasswordChange)
        if change is not None and confirmation != change.new_password:
            problems = {"confirm_password": NOT_THE_SAME}
        elif change is None and not confirmation:
            problems["confirm_password"] = "请再输入一次新密码"
        if change is None or problems:
            return await _password_form(principal, problems, status=422)
        try:
            await accounts.change_password(
                principal, change, client_of(request), request.app.state.login_limits
            )
        except ValidationFailed as refused:
            found: dict[str, str] = {}
            for error in refused.errors:
                joined = "; ".join(filter(None, (found.get(error["field"]), error["message"])))
                found[error["field"]] = joined
            return await _password_form(principal, found, status=422)
        except RateLimited as refused:
            return await _password_form(principal, {"current_password": refused.detail}, status=429)
        return Redirect(CHANGED, status_code=303)

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
