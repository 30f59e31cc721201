"""Townships, villages and accounts; sign-in with a failed-login rate limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from piccolo.querystring import QueryString

from deliberation.clock import utcnow
from deliberation.database import bound_engine, is_sqlite, write_transaction
from deliberation.errors import (
    AlreadyExists,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from deliberation.permissions import allowed
from deliberation.schemas import (
    TownshipRead,
    UserCreate,
    UserRead,
    VillageRead,
)
from deliberation.security import Principal, hash_password, verify_password
from deliberation.tables import Account, LoginFailure, Township, Village


@dataclass(frozen=True, slots=True)
class LoginLimits:
    per_username: int = 5
    per_client: int = 20
    window_seconds: int = 900


def user_read(row: dict[str, Any]) -> UserRead:
    return UserRead(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        township_id=row["township"],
        village_id=row["village"],
    )


def principal_of(user: UserRead) -> Principal:
    return Principal(
        id=user.id,
        username=user.username,
        role=user.role,
        township_id=user.township_id,
        village_id=user.village_id,
    )


# Townships and villages ---------------------------------------------------------


async def create_township(name: str) -> TownshipRead:
    name = name.strip()
    async with write_transaction():
        if await Township.exists().where(Township.name == name):
            raise AlreadyExists(f"乡镇“{name}”已存在")
        row = Township(name=name, created_at=utcnow())
        await row.save()
    return TownshipRead(id=row.id, name=name)


async def list_townships(principal: Principal | None = None) -> list[TownshipRead]:
    query = Township.select(Township.id, Township.name).order_by(Township.id)
    if principal is not None and principal.role != "admin":
        query = query.where(Township.id == principal.township_id)
    return [TownshipRead(id=r["id"], name=r["name"]) for r in await query]


async def township_by_name(name: str) -> TownshipRead | None:
    row = await Township.select(Township.id, Township.name).where(Township.name == name).first()
    return TownshipRead(id=row["id"], name=row["name"]) if row else None


async def create_village(name: str, township_id: int) -> VillageRead:
    name = name.strip()
    async with write_transaction():
        if not await Township.exists().where(Township.id == township_id):
            raise ValidationFailed([{"field": "township_id", "message": "乡镇不存在"}])
        if await Village.exists().where((Village.township == township_id) & (Village.name == name)):
            raise AlreadyExists(f"村(社区)“{name}”已存在")
        row = Village(name=name, township=township_id, created_at=utcnow())
        await row.save()
    return VillageRead(id=row.id, name=name, township_id=township_id)


async def list_villages(
    principal: Principal | None = None, township_id: int | None = None
) -> list[VillageRead]:
    query = Village.select(Village.id, Village.name, Village.township).order_by(Village.id)
    if principal is not None and principal.role != "admin":
        query = query.where(Village.township == principal.township_id)
    if township_id is not None:
        query = query.where(Village.township == township_id)
    return [VillageRead(id=r["id"], name=r["name"], township_id=r["township"]) for r in await query]


# Accounts -------------------------------------------------------------------------


async def create_user(data: UserCreate) -> UserRead:
    errors: list[dict[str, str]] = []
    if data.role != "admin" and data.township_id is None:
        errors.append({"field": "township_id", "message": "除管理员外,账号必须属于一个乡镇"})
    if data.role == "representative" and data.village_id is None:
        errors.append({"field": "village_id", "message": "村(居)民代表必须属于一个村(社区)"})
    async with write_transaction():
        if data.township_id is not None and not await Township.exists().where(
            Township.id == data.township_id
        ):
            errors.append({"field": "township_id", "message": "乡镇不存在"})
        if data.village_id is not None:
            village = (
                await Village.select(Village.township).where(Village.id == data.village_id).first()
            )
            if village is None or village["township"] != data.township_id:
                errors.append({"field": "village_id", "message": "该乡镇下没有这个村(社区)"})
        if errors:
            raise ValidationFailed(errors)
        if await Account.exists().where(Account.username == data.username):
            raise AlreadyExists(f"用户名“{data.username}”已被使用")
        row = Account(
            username=data.username,
            password_hash=hash_password(data.password),
            display_name=data.display_name.strip(),
            role=data.role,
            township=data.township_id,
            village=data.village_id,
            active=True,
            created_at=utcnow(),
        )
        await row.save()
    return UserRead(
        id=row.id,
        username=data.username,
        display_name=row.display_name,
        role=data.role,
        township_id=data.township_id,
        village_id=data.village_id,
    )


_USER_COLUMNS = (
    Account.id,
    Account.username,
    Account.display_name,
    Account.role,
    Account.township,
    Account.village,
)


async def list_users(principal: Principal) -> list[UserRead]:
    allowed(principal, "account.manage").check()
    rows = await Account.select(*_USER_COLUMNS).order_by(Account.id)
    return [user_read(r) for r in rows]


async def current_user(principal: Principal) -> UserRead:
    row = (
        await Account.select(*_USER_COLUMNS)
        .where((Account.id == principal.id) & (Account.active == True))  # noqa: E712
        .first()
    )
    if row is None:
        raise Unauthenticated("账号不存在或已停用,请重新登录")
    return user_read(row)


ASK_THE_OFFICE = "如忘记密码,请联系乡镇协商办公室或系统管理员重置。"


async def _lock_login(username: str, client: str) -> None:
    """Serialise the sign-ins of one username and of one client address (PostgreSQL:
    transaction advisory locks, always in this order; SQLite's write transaction already
    serialises), so counting and reserving an attempt is one step."""
    engine = bound_engine()
    if is_sqlite(engine):
        return
    for key in (f"login:user:{username}", f"login:client:{client}"):
        await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock(hashtext({}))", key))


async def authenticate(username: str, password: str, client: str, limits: LoginLimits) -> UserRead:
    """Check a password within the limits (429 past them).

    An attempt is counted *before* the password is checked: inside one serialised step
    the failures of the window are counted and, under the limit, the attempt is written
    as a failure; a right password then takes it back. So forty wrong passwords sent at
    once count five and are refused after that, not nineteen (measured before)."""
    username, client = username[:64], client[:64]
    now = utcnow()
    since = now - timedelta(seconds=limits.window_seconds)
    async with write_transaction():
        await _lock_login(username, client)
        by_name = await LoginFailure.count().where(
            (LoginFailure.username == username) & (LoginFailure.created_at > since)
        )
        by_client = await LoginFailure.count().where(
            (LoginFailure.client == client) & (LoginFailure.created_at > since)
        )
        if by_name >= limits.per_username or by_client >= limits.per_client:
            raise RateLimited(
                f"登录失败次数过多,请 {limits.window_seconds // 60} 分钟后再试。{ASK_THE_OFFICE}",
                retry_after=limits.window_seconds,
            )
        attempt = await LoginFailure.insert(
            LoginFailure(username=username, client=client, created_at=now)
        ).returning(LoginFailure.id)
    row = (
        await Account.select(*_USER_COLUMNS, Account.password_hash, Account.active)
        .where(Account.username == username)
        .first()
    )
    ok = verify_password(row["password_hash"] if row else None, password)
    if not ok or row is None or not row["active"]:
        raise Unauthenticated("用户名或密码错误")
    await LoginFailure.delete().where(LoginFailure.id == attempt[0]["id"])
    return user_read(row)
