"""The county supervisor in a browser (issue 14, item 4): every township on the county
view, overdue first; a draft stays closed to them; urging an overdue topic from its
page, with the note refused when empty; the township's staff see the banner and the
topic first in their work queue; the township's webhook receives ``topic.urged``."""

from __future__ import annotations

import json

from playwright.async_api import Browser, expect

from tests.api.test_county import make_overdue
from tests.api.test_documents import create
from tests.api.test_webhooks import delivery_config, drain, subscribe  # noqa: F401 (autouse)
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import OFFICE, PHONE, signed_in
from tests.receiver import Receiver
from tests.world import World, new_township, open_topic, topic_in_state


async def test_the_county_sees_every_township_and_urges_a_late_topic(
    live_server: str, world: World, browser: Browser, receiver: Receiver
) -> None:
    t = await new_township(world, "督办镇")
    await subscribe(t, receiver.url, events=["topic.urged"])
    late = await open_topic(t, title="渡口护栏缺失")
    await make_overdue(late, days=4)
    drafted = await topic_in_state(world.b, "resolution")
    draft = await create(world.b["staff"], drafted["id"], "resolution_notice")

    county = await signed_in(browser, live_server, world.supervisor, viewport=PHONE)
    page = await county.new_page()
    await page.goto(f"{live_server}/")
    await expect(page).to_have_url(f"{live_server}/county")  # their work is the county
    await expect(page.get_by_role("link", name="全县总览")).to_have_attribute(
        "aria-current", "page"
    )
    for township in (world.a, world.b, t):
        await expect(page.locator(f"#township-{township.id} th")).to_have_text(township.name)
    await expect(page.locator(f"#township-{t.id} td").nth(2)).to_have_text("1")  # 逾期
    overdue = page.locator("#overdue li", has_text="渡口护栏缺失")
    await expect(overdue).to_contain_text("逾期 4 天")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert await serious_accessibility_problems(page) == []

    # Each township's topics, a click away.
    await page.locator(f"#township-{t.id} th a").click()
    await expect(page.locator("h1")).to_have_text(f"{t.name}的议题")
    await expect(page.locator("#township-topics")).to_contain_text("渡口护栏缺失")
    assert await serious_accessibility_problems(page) == []

    # A draft is not theirs to open, from its preview address either.
    preview = await page.goto(
        f"{live_server}/topics/{drafted['id']}/documents/{draft['id']}/preview"
    )
    assert preview is not None and preview.status == 404

    await page.goto(f"{live_server}/county")
    await overdue.get_by_role("link").click()
    await expect(page.locator("h1")).to_have_text("渡口护栏缺失")
    form = page.locator("#urge-form")
    await form.get_by_role("button", name="督办").click()
    await expect(page.locator("#urge-note-error")).to_have_text("请写明督办意见")
    await page.get_by_label("督办意见").fill("请于本周内完成调研并报县政协")
    await page.locator("#urge-form").get_by_role("button", name="督办").click()
    await expect(page.locator("#saved")).to_contain_text("已督办")
    await expect(page.locator("#urged")).to_contain_text("请于本周内完成调研并报县政协")
    assert await serious_accessibility_problems(page) == []

    office = await signed_in(browser, live_server, t["staff"], viewport=OFFICE)
    desk = await office.new_page()
    await desk.goto(f"{live_server}/me")
    first = desk.locator("#my-topics li").first
    await expect(first).to_contain_text("督办")
    await expect(first).to_contain_text("渡口护栏缺失")
    await first.get_by_role("link", name="渡口护栏缺失").click()
    await expect(desk.locator("#urged h2")).to_have_text("县政协督办")
    await expect(desk.locator("#urged")).to_contain_text("请于本周内完成调研并报县政协")
    await expect(desk.locator("#urge-form")).to_have_count(0)  # urging is the county's
    assert await serious_accessibility_problems(desk) == []

    await drain()
    # One event about this topic (the session's receiver may also get what another
    # file's township left undelivered; delivery is at least once: a slow answer on a
    # loaded machine may be retried with the same event id).
    by_event = {r["headers"]["x-hsl-event-id"]: r for r in receiver.received}
    bodies = [json.loads(r["body"]) for r in by_event.values()]
    bodies = [b for b in bodies if b["data"]["topic_id"] == late["id"]]
    assert [b["type"] for b in bodies] == ["topic.urged"]
    assert bodies[0]["data"]["note"] == "请于本周内完成调研并报县政协"
    await county.close()
    await office.close()
