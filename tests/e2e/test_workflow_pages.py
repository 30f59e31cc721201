"""Issue 26 item 6: the public flowchart of a workflow (/workflows/{key}) and the list of
them (/workflows), read on a 360 px phone in standard and in large mode (大字模式):
nothing scrolls sideways, large mode enlarges everything, axe finds no serious problem,
and a visitor reaches the flowchart from the landing page."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import LARGE_TEXT_CHECK, PHONE
from tests.e2e.test_phone_width import WIDTH


async def test_the_flowchart_on_a_phone_in_both_modes(live_server: str, browser: Browser) -> None:
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await page.goto(live_server + "/")
    await page.get_by_role("link", name="查看协商流程").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("协商流程")
    await page.get_by_role("link", name="标准协商").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("标准协商")
    step = page.locator("#step-proposed-investigate")
    await expect(step).to_contain_text("政协委员/联络员、工作人员")
    await expect(step).to_contain_text("至少一条调研记录")
    await expect(page.locator("#basis-proposed-investigate")).to_contain_text("基层协商议事规则")
    await expect(page.locator("#stage-proposed")).to_contain_text("10 个工作日")

    problems = []
    for size in ("normal", "large"):
        await context.add_cookies([{"name": "hsl_text", "value": size, "url": live_server}])
        for url in ("/workflows", "/workflows/standard"):
            await page.goto(live_server + url)
            measured = await page.evaluate(WIDTH)
            if measured["scroll"] > measured["view"]:
                problems.append(f"{size} {url}: {measured['scroll']} px ({measured['out']})")
            for found in await serious_accessibility_problems(page):
                problems.append(f"{size} {url}: {found}")
            if size == "large":
                problems += [f"large {url}: {p}" for p in await page.evaluate(LARGE_TEXT_CHECK)]
    assert problems == [], "\n".join(problems)
    await context.close()
