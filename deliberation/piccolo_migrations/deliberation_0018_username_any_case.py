"""Usernames unique regardless of case: a unique index on ``lower(username)``.

A database may already hold two accounts whose usernames differ only in case (the API
allowed ``STAFF`` beside ``staff``). The index cannot be built over them, and the
migration must not quietly fail or pick for the office, so (docs/decisions.md, "Holds
under load"): the oldest account of each such group keeps its username; each later one
is renamed ``<username>-<id>``, its sessions end, a row in the security log says who was
renamed to what and why, and the migration prints the same on standard error. The office
then tells the person their new sign-in name (their password is unchanged)."""

import sys

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-12-05T10:18:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Usernames unique regardless of case"


def renamed(username: str, account_id: int, taken: set[str]) -> str:
    """``<username>-<id>``, cut to 64 characters, not taken in any case."""
    suffix = f"-{account_id}"
    candidate = username[: 64 - len(suffix)] + suffix
    n = 1
    while candidate.lower() in taken:
        n += 1
        suffix = f"-{account_id}-{n}"
        candidate = username[: 64 - len(suffix)] + suffix
    return candidate


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        from deliberation import clock

        engine = engine_finder()
        assert engine is not None

        async def query(sql: str, *args: object) -> list[dict[str, object]]:
            return list(await engine.run_querystring(QueryString(sql, *args)))

        clashing = await query(
            "SELECT id, username FROM account WHERE lower(username) IN "
            "(SELECT lower(username) FROM account GROUP BY lower(username) "
            "HAVING count(*) > 1) ORDER BY id"
        )
        if clashing:
            now = clock.utcnow()  # the one clock (docs/decisions.md, "Time")
            taken = {
                str(r["username"]).lower() for r in await query("SELECT username FROM account")
            }
            kept: dict[str, str] = {}
            for row in clashing:
                old, account = str(row["username"]), int(str(row["id"]))
                if old.lower() not in kept:
                    kept[old.lower()] = old  # the oldest (lowest id) keeps its name
                    continue
                first = kept[old.lower()]
                new = renamed(old, account, taken)
                taken.add(new.lower())
                await query("UPDATE account SET username = {} WHERE id = {}", new, account)
                await query(
                    "UPDATE auth_session SET ended_at = {}, ended_reason = 'username_renamed' "
                    "WHERE account = {} AND ended_at IS NULL",
                    now,
                    account,
                )
                detail = (
                    f"用户名 {old} → {new}（升级：与“{first}”只有大小写不同，"
                    "用户名从此不区分大小写；密码不变）"
                )
                await query(
                    "INSERT INTO security_event (created_at, kind, username, account, actor, "
                    "client, result, detail) VALUES ({}, 'account.updated', {}, {}, NULL, "
                    "'升级', 'ok', {})",
                    now,
                    new,
                    account,
                    detail,
                )
                print(f"账号 {account}：{detail}", file=sys.stderr)
            await query("UPDATE roster_version SET version = version + 1 WHERE id = 1")
        await engine.run_ddl(
            "CREATE UNIQUE INDEX account_username_lower ON account (lower(username))"
        )

    manager.add_raw(run)
    return manager
