"""Results people can see (issue 13, item 4): the rating form comes after the results it
rates; a representative sees the rating they gave and changes it while feedback is
open; staff see the counts and each rating with its comment."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import OFFICE, signed_in
from tests.world import World, topic_in_state


async def test_a_representative_sees_and_changes_their_rating_and_staff_see_all(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await topic_in_state(world.a, "feedback")
    rep = world.a["representative"]

    context = await signed_in(browser, live_server, rep)
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    # The results first, then the question about them.
    order = await page.evaluate(
        """() => {
          const items = document.querySelector('#items');
          const form = document.querySelector('#rating-form');
          return !!(items && form && (items.compareDocumentPosition(form) & Node.DOCUMENT_POSITION_FOLLOWING));
        }"""
    )
    assert order, "the rating form should follow the results it rates"

    form = page.locator("#rating-form")
    await form.get_by_label("不满意").check()
    await form.get_by_label("说明（可选）").fill("路灯只修了一半")
    await form.get_by_role("button", name="提交评价").click()
    mine = page.locator("#my-rating")
    await expect(mine).to_contain_text("您的评价：不满意")
    await expect(mine).to_contain_text("路灯只修了一半")
    # The form now holds what they gave, to change.
    form = page.locator("#rating-form")
    await expect(form.get_by_label("不满意")).to_be_checked()
    await expect(form.get_by_label("说明（可选）")).to_have_value("路灯只修了一半")
    await form.get_by_label("满意", exact=True).check()
    await form.get_by_label("说明（可选）").fill("后来全部修好了")
    await form.get_by_role("button", name="保存修改").click()
    await expect(mine).to_contain_text("您的评价：满意")
    await expect(mine).to_contain_text("后来全部修好了")
    await expect(mine).to_contain_text("已修改")
    await expect(page.locator("#rating-tally")).to_contain_text("共 1 位代表评价")
    assert await serious_accessibility_problems(page) == []
    await context.close()

    office = await signed_in(browser, live_server, world.a["staff"], viewport=OFFICE)
    page = await office.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    await expect(page.locator("#rating-tally")).to_have_text(
        "共 1 位代表评价：满意 1 · 基本满意 0 · 不满意 0"
    )
    ratings = page.locator("#ratings")
    await expect(ratings).to_contain_text(rep.user["display_name"])
    await expect(ratings).to_contain_text("后来全部修好了")
    await expect(page.locator("#rating-form")).to_have_count(0)
    await office.close()
