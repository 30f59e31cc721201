"""The security log (product.md §9): sign-ins with their outcome, sign-outs, password
changes and resets, and every administrator's change to accounts, townships and
villages. Kept at least 180 days; the worker prunes older rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from deliberation.clock import CHINA, utcnow
from deliberation.permissions import allowed
from deliberation.schemas import SecurityEventRead, SecurityLogPage
from deliberation.security import Principal
from deliberation.tables import RosterVersion, SecurityEvent
from deliberation.validation import check_date_range

MIN_KEEP_DAYS = 180

KIND_LABELS = {
    "sign_in": "登录",
    "sign_out": "退出",
    "password.changed": "修改密码",
    "password.reset": "重置密码",
    "account.created": "新建账号",
    "account.updated": "修改账号",
    "account.deactivated": "停用账号",
    "account.activated": "启用账号",
    "township.created": "新建乡镇",
    "township.renamed": "修改乡镇名称",
    "village.created": "新建村（社区）",
    "village.renamed": "修改村（社区）名称",
    "township.workflows": "修改乡镇提供的协商流程",
    "village.workflows": "修改村（社区）提供的协商流程",
    "village.shuoshi_day": "设置村（社区）说事日",
    "township.suggestion_settings": "修改乡镇的村民建议设置",
    "village.registered_villagers": "设置村（社区）登记村民人数",
    "accounts.imported": "导入账号",
}
"""Every kind the log holds, with its label on the pages."""
ROSTER_KINDS = frozenset(k for k in KIND_LABELS if k.startswith(("account", "township", "village")))
"""Changes to who and where people are: they raise the roster's version."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: the signed-in administrator or the command line (None)."""

    principal: Principal | None
    client: str = ""


CLI = Actor(None, "命令行")


async def log(
    kind: str,
    *,
    username: str = "",
    account: int | None = None,
    actor: Actor | None = None,
    client: str = "",
    result: str = "ok",
    detail: str = "",
) -> None:
    """Add one row (inside the caller's transaction when there is one)."""
    assert kind in KIND_LABELS, kind
    who = actor.principal.id if actor and actor.principal else None
    await SecurityEvent.insert(
        SecurityEvent(
            created_at=utcnow(),
            kind=kind,
            username=username[:64],
            account=account,
            actor=who,
            client=(client or (actor.client if actor else ""))[:64],
            result=result,
            detail=detail,
        )
    )
    if kind in ROSTER_KINDS:
        await RosterVersion.update({RosterVersion.version: RosterVersion.version + 1}).where(
            RosterVersion.id == 1
        )


async def was_reset(account: int) -> bool:
    """Whether an administrator has ever reset the account's password (else a password
    to change at sign-in is the first one the office gave: a new or imported account)."""
    return await SecurityEvent.exists().where(
        (SecurityEvent.account == account) & (SecurityEvent.kind == "password.reset")
    )


async def entries(
    principal: Principal,
    *,
    limit: int = 50,
    offset: int = 0,
    kind: str | None = None,
    username: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> SecurityLogPage:
    """Newest first, for administrators; ``date_from`` and ``date_to`` are China dates
    (both days included)."""
    allowed(principal, "account.manage").check()
    check_date_range(date_from, date_to)
    where = []
    if kind:
        where.append(SecurityEvent.kind == kind)
    if username:
        where.append(SecurityEvent.username == username)
    if date_from is not None:
        where.append(SecurityEvent.created_at >= china_midnight(date_from))
    if date_to is not None:
        where.append(SecurityEvent.created_at < china_midnight(date_to + timedelta(days=1)))
    query = SecurityEvent.select(
        SecurityEvent.created_at,
        SecurityEvent.kind,
        SecurityEvent.username,
        SecurityEvent.client,
        SecurityEvent.result,
        SecurityEvent.detail,
    )
    count = SecurityEvent.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(SecurityEvent.id, ascending=False).limit(limit).offset(offset)
    return SecurityLogPage(
        items=[
            SecurityEventRead(
                at=r["created_at"],
                kind=r["kind"],
                kind_label=KIND_LABELS.get(r["kind"], r["kind"]),
                username=r["username"],
                client=r["client"],
                result=r["result"],
                detail=r["detail"],
            )
            for r in rows
        ],
        total=await count,
    )


def china_midnight(day: date) -> datetime:
    """The instant a China date begins."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA)


async def prune(keep_days: int) -> int:
    """Delete rows older than ``keep_days`` (never fewer than 180)."""
    cutoff = utcnow() - timedelta(days=max(keep_days, MIN_KEEP_DAYS))
    old = await SecurityEvent.count().where(SecurityEvent.created_at < cutoff)
    if old:
        await SecurityEvent.delete().where(SecurityEvent.created_at < cutoff)
    return int(old)
