"""Usernames are unique regardless of case (issue 23, item 5): ``STAFF`` cannot be made
beside ``staff`` through the API, the admin page, the command line or an import, nor by
two requests at once (the database's index on ``lower(username)``); sign-in takes a
username in any case and counts its attempts as one; and the migration that adds the
index renames, visibly, accounts that already clash."""

from __future__ import annotations

import asyncio
from collections import Counter

from litestar import Litestar

from deliberation.clock import utcnow
from deliberation.database import bound_engine
from deliberation.tables import Account, AuthSession, LoginFailure, SecurityEvent
from tests.api.test_import import send, xlsx
from tests.api.test_sessions_end import page_client
from tests.cli import run_cli
from tests.world import PASSWORD, World, unique

MIGRATION_0018 = "2026-12-05T10:18:00:000000"


def new_account(world: World, username: str) -> dict[str, object]:
    return {
        "username": username,
        "password": PASSWORD,
        "display_name": "大小写",
        "role": "staff",
        "township_id": world.a.id,
    }


async def test_a_username_differing_only_in_case_is_taken_everywhere(
    world: World, app: Litestar, migrated: str
) -> None:
    name = unique("casestaff")
    made = await world.admin.post("/api/v1/users", new_account(world, name))
    assert made.status_code == 201, made.text
    before = await Account.count()

    shouted = await world.admin.post("/api/v1/users", new_account(world, name.upper()))
    assert shouted.status_code == 409, shouted.text
    assert shouted.json()["code"] == "already_exists"
    assert "不区分大小写" in shouted.json()["detail"] and name in shouted.json()["detail"]

    admin = await page_client(app, world.admin.user["username"])
    form = {
        "display_name": "大小写",
        "username": name.capitalize(),
        "role": "staff",
        "township_id": str(world.a.id),
        "village_id": "",
    }
    page = await admin.post("/admin/accounts", data=form)
    assert page.status_code == 409 and "不区分大小写" in page.text

    cli = run_cli(
        migrated,
        "user",
        "create",
        "--username",
        name.swapcase(),
        "--role",
        "staff",
        "--display-name",
        "大小写",
        "--township",
        world.a.name,
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
    assert cli.returncode == 1 and "已被使用" in cli.stderr, cli.stderr

    row = [1, "王大小", name.upper(), "工作人员", world.a.name, "", ""]
    imported = await send(world, xlsx([row]), "名单.xlsx")
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == []
    assert imported.json()["errors"][0]["field"] == "用户名"
    assert "已被使用" in imported.json()["errors"][0]["message"]

    assert await Account.count() == before  # none of them was written


async def test_accounts_made_at_once_in_different_cases_are_one_account(world: World) -> None:
    """Checked and written by concurrent requests, the names all pass the check; the
    database's index refuses all but one, each as a 409, never a 500."""
    name = unique("racecase")
    upper = name.upper()
    spellings = [name, upper, name.capitalize(), upper[:3] + name[3:], name[:3] + upper[3:]]
    answers = await asyncio.gather(
        *(world.admin.post("/api/v1/users", new_account(world, s)) for s in spellings)
    )
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 1, 409: len(spellings) - 1}, [a.text for a in answers]
    rows = await Account.select(Account.username).where(Account.username.is_in(spellings))
    assert len(rows) == 1


async def test_sign_in_takes_the_username_in_any_case_and_counts_attempts_as_one(
    world: World,
) -> None:
    """People type ``Staff`` on a phone that capitalises the first letter; and ``STAFF``,
    ``Staff``, ``sTaff`` ... must not each get five tries at ``staff``'s password."""
    name = unique("anycase")
    made = await world.admin.post("/api/v1/users", new_account(world, name))
    assert made.status_code == 201, made.text
    signed = await world.client.post(
        "/api/v1/auth/token", json={"username": name.upper(), "password": PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["user"]["id"] == made.json()["id"]
    assert signed.json()["user"]["username"] == name

    variants = [name.upper(), name.capitalize(), name.swapcase(), name, name.title()]
    variants.append(name[0].upper() + name[1:3].upper() + name[3:])
    statuses = [
        (
            await world.client.post(
                "/api/v1/auth/token", json={"username": v, "password": "wrong-password-1"}
            )
        ).status_code
        for v in variants
    ]
    assert statuses == [401] * 5 + [429], statuses
    right = await world.client.post(
        "/api/v1/auth/token", json={"username": name, "password": PASSWORD}
    )
    assert right.status_code == 429  # locked out, whatever the case it was tried in
    await LoginFailure.delete().where(LoginFailure.username == name)


async def test_the_migration_renames_accounts_that_already_differ_only_in_case(
    world: World, migrated: str
) -> None:
    """A database from before: ``STAFF`` made beside ``staff``. The index cannot be built
    over them; the migration keeps the older name, renames the later account, ends its
    sessions and says so in the security log and on standard error."""
    engine = bound_engine()
    name = unique("oldcase")
    await engine.run_ddl("DROP INDEX account_username_lower")
    try:
        now = utcnow()
        for spelling in (name, name.upper()):
            await Account.insert(
                Account(
                    username=spelling,
                    password_hash="x",
                    display_name="旧账号",
                    role="staff",
                    township=world.a.id,
                    created_at=now,
                )
            )
        older, later = (
            await Account.select(Account.id, Account.username)
            .where(Account.username.is_in([name, name.upper()]))
            .order_by(Account.id)
        )
        await AuthSession.insert(
            AuthSession(
                account=later["id"], kind="api", client="test", created_at=now, last_seen_at=now
            )
        )
        await engine.run_ddl(f"DELETE FROM migration WHERE name = '{MIGRATION_0018}'")

        migrated_again = run_cli(migrated, "migrate")
        assert migrated_again.returncode == 0, migrated_again.stderr
        new_name = f"{later['username']}-{later['id']}"
        assert new_name in migrated_again.stderr and name.upper() in migrated_again.stderr

        names = {
            r["id"]: r["username"]
            for r in await Account.select(Account.id, Account.username).where(
                Account.id.is_in([older["id"], later["id"]])
            )
        }
        assert names == {older["id"]: name, later["id"]: new_name}
        session = await AuthSession.select(AuthSession.ended_reason).where(
            AuthSession.account == later["id"]
        )
        assert session == [{"ended_reason": "username_renamed"}]
        logged = await SecurityEvent.select(SecurityEvent.kind, SecurityEvent.detail).where(
            SecurityEvent.account == later["id"]
        )
        assert len(logged) == 1 and logged[0]["kind"] == "account.updated"
        assert name.upper() in logged[0]["detail"] and new_name in logged[0]["detail"]
    finally:
        await engine.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS account_username_lower ON account (lower(username))"
        )
    # The index holds from now on.
    again = await world.admin.post("/api/v1/users", new_account(world, name.swapcase()))
    assert again.status_code == 409
