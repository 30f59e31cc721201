"""The statistics page (issue 15, item 1) in a browser: charts drawn on the server with
their numbers beneath, readable at 360 px and in large mode; the public sees public
topics only, the township's office every topic and each liaison's participation."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from playwright.async_api import Browser, expect

from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import PHONE, signed_in
from tests.world import World, new_township, topic_in_state


async def test_figures_as_charts_and_tables_on_a_phone(
    live_server: str, world: World, browser: Browser
) -> None:
    t = await new_township(world, "图表镇")
    for state in ("proposed", "meeting", "resolution", "closed"):
        await topic_in_state(t, state)

    public = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await public.new_page()
    await page.goto(f"{live_server}/statistics?township={t.id}")
    section = page.locator(f"#figures-{t.id}")
    await expect(section.locator("h2")).to_have_text(f"{t.name}：议题 2 件")  # public only
    await expect(page.locator("#statistics-scope")).to_contain_text("只统计已公开")
    charts = section.locator("figure img")
    assert await charts.count() >= 2
    assert (await charts.first.get_attribute("src") or "").startswith("data:image/svg+xml")
    closed = section.locator("table.by-state tr", has_text="已办结")
    await expect(closed.locator("td")).to_have_text("1")
    await expect(section.locator("table.adoption tr")).to_have_count(4)
    await expect(section.locator("table.ratings tr")).to_have_count(3)
    await expect(section.locator("table.liaisons")).to_have_count(0)
    await expect(page.get_by_role("link", name="导出台账（Excel）")).to_have_count(0)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert await serious_accessibility_problems(page) == []
    await public.close()

    office = await signed_in(browser, live_server, t["staff"], viewport=PHONE)
    page = await office.new_page()
    await page.goto(f"{live_server}/text-size?size=large&next=/statistics%3Ftownship%3D{t.id}")
    section = page.locator(f"#figures-{t.id}")
    await expect(section.locator("h2")).to_have_text(f"{t.name}：议题 4 件")  # every topic
    await expect(section.locator("table.liaisons")).to_contain_text("测试liaison")
    body = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body >= 24
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="导出台账（Excel）").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    rows = (
        load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
        .worksheets[0]
        .iter_rows(min_row=2, values_only=True)
    )
    assert len(list(rows)) == 4  # the township's topics, one row each
    width = await section.locator("figure img").first.evaluate(
        "i => i.getBoundingClientRect().width"
    )
    assert 0 < width <= 360
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert await serious_accessibility_problems(page) == []

    # Every township: their total as charts, and a table comparing them, each a link.
    await page.goto(f"{live_server}/statistics")
    total = page.locator("#figures-0")
    await expect(total.locator("h2")).to_contain_text("全部乡镇")
    assert await total.locator("figure img").count() >= 2
    row = page.locator("table.townships tr", has_text=t.name)
    await expect(row.locator("td").first).to_have_text("4")  # their own: every topic
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert await serious_accessibility_problems(page) == []
    await row.get_by_role("link").click()
    await expect(page.locator(f"#figures-{t.id} h2")).to_have_text(f"{t.name}：议题 4 件")
    await office.close()
