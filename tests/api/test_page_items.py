"""Issue 25's page items that a page's HTML (or the API) shows: the header names the
role once; every page has a meta description; an error page knows who is signed in and
speaks of pages, not topics; a reversed date range on the board is said plainly (and
refused by the API on the field ``to``); staff statistics say whose figures are full and
whose are public only; chart labels are drawn whole; the password form tells a first
sign-in from a reset, asks for the new password twice and says 密码已修改 afterwards."""

from __future__ import annotations

import html
import re

from litestar import Litestar

from deliberation import accounts, charts
from deliberation.schemas import UserCreate
from tests.api.test_sessions_end import page_client
from tests.world import PASSWORD, World, new_township, topic_in_state, unique

NEW_PASSWORD = "a-new-pass-2026"
DEFAULT_DESCRIPTION = "“好商量”协商议事：村（社区）议题的提出、协商、公示和落实，成果向群众公开。"


def header(page: str) -> str:
    return page.split("<main>", 1)[0]


def signed_in_as(page: str) -> str:
    found = re.search(r'id="signed-in-as">(.*?)</span>\s*<form', page, re.S)
    assert found, header(page)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


async def test_the_header_names_the_role_once(world: World, app: Litestar) -> None:
    name = unique("sysadm")
    await accounts.create_user(
        UserCreate(username=name, password=PASSWORD, display_name="系统管理员", role="admin")
    )
    page = await (await page_client(app, name)).get("/admin")
    assert page.status_code == 200
    shown = signed_in_as(page.text)
    assert shown == "系统管理员"  # before: 系统管理员（系统管理员）
    staff = await page_client(app, world.a["staff"].user["username"])
    shown = signed_in_as((await staff.get("/me")).text)
    assert shown == f"{world.a['staff'].user['display_name']}（工作人员）"


async def test_every_page_has_a_meta_description(world: World, app: Litestar) -> None:
    staff = await page_client(app, world.a["staff"].user["username"])
    topic = await topic_in_state(world.a, "proposed")
    for path in (
        "/",
        "/notices",
        "/login",
        "/statistics",
        "/open-data/",
        "/me",
        "/me/password",
        f"/topics/{topic['id']}",
        "/no-such-page",
    ):
        page = await staff.get(path, headers={"accept": "text/html"}, follow_redirects=True)
        found = re.search(r'<meta name="description" content="([^"]+)">', page.text)
        assert found and len(found.group(1)) >= 10, path
        if path in ("/notices", "/open-data/", "/statistics"):
            assert found.group(1) != DEFAULT_DESCRIPTION, path  # its own, where it matters


async def test_error_pages_know_who_is_signed_in_and_speak_neutrally(
    world: World, app: Litestar
) -> None:
    staff = await page_client(app, world.a["staff"].user["username"])
    for path, method, status in (("/no-such-page", "GET", 404), ("/notices", "DELETE", 405)):
        page = await staff.request(method, path, headers={"accept": "text/html"})
        assert page.status_code == status
        top = header(page.text)
        assert 'id="signed-in-as"' in top and "退出" in top, path
        assert ">登录<" not in top, path
        body = page.text.split("<main>", 1)[1]
        assert "议题" not in body, (path, body)  # neither 议题在形成协商成果后才会公开 nor 我的议题
    visitor = await (await page_client(app, world.a["staff"].user["username"])).get(
        "/no-such-page", headers={"accept": "text/html", "cookie": ""}
    )
    assert visitor.status_code == 404


async def test_a_reversed_date_range_is_said_plainly(world: World, app: Litestar) -> None:
    answer = await world.client.get(
        "/api/v1/public/notices", params={"from": "2026-12-31", "to": "2026-01-01"}
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "validation_error"
    assert [e["field"] for e in problem["errors"]] == ["to"]
    assert "起止日期填反了" in problem["detail"]
    page = await world.client.get(
        "/notices",
        params={"from": "2026-12-31", "to": "2026-01-01"},
        headers={"accept": "text/html"},
    )
    assert page.status_code == 200
    assert 'id="to-error"' in page.text and "起止日期填反了" in page.text
    # The right way round still searches.
    fine = await world.client.get(
        "/api/v1/public/notices", params={"from": "2026-01-01", "to": "2026-12-31"}
    )
    assert fine.status_code == 200


async def test_staff_statistics_say_whose_figures_are_public_only(
    world: World, app: Litestar
) -> None:
    staff = await page_client(app, world.a["staff"].user["username"])
    page = (await staff.get("/statistics")).text
    own = re.search(rf'id="figures-{world.a.id}-title">([^<]*)<', page)
    assert own is None or "全部议题" in html.unescape(own.group(1))
    scope = html.unescape(re.search(r'id="statistics-scope">(.*?)</p>', page, re.S).group(1))
    assert "本镇统计全部议题" in scope and "其他乡镇只统计已公开" in scope
    rows = re.search(r'class="county-table townships">(.*?)</table>', page, re.S).group(1)
    own_row = next(r for r in rows.split("<tr>") if f'township={world.a.id}"' in r)
    other_row = next(r for r in rows.split("<tr>") if f'township={world.b.id}"' in r)
    assert "（全部议题）" in html.unescape(own_row)
    assert "（仅公开议题）" in html.unescape(other_row)
    # A visitor sees public figures only, everywhere: no per-township marks.
    public = (await world.client.get("/statistics")).text
    assert "仅公开议题" not in public and "只统计已公开" in public


def test_chart_labels_are_drawn_whole() -> None:
    labels = ("完成现场协商", "已提出", "落实反馈中")
    for printed in (False, True):
        svg = charts._bars(labels, (1.0, 2.0, 3.0), False, printed=printed)
        left = float(re.search(r'translate\(([\d.]+), [\d.]+\)" class="plot"', svg).group(1))
        drawn = re.findall(r'<text x="(-?[\d.]+)"[^>]*>([^<]*)</text>', svg)
        assert {text for _, text in drawn} >= set(labels)
        for x, text in drawn:
            if text in labels:
                assert left + float(x) - charts.drawn_width(text) >= 0, (printed, text)


async def test_the_password_form_for_a_first_sign_in(world: World, app: Litestar) -> None:
    name = unique("first")
    await accounts.create_user(
        UserCreate(
            username=name,
            password=PASSWORD,
            display_name="首次登录",
            role="staff",
            township_id=world.a.id,
        ),
        must_change_password=True,
    )
    person = await page_client(app, name)
    form = (await person.get("/me/password")).text
    assert "首次登录" in form and "管理员已重置" not in form
    assert 'id="confirm_password"' in form and "确认新密码" in form
    assert "data-show-passwords" in form and "显示密码" in form
    # The two new passwords differ: refused, next to the confirmation.
    refused = await person.post(
        "/me/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD + "x",
        },
    )
    assert refused.status_code == 422
    assert (
        'id="confirm_password-error"' in refused.text and "两次输入的新密码不一致" in refused.text
    )
    changed = await person.post(
        "/me/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 303
    done = await person.get(changed.headers["location"])
    assert 'id="changed"' in done.text and "密码已修改" in done.text


async def test_the_password_form_after_a_reset_says_so(world: World, app: Litestar) -> None:
    t = await new_township(world, "重置乙镇")
    who = t["liaison"]
    temporary = (await world.admin.post(f"/api/v1/users/{who.user['id']}/password-reset")).json()[
        "temporary_password"
    ]
    person = await page_client(app, who.user["username"], temporary)
    form = (await person.get("/me/password")).text
    assert "管理员已重置您的密码" in form and "首次登录" not in form
