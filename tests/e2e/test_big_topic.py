"""Issue 29: the walk through a topic with many opinions on a 360 px phone in large
mode (大字模式). 更多意见 brings the next 50 in place (the page stays where it is); the
未答复 filter shows only unanswered opinions and survives 更多意见; without script the
same button is a link to the next page; the page keeps large mode's sizes and never
scrolls sideways."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from tests.big_topic import seed_opinions
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import LARGE_TEXT_CHECK, signed_in
from tests.e2e.test_phone_width import WIDTH, set_mode
from tests.world import World, topic_in_state

SEEDED = 130
"""Every second one answered: 65 unanswered, so 未答复 takes two pages as well."""


async def fits(page: Page) -> None:
    assert await page.evaluate(LARGE_TEXT_CHECK) == []
    measured = await page.evaluate(WIDTH)
    assert measured["scroll"] <= measured["view"], measured


async def test_more_opinions_and_the_unanswered_filter_on_a_phone_in_large_mode(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await topic_in_state(world.a, "resolution")
    reps = [world.a["representative"].user["id"], world.a["representative2"].user["id"]]
    await seed_opinions(topic["id"], reps, SEEDED, staff_id=world.a["staff"].user["id"])
    url = f"{live_server}/topics/{topic['id']}"

    office = await signed_in(browser, live_server, world.a["staff"])
    await set_mode(office, live_server, "large")
    page = await office.new_page()
    await page.goto(url)
    listed = page.locator("#opinions > li[id^='opinion-']")
    await expect(listed).to_have_count(50)
    await fits(page)
    await page.get_by_role("link", name="更多意见").click()
    await expect(listed).to_have_count(100)
    assert page.url == url  # in place: the same page, nothing reloaded
    await expect(listed.nth(50)).to_be_focused()  # the reader goes on from the first new one
    await page.get_by_role("link", name="更多意见").click()
    await expect(listed).to_have_count(SEEDED)
    await expect(page.get_by_role("link", name="更多意见")).to_have_count(0)

    await page.locator("#opinion-filters").get_by_role("link", name=re.compile("^未答复")).click()
    await expect(page).to_have_url(f"{url}?show=unanswered")
    await expect(listed).to_have_count(50)
    await expect(page.locator("#opinion-filters [aria-current=page]")).to_contain_text("未答复")
    await page.get_by_role("link", name="更多意见").click()
    await expect(listed).to_have_count(SEEDED // 2)
    await expect(page.locator("#opinions .answer")).to_have_text(["等待答复"] * (SEEDED // 2))
    await fits(page)
    assert await serious_accessibility_problems(page) == []
    # Answered in place while filtered: the answer shows in its item.
    first = listed.first
    await first.get_by_label("采纳情况").select_option("adopted")
    await first.get_by_label("答复说明").fill("纳入实施方案")
    await first.get_by_role("button", name="保存答复").click()
    await expect(first.locator(".answer")).to_contain_text("已采纳")
    await office.close()

    # Without script: 更多意见 is a link to the page with the next 50.
    plain = await signed_in(browser, live_server, world.a["staff"], javascript=False)
    await set_mode(plain, live_server, "large")
    page = await plain.new_page()
    await page.goto(f"{url}?show=unanswered")
    listed = page.locator("#opinions > li[id^='opinion-']")
    await expect(listed).to_have_count(50)
    await page.get_by_role("link", name="更多意见").click()
    await expect(page).to_have_url(re.compile(r"opinions_before=\d+&show=unanswered"))
    await expect(listed).to_have_count(SEEDED // 2 - 50 - 1)  # one answered above
    await fits(page)
    await plain.close()
