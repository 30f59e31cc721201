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


async def test_the_verify_page_fits_a_phone_and_names_a_short_hash(
    live_server: str, published: dict[str, Any], browser: Browser
) -> None:
    """At 360 px: after a mismatch the 64-character hash wraps (no sideways scroll), the
    hash box is a comfortable 48 px, and a hash of the wrong length is called that."""
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{live_server}/verify/{published['notice']['id']}")
    box = page.get_by_label("或粘贴文件的 SHA-256")
    height = (await box.bounding_box() or {}).get("height", 0)
    assert height >= 48, height
    await box.fill("ab" * 32)  # the right shape, not this file's
    await page.get_by_role("button", name="核对", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("核验未通过")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Too short: a slip in copying, said next to the field, not "不一致".
    await page.get_by_label("或粘贴文件的 SHA-256").fill(published["notice"]["sha256"][:40])
    await page.get_by_role("button", name="核对", exact=True).click()
    await expect(page.locator("#sha256-error")).to_contain_text("应为 64 位")
    await expect(page.locator("#sha256-error")).to_contain_text("40 位")
    await expect(page.get_by_text("核验未通过")).to_have_count(0)
    await expect(page.get_by_label("或粘贴文件的 SHA-256")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The right one passes.
    await page.get_by_label("或粘贴文件的 SHA-256").fill(published["notice"]["sha256"].upper())
    await page.get_by_role("button", name="核对", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("核验通过")
    await context.close()
