"""村民说事 (workflows/shuoshi/v1.toml) walked in a real browser by the roles its file
names: the villagers' representative, on a phone, sees the village's next 说事日 and
opens the topic with what was said; the village cadre takes it through 议事 (the 议事会,
its minutes, the 办事事项) and 办事 (progress); the township's staff publish the
办事结果公示; the representative enters the villagers' rating; the cadre closes it; the
public reads the topic with the next 说事日. Fields are found by their form and name,
not their labels (the record forms' words are being made per workflow)."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import Browser, Page, expect

from deliberation.clock import china_today
from deliberation.shuoshi_day import day_words, next_shuoshi_day
from deliberation.workdays import WorkingDays
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import OFFICE, PHONE, signed_in
from tests.world import World, new_township, unique
from workflows.registry import REGISTRY

SHUOSHI = REGISTRY.latest("shuoshi")
PATH = SHUOSHI.main_path
"""说事 → 议事 → 办事 → 评事 → 已办结."""
RECORDS = {r.type: r for r in SHUOSHI.records}


def _step_to(dest: str) -> str:
    source = PATH[PATH.index(dest) - 1]
    return next(t.label for t in SHUOSHI.transitions if source in t.sources and t.dest == dest)


async def _current_step(page: Page, state: str) -> None:
    current = page.locator('ol.steps li[aria-current="step"]')
    await expect(current).to_contain_text(SHUOSHI.state(state).label)


async def _fire(page: Page, dest: str) -> None:
    await page.get_by_role("button", name=_step_to(dest), exact=True).click()
    await _current_step(page, dest)


async def test_a_shuoshi_topic_from_the_representative_to_closed_through_the_pages(
    live_server: str, world: World, browser: Browser
) -> None:
    t = await new_township(world, "说事浏览器镇")
    village = t.villages[0]
    set_day = await world.admin.patch(f"/api/v1/villages/{village['id']}", {"shuoshi_day": 15})
    assert set_day.status_code == 200, set_day.text
    next_day = f"下次说事日：{day_words(next_shuoshi_day(15, china_today(), WorkingDays()))}"
    keyword = unique("三组路灯")
    representative = await signed_in(browser, live_server, t["representative"])  # a phone
    cadre = await signed_in(browser, live_server, t["village_cadre"], viewport=OFFICE)
    staff = await signed_in(browser, live_server, t["staff"], viewport=OFFICE)

    # 说事: the representative opens it with what villagers said on the 说事日.
    phone = await representative.new_page()
    await phone.goto(f"{live_server}/me")
    await phone.get_by_role("link", name="提出议题").click()
    await expect(phone.locator(f"#shuoshi-day-{village['id']}")).to_contain_text(next_day)
    await phone.get_by_label("议题标题").fill(f"{keyword}不亮")
    await phone.get_by_label("问题描述").fill("说事日上村民反映：三组路灯坏了半年。")
    await phone.locator("select[name=village_id]").select_option(label=village["name"])
    await phone.get_by_role("button", name="提交议题").click()
    await _current_step(phone, PATH[0])
    topic_url = phone.url
    await expect(phone.locator("#shuoshi-day")).to_contain_text(next_day)
    said = RECORDS["note"]
    await expect(phone.locator("#my-next")).to_contain_text(said.label)
    form = phone.locator(f"#{said.name}-form")
    await form.locator("[name=visited_on]").fill(str(china_today()))
    await form.locator("[name=place]").fill("村委会说事室")
    await form.locator("[name=participants]").fill("三组村民12人")
    await form.locator("[name=findings]").fill("三组路灯坏了五盏，村民要求尽快修复。")
    await form.get_by_role("button").click()
    await expect(phone.locator("#records")).to_contain_text("路灯坏了五盏")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await serious_accessibility_problems(phone) == []

    # 议事: the cadre takes it up, holds the 议事会, records its minutes and the 办事事项.
    desk = await cadre.new_page()
    await desk.goto(topic_url)
    await _fire(desk, PATH[1])
    held = china_today() - timedelta(days=1)
    meeting = desk.locator(f"#{RECORDS['meeting'].name}-form")
    await meeting.locator("[name=scheduled_at]").fill(f"{held}T19:30")
    await meeting.locator("[name=place]").fill("村委会议室")
    await meeting.locator("[name=host]").fill("村党支部书记王强")
    await meeting.get_by_role("button").click()
    minutes = desk.locator("form[id^=minutes-]")
    await minutes.locator("[name=summary]").fill("村两委和村民代表议定修复路灯。")
    await minutes.locator("[name=decisions]").fill("村委会负责，一个月内修复。")
    for n, (name, unit) in enumerate((("王强", "村党支部"), ("李秀英", "村民代表"))):
        await minutes.locator("[name=attendee_name]").nth(n).fill(name)
        await minutes.locator("[name=attendee_unit]").nth(n).fill(unit)
    await minutes.get_by_role("button", name="保存会议纪要").click()
    await expect(desk.locator("#meetings")).to_contain_text("已记录纪要")
    item = desk.locator("#item-form")
    await item.locator("[name=content]").fill("更换三组路灯五盏")
    await item.locator("[name=responsible_unit]").fill("村委会")
    await item.locator("[name=due_date]").fill(str(china_today() + timedelta(days=30)))
    await item.get_by_role("button").click()
    await expect(desk.locator("#items")).to_contain_text("更换三组路灯五盏")
    assert await serious_accessibility_problems(desk) == []  # the cadre's topic page
    await _fire(desk, PATH[2])

    # 办事: the cadre reports it done; staff publish the 办事结果公示 (asked first).
    done = desk.locator("#items li").first
    await expect(done.locator("[name=note]")).to_be_visible()
    await done.locator("[name=note]").fill("五盏路灯已更换。")
    await done.locator("[name=percent]").fill("100")
    await done.locator("[name=completed]").check()
    await done.get_by_role("button", name="保存进展").click()
    await expect(desk.locator("#items li").first).to_contain_text("已完成")
    await expect(desk.locator("#notice-form")).to_have_count(0)  # the cadre does not draft
    office = await staff.new_page()
    await office.goto(topic_url)
    await office.locator("#notice-form").get_by_role("button").click()
    draft = office.locator("#documents li", has_text="草稿")
    await expect(draft).to_have_count(1)
    await draft.get_by_role("button", name=re.compile("^发布")).click()
    await office.get_by_role("button", name=re.compile("^确认发布")).click()
    await expect(office.locator("#documents li").first).to_contain_text("有效")
    await desk.reload()
    await _fire(desk, PATH[3])

    # 评事: the representative enters the villagers' rating; the cadre closes it.
    await phone.goto(topic_url)
    await phone.get_by_label("满意", exact=True).check()
    await phone.get_by_role("button", name="提交评价").click()
    await expect(phone).to_have_url(re.compile(r"\?saved=satisfaction#saved$"))
    await desk.reload()
    await desk.get_by_role("button", name=f"{_step_to(PATH[4])}（需确认）", exact=True).click()
    await desk.get_by_role("button", name=f"确认{_step_to(PATH[4])}").click()
    await _current_step(desk, PATH[4])

    # The public reads it, with the village's next 说事日.
    public = await browser.new_context(viewport=PHONE, locale="zh-CN")
    board = await public.new_page()
    await board.goto(topic_url)
    await expect(board.locator("#shuoshi-day")).to_contain_text(next_day)
    await expect(board.locator("#items")).to_contain_text("更换三组路灯五盏")
    for context in (representative, cadre, staff, public):
        await context.close()
