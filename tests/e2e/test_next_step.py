"""The staff page by what to do next (issue 13, item 5): what the next step still needs
comes first, each with its form, then the step's own button; done things fold away;
steps that end a topic look different and ask first, with JavaScript and without; the
work on the left and the history on the right at a desk's width."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import OFFICE, PHONE, signed_in
from tests.world import World, open_topic, topic_in_state


async def before(page: Page, first: str, second: str) -> bool:
    """Whether ``first`` comes before ``second`` in the page (reading order)."""
    return bool(
        await page.evaluate(
            """([a, b]) => {
              const x = document.querySelector(a), y = document.querySelector(b);
              return !!(x && y && (x.compareDocumentPosition(y) & Node.DOCUMENT_POSITION_FOLLOWING));
            }""",
            [first, second],
        )
    )


async def test_the_staff_page_says_what_the_next_step_needs_then_the_step(
    live_server: str, world: World, browser: Browser
) -> None:
    # Past 开始现场协商: the meeting needs a site consultation record and a meeting.
    topic = await open_topic(world.a)
    await world.a["liaison"].post(
        f"/api/v1/topics/{topic['id']}/investigations",
        {"visited_on": "2026-11-20", "place": "村委会", "participants": "张三", "findings": "路灯"},
    )
    for trigger in ("investigate", "begin_site_consultation"):
        current = (await world.a["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
        r = await world.a["liaison"].post(
            f"/api/v1/topics/{topic['id']}/transitions",
            {"trigger": trigger, "version": current["version"]},
        )
        assert r.status_code == 200, r.text

    context = await signed_in(browser, live_server, world.a["staff"], viewport=OFFICE)
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    plan = page.locator("#plan-convene_meeting")
    await expect(plan.locator("h3")).to_have_text("召开协商会议")
    await expect(plan.locator("ol.missing > li > strong")).to_have_text(
        ["至少一条现场协商记录", "已安排的协商会议"]
    )
    # Each need with its form, then the step's own button.
    assert await before(
        page, "#plan-convene_meeting #site_consultation-form", "#plan-convene_meeting #meeting-form"
    )
    assert await before(
        page, "#plan-convene_meeting #meeting-form", "#plan-convene_meeting button.step"
    )
    assert (
        await before(page, "#next-step", "#records-title")
        or not await page.locator("#records-title").count()
    )
    step = plan.locator("button.step")
    await expect(step).to_have_text("召开协商会议")
    # The step looks like a step, not like the forms' save buttons.
    save = plan.get_by_role("button", name="安排会议")
    colours = [await b.evaluate("b => getComputedStyle(b).backgroundColor") for b in (step, save)]
    assert colours[0] != colours[1]

    # Two columns at a desk: the work left, the history right, side by side.
    work = await page.locator(".work").bounding_box()
    history = await page.locator("aside.history").bounding_box()
    assert work and history and history["x"] > work["x"] + work["width"] - 1
    assert abs(history["y"] - work["y"]) < 5
    assert await serious_accessibility_problems(page) == []

    # Schedule the meeting from 下一步: it becomes a card with 修改, and its form folds.
    await plan.get_by_label("会议时间").fill("2026-12-20T09:30")
    await plan.locator("#meeting-place").fill("镇政府会议室")
    await plan.get_by_label("主持人").fill("陈主席")
    await plan.get_by_role("button", name="安排会议").click()
    await expect(page.locator("#meetings li")).to_contain_text("2026-12-20 09:30")
    await expect(page.locator("#meetings li").get_by_text("修改会议安排")).to_be_visible()
    await expect(page.locator("#plan-convene_meeting ol.missing > li > strong")).to_have_text(
        ["至少一条现场协商记录"]
    )
    await expect(page.locator("#meeting-form")).to_be_hidden()  # folded: 再安排一次会议
    await expect(page.get_by_text("再安排一次会议")).to_be_visible()

    # On a phone the history comes after the work.
    await page.set_viewport_size(PHONE)
    work = await page.locator(".work").bounding_box()
    history = await page.locator("aside.history").bounding_box()
    assert work and history and history["y"] >= work["y"] + work["height"] - 1
    await context.close()


async def _withdraw_asks_first(page: Page, live_server: str, topic: dict[str, Any]) -> None:
    await page.goto(f"{live_server}/topics/{topic['id']}")
    danger = page.locator("#other-actions").get_by_role("button", name="撤回（需确认）")
    step = page.locator("#next-step button.step")
    looks = [
        await b.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
        for b in (danger, step)
    ]
    assert looks[0] != looks[1]
    await danger.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("确认撤回")
    await expect(page.locator("#consequence")).to_contain_text("不能恢复")
    await page.get_by_role("link", name="返回议题，不做更改").click()
    await expect(page.locator('ol.steps li[aria-current="step"]')).to_contain_text("已提出")
    await page.locator("#other-actions").get_by_role("button", name="撤回（需确认）").click()
    await page.get_by_label("说明（可选）").fill("村里已自行解决")
    await page.get_by_role("button", name="确认撤回").click()
    await expect(page.get_by_text("当前状态：已撤回")).to_be_visible()


async def test_withdrawing_and_rejecting_ask_first_with_and_without_javascript(
    live_server: str, world: World, browser: Browser
) -> None:
    for javascript in (True, False):
        topic = await open_topic(world.a)
        context = await signed_in(browser, live_server, world.a["liaison"], javascript=javascript)
        page = await context.new_page()
        await _withdraw_asks_first(page, live_server, topic)
        await context.close()

        rejected = await topic_in_state(world.a, "proposed")
        office = await signed_in(browser, live_server, world.a["staff"], javascript=javascript)
        page = await office.new_page()
        await page.goto(f"{live_server}/topics/{rejected['id']}")
        await (
            page.locator("#other-actions").get_by_role("button", name="不予立项（需确认）").click()
        )
        await expect(page.get_by_role("heading", level=1)).to_have_text("确认不予立项")
        if javascript:
            assert await serious_accessibility_problems(page) == []
        await page.get_by_role("button", name="确认不予立项").click()  # no reason given
        await expect(page.locator(".field-error")).to_contain_text("请说明不予立项的理由")
        still = (await world.a["staff"].get(f"/api/v1/topics/{rejected['id']}")).json()
        assert still["state"] == "proposed"
        await page.get_by_label("说明理由（必填）").fill("不属于协商范围")
        await page.get_by_role("button", name="确认不予立项").click()
        await expect(page.get_by_text("当前状态：不予立项")).to_be_visible()
        await office.close()


async def test_publishing_without_javascript_shows_number_and_period_first(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await topic_in_state(world.a, "resolution")
    context = await signed_in(browser, live_server, world.a["staff"], javascript=False)
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    await page.locator("#next-step").get_by_role("button", name="生成协商成果公示草稿").click()
    draft = page.locator("#documents li", has_text="草稿")
    await draft.get_by_role("button", name="发布协商成果公示").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("确认发布协商成果公示")
    facts = page.locator("#facts")
    await expect(facts).to_contain_text("文号")
    await expect(facts).to_contain_text("协商〔")
    await expect(facts).to_contain_text("公示期")
    number = (await facts.locator("dd").nth(1).inner_text()).strip()
    await page.get_by_role("button", name="确认发布协商成果公示").click()
    published = page.locator("#documents li").first
    await expect(published.locator(".status")).to_have_text("有效")
    # The number it was told is the number it got.
    await expect(published).to_contain_text(number)
    await context.close()
