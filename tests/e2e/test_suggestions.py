"""Issue 27's walk in a real browser: a villager without an account files a suggestion on
a phone (360 px, large mode: the form fits, nothing scrolls sideways), the village's
representative signs in and supports it (附议), the township's office screens it and
accepts it into 微协商 (micro), the topic opens, and the topic's page shows where it
came from (the source line: suggestion, supports, screening)."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from deliberation.tables import Suggestion
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import LARGE_TEXT_CHECK, OFFICE, PHONE, signed_in
from tests.e2e.test_phone_width import WIDTH
from tests.world import World, new_township, unique
from workflows.registry import REGISTRY

MICRO = REGISTRY.latest("micro")


async def test_a_villager_files_a_representative_supports_the_office_accepts_into_micro(
    live_server: str, world: World, browser: Browser
) -> None:
    t = await new_township(world, "建议浏览器镇")
    village = t.villages[0]
    title = unique("村口路灯不亮")

    # An earlier one like it, already accepted (public): the form will list it under
    # the title as the villager types.
    earlier = await t["staff"].post(
        "/api/v1/suggestions",
        {
            "title": f"{title}修一下",
            "content": "村口路灯不亮。",
            "village_id": village["id"],
            "submitter_name": "李四",
            "submitter_phone": "13700003333",
        },
    )
    assert earlier.status_code == 201, earlier.text
    accepted = await t["staff"].post(
        f"/api/v1/suggestions/{earlier.json()['id']}/screening",
        {"decision": "accept", "workflow": "micro"},
    )
    assert accepted.status_code == 200, accepted.text

    # The villager: a phone, large mode, no account.
    villager = await browser.new_context(viewport=PHONE, locale="zh-CN")
    await villager.add_cookies([{"name": "hsl_text", "value": "large", "url": live_server}])
    phone = await villager.new_page()
    await phone.goto(f"{live_server}/suggestions/new")
    await phone.get_by_label("所在乡镇和村（社区）").select_option(
        label=f"{t.name} {village['name']}"
    )
    await phone.get_by_label("标题").press_sequentially(title)
    await expect(phone.locator("#similar")).to_contain_text(earlier.json()["reference"])
    await expect(phone.locator("#similar")).to_contain_text("可请本村代表附议")
    await phone.get_by_label("内容").fill(
        "村口三盏路灯坏了一个月，晚上老人出行不便。我的电话13800001111。"
    )
    await phone.get_by_label("姓名").fill("王小明")
    await phone.get_by_label("手机号").fill("139 0000 2222")
    await expect(phone.locator("#phone-note")).to_have_text("只有乡镇协商办公室能看到")
    measured = await phone.evaluate(WIDTH)
    assert measured["scroll"] <= measured["view"], measured
    assert await phone.evaluate(LARGE_TEXT_CHECK) == []
    assert await serious_accessibility_problems(phone) == []
    await phone.get_by_role("button", name="提交建议").click()
    await expect(phone.get_by_role("heading", level=1)).to_have_text("建议已提交")
    reference = (await phone.locator("#reference").inner_text()).strip()
    assert re.fullmatch(r"JY-\d{4}-\d{4,}", reference)
    measured = await phone.evaluate(WIDTH)
    assert measured["scroll"] <= measured["view"], measured
    row = await Suggestion.select(Suggestion.id).where(Suggestion.reference == reference).first()
    assert row is not None
    url = f"{live_server}/suggestions/{row['id']}"
    # The villager cannot read it back: not public until screened.
    answer = await phone.goto(url)
    assert answer is not None and answer.status == 404
    await villager.close()

    # The village's representative, on a phone: the masked text, then 附议.
    representative = await signed_in(browser, live_server, t["representative"])
    rep = await representative.new_page()
    await rep.goto(f"{live_server}/suggestions?tab=pending")
    await rep.locator("#suggestions").get_by_role("link", name=title).click()
    await expect(rep.locator(".suggestion-content")).to_contain_text("138****1111")
    await rep.get_by_role("button", name="附议", exact=True).click()
    await expect(rep.locator("#saved")).to_have_text("已附议。")
    await expect(rep.locator("#support-representatives")).to_have_text("1")
    # The village has one representative account: one fifth of it is one support.
    await expect(rep.locator("#status")).to_have_text("须列入议题")
    assert await serious_accessibility_problems(rep) == []
    await representative.close()

    # The office: its queue (must-list first, with the time left to screen it), the
    # original with its marks, and the screening: accept into 微协商.
    staff = await signed_in(browser, live_server, t["staff"], viewport=OFFICE)
    desk = await staff.new_page()
    await desk.goto(f"{live_server}/suggestions/office")
    listed = desk.locator("#must-list li", has_text=title)
    await expect(listed.locator(".time-left")).to_contain_text("还剩")
    await listed.get_by_role("link", name=title).click()
    await expect(desk.locator("#original mark")).to_have_text("13800001111")
    await expect(desk.locator("#submitter")).to_contain_text("13900002222")
    assert await serious_accessibility_problems(desk) == []
    form = desk.locator("#screen-form")
    await form.get_by_label("转为议题", exact=True).check()
    await form.get_by_label("转为议题所用的协商流程").select_option(label=MICRO.label)
    await form.get_by_role("button", name="保存审核结果").click()
    await expect(desk.locator("#saved")).to_have_text("审核结果已保存。")
    await expect(desk.locator("#status")).to_have_text("已列入议题")
    await desk.locator("#became").get_by_role("link").click()

    # The topic opened in 微协商, and its page shows where it came from.
    await expect(desk.get_by_role("heading", level=1)).to_have_text(title)
    await expect(desk.locator('ol.steps li[aria-current="step"]')).to_contain_text(
        MICRO.state(MICRO.initial).label
    )
    source = desk.locator(f"#source-{row['id']}")
    await expect(source).to_contain_text(f"村民建议 {reference}")
    await expect(source).to_contain_text("附议 2 人")
    await expect(source).to_contain_text("审核")
    await source.get_by_role("link", name=reference).click()
    await expect(desk).to_have_url(url)
    await staff.close()
