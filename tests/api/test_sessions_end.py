"""Sessions that end (product.md §9, issue 11): sign-out, a password change, a reset,
deactivation and a change of role, township or village refuse the old bearer token and
page cookie from the next request, on every process; page sessions end when idle; the
password rules; the security log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from deliberation import security_log
from deliberation.clock import utcnow
from deliberation.tables import LoginFailure, SecurityEvent
from tests.cli import run_cli
from tests.conftest import browser, client_from
from tests.live import serving
from tests.world import PASSWORD, Actor, Township, World, new_township, sign_in, unique

NEW_PASSWORD = "a-new-password-2026"


async def page_client(app: Litestar, username: str, password: str = PASSWORD) -> httpx.AsyncClient:
    """A browser signed in through the login form (a page session)."""
    client, token = await browser(app)
    answer = await client.post(
        "/login",
        data={"username": username, "password": password, "next": "/me"},
        headers={"x-csrftoken": token},
    )
    assert answer.status_code == 303, answer.text
    # Both cookies are Secure (https or loopback): keep them for this plain-http client.
    # Signing in gave a new CSRF token, bound to the session.
    given = {c.name: c.value for c in client.cookies.jar if c.name in ("hsl_session", "csrftoken")}
    session = answer.cookies.get("hsl_session") or given.get("hsl_session", "")
    csrf = answer.cookies.get("csrftoken") or token
    client.cookies.clear()
    client.cookies.set("hsl_session", session)
    client.cookies.set("csrftoken", csrf)
    client.headers["x-csrftoken"] = csrf
    return client


async def signed_in_page(client: httpx.AsyncClient) -> bool:
    answer = await client.get("/me")
    if answer.status_code == 303:
        assert answer.headers["location"].startswith("/login")
        return False
    assert answer.status_code == 200, answer.text
    return True


Event = Callable[[World, Township, Actor], Awaitable[None]]


async def sign_out(world: World, t: Township, who: Actor) -> None:
    assert (await who.post("/api/v1/auth/logout")).status_code == 204


async def change_password(world: World, t: Township, who: Actor) -> None:
    # From a session of its own: that one goes on, every other ends.
    other = await sign_in(world.client, who.user["username"])
    answer = await other.put(
        "/api/v1/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert answer.status_code == 204, answer.text
    assert (await other.get("/api/v1/me")).status_code == 200


async def reset(world: World, t: Township, who: Actor) -> None:
    answer = await world.admin.post(f"/api/v1/users/{who.user['id']}/password-reset")
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["temporary_password"]) >= 10


async def patch_user(world: World, who: Actor, change: dict[str, Any]) -> None:
    answer = await world.admin.client.patch(
        f"/api/v1/users/{who.user['id']}", json=change, headers=world.admin.headers
    )
    assert answer.status_code == 200, answer.text


async def deactivate(world: World, t: Township, who: Actor) -> None:
    await patch_user(world, who, {"active": False})


async def change_role(world: World, t: Township, who: Actor) -> None:
    await patch_user(world, who, {"role": "liaison", "village_id": None})


async def change_township(world: World, t: Township, who: Actor) -> None:
    await patch_user(
        world, who, {"township_id": world.b.id, "village_id": world.b.villages[0]["id"]}
    )


async def change_village(world: World, t: Township, who: Actor) -> None:
    await patch_user(world, who, {"village_id": t.villages[1]["id"]})


EVENTS: dict[str, Event] = {
    "sign_out": sign_out,
    "password_change": change_password,
    "reset": reset,
    "deactivation": deactivate,
    "role_change": change_role,
    "township_change": change_township,
    "village_change": change_village,
}


@pytest.mark.parametrize("event", list(EVENTS))
async def test_old_token_and_cookie_are_refused_after(
    event: str, world: World, app: Litestar
) -> None:
    t = await new_township(world, "退出镇")
    who = t["representative"]
    browser = await page_client(app, who.user["username"])
    assert (await who.get("/api/v1/me")).status_code == 200
    assert await signed_in_page(browser)

    await EVENTS[event](world, t, who)

    refused = await who.get("/api/v1/topics")
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "unauthenticated"
    assert "请重新登录" in refused.json()["detail"]
    # The same token as a page cookie, and the page session signed in separately.
    copied = client_from(app)
    copied.cookies.set("hsl_session", who.token)
    assert not await signed_in_page(copied)
    # Signing out ends that one session; the person's browser elsewhere stays signed in.
    # Every other event ends all of the account's sessions.
    assert await signed_in_page(browser) is (event == "sign_out")


async def test_a_deactivated_liaison_cannot_open_a_topic(world: World) -> None:
    """Found by the attack: a deactivated account opened a topic (201) and was on its
    chain."""
    t = await new_township(world, "停用镇")
    liaison = t["liaison"]
    await deactivate(world, t, liaison)
    answer = await liaison.post(
        "/api/v1/topics", {"title": "停用后开题", "description": "不应成功", "category": "其他"}
    )
    assert answer.status_code == 401
    topics = (await t["staff"].get("/api/v1/topics")).json()
    assert all(topic["title"] != "停用后开题" for topic in topics["items"])
    # Nor can it sign in again; activating it lets it.
    refused = await world.client.post(
        "/api/v1/auth/token", json={"username": liaison.user["username"], "password": PASSWORD}
    )
    assert refused.status_code == 401
    await patch_user(world, liaison, {"active": True})
    assert (await sign_in(world.client, liaison.user["username"])).token


async def test_ended_sessions_are_refused_by_every_serve_process(
    world: World, migrated: str
) -> None:
    """Two ``serve`` processes on one database: a session ended through one is refused
    by the other from the next request (no per-process cache outlives it)."""
    t = await new_township(world, "双进程镇")
    env = {"DELIBERATION_DELIVERY_IN_SERVER": "0"}
    with serving(migrated, **env) as one, serving(migrated, **env) as two:

        def token_for(username: str, password: str = PASSWORD) -> str:
            answer = httpx.post(
                f"{one.base}/api/v1/auth/token",
                json={"username": username, "password": password},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            return str(answer.json()["access_token"])

        def works_on_two(token: str) -> bool:
            headers = {"Authorization": f"Bearer {token}"}
            answer = httpx.get(f"{two.base}/api/v1/topics", headers=headers, timeout=30)
            assert answer.status_code in (200, 401), answer.text
            return answer.status_code == 200

        def on_one(method: str, path: str, token: str, body: Any = None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"}
            return httpx.request(
                method, f"{one.base}{path}", json=body, headers=headers, timeout=30
            )

        admin = token_for(world.admin.user["username"])
        # Sign-out.
        rep = token_for(t["representative"].user["username"])
        assert works_on_two(rep) and works_on_two(rep)  # the second from the cache
        assert on_one("POST", "/api/v1/auth/logout", rep).status_code == 204
        assert not works_on_two(rep)
        # Password change (from another session).
        rep, other = (token_for(t["representative"].user["username"]) for _ in range(2))
        assert works_on_two(rep)
        change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        assert on_one("PUT", "/api/v1/me/password", other, change).status_code == 204
        assert not works_on_two(rep) and works_on_two(other)
        # Reset.
        staff_id = t["staff"].user["id"]
        staff = token_for(t["staff"].user["username"])
        assert works_on_two(staff)
        assert on_one("POST", f"/api/v1/users/{staff_id}/password-reset", admin).status_code == 200
        assert not works_on_two(staff)
        # Deactivation, and a change of role.
        for key, change_body in (
            ("liaison", {"active": False}),
            ("liaison2", {"role": "staff"}),
            ("representative2", {"village_id": t.villages[0]["id"]}),
        ):
            token = token_for(t[key].user["username"])
            assert works_on_two(token)
            path = f"/api/v1/users/{t[key].user['id']}"
            assert on_one("PATCH", path, admin, change_body).status_code == 200
            assert not works_on_two(token), key


async def test_a_page_session_ends_after_thirty_idle_minutes(
    world: World, app: Litestar, move_clock: Callable[[float], None]
) -> None:
    t = await new_township(world, "闲置镇")
    browser = await page_client(app, t["staff"].user["username"])
    bearer = t["staff"]
    # Activity keeps it going: 20 minutes, a page, 20 minutes more.
    move_clock(20 * 60)
    assert await signed_in_page(browser)
    move_clock(20 * 60)
    assert await signed_in_page(browser)
    # 31 quiet minutes end it; the API token (no idle limit, 8 h) goes on.
    move_clock(31 * 60)
    answer = await browser.get("/me")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert (await bearer.get("/api/v1/me")).status_code == 200


async def test_page_sign_out_ends_the_session_on_the_server(world: World, app: Litestar) -> None:
    t = await new_township(world, "页退镇")
    browser = await page_client(app, t["liaison"].user["username"])
    stolen = browser.cookies.get("hsl_session")
    assert (await browser.post("/logout")).status_code == 303
    copied = client_from(app)
    copied.cookies.set("hsl_session", stolen or "")
    assert not await signed_in_page(copied)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Short-1", "10 个字符"),
        ("onlyletterslong", "字母、数字、符号中的至少两种"),
        ("12345678901", "字母、数字、符号中的至少两种"),
    ],
)
async def test_password_rules_are_told_in_plain_words(
    world: World, password: str, message: str
) -> None:
    answer = await world.admin.post(
        "/api/v1/users",
        {
            "username": unique("pw"),
            "password": password,
            "display_name": "密码规则",
            "role": "staff",
            "township_id": world.a.id,
        },
    )
    assert answer.status_code == 422
    assert message in answer.text, answer.text


async def test_a_password_may_not_contain_the_username(world: World) -> None:
    t = await new_township(world, "同名镇")
    who = t["staff"]
    name = who.user["username"]
    answer = await who.put(
        "/api/v1/me/password", {"current_password": PASSWORD, "new_password": f"{name}-2026"}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "new_password", "message": "密码不能包含用户名"}]
    wrong = await who.put(
        "/api/v1/me/password", {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "current_password"
    # Nothing changed: the old password still signs in.
    assert (await sign_in(world.client, name)).token


async def test_after_a_reset_only_a_new_password_is_allowed(world: World, app: Litestar) -> None:
    t = await new_township(world, "重置镇")
    who = t["liaison"]
    name = who.user["username"]
    temporary = (await world.admin.post(f"/api/v1/users/{who.user['id']}/password-reset")).json()[
        "temporary_password"
    ]
    answer = await world.client.post(
        "/api/v1/auth/token", json={"username": name, "password": temporary}
    )
    assert answer.status_code == 200 and answer.json()["must_change_password"] is True
    fresh = Actor(world.client, answer.json()["access_token"], answer.json()["user"])
    blocked = await fresh.get("/api/v1/topics")
    assert blocked.status_code == 403 and blocked.json()["code"] == "password_change_required"
    assert (await fresh.get("/api/v1/me")).status_code == 200
    # The page sends the person to the password form first, whatever they open.
    browser = await page_client(app, name, temporary)
    opened = await browser.get("/me")
    assert opened.status_code == 303 and opened.headers["location"] == "/me/password"
    form = await browser.get("/me/password")
    assert "管理员已重置您的密码" in form.text
    changed = await browser.post(
        "/me/password",
        data={
            "current_password": temporary,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/me/password?changed=yes"
    assert "密码已修改" in (await browser.get(changed.headers["location"])).text
    assert await signed_in_page(browser)
    # The API session of the temporary password ended with the change.
    assert (await fresh.get("/api/v1/me")).status_code == 401
    again = await world.client.post(
        "/api/v1/auth/token", json={"username": name, "password": NEW_PASSWORD}
    )
    assert again.json()["must_change_password"] is False


async def test_admins_cannot_lock_themselves_out(world: World) -> None:
    answer = await world.admin.client.patch(
        f"/api/v1/users/{world.admin.user['id']}",
        json={"active": False},
        headers=world.admin.headers,
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0] == {"field": "active", "message": "不能停用自己的账号"}


async def test_account_changes_are_for_admins_and_checked(world: World) -> None:
    t = await new_township(world, "管理镇")
    target = t["representative"]
    path = f"/api/v1/users/{target.user['id']}"
    staff = t["staff"]
    assert (
        await staff.client.patch(path, json={"active": False}, headers=staff.headers)
    ).status_code == 403
    assert (await staff.post(f"{path}/password-reset")).status_code == 403
    assert (await staff.get("/api/v1/security-log")).status_code == 403
    # A representative must keep a village of their township.
    answer = await world.admin.client.patch(
        path, json={"village_id": world.b.villages[0]["id"]}, headers=world.admin.headers
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "village_id"
    for bad in ({"active": "no"}, {"role": "king"}, {"username": "renamed"}):
        answer = await world.admin.client.patch(path, json=bad, headers=world.admin.headers)
        assert answer.status_code == 422, bad
    assert (
        await world.admin.client.patch(
            "/api/v1/users/999999999", json={"active": False}, headers=world.admin.headers
        )
    ).status_code == 404
    assert (await target.get("/api/v1/me")).status_code == 200  # nothing happened to it


async def test_the_security_log_keeps_sign_ins_and_account_changes(world: World) -> None:
    t = await new_township(world, "日志镇")
    who = t["representative2"]
    name = who.user["username"]
    await world.client.post(
        "/api/v1/auth/token", json={"username": name, "password": "wrong-one-1"}
    )
    await sign_out(world, t, who)
    await reset(world, t, who)
    await deactivate(world, t, who)
    log = await world.admin.get("/api/v1/security-log", params={"username": name, "limit": 50})
    assert log.status_code == 200
    kinds = [(i["kind"], i["result"]) for i in log.json()["items"]]
    assert kinds == [
        ("account.deactivated", "ok"),
        ("password.reset", "ok"),
        ("sign_out", "ok"),
        ("sign_in", "failed"),
        ("sign_in", "ok"),
        ("account.created", "ok"),
    ], kinds
    assert log.json()["total"] == 6
    item = log.json()["items"][-2]
    assert item["client"] == "127.0.0.10" and item["at"]
    townships = await world.admin.get("/api/v1/security-log", params={"kind": "township.created"})
    assert any(t.name in i["detail"] for i in townships.json()["items"])


async def test_the_security_log_keeps_180_days_and_prunes_older_rows(world: World) -> None:
    name = unique("old")
    for days in (179, 181):
        await SecurityEvent.insert(
            SecurityEvent(
                created_at=utcnow() - timedelta(days=days),
                kind="sign_in",
                username=name,
                client="test",
                result="ok",
                detail=str(days),
            )
        )
    await security_log.prune(30)  # asked for less than 180: 180 it is
    kept = await SecurityEvent.select(SecurityEvent.detail).where(SecurityEvent.username == name)
    assert kept == [{"detail": "179"}]


async def test_the_cli_deactivates_activates_and_resets(world: World, migrated: str) -> None:
    t = await new_township(world, "命令镇")
    who = t["staff"]
    name = who.user["username"]
    r = run_cli(migrated, "user", "deactivate", name)
    assert r.returncode == 0, r.stderr
    assert (await who.get("/api/v1/me")).status_code == 401
    assert run_cli(migrated, "user", "activate", name).returncode == 0
    r = run_cli(migrated, "user", "reset-password", name)
    assert r.returncode == 0, r.stderr
    temporary = r.stdout.split("临时密码：")[1].split()[0]
    answer = await world.client.post(
        "/api/v1/auth/token", json={"username": name, "password": temporary}
    )
    assert answer.status_code == 200 and answer.json()["must_change_password"] is True
    missing = run_cli(migrated, "user", "deactivate", "nobody-at-all")
    assert missing.returncode == 1 and "nobody-at-all" in missing.stderr


async def test_failed_password_changes_are_in_the_security_log(world: World) -> None:
    """A wrong current password counts toward the sign-in limit, and is logged like a
    failed sign-in; past the limit the refusal is logged too (neither left a row)."""
    t = await new_township(world, "改密日志镇")
    who = t["liaison"]
    name = who.user["username"]
    wrong = {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD}
    answers = [(await who.put("/api/v1/me/password", wrong)).status_code for _ in range(6)]
    assert answers == [422] * 5 + [429], answers
    log = await world.admin.get(
        "/api/v1/security-log", params={"username": name, "kind": "password.changed"}
    )
    items = log.json()["items"]
    assert [(i["kind"], i["result"]) for i in items] == [("password.changed", "refused")] + [
        ("password.changed", "failed")
    ] * 5, items
    assert items[-1]["detail"] == "当前密码不正确" and items[-1]["client"]
    assert "登录失败次数过多" in items[0]["detail"]
    # The in-process client is shared: give its per-client count back.
    await LoginFailure.delete().where(LoginFailure.username == name.lower())
