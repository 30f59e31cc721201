"""Townships, villages and accounts; sign-in with a failed-login rate limit."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec
from msgspec import UNSET
from piccolo.columns.combination import WhereRaw

from deliberation import offerings, sessions, throttle
from deliberation.clock import utcnow
from deliberation.database import (
    is_unique_violation,
    write_transaction,
)
from deliberation.documents import board
from deliberation.errors import (
    AlreadyExists,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from deliberation.paging import Page, Window, keyed, page_of
from deliberation.permissions import EVERYWHERE, Scope, allowed, scope
from deliberation.schemas import (
    MeRead,
    PasswordChange,
    TownshipRead,
    UserCreate,
    UserRead,
    UserUpdate,
    VillageRead,
)
from deliberation.scoping import township_conditions
from deliberation.security import (
    Principal,
    hashed,
    password_matches,
    password_problems,
    temporary_password,
)
from deliberation.security_log import CLI, Actor, log
from deliberation.suggestions import threshold
from deliberation.tables import Account, LoginFailure, Township, Village
from deliberation.topics import valid_id
from workflows import ROLE_LABELS
from workflows.declaration import COUNTY, VILLAGE


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
        active=bool(row.get("active", True)),
        phone=row.get("phone") or None,
    )


def principal_of(user: UserRead, session_id: int = 0) -> Principal:
    """The caller ``user`` is; ``session_id`` 0 for work done outside a request (the
    demo, the command line)."""
    return Principal(
        id=user.id,
        username=user.username,
        role=user.role,
        township_id=user.township_id,
        village_id=user.village_id,
        session_id=session_id,
    )


def _manager(actor: Actor) -> None:
    """Account changes are for administrators (the command line acts as one)."""
    if actor.principal is not None:
        allowed(actor.principal, "account.manage").check()


# Townships and villages ---------------------------------------------------------


async def create_township(name: str, actor: Actor = CLI) -> TownshipRead:
    _manager(actor)
    name = name.strip()
    async with write_transaction():
        if await Township.exists().where(Township.name == name):
            raise AlreadyExists(f"乡镇“{name}”已存在")
        row = Township(name=name, created_at=utcnow())
        await row.save()
        await log("township.created", actor=actor, detail=name)
    return _township_read({"id": row.id, "name": name, "offered_workflows": None})


def _township_read(row: dict[str, Any]) -> TownshipRead:
    return TownshipRead(
        id=row["id"],
        name=row["name"],
        workflows=offerings.offered_keys(row["offered_workflows"], "township"),
        threshold_representatives_divisor=row.get(
            "threshold_representatives_divisor", threshold.DEFAULT_REPRESENTATIVES_DIVISOR
        ),
        threshold_villagers_divisor=row.get(
            "threshold_villagers_divisor", threshold.DEFAULT_VILLAGERS_DIVISOR
        ),
        screening_working_days=row.get(
            "screening_working_days", threshold.DEFAULT_SCREENING_WORKING_DAYS
        ),
        decline_grounds=threshold.decline_grounds(row.get("decline_grounds")),
    )


def _village_read(row: dict[str, Any]) -> VillageRead:
    return VillageRead(
        id=row["id"],
        name=row["name"],
        township_id=row["township"],
        workflows=offerings.offered_keys(row["offered_workflows"], "village"),
        registered_villagers=row.get("registered_villagers"),
    )


def _townships_seen(principal: Principal | None) -> Scope:
    """The townships (and their villages) a person sees: the policy's ``township.list``
    (administrators and the county every one, others their own); the command line
    (None) sees every township."""
    return EVERYWHERE if principal is None else scope(principal, "township.list")


_TOWNSHIP = (
    Township.id,
    Township.name,
    Township.offered_workflows,
    Township.threshold_representatives_divisor,
    Township.threshold_villagers_divisor,
    Township.screening_working_days,
    Township.decline_grounds,
)
_VILLAGE = (
    Village.id,
    Village.name,
    Village.township,
    Village.offered_workflows,
    Village.shuoshi_day,
    Village.registered_villagers,
)


async def list_townships(principal: Principal | None = None) -> list[TownshipRead]:
    query = Township.select(*_TOWNSHIP).order_by(Township.id)
    seen = _townships_seen(principal)
    if not seen:
        return []
    for condition in township_conditions(seen, Township.id):
        query = query.where(condition)
    return [_township_read(r) for r in await query]


async def township_by_name(name: str) -> TownshipRead | None:
    row = await Township.select(*_TOWNSHIP).where(Township.name == name).first()
    return _township_read(row) if row else None


async def update_township(
    township_id: int,
    actor: Actor = CLI,
    *,
    name: str | None = None,
    workflows: Sequence[str] | None = None,
    suggestions: SuggestionSettings | None = None,
) -> TownshipRead:
    """A new name, on every page and notice board from now on (published PDFs keep the
    name they were issued under); the township-scope workflows it offers
    (``deliberation.offerings``): a key not loaded, or of village scope, is refused;
    the settings of its villagers' suggestions (:class:`SuggestionSettings`)."""
    row = await _update_place(PLACES["township"], township_id, actor, name, workflows)
    if suggestions is not None and suggestions.given():
        row = await _suggestion_settings(township_id, actor, suggestions, row)
    return _township_read(row)


@dataclass(frozen=True)
class SuggestionSettings:
    """A township's settings of villagers' suggestions (docs/decisions.md, "Suggestions:
    the threshold, the deadline and the screening"); None leaves one as it is. The
    ranges are the schema's."""

    representatives_divisor: int | None = None
    """A suggestion must be listed once 1/n of the village's representatives support it."""
    villagers_divisor: int | None = None
    """… or 1/n of its registered villagers (where the number is set)."""
    screening_working_days: int | None = None
    decline_grounds: Sequence[str] | None = None
    """The grounds a must-list suggestion may be declined on; [] restores the defaults."""

    def given(self) -> bool:
        return any(v is not None for v in dataclasses.astuple(self))


_SETTING_LABELS = {
    "threshold_representatives_divisor": "村民代表附议比例（分之一）",
    "threshold_villagers_divisor": "村民附议比例（分之一）",
    "screening_working_days": "审核期限（工作日）",
    "decline_grounds": "不予列入的依据",
}


async def _suggestion_settings(
    township_id: int, actor: Actor, settings: SuggestionSettings, row: dict[str, Any]
) -> dict[str, Any]:
    """Store the settings that differ, each logged; the township's row after."""
    _manager(actor)
    wanted: dict[str, Any] = {}
    if settings.representatives_divisor is not None:
        wanted["threshold_representatives_divisor"] = settings.representatives_divisor
    if settings.villagers_divisor is not None:
        wanted["threshold_villagers_divisor"] = settings.villagers_divisor
    if settings.screening_working_days is not None:
        wanted["screening_working_days"] = settings.screening_working_days
    if settings.decline_grounds is not None:
        wanted["decline_grounds"] = threshold.store_grounds(settings.decline_grounds)
    after = dict(row)
    async with write_transaction():
        for column, value in wanted.items():
            if row.get(column) == value:
                continue
            await Township.update({getattr(Township, column): value}).where(
                Township.id == township_id
            )
            after[column] = value
            shown = (
                "、".join(threshold.decline_grounds(value))
                if column == "decline_grounds"
                else str(value)
            )
            await log(
                "township.suggestion_settings",
                actor=actor,
                detail=f"{row['name']}：{_SETTING_LABELS[column]} → {shown}",
            )
    return after


async def set_registered_villagers(
    village_id: int, registered: int | None, actor: Actor = CLI
) -> None:
    """A village's 登记村民人数, the roster of the one-tenth rule (None switches the
    rule off for the village)."""
    _manager(actor)
    if not valid_id(village_id):
        raise NotFound("村（社区）不存在")
    async with write_transaction():
        row = (
            await Village.select(Village.name, Village.registered_villagers)
            .where(Village.id == village_id)
            .first()
        )
        if row is None:
            raise NotFound("村（社区）不存在")
        if row["registered_villagers"] == registered:
            return
        await Village.update({Village.registered_villagers: registered}).where(
            Village.id == village_id
        )
        shown = f"{registered} 人" if registered is not None else "未设置"
        await log("village.registered_villagers", actor=actor, detail=f"{row['name']}：{shown}")


def _offer_change(name: str, before: TownshipRead | VillageRead, after: Any) -> str:
    return f"{name}：{'、'.join(before.workflows) or '无'} → {'、'.join(after.workflows) or '无'}"


async def update_village(
    village_id: int,
    actor: Actor = CLI,
    *,
    name: str | None = None,
    workflows: Sequence[str] | None = None,
) -> VillageRead:
    """A new name (unique within its township); the village-scope workflows it offers
    (as :func:`update_township`)."""
    return _village_read(await _update_place(PLACES["village"], village_id, actor, name, workflows))


async def update_place(
    scope: offerings.PlaceScope,
    place_id: int,
    actor: Actor = CLI,
    *,
    name: str | None = None,
    workflows: Sequence[str] | None = None,
) -> TownshipRead | VillageRead:
    """:func:`update_township` or :func:`update_village`, by ``scope``."""
    place = PLACES[scope]
    found: TownshipRead | VillageRead = place.read(
        await _update_place(place, place_id, actor, name, workflows)
    )
    return found


@dataclass(frozen=True)
class Place:
    """A township or a village, as the administrator renames it and chooses what it
    offers: one shape for both, by scope."""

    scope: offerings.PlaceScope
    table: Any
    columns: tuple[Any, ...]
    read: Any
    """Its read shape from a row (``_township_read``, ``_village_read``)."""
    within: str | None = None
    """The column its name is unique within (a village's township), or None: unique."""
    on_notices: bool = False
    """Its name is printed on the notice boards (a rename refreshes them)."""

    @property
    def word(self) -> str:
        return offerings.PLACE_WORDS[self.scope]


async def _update_place(
    place: Place,
    place_id: int,
    actor: Actor,
    name: str | None,
    workflows: Sequence[str] | None,
) -> dict[str, Any]:
    """Rename ``place`` and/or set the workflows it offers, each logged; the row after."""
    _manager(actor)
    if not valid_id(place_id):  # before the query: PostgreSQL refuses an id past 2**31
        raise NotFound(f"{place.word}不存在")
    offered = offerings.stored(workflows, place.scope) if workflows is not None else None
    table = place.table
    async with write_transaction():
        row = await table.select(*place.columns).where(table.id == place_id).first()
        if row is None:
            raise NotFound(f"{place.word}不存在")
        after = dict(row)
        if name is not None and row["name"] != name.strip():
            name = name.strip()
            same = (table.name == name) & (table.id != place_id)
            if place.within is not None:
                same &= getattr(table, place.within) == row[place.within]
            if await table.exists().where(same):
                raise AlreadyExists(f"{place.word}“{name}”已存在")
            await table.update({table.name: name}).where(table.id == place_id)
            if place.on_notices:
                await board.changed()
            await log(f"{place.scope}.renamed", actor=actor, detail=f"{row['name']} → {name}")
            after["name"] = name
        if offered is not None and offered != row["offered_workflows"]:
            await table.update({table.offered_workflows: offered}).where(table.id == place_id)
            after["offered_workflows"] = offered
            await log(
                f"{place.scope}.workflows",
                actor=actor,
                detail=_offer_change(after["name"], place.read(row), place.read(after)),
            )
    return after


PLACES: dict[str, Place] = {
    "township": Place("township", Township, _TOWNSHIP, _township_read, on_notices=True),
    "village": Place("village", Village, _VILLAGE, _village_read, within="township"),
}


async def create_village(name: str, township_id: int, actor: Actor = CLI) -> VillageRead:
    _manager(actor)
    name = name.strip()
    async with write_transaction():
        if not await Township.exists().where(Township.id == township_id):
            raise ValidationFailed([{"field": "township_id", "message": "乡镇不存在"}])
        if await Village.exists().where((Village.township == township_id) & (Village.name == name)):
            raise AlreadyExists(f"村（社区）“{name}”已存在")
        row = Village(name=name, township=township_id, created_at=utcnow())
        await row.save()
        await log("village.created", actor=actor, detail=f"{name}（乡镇 {township_id}）")
    return _village_read(
        {"id": row.id, "name": name, "township": township_id, "offered_workflows": None}
    )


async def list_villages(
    principal: Principal | None = None, township_id: int | None = None
) -> list[VillageRead]:
    query = Village.select(*_VILLAGE).order_by(Village.id)
    seen = _townships_seen(principal)
    if not seen:
        return []
    for condition in township_conditions(seen, Village.township):
        query = query.where(condition)
    if township_id is not None:
        query = query.where(Village.township == township_id)
    from deliberation.shuoshi_day import village_read  # it builds on this module

    return [await village_read(r) for r in await query]


# Accounts -------------------------------------------------------------------------


async def _placement_errors(
    role: str, township_id: int | None, village_id: int | None
) -> list[dict[str, str]]:
    """Whether a role, township and village fit together (inside the caller's transaction)."""
    errors: list[dict[str, str]] = []
    if role in COUNTY and township_id is not None:
        errors.append({"field": "township_id", "message": "县政协督办账号不属于任何乡镇"})
    if role not in ("admin", *COUNTY) and township_id is None:
        errors.append(
            {"field": "township_id", "message": "除管理员和县政协督办外，账号必须属于一个乡镇"}
        )
    if role in VILLAGE and village_id is None:
        label = ROLE_LABELS.get(role, role)
        errors.append({"field": "village_id", "message": f"{label}必须属于一个村（社区）"})
    if township_id is not None and not await Township.exists().where(Township.id == township_id):
        errors.append({"field": "township_id", "message": "乡镇不存在"})
    if village_id is not None:
        village = await Village.select(Village.township).where(Village.id == village_id).first()
        if village is None or village["township"] != township_id:
            errors.append({"field": "village_id", "message": "该乡镇下没有这个村（社区）"})
    return errors


def same_username(username: str) -> WhereRaw:
    """The account whose username is ``username`` whatever the case (usernames are
    unique regardless of case: the index ``account_username_lower``)."""
    return WhereRaw("lower(account.username) = {}", username.lower())


@contextlib.asynccontextmanager
async def usernames_race(detail: str) -> AsyncIterator[None]:
    """Accounts written inside: one that another writer made at the same moment (the
    unique index on the username in any case refuses it) is a 409 with ``detail``, not
    a 500."""
    try:
        yield
    except Exception as error:
        if is_unique_violation(error):
            raise AlreadyExists(detail) from error
        raise


def username_taken(wanted: str, existing: str) -> AlreadyExists:
    if wanted == existing:
        return AlreadyExists(f"用户名“{wanted}”已被使用")
    return AlreadyExists(f"用户名“{wanted}”已被使用：已有账号“{existing}”，用户名不区分大小写")


def _password_errors(password: str, username: str, field: str) -> list[dict[str, str]]:
    return [{"field": field, "message": m} for m in password_problems(password, username)]


async def create_user(
    data: UserCreate, actor: Actor = CLI, *, must_change_password: bool = False
) -> UserRead:
    """A new account. ``must_change_password``: the password is a first one the office
    hands out, and the person must choose their own at their first sign-in."""
    _manager(actor)
    errors = _password_errors(data.password, data.username, "password")
    password_hash = await hashed(data.password)
    async with usernames_race(f"用户名“{data.username}”刚被使用，请换一个"):
        row = await _insert_account(data, password_hash, errors, actor, must_change_password)
    return UserRead(
        id=row.id,
        username=data.username,
        display_name=row.display_name,
        role=data.role,
        township_id=data.township_id,
        village_id=data.village_id,
    )


async def _insert_account(
    data: UserCreate,
    password_hash: str,
    errors: list[dict[str, str]],
    actor: Actor,
    must_change_password: bool,
) -> Account:
    async with write_transaction():
        errors += await _placement_errors(data.role, data.township_id, data.village_id)
        if errors:
            raise ValidationFailed(errors)
        existing = await Account.select(Account.username).where(same_username(data.username))
        if existing:
            raise username_taken(data.username, existing[0]["username"])
        row = Account(
            username=data.username,
            password_hash=password_hash,
            display_name=data.display_name.strip(),
            role=data.role,
            township=data.township_id,
            village=data.village_id,
            active=True,
            must_change_password=must_change_password,
            created_at=utcnow(),
        )
        await row.save()
        await log(
            "account.created",
            username=data.username,
            account=row.id,
            actor=actor,
            detail=ROLE_LABELS.get(data.role, data.role),
        )
    return row


_USER_COLUMNS = (
    Account.id,
    Account.username,
    Account.display_name,
    Account.role,
    Account.township,
    Account.village,
    Account.active,
    Account.phone,
)


async def list_users(
    principal: Principal,
    *,
    q: str | None = None,
    role: str | None = None,
    township_id: int | None = None,
    active: bool | None = None,
    limit: int | None = None,
) -> list[UserRead]:
    """Accounts in the order they were made; ``q`` matches a part of the username or
    the name."""
    query = _users_query(principal, q, role, township_id, active)
    if limit is not None:
        query = query.limit(limit)
    return [user_read(r) for r in await query.order_by(Account.id)]


async def page_users(
    principal: Principal,
    window: Window,
    *,
    q: str | None = None,
    role: str | None = None,
    township_id: int | None = None,
) -> Page[UserRead]:
    """A page of ``list_users``, by id (docs/decisions.md, "Paged lists")."""
    query = _users_query(principal, q, role, township_id, None)
    rows = await keyed(query, Account.id, window)
    return page_of([user_read(r) for r in rows], window, lambda user: user.id)


def _users_query(
    principal: Principal,
    q: str | None,
    role: str | None,
    township_id: int | None,
    active: bool | None,
) -> Any:
    allowed(principal, "account.manage").check()
    query = Account.select(*_USER_COLUMNS)
    if q and q.strip():
        needle = f"%{_like_escaped(q.strip().lower())}%"
        query = query.where(
            WhereRaw("lower(account.username) LIKE {} ESCAPE '\\'", needle)
            | WhereRaw("lower(account.display_name) LIKE {} ESCAPE '\\'", needle)
        )
    if role:
        query = query.where(Account.role == role)
    if township_id is not None:
        query = query.where(Account.township == township_id)
    if active is not None:
        query = query.where(Account.active == active)
    return query


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _account(user_id: int) -> dict[str, Any]:
    if not valid_id(user_id):
        raise NotFound("账号不存在")
    row = await Account.select(*_USER_COLUMNS).where(Account.id == user_id).first()
    if row is None:
        raise NotFound("账号不存在")
    return row


async def get_user(principal: Principal, user_id: int) -> UserRead:
    """One account, for administrators."""
    allowed(principal, "account.manage").check()
    return user_read(await _account(user_id))


async def user_id_by_name(username: str) -> int:
    row = await Account.select(Account.id).where(same_username(username)).first()
    if row is None:
        raise NotFound(f"没有用户名为“{username}”的账号")
    return int(row["id"])


_ENDS_SESSIONS = ("role", "township", "village")


async def update_user(actor: Actor, user_id: int, data: UserUpdate) -> UserRead:
    """An administrator's change. Deactivating, or changing role, township or village,
    ends the account's sessions in the same transaction."""
    _manager(actor)
    async with write_transaction():
        row = await _account(user_id)
        wanted = {
            "display_name": data.display_name.strip()
            if isinstance(data.display_name, str)
            else UNSET,
            "role": data.role,
            "township": data.township_id,
            "village": data.village_id,
            "active": data.active,
        }
        changes = {k: v for k, v in wanted.items() if v is not UNSET and v != row[k]}
        after = {**row, **changes}
        errors = await _placement_errors(after["role"], after["township"], after["village"])
        if actor.principal is not None and actor.principal.id == user_id:
            if changes.get("active") is False:
                errors.append({"field": "active", "message": "不能停用自己的账号"})
            if "role" in changes:
                errors.append({"field": "role", "message": "不能改变自己的角色"})
        if errors:
            raise ValidationFailed(errors)
        if not changes:
            return user_read(row)
        columns = {getattr(Account, k): v for k, v in changes.items()}
        await Account.update(columns).where(Account.id == user_id)
        if changes.get("active") is False:
            await sessions.end_all(user_id, "deactivated")
        elif any(k in changes for k in _ENDS_SESSIONS):
            await sessions.end_all(user_id, "account_changed")
        if "active" in changes:
            kind = "account.activated" if changes["active"] else "account.deactivated"
            await log(kind, username=row["username"], account=user_id, actor=actor)
        described = [f"{k}: {row[k]} → {after[k]}" for k in changes if k != "active"]
        if described:
            await log(
                "account.updated",
                username=row["username"],
                account=user_id,
                actor=actor,
                detail="; ".join(described),
            )
    return user_read(after)


async def reset_password(actor: Actor, user_id: int) -> str:
    """A temporary password, shown once; the account must choose a new one at its next
    sign-in, and every session it has ends now."""
    _manager(actor)
    temporary = temporary_password()
    password_hash = await hashed(temporary)
    async with write_transaction():
        row = await _account(user_id)
        await Account.update(
            {Account.password_hash: password_hash, Account.must_change_password: True}
        ).where(Account.id == user_id)
        await sessions.end_all(user_id, "password_reset")
        await log("password.reset", username=row["username"], account=user_id, actor=actor)
    return temporary


async def change_password(
    principal: Principal, data: PasswordChange, client: str, limits: LoginLimits
) -> None:
    """The caller's own change: the current password is checked as a sign-in is (and
    counts against the same limits, and a wrong one or a refusal is in the security log
    as a failed sign-in is); every other session of the account ends."""
    try:
        await _check_password(
            principal.username, data.current_password, client, limits, account_id=principal.id
        )
    except (RateLimited, Unauthenticated) as refused:
        wrong = "当前密码不正确"
        await log(
            "password.changed",
            username=principal.username,
            account=principal.id,
            client=client,
            result="refused" if isinstance(refused, RateLimited) else "failed",
            detail=refused.detail if isinstance(refused, RateLimited) else wrong,
        )
        if isinstance(refused, RateLimited):
            raise
        raise ValidationFailed([{"field": "current_password", "message": wrong}]) from refused
    errors = _password_errors(data.new_password, principal.username, "new_password")
    if data.new_password == data.current_password:
        errors.append({"field": "new_password", "message": "新密码不能与当前密码相同"})
    if errors:
        raise ValidationFailed(errors)
    password_hash = await hashed(data.new_password)
    async with write_transaction():
        await Account.update(
            {Account.password_hash: password_hash, Account.must_change_password: False}
        ).where(Account.id == principal.id)
        await sessions.end_all(principal.id, "password_changed", keep=principal.session_id)
        await sessions.password_chosen(principal.session_id)
        await log(
            "password.changed", username=principal.username, account=principal.id, client=client
        )


async def current_user(principal: Principal) -> UserRead:
    row = (
        await Account.select(*_USER_COLUMNS)
        .where((Account.id == principal.id) & (Account.active == True))  # noqa: E712
        .first()
    )
    if row is None:
        raise Unauthenticated("账号不存在或已停用，请重新登录")
    return user_read(row)


async def me(principal: Principal) -> MeRead:
    """``GET /api/v1/me``: the account and the workflows it may open a topic in."""
    user = await current_user(principal)
    offered = await offerings.offered_to(principal)
    return MeRead(**msgspec.structs.asdict(user), offered_workflows=offered)


ASK_THE_OFFICE = "如忘记密码，请联系乡镇协商办公室或系统管理员重置。"


async def _check_password(
    username: str,
    password: str,
    client: str,
    limits: LoginLimits,
    *,
    account_id: int | None = None,
) -> dict[str, Any]:
    """Check a password within the limits (429 past them).

    An attempt is counted *before* the password is checked: inside one serialised step
    the failures of the window are counted and, under the limit, the attempt is written
    as a failure; a right password then takes it back. So forty wrong passwords sent at
    once count five and are refused after that, not nineteen (measured before).

    Usernames are matched whatever their case, and counted lower-cased, so ``Staff`` and
    ``STAFF`` are attempts on ``staff`` too. ``account_id`` (a password change) checks
    that account's password. The hash is verified in the hashing pool, off the event
    loop."""
    username, client = username[:64].lower(), client[:64]
    now = utcnow()
    since = now - timedelta(seconds=limits.window_seconds)
    async with write_transaction():
        # Serialised: counting and reserving an attempt is one step (deliberation/throttle.py).
        await throttle.serialise(f"login:user:{username}", f"login:client:{client}")
        by_name = await LoginFailure.count().where(
            (LoginFailure.username == username) & (LoginFailure.created_at > since)
        )
        by_client = await LoginFailure.count().where(
            (LoginFailure.client == client) & (LoginFailure.created_at > since)
        )
        if by_name >= limits.per_username or by_client >= limits.per_client:
            raise RateLimited(
                f"登录失败次数过多，请 {limits.window_seconds // 60} 分钟后再试。{ASK_THE_OFFICE}",
                retry_after=limits.window_seconds,
            )
        attempt = await LoginFailure.insert(
            LoginFailure(username=username, client=client, created_at=now)
        ).returning(LoginFailure.id)
    which = Account.id == account_id if account_id is not None else same_username(username)
    row = (
        await Account.select(*_USER_COLUMNS, Account.password_hash, Account.must_change_password)
        .where(which)
        .first()
    )
    ok = await password_matches(row["password_hash"] if row else None, password)
    if not ok or row is None:
        raise Unauthenticated("用户名或密码错误")
    if not row["active"]:
        raise _Inactive("用户名或密码错误")  # the same answer: no hint that the name exists
    await LoginFailure.delete().where(LoginFailure.id == attempt[0]["id"])
    return row


class _Inactive(Unauthenticated):
    """A right password for a deactivated account (told apart only in the log)."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: UserRead
    principal: Principal
    """Carries the new session's id: the token is issued for it."""
    must_change_password: bool


async def sign_in(
    username: str,
    password: str,
    client: str,
    limits: LoginLimits,
    kind: str,
    csrf_token: str = "",
) -> SignedIn:
    """Check a password within the limits (429 past them) and open a session of
    ``kind`` (``api`` or ``page``); both outcomes go into the security log."""
    try:
        row = await _check_password(username, password, client, limits)
    except (RateLimited, Unauthenticated) as refused:
        result = "refused" if isinstance(refused, RateLimited) else "failed"
        detail = "账号已停用" if isinstance(refused, _Inactive) else refused.detail
        await log("sign_in", username=username[:64], client=client, result=result, detail=detail)
        raise
    async with write_transaction():
        session_id = await sessions.start(
            row["id"], kind, client, row["must_change_password"], csrf_token
        )
        await log("sign_in", username=username, account=row["id"], client=client, detail=kind)
    user = user_read(row)
    return SignedIn(user, principal_of(user, session_id), bool(row["must_change_password"]))


async def sign_out(principal: Principal, client: str) -> None:
    async with write_transaction():
        await sessions.end(principal.session_id, "signed_out")
        await log("sign_out", username=principal.username, account=principal.id, client=client)
