"""Sessions that end (product.md §9).

Every sign-in is a row; its token (bearer or page cookie) names the row (``sid``), and
every request reads the row by key, so ending a session here ends it at once on every
process of a deployment. Sign-out ends one session; a password change ends the others
of the account; a reset, a deactivation and a change of role, township or village end
them all. Page sessions also end after ``idle_seconds`` without a request.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import timedelta
from typing import Any

from deliberation.clock import utcnow
from deliberation.database import row_by_id
from deliberation.errors import Forbidden, Unauthenticated
from deliberation.security import Principal
from deliberation.tables import AuthSession

SESSION_SELECT = (
    "SELECT id, account, kind, last_seen_at, ended_at, must_change_password, csrf_digest "
    "FROM auth_session"
)
TOUCH_AFTER = timedelta(seconds=60)
"""A page session's last-seen time is written at most once a minute (not per request)."""
KINDS = ("api", "page")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(
    account: int, kind: str, client: str, must_change_password: bool, csrf_token: str = ""
) -> int:
    assert kind in KINDS
    now = utcnow()
    rows = await AuthSession.insert(
        AuthSession(
            account=account,
            kind=kind,
            client=client[:64],
            created_at=now,
            last_seen_at=now,
            must_change_password=must_change_password,
            csrf_digest=token_digest(csrf_token) if csrf_token else "",
        )
    ).returning(AuthSession.id)
    return int(rows[0]["id"])


async def check(
    principal: Principal, idle_seconds: int, csrf_token: str | None = None
) -> Principal:
    """The caller if their session is still open (401 otherwise); marks a page session
    as seen, and tells whether the account must first choose a new password. For a page
    form, ``csrf_token`` must be the one its session was given at sign-in (403)."""
    row = await row_by_id(SESSION_SELECT, principal.session_id)
    if row is None or row["account"] != principal.id or row["ended_at"] is not None:
        raise Unauthenticated("登录已失效（已退出、密码已更改或账号有变动），请重新登录")
    bound = row["csrf_digest"]
    if (
        csrf_token is not None
        and bound
        and not hmac.compare_digest(token_digest(csrf_token), bound)
    ):
        raise Forbidden("页面已过期，或不是在您这次登录的页面上提交的，请刷新页面后重试")
    if row["kind"] == "page":
        now = utcnow()
        quiet = now - row["last_seen_at"]
        if quiet > timedelta(seconds=idle_seconds):
            await end(principal.session_id, "idle")
            raise Unauthenticated(f"超过 {idle_seconds // 60} 分钟没有操作，已自动退出，请重新登录")
        if quiet > TOUCH_AFTER:
            await AuthSession.update({AuthSession.last_seen_at: now}).where(
                (AuthSession.id == principal.session_id) & AuthSession.ended_at.is_null()
            )
    if row["must_change_password"]:
        return replace(principal, must_change_password=True)
    return principal


async def _close(which: Any, reason: str) -> None:
    """End the open sessions ``which`` selects, saying why."""
    await AuthSession.update(
        {AuthSession.ended_at: utcnow(), AuthSession.ended_reason: reason}
    ).where(which & AuthSession.ended_at.is_null())


async def end(session_id: int, reason: str) -> None:
    await _close(AuthSession.id == session_id, reason)


async def end_all(account: int, reason: str, *, keep: int | None = None) -> None:
    """End every open session of ``account`` (but ``keep``), inside the caller's
    transaction: the change that ends them and the ending land together."""
    which: Any = AuthSession.account == account
    if keep is not None:
        which &= AuthSession.id != keep
    await _close(which, reason)


async def password_chosen(session_id: int) -> None:
    await AuthSession.update({AuthSession.must_change_password: False}).where(
        AuthSession.id == session_id
    )


async def prune(ttl_seconds: int) -> int:
    """Forget sessions that ended, or whose token expired, over a day ago."""
    cutoff = utcnow() - timedelta(seconds=ttl_seconds) - timedelta(days=1)
    old = (AuthSession.created_at < cutoff) | (
        AuthSession.ended_at.is_not_null() & (AuthSession.ended_at < utcnow() - timedelta(days=1))
    )
    count = await AuthSession.count().where(old)
    if count:
        await AuthSession.delete().where(old)
    return int(count)
