"""The topic page: the step indicator from the workflow declaration, the timeline,
trigger buttons from ``available_triggers``, and the public version."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import PHONE, signed_in
from tests.world import World, satisfy, topic_in_state
from workflows import WORKFLOW


@pytest.fixture
async def proposed(world: World) -> dict[str, Any]:
    topic = await topic_in_state(world.a, "proposed")
    await satisfy(world.a, topic, "investigation_recorded")
    return topic


async def test_a_liaison_moves_a_topic_with_the_buttons_the_workflow_gives(
    live_server: str, world: World, browser: Browser, proposed: dict[str, Any]
) -> None:
    context = await signed_in(browser, live_server, world.a["liaison"])
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{proposed['id']}")
    steps = page.locator("ol.steps li")
    await expect(steps).to_have_count(len(WORKFLOW.main_path))
    await expect(page.locator('ol.steps li[aria-current="step"]')).to_contain_text("已提出")
    # The buttons are the triggers the liaison may fire from `proposed`: the step
    # forward under 下一步, the one that ends the topic set apart.
    await expect(page.locator("#next-step button.step")).to_have_text(["完成调研"])
    await expect(page.locator("#other-actions button")).to_have_text(["撤回（需确认）"])
    assert await serious_accessibility_problems(page) == []
    await page.get_by_label("说明").first.fill("已入户调查")
    await page.get_by_role("button", name="完成调研").click()
    await expect(page.locator('ol.steps li[aria-current="step"]')).to_contain_text("已调研")
    await expect(page.locator("ol.steps li.done")).to_have_count(1)
    # Opened, the investigation record added, then investigated: every change.
    await expect(page.locator("ol.timeline li")).to_have_count(3)
    await expect(page.locator("ol.timeline")).to_contain_text("添加调研记录")
    await expect(page.locator("ol.timeline")).to_contain_text("已入户调查")
    await expect(page.locator("ol.timeline")).to_contain_text(
        world.a["liaison"].user["display_name"]
    )
    await context.close()


async def test_a_stale_button_says_what_happened(
    live_server: str, world: World, browser: Browser, proposed: dict[str, Any]
) -> None:
    context = await signed_in(browser, live_server, world.a["liaison"])
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{proposed['id']}")
    # Someone else moves the topic meanwhile.
    r = await world.a["staff"].post(
        f"/api/v1/topics/{proposed['id']}/transitions",
        {"trigger": "investigate", "version": proposed["version"]},
    )
    assert r.status_code == 200, r.text
    await page.get_by_role("button", name="完成调研").click()
    await expect(page.get_by_role("alert")).to_contain_text("已被他人更新")
    await context.close()


async def test_the_public_sees_results_but_not_early_topics(
    live_server: str, world: World, browser: Browser
) -> None:
    done = await topic_in_state(world.a, "resolution")
    early = await topic_in_state(world.a, "investigated")
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    response = await page.goto(f"{live_server}/topics/{early['id']}")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("未找到")
    await page.goto(f"{live_server}/topics/{done['id']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(done["title"])
    await expect(page.locator("form.action")).to_have_count(0)
    timeline = page.locator("ol.timeline")
    await expect(timeline).to_contain_text("政协委员/联络员")
    await expect(timeline).not_to_contain_text(world.a["liaison"].user["display_name"])
    await expect(page.get_by_text("硬化道路1.2公里")).to_be_visible()
    assert await serious_accessibility_problems(page) == []
    # Another township's staff see the public version only.
    other = await signed_in(browser, live_server, world.b["staff"])
    page = await other.new_page()
    await page.goto(f"{live_server}/topics/{done['id']}")
    await expect(page.locator("form.action")).to_have_count(0)
    await expect(page.get_by_text("公开信息")).to_be_visible()
    await context.close()
    await other.close()
