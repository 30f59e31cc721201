"""Finding one's way (issue 13, item 1): a header on every page with the board, one's
work, who is signed in and the way out (or in); ``/`` a front door for visitors and
one's work for the signed in. On a phone, at 360 px."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.api.test_documents import create, publish
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import PHONE
from tests.world import PASSWORD, World, topic_in_state


async def no_sideways_scroll(page: Page) -> bool:
    return bool(
        await page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth + 1")
    )


async def test_a_visitor_comes_in_at_the_front_door_and_finds_their_way(
    live_server: str, world: World, browser: Browser
) -> None:
    staff = world.a["staff"]
    topic = await topic_in_state(world.a, "resolution")
    notice = await publish(staff, (await create(staff, topic["id"], "resolution_notice"))["id"])

    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    response = await page.goto(f"{live_server}/")
    assert response is not None and response.status == 200
    header = page.locator("header.site")
    await expect(header.get_by_role("link", name="公开栏")).to_be_visible()
    await expect(header.get_by_role("link", name="登录")).to_be_visible()
    await expect(header.get_by_role("link", name="我的工作")).to_have_count(0)
    # What 好商量 is, the newest notice, and the way in.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("好商量")
    await expect(page.locator("#newest")).to_contain_text(notice["title"])
    assert await no_sideways_scroll(page)
    assert await serious_accessibility_problems(page) == []

    await page.locator("main").get_by_role("link", name="登录").click()
    await page.get_by_label("用户名").fill(staff.user["username"])
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{live_server}/me")
    person = f"{staff.user['display_name']}（工作人员）"
    await expect(header.locator("#signed-in-as")).to_have_text(person)
    assert await no_sideways_scroll(page)

    # Every page keeps the header: the board, a topic, a verify page; and back to /me.
    for path in ("/notices", f"/topics/{topic['id']}", f"/verify/{notice['id']}"):
        await page.goto(f"{live_server}{path}")
        await expect(header.locator("#signed-in-as")).to_have_text(person)
        assert await no_sideways_scroll(page), path
    await header.get_by_role("link", name="我的工作").click()
    await expect(page).to_have_url(f"{live_server}/me")
    # Signed in, / is one's work.
    await page.goto(f"{live_server}/")
    await expect(page).to_have_url(f"{live_server}/me")

    # The way out is in the header, on any page.
    await page.goto(f"{live_server}/notices")
    await header.get_by_role("button", name="退出").click()
    await expect(page).to_have_url(f"{live_server}/login")
    await page.goto(f"{live_server}/notices")
    await expect(header.get_by_role("link", name="登录")).to_be_visible()
    await expect(header.locator("#signed-in-as")).to_have_count(0)
    await context.close()


async def test_each_role_is_named_in_the_header(
    live_server: str, world: World, browser: Browser
) -> None:
    from tests.e2e.pages import signed_in

    roles: dict[str, Any] = {
        "liaison": "政协委员/联络员",
        "representative": "村（居）民代表",
    }
    for role, label in roles.items():
        actor = world.a[role]
        context = await signed_in(browser, live_server, actor)
        page = await context.new_page()
        await page.goto(f"{live_server}/me")
        await expect(page.locator("#signed-in-as")).to_have_text(
            f"{actor.user['display_name']}（{label}）"
        )
        await context.close()
