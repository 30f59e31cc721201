"""Each role's pages: a liaison opens a topic (a bad form comes back with the text
kept), a representative gives an opinion on a phone, staff see their work queue."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, expect

from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.test_topic_page import signed_in
from tests.world import World, open_topic, topic_in_state, unique

PHONE = {"width": 360, "height": 740}


async def test_a_liaison_opens_a_topic_and_a_bad_form_keeps_the_text(
    live_server: str, world: World, browser: Browser
) -> None:
    context = await signed_in(browser, live_server, world.a["liaison"])
    page = await context.new_page()
    await page.goto(f"{live_server}/me")
    await page.get_by_role("link", name="提出议题").click()
    description = "渡口村路灯损坏多处,夜间出行不便。"
    await page.get_by_label("问题描述").fill(description)
    await page.get_by_label("议题标题").fill("   ")
    await page.get_by_role("button", name="提交议题").click()
    await expect(page.locator("#title-error")).to_be_visible()
    await expect(page.get_by_label("议题标题")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("问题描述")).to_have_value(description)
    title = unique("渡口村路灯")
    await page.get_by_label("议题标题").fill(title)
    await page.get_by_label(
        "所属村(社区)".replace("(", "\uff08").replace(")", "\uff09")
    ).select_option(label=world.a.villages[0]["name"])
    await page.get_by_role("button", name="提交议题").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.locator('ol.steps li[aria-current="step"]')).to_contain_text("已提出")
    await page.goto(f"{live_server}/me")
    mine = page.locator("#my-topics li", has_text=title)
    await expect(mine).to_contain_text("待您办理")
    await context.close()


async def test_a_representative_gives_an_opinion_on_a_phone(
    live_server: str, world: World, browser: Browser
) -> None:
    village = world.a.villages[0]["id"]
    topic = await open_topic(world.a, title=unique("塘背村排水"), village_id=village)
    context = await signed_in(browser, live_server, world.a["representative"])
    page = await context.new_page()
    await page.goto(f"{live_server}/me")
    await page.locator("#my-topics").get_by_role("link", name=topic["title"]).click()
    assert await serious_accessibility_problems(page) == []  # the opinion form
    opinion = "建议先疏通主沟,再修支沟。"
    await page.get_by_label("意见内容").fill(opinion)
    await page.get_by_role("button", name="提交意见").click()  # no stance chosen
    await expect(page.locator("#stance-error")).to_be_visible()
    await expect(page.get_by_label("意见内容")).to_have_value(opinion)
    assert await serious_accessibility_problems(page) == []  # with its problem shown
    await page.get_by_label("建议").check()
    await page.get_by_label("代填").fill("刘大爷")
    await page.get_by_role("button", name="提交意见").click()
    await expect(page).to_have_url(f"{live_server}/topics/{topic['id']}#opinion-sent")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await context.close()
    opinions: list[dict[str, Any]] = (
        await world.a["staff"].get(f"/api/v1/topics/{topic['id']}/opinions")
    ).json()
    assert [(o["content"], o["stance"], o["on_behalf_of"]) for o in opinions][-1] == (
        opinion,
        "suggestion",
        "刘大爷",
    )


async def test_staff_see_their_queue_overdue_first(
    live_server: str, world: World, browser: Browser
) -> None:
    late = await topic_in_state(world.a, "meeting")
    r = await world.a["staff"].post(
        f"/api/v1/topics/{late['id']}/meetings",
        {"scheduled_at": "2026-01-05T09:00:00+08:00", "place": "镇会议室", "host": "陈主任"},
    )
    assert r.status_code == 201, r.text
    context = await signed_in(browser, live_server, world.a["staff"])
    page = await context.new_page()
    await page.goto(f"{live_server}/me")
    first = page.locator("#my-topics li").first
    await expect(first).to_contain_text("已逾期")
    await expect(page.locator("#my-topics li", has_text=late["title"])).to_contain_text("已逾期")
    await context.close()
