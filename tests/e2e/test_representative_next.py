"""A representative's 下一步 (issue 25): at the top of the topic page on a phone, its
link lands on the form (the rating form in 落实反馈, the opinion form while opinions are
open), and /me links straight to it."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import PHONE, signed_in
from tests.world import World, open_topic, topic_in_state, unique


async def test_a_representative_sees_the_next_step_first_and_it_leads_to_the_form(
    live_server: str, world: World, browser: Browser
) -> None:
    village = world.a.villages[0]["id"]
    rating = await topic_in_state(world.a, "feedback", village_id=village, title=unique("评价村"))
    context = await signed_in(browser, live_server, world.a["representative"], viewport=PHONE)
    page = await context.new_page()
    await page.goto(f"{live_server}/me")
    mine = page.locator("#my-topics li", has_text=rating["title"])
    await mine.get_by_role("link").click()
    # /me's link lands on the rating form itself, not the top of a long page.
    await expect(page).to_have_url(f"{live_server}/topics/{rating['id']}#rating-form")
    await expect(page.locator("#rating-form legend")).to_be_in_viewport()

    await page.goto(f"{live_server}/topics/{rating['id']}")
    box = page.locator("#my-next")
    await expect(box.get_by_role("heading", name="下一步")).to_be_visible()
    # At the top: inside the first screen of a 360 px phone.
    top = await box.bounding_box()
    assert top is not None and top["y"] + top["height"] <= PHONE["height"], top
    await box.get_by_role("link", name="评价落实情况").click()
    await expect(page.locator("#rating-form legend")).to_be_in_viewport()
    await expect(page.get_by_role("button", name="提交评价")).to_be_visible()

    opinion = await open_topic(world.a, title=unique("意见村"), village_id=village)
    await page.goto(f"{live_server}/topics/{opinion['id']}")
    box = page.locator("#my-next")
    await expect(box).to_contain_text("还剩")
    await box.get_by_role("link", name="提出意见").click()
    await expect(page.locator("#opinion-form legend")).to_be_in_viewport()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await serious_accessibility_problems(page) == []

    # In large mode the box still fits the phone's width and leads to the form.
    await page.goto(f"{live_server}/text-size?size=large&next=/topics/{rating['id']}")
    box = page.locator("#my-next")
    edge = await box.bounding_box()
    assert edge is not None and edge["x"] >= 0 and edge["x"] + edge["width"] <= PHONE["width"]
    await box.get_by_role("link", name="评价落实情况").click()
    await expect(page.locator("#rating-form legend")).to_be_in_viewport()
    await context.close()
