"""四议两公开 in a real browser: a village cadre records the 提议's vote from the topic
page (the quorum rule shown beside the form) and takes the step to 两委商议."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from deliberation.clock import china_today
from tests.api.test_siyi import SIYI, _quorum, _siyi_topic, _trigger
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import OFFICE, signed_in
from tests.world import World


async def test_a_cadre_records_a_vote_and_takes_the_step_from_the_page(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await _siyi_topic(world.a)
    first = _trigger(SIYI.initial)
    rule = _quorum(first)
    context = await signed_in(browser, live_server, world.a["village_cadre"], viewport=OFFICE)
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    await expect(page.locator("#quorum-rules")).to_contain_text(rule["body"])
    assert await serious_accessibility_problems(page) == []

    form = page.locator("#vote-form")
    await expect(form.get_by_label("会议")).to_have_value(rule["body"])
    await form.get_by_label("表决日期").fill(str(china_today()))
    await form.get_by_label("应到人数").fill("7")
    await form.get_by_label("实到人数").fill("7")
    await form.get_by_label("同意", exact=True).fill("6")
    await form.get_by_label("反对").fill("1")
    await form.get_by_label("弃权").fill("0")
    await form.get_by_label("表决方式").select_option("举手")
    await form.get_by_label("主持人").fill("王书记")
    await form.get_by_role("button", name="保存表决记录").click()
    await expect(page.locator("#votes")).to_contain_text(rule["body"])

    step = page.locator(f"#fire-{first}-form button.step")
    await step.click()
    await expect(page.locator("body")).to_contain_text(SIYI.state(SIYI.main_path[1]).label)
    await expect(page.locator(f"#fire-{_trigger(SIYI.main_path[1])}-form")).to_have_count(1)
    await context.close()
