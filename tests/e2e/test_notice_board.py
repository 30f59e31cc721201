"""The public notice board (公开栏) in a real browser, on a phone-sized screen."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.api.test_documents import create, publish
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import PHONE
from tests.world import World, topic_in_state, unique


@pytest.fixture(scope="module")
async def published(world: World) -> dict[str, Any]:
    keyword = unique("渡口")
    topic = await topic_in_state(world.a, "resolution", title=f"{keyword}村路灯维修")
    staff = world.a["staff"]
    notice = await publish(staff, (await create(staff, topic["id"], "resolution_notice"))["id"])
    return {"keyword": keyword, "notice": notice, "topic": topic}


async def test_the_public_finds_a_notice_by_keyword_on_a_phone(
    live_server: str, published: dict[str, Any], browser: Browser
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{live_server}/notices")
    await expect(page).to_have_title("公开栏 · 好商量协商议事")
    assert await page.evaluate("document.documentElement.lang") == "zh-CN"
    await page.get_by_label("关键词").fill(published["keyword"])
    await page.get_by_role("button", name="搜索").click()
    await expect(page.get_by_text("共 1 份文件")).to_be_visible()
    link = page.get_by_role("link", name=published["notice"]["title"])
    await expect(link).to_be_visible()
    # Nothing wider than the phone: no sideways scrolling.
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await link.click()
    await expect(page).to_have_url(f"{live_server}/verify/{published['notice']['id']}")
    await expect(page.get_by_text("有效", exact=True)).to_be_visible()
    await expect(page.get_by_text(published["notice"]["sha256"])).to_be_visible()
    href = await page.get_by_role("link", name="查看原件").get_attribute("href")
    response = await page.request.get(f"{live_server}{href}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    await context.close()


async def test_the_date_range_narrows_and_bad_dates_are_explained(
    live_server: str, published: dict[str, Any], browser: Browser
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    day = published["notice"]["posting_starts_on"]
    await page.goto(f"{live_server}/notices?q={published['keyword']}&from={day}&to={day}")
    await expect(page.get_by_text("共 1 份文件")).to_be_visible()
    await page.goto(f"{live_server}/notices?q={published['keyword']}&to=2000-01-01")
    await expect(page.get_by_text("共 0 份文件")).to_be_visible()
    await expect(page.get_by_text("没有找到符合条件的文件。")).to_be_visible()
    await page.goto(f"{live_server}/notices?from=yesterday")
    await expect(page.locator("#from-error")).to_contain_text("日期格式应为")
    await expect(page.get_by_label("发布日期从")).to_have_attribute("aria-invalid", "true")
    await context.close()


async def test_the_notice_board_and_verify_page_have_no_serious_accessibility_problems(
    live_server: str, published: dict[str, Any], browser: Browser
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    for path in (
        f"/notices?q={published['keyword']}",
        "/notices?from=yesterday",
        f"/verify/{published['notice']['id']}",
    ):
        await page.goto(f"{live_server}{path}")
        assert await serious_accessibility_problems(page) == [], path
    await context.close()
