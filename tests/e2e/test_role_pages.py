"""Each role's pages: a liaison opens a topic (a bad form comes back with the text
kept), a representative gives an opinion on a phone, staff see their work queue."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, expect

from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import PHONE, signed_in
from tests.world import World, open_topic, topic_in_state, unique


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
    await page.get_by_role("button", name="提交意见").click()  # nothing filled in
    # Every missing answer is named at once, each next to its field.
    await expect(page.locator("#opinion-stance-error")).to_have_text("请选择一项")
    await expect(page.locator("#opinion-content-error")).to_have_text("请填写此项")
    # The choices sit on one line each, at the phone's width, with big targets.
    for choice in ("支持", "反对", "建议"):
        box = await page.get_by_text(choice, exact=True).bounding_box()
        assert box is not None and box["height"] <= 50, (choice, box)  # one line
        target = await page.get_by_label(choice, exact=True).bounding_box()
        assert target is not None and target["width"] >= 20, (choice, target)
    opinion = "建议先疏通主沟,再修支沟。"
    await page.get_by_label("意见内容").fill(opinion)
    await page.get_by_role("button", name="提交意见").click()  # no stance chosen
    await expect(page.locator("#opinion-stance-error")).to_be_visible()
    await expect(page.get_by_label("意见内容")).to_have_value(opinion)
    assert await serious_accessibility_problems(page) == []  # with its problem shown
    await page.get_by_label("建议").check()
    await page.get_by_label("代填").fill("刘大爷")
    await page.get_by_role("button", name="提交意见").click()
    await expect(page).to_have_url(f"{live_server}/topics/{topic['id']}?saved=opinion#saved")
    await expect(page.get_by_role("status")).to_have_text(
        "您的意见已提交\uff0c答复后会显示在下方。"
    )
    mine = page.locator("#opinions li")
    await expect(mine).to_have_count(1)
    await expect(mine).to_contain_text("代 刘大爷 提出")
    await expect(mine).to_contain_text("等待答复")
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
    # By state: the counts per state, and one state's topics only.
    early = await topic_in_state(world.a, "investigated")
    await page.reload()
    await page.get_by_text("按阶段查看").click()  # folded away until asked for
    states = page.get_by_role("navigation", name="按阶段查看")
    await states.get_by_role("link", name=re.compile("^会议协商")).click()
    await expect(states.locator("[aria-current=page]")).to_contain_text("会议协商")
    await expect(page.locator("#my-topics li", has_text=late["title"])).to_have_count(1)
    await expect(page.locator("#my-topics li", has_text=early["title"])).to_have_count(0)
    shown = await page.locator("#my-topics li").count()
    label = await states.locator("[aria-current=page]").inner_text()
    assert label.endswith(f"\uff08{shown}\uff09"), label
    for meta in await page.locator("#my-topics li .meta").all_inner_texts():
        assert "会议协商" in meta
    tabs = page.get_by_role("navigation", name="议题分类")
    await tabs.get_by_role("link", name=re.compile("^进行中")).click()
    await expect(page.locator("#my-topics li", has_text=early["title"])).to_have_count(1)
    await context.close()


async def test_a_liaison_records_an_investigation_from_the_topic_page(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await open_topic(world.a, title=unique("新街村道路"))
    context = await signed_in(browser, live_server, world.a["liaison"])
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    findings = "路面破损约300米,雨天积水。"
    await page.get_by_label("调研发现").fill(findings)
    await page.get_by_role("button", name="保存调研记录").click()
    await expect(page.locator("#investigation-visited_on-error")).to_be_visible()
    await expect(page.get_by_label("调研发现")).to_have_value(findings)
    await page.get_by_label("调研日期").fill("2026-11-20")
    await page.get_by_label("地点").fill("新街村三组")
    await page.get_by_label("参加人员").fill("联络员、村民代表")
    await page.get_by_role("button", name="保存调研记录").click()
    await expect(page).to_have_url(f"{live_server}/topics/{topic['id']}?saved=investigation#saved")
    # The record meets the trigger's requirement: the button now works.
    await page.get_by_role("button", name="完成调研").click()
    await expect(page.locator('ol.steps li[aria-current="step"]')).to_contain_text("已调研")
    # Investigated: the site-consultation form is offered (both forms are open here).
    await page.get_by_role("button", name="开始现场协商").click()
    await page.get_by_label("协商日期").fill("2026-11-25")
    await page.locator("#site_consultation-place").fill("村委会")
    await page.locator("#site_consultation-participants").fill("村两委、群众代表12人")
    await page.get_by_label("协商情况").fill("群众同意分段施工。")
    await page.get_by_role("button", name="保存现场协商记录").click()
    await expect(page).to_have_url(
        f"{live_server}/topics/{topic['id']}?saved=site_consultation#saved"
    )
    await context.close()
    sites = (await world.a["staff"].get(f"/api/v1/topics/{topic['id']}/site-consultations")).json()
    assert [s["summary"] for s in sites] == ["群众同意分段施工。"]


async def test_a_representative_sees_the_answer_and_rates_the_result(
    live_server: str, world: World, browser: Browser
) -> None:
    village = world.a.villages[0]["id"]
    topic = await open_topic(world.a, title=unique("金山村水渠"), village_id=village)
    r = await world.a["representative"].post(
        f"/api/v1/topics/{topic['id']}/opinions", {"content": "希望尽快修好", "stance": "support"}
    )
    assert r.status_code == 201, r.text
    r = await world.a["staff"].post(
        f"/api/v1/opinions/{r.json()['id']}/answer",
        {"adoption": "adopted", "reason": "纳入本年度计划"},
    )
    assert r.status_code == 200, r.text
    context = await signed_in(browser, live_server, world.a["representative"])
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    answered = page.locator("#opinions li")
    await expect(answered).to_contain_text("已采纳")
    await expect(answered).to_contain_text("纳入本年度计划")
    # Later, in feedback, the same representative rates how it went.
    feedback = await topic_in_state(world.a, "feedback", village_id=village)
    elsewhere = await topic_in_state(
        world.a, "feedback", village_id=world.a.villages[1]["id"], title=unique("别村议题")
    )
    await page.goto(f"{live_server}/me")
    mine = page.locator("#my-topics li", has_text=feedback["title"])
    await expect(mine).to_contain_text("请评价落实情况")
    await expect(page.locator("#my-topics li", has_text=elsewhere["title"])).to_have_count(0)
    await mine.get_by_role("link").click()
    await page.get_by_role("button", name="提交评价").click()
    await expect(page.locator("#satisfaction-rating-error")).to_be_visible()
    await page.get_by_label("基本满意").check()
    await page.get_by_role("button", name="提交评价").click()
    await expect(page).to_have_url(
        f"{live_server}/topics/{feedback['id']}?saved=satisfaction#saved"
    )
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await context.close()
    ratings = (await world.a["staff"].get(f"/api/v1/topics/{feedback['id']}/satisfaction")).json()
    assert [r["rating"] for r in ratings] == ["basically_satisfied"]
