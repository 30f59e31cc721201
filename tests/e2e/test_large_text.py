"""适老化 large text (issue 13, item 3), after the MIIT ageing-friendly figures: in large
mode everything is larger (not the body alone), measured on the pages as Chromium
draws them at 360 px: body text of 24 px or more, headings above the body, buttons and
fields and their text scaled, line height >= 1.3, targets of 60 x 60 px, contrast of
4.5:1; and colour is never the only sign of a problem."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.api.test_documents import create, publish
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import LARGE_TEXT_CHECK, PHONE, signed_in
from tests.world import World, topic_in_state


async def large(context: BrowserContext, live_server: str) -> Page:
    """Large mode switched on the way a person does: the header's 大字模式 link."""
    page = await context.new_page()
    await page.goto(f"{live_server}/notices")
    await page.get_by_role("link", name="大字模式").click()
    await expect(page.get_by_role("link", name="标准字号")).to_be_visible()
    return page


async def measured(page: Page, url: str) -> list[str]:
    await page.goto(url)
    problems: list[str] = await page.evaluate(LARGE_TEXT_CHECK)
    return problems


async def test_large_mode_enlarges_everything_on_every_page(
    live_server: str, world: World, browser: Browser
) -> None:
    staff = world.a["staff"]
    proposed = await topic_in_state(world.a, "proposed")
    feedback = await topic_in_state(world.a, "feedback")
    notice = await publish(staff, (await create(staff, feedback["id"], "resolution_notice"))["id"])

    visitor = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await large(visitor, live_server)
    for url in ("/", "/notices", "/login", f"/verify/{notice['id']}", f"/topics/{feedback['id']}"):
        assert await measured(page, live_server + url) == [], url
    # Before: the body alone grew (24 px) while h1 stayed 22.4 px and buttons 16 px.
    h1 = await page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)"
    )
    assert h1 >= 30
    await visitor.close()

    rep = await signed_in(browser, live_server, world.a["representative"])
    page = await large(rep, live_server)
    for url in ("/me", f"/topics/{proposed['id']}", f"/topics/{feedback['id']}", "/me/password"):
        assert await measured(page, live_server + url) == [], url
    # A refused form: the problem is marked by more than its red colour.
    await page.goto(f"{live_server}/topics/{proposed['id']}")
    await page.get_by_label("意见内容").fill("路口需要减速带")
    await page.get_by_role("button", name="提交意见").click()
    error = page.locator("#opinion-stance-error")
    await expect(error).to_contain_text("请选择一项")
    marker = await error.evaluate("e => getComputedStyle(e, '::before').content")
    assert "⚠" in marker
    assert await measured(page, page.url) == []
    assert await serious_accessibility_problems(page) == []
    await rep.close()

    office = await signed_in(browser, live_server, staff)
    page = await large(office, live_server)
    for url in ("/me", f"/topics/{proposed['id']}", f"/topics/{feedback['id']}"):
        assert await measured(page, live_server + url) == [], url
    await office.close()


async def test_standard_mode_stays_as_it_was(
    live_server: str, world: World, browser: Browser
) -> None:
    """The switch back: 18 px body, and the check does find a page that is not large."""
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    problems = await measured(page, f"{live_server}/notices")
    assert any("body text 18px" in p for p in problems)
    await context.close()
