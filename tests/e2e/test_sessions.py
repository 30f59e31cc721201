"""Signing in to the pages, CSRF on forms, the large-text switch, escaping."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.api.test_documents import create, publish
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import PHONE, signed_in
from tests.world import PASSWORD, World, topic_in_state, unique


async def test_sign_in_and_out(live_server: str, world: World, browser: Browser) -> None:
    staff = world.a["staff"].user
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{live_server}/me")
    await expect(page).to_have_url(f"{live_server}/login?next=/me")
    assert await serious_accessibility_problems(page) == []
    await page.get_by_label("用户名").fill(staff["username"])
    await page.get_by_label("密码").fill("wrong-password")
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    await expect(page.get_by_label("用户名")).to_have_value(staff["username"])
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{live_server}/me")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(staff["display_name"])
    cookies = {c["name"]: c for c in await context.cookies()}
    session = cookies["hsl_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax" and session["secure"]
    await page.locator("header.site").get_by_role("button", name="退出").click()
    await expect(page).to_have_url(f"{live_server}/login")
    await page.goto(f"{live_server}/me")
    await expect(page).to_have_url(f"{live_server}/login?next=/me")
    await context.close()


async def test_a_form_post_without_its_csrf_token_is_refused(
    live_server: str, world: World, browser: Browser
) -> None:
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{live_server}/login")  # has the CSRF cookie, but not the token
    username = world.a["staff"].user["username"]
    refused = await page.request.post(
        f"{live_server}/login", form={"username": username, "password": PASSWORD}
    )
    assert refused.status == 403
    assert "hsl_session" not in {c["name"] for c in await context.cookies()}
    assert (await page.request.post(f"{live_server}/logout")).status == 403
    await context.close()


async def test_the_large_text_switch_is_remembered_across_pages(
    live_server: str, browser: Browser
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{live_server}/notices?q=%E8%B7%AF%E7%81%AF")  # a search for 路灯
    normal = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    await page.get_by_role("link", name="大字模式").click()
    # Back on the same page, the search kept.
    await expect(page).to_have_url(f"{live_server}/notices?q=%E8%B7%AF%E7%81%AF")
    await expect(page.get_by_label("关键词")).to_have_value("路灯")
    await expect(page.locator("html")).to_have_class("large-text")
    await page.goto(f"{live_server}/login")
    await expect(page.locator("html")).to_have_class("large-text")
    large = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert large >= normal * 1.3, (normal, large)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.get_by_role("link", name="标准字号").click()
    await expect(page.locator("html")).not_to_have_class("large-text")
    await context.close()


async def test_the_large_text_switch_after_a_refused_form_returns_to_the_topic(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await topic_in_state(world.a, "proposed")
    context = await signed_in(browser, live_server, world.a["liaison"])
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    await page.get_by_role("button", name="保存调研记录").click()  # empty: refused
    await expect(page.locator("#investigation-place-error")).to_be_visible()
    await page.get_by_role("link", name="大字模式").click()
    await expect(page).to_have_url(f"{live_server}/topics/{topic['id']}")
    await expect(page.locator("html")).to_have_class("large-text")
    await context.close()


@pytest.fixture(scope="module")
async def scripted_notice(world: World) -> dict[str, Any]:
    marker = unique("脚本")
    topic = await topic_in_state(
        world.a, "resolution", title=f"{marker}<script>window.pwned=1</script>"
    )
    staff = world.a["staff"]
    notice = await publish(staff, (await create(staff, topic["id"], "resolution_notice"))["id"])
    return {"marker": marker, "notice": notice}


async def test_stored_markup_shows_as_text(
    live_server: str, scripted_notice: dict[str, Any], browser: Browser
) -> None:
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    for path in (
        f"/notices?q={scripted_notice['marker']}",
        f"/verify/{scripted_notice['notice']['id']}",
    ):
        await page.goto(f"{live_server}{path}")
        await expect(page.get_by_text("<script>window.pwned=1</script>").first).to_be_visible()
        assert await page.evaluate("window.pwned") is None
    assert dialogs == []
    await context.close()


async def test_keyboard_only_sign_in_and_opinion(
    live_server: str, world: World, browser: Browser
) -> None:
    """Tab, type and Enter are enough, and the focus is plain to see."""
    village = world.a.villages[0]["id"]
    topic = await topic_in_state(world.a, "proposed", village_id=village)
    rep = world.a["representative"].user
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{live_server}/login?next=/topics/{topic['id']}")
    await page.get_by_label("用户名").focus()
    await page.keyboard.type(rep["username"])
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{live_server}/topics/{topic['id']}")
    # From the page's first link, Tab reaches the stance choices, then the text.
    await page.get_by_role("link", name="公开栏").focus()
    for _ in range(40):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.name") == "stance":
            break
    else:
        raise AssertionError("Tab never reached the stance choices")
    outline = await page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline
    await page.keyboard.press("Space")  # the first choice: 支持
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "opinion-content"
    await page.keyboard.type("键盘也能提交意见")
    # Tab to the submit button and press Enter on it.
    for _ in range(5):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.textContent") == "提交意见":
            break
    await page.keyboard.press("Enter")
    mine = page.locator("#opinions li")
    await expect(mine).to_contain_text("键盘也能提交意见")
    await expect(mine).to_contain_text("支持")
    await context.close()


async def test_page_sign_in_shares_the_apis_rate_limit(
    live_server: str, world: World, browser: Browser
) -> None:
    username = unique("locked")
    r = await world.admin.post(
        "/api/v1/users",
        {
            "username": username,
            "password": PASSWORD,
            "display_name": "锁定测试",
            "role": "staff",
            "township_id": world.a.id,
        },
    )
    assert r.status_code == 201, r.text
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{live_server}/login")
    for _ in range(5):
        await page.get_by_label("用户名").fill(username)
        await page.get_by_label("密码").fill("wrong-password")
        await page.get_by_role("button", name="登录").click()
        await expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    # Now even the right password is refused, on the page and on the API alike.
    await page.get_by_label("密码").fill(PASSWORD)
    async with page.expect_response(f"{live_server}/login") as answer:
        await page.get_by_role("button", name="登录").click()
    response = await answer.value
    assert response.status == 429 and int(response.headers["retry-after"]) > 0
    await expect(page.get_by_role("alert")).to_contain_text("次数过多")
    assert "hsl_session" not in {c["name"] for c in await context.cookies()}
    api = await page.request.post(
        f"{live_server}/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    assert api.status == 429
    await context.close()
