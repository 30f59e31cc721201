"""The open data page in a browser (issue 15, item 3): what each file holds and every
field, readable on a phone; the download is the ZIP."""

from __future__ import annotations

import zipfile

from playwright.async_api import Browser, expect

from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import PHONE


async def test_the_open_data_page_on_a_phone(live_server: str, browser: Browser) -> None:
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{live_server}/statistics")
    await page.get_by_role("link", name="公开数据").click()
    await expect(page.locator("h1")).to_have_text("公开数据")
    await expect(page.locator("#file-topics table.fields")).to_contain_text("topic_reference")
    await expect(page.locator("#open-data-built")).to_contain_text("生成时间")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert await serious_accessibility_problems(page) == []
    async with page.expect_download() as download_info:
        await page.locator("#open-data-download").click()
    download = await download_info.value
    with zipfile.ZipFile(await download.path()) as archive:
        assert "README.md" in archive.namelist() and "topics.csv" in archive.namelist()
    await context.close()
