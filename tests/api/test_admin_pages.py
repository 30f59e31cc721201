"""The administration pages as a client of the domain (issue 14, item 1): townships,
villages and accounts made and changed from forms, each refusal next to its field,
first and temporary passwords shown once, deactivation and resets that end sessions,
and every change in the security log (searchable by kind, username and date)."""

from __future__ import annotations

import re

from litestar import Litestar

from deliberation.clock import china_today
from deliberation.tables import Account, Township, Village
from tests.api.test_sessions_end import page_client
from tests.world import World, new_township, unique


def shown_password(html: str) -> str:
    found = re.search(r'id="shown-password"><strong>([^<]+)</strong>', html)
    assert found, html[-2000:]
    return found.group(1)


async def test_townships_and_villages_are_made_and_renamed_from_the_page(
    world: World, app: Litestar
) -> None:
    admin = await page_client(app, world.admin.user["username"])
    name = unique("青山镇")
    made = await admin.post("/admin/townships", data={"name": name})
    assert made.status_code == 303 and made.headers["location"].startswith("/admin?saved=")
    township = await Township.select().where(Township.name == name).first()
    assert township is not None
    again = await admin.post("/admin/townships", data={"name": name})
    assert again.status_code == 409 and "已存在" in again.text
    assert 'id="township-name-error"' in again.text  # next to the name field
    empty = await admin.post("/admin/townships", data={"name": "  "})
    assert empty.status_code == 422 and 'id="township-name-error"' in empty.text

    no_township = await admin.post("/admin/villages", data={"name": "河口村"})
    assert no_township.status_code == 422 and "请选择" in no_township.text
    village = await admin.post(
        "/admin/villages", data={"name": "河口村", "township_id": str(township["id"])}
    )
    assert village.status_code == 303
    row = await Village.select().where(Village.township == township["id"]).first()
    assert row is not None and row["name"] == "河口村"

    renamed = await admin.post(f"/admin/townships/{township['id']}", data={"name": name + "新"})
    assert renamed.status_code == 303
    await admin.post(f"/admin/villages/{row['id']}", data={"name": "河口社区"})
    page = await admin.get("/admin")
    assert name + "新" in page.text and "河口社区" in page.text
    log = (
        await world.admin.get("/api/v1/security-log", params={"kind": "township.renamed"})
    ).json()
    assert any(name in e["detail"] and name + "新" in e["detail"] for e in log["items"])

    # Only administrators: staff are refused, on the page and by the API.
    staff = await page_client(app, world.a["staff"].user["username"])
    assert (await staff.get("/admin")).status_code == 403
    assert (await staff.post("/admin/townships", data={"name": "x镇"})).status_code == 403
    assert await Township.count().where(Township.name == "x镇") == 0


async def test_an_account_made_on_the_page_gets_a_first_password_it_must_change(
    world: World, app: Litestar
) -> None:
    admin = await page_client(app, world.admin.user["username"])
    username = unique("lisi")
    form = {
        "display_name": "李四",
        "username": username,
        "role": "staff",
        "township_id": str(world.a.id),
        "village_id": "",
    }
    bad = await admin.post("/admin/accounts", data={**form, "username": "李 四"})
    assert bad.status_code == 422 and 'id="account-username-error"' in bad.text
    rep_without_village = await admin.post(
        "/admin/accounts", data={**form, "role": "representative"}
    )
    assert rep_without_village.status_code == 422
    assert "必须属于一个村" in rep_without_village.text
    made = await admin.post("/admin/accounts", data=form)
    assert made.status_code == 200, made.text[-2000:]
    assert made.headers["cache-control"] == "no-store"
    first = shown_password(made.text)
    taken = await admin.post("/admin/accounts", data=form)
    assert taken.status_code == 409 and "已被使用" in taken.text

    # The first sign-in goes to the password form before anything else.
    person = await page_client(app, username, first)
    forced = await person.get("/me")
    assert forced.status_code == 303 and forced.headers["location"] == "/me/password"
    changed = await person.post(
        "/me/password",
        data={
            "current_password": first,
            "new_password": "lisi-mima-2026",
            "confirm_password": "lisi-mima-2026",
        },
    )
    assert changed.status_code in (200, 303)
    assert (await person.get("/me")).status_code == 200

    listed = await admin.get("/admin/accounts", params={"q": username[:6], "role": "staff"})
    assert username in listed.text
    assert username not in (await admin.get("/admin/accounts", params={"role": "admin"})).text


async def test_deactivating_and_resetting_end_sessions_and_ask_first(
    world: World, app: Litestar
) -> None:
    admin = await page_client(app, world.admin.user["username"])
    township = await new_township(world, "停用镇")  # its accounts are changed for good
    target = township["liaison2"]
    user_id = target.user["id"]
    person = await page_client(app, target.user["username"])
    assert (await person.get("/me")).status_code == 200

    unconfirmed = await admin.post(f"/admin/accounts/{user_id}/active", data={"active": "0"})
    assert unconfirmed.status_code == 422 and "确认停用" in unconfirmed.text
    assert (await Account.select(Account.active).where(Account.id == user_id).first())["active"]
    off = await admin.post(
        f"/admin/accounts/{user_id}/active", data={"active": "0", "confirmed": "yes"}
    )
    assert off.status_code == 200 and "账号已停用" in off.text
    gone = await person.get("/me")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    on = await admin.post(f"/admin/accounts/{user_id}/active", data={"active": "1"})
    assert on.status_code == 200 and "账号已启用" in on.text

    # An administrator cannot deactivate themself (the form is not even offered).
    own = await admin.get(f"/admin/accounts/{world.admin.user['id']}")
    assert 'id="active-form"' not in own.text

    unconfirmed = await admin.post(f"/admin/accounts/{user_id}/reset", data={})
    assert unconfirmed.status_code == 422 and "确认重置" in unconfirmed.text
    reset = await admin.post(f"/admin/accounts/{user_id}/reset", data={"confirmed": "yes"})
    assert reset.status_code == 200
    temporary = shown_password(reset.text)
    again = await page_client(app, target.user["username"], temporary)
    forced = await again.get("/me")
    assert forced.headers["location"] == "/me/password"

    edited = await admin.post(
        f"/admin/accounts/{user_id}",
        data={
            "display_name": "改名后的联络员",
            "role": "liaison",
            "township_id": str(township.id),
            "village_id": "",
        },
    )
    assert edited.status_code == 200 and "账号信息已保存" in edited.text
    row = await Account.select(Account.display_name).where(Account.id == user_id).first()
    assert row["display_name"] == "改名后的联络员"

    today = china_today().isoformat()
    log = await admin.get(
        "/admin/security-log",
        params={"username": target.user["username"], "from": today, "to": today},
    )
    for kind in ("停用账号", "启用账号", "重置密码", "修改账号"):
        assert kind in log.text, kind
    old = await admin.get(
        "/admin/security-log",
        params={"username": target.user["username"], "to": "2000-01-01"},
    )
    assert "共 0 条" in old.text
    bad = await admin.get("/admin/security-log", params={"from": "昨天"})
    assert bad.status_code == 422 and "日期格式" in bad.text
    # A reversed range is said plainly, on the page and by the API (naming ``to``).
    reversed_ = await admin.get("/admin/security-log", params={"from": today, "to": "2000-01-01"})
    assert reversed_.status_code == 422 and "起止日期填反了" in reversed_.text
    assert 'id="log-to-error"' in reversed_.text
    refused = await world.admin.get(
        "/api/v1/security-log", params={"from": today, "to": "2000-01-01"}
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["to"]


async def test_renaming_what_does_not_exist_is_not_found(world: World, app: Litestar) -> None:
    admin = await page_client(app, world.admin.user["username"])
    for path in ("/admin/townships/999999", "/admin/villages/99999999999"):
        answer = await admin.post(path, data={"name": "新名字"}, headers={"accept": "text/html"})
        assert answer.status_code == 404, (path, answer.text[-300:])
    for path in ("/api/v1/townships/99999999999", "/api/v1/villages/999999"):
        answer = await world.admin.client.patch(
            path, json={"name": "新名字"}, headers=world.admin.headers
        )
        assert answer.status_code == 404 and answer.json()["code"] == "not_found", path


async def test_the_account_forms_offer_and_place_a_village_cadre(
    world: World, app: Litestar
) -> None:
    """村干部 (issue 26): offered in the role list; placed in a village like a
    representative, on the new-account form and on the edit form."""
    admin = await page_client(app, world.admin.user["username"])
    page = await admin.get("/admin/accounts")
    assert '<option value="village_cadre">村干部</option>' in page.text
    village = world.a.villages[0]["id"]
    form = {
        "display_name": "村干部丙",
        "username": unique("cadre"),
        "role": "village_cadre",
        "township_id": str(world.a.id),
        "village_id": "",
    }
    unplaced = await admin.post("/admin/accounts", data=form)
    assert unplaced.status_code == 422
    assert "村干部必须属于一个村（社区）" in unplaced.text
    made = await admin.post("/admin/accounts", data={**form, "village_id": str(village)})
    assert made.status_code == 200, made.text[-2000:]
    stored = await Account.select().where(Account.username == form["username"]).first()
    assert stored is not None and stored["role"] == "village_cadre"
    assert stored["village"] == village
    # The edit form keeps the cadre's village (a rename changes nothing else).
    edited = await admin.post(
        f"/admin/accounts/{stored['id']}",
        data={
            "display_name": "村干部丁",
            "role": "village_cadre",
            "township_id": str(world.a.id),
            "village_id": str(village),
        },
    )
    assert edited.status_code == 200, edited.text[-2000:]
    row = await Account.select().where(Account.id == stored["id"]).first()
    assert row is not None and row["display_name"] == "村干部丁" and row["village"] == village
