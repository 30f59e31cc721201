"""The whole life of a topic done through the pages by three signed-in people, each
in their own browser context, and then found by the public on the notice board."""

from __future__ import annotations

import re

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import OFFICE, PHONE, sign_in
from tests.world import PASSWORD, World, days_from_today, unique


async def _current_step(page: Page, label: str) -> None:
    await expect(page.locator('ol.steps li[aria-current="step"]')).to_contain_text(label)


async def _fire(page: Page, button: str, step: str) -> None:
    await page.get_by_role("button", name=button, exact=True).click()
    await _current_step(page, step)


async def _office(browser: Browser, live_server: str, context: BrowserContext) -> Page:
    page = await context.new_page()
    await page.set_viewport_size(OFFICE)
    return page


async def test_a_topic_from_proposal_to_closed_through_the_pages(
    live_server: str, world: World, browser: Browser
) -> None:
    people = {
        role: (world.a[role].user["username"], PASSWORD)
        for role in ("liaison", "representative", "staff")
    }
    await carry_through_every_state(
        browser,
        live_server,
        people,
        village=world.a.villages[0]["name"],
        representative_name=world.a["representative"].user["display_name"],
    )


async def carry_through_every_state(
    browser: Browser,
    live_server: str,
    people: dict[str, tuple[str, str]],
    village: str,
    representative_name: str,
) -> None:
    """A liaison opens and investigates a topic of ``village``, its representative gives
    an opinion on a phone, staff run the meeting and publish the notice, the
    representative rates the result, staff close it; the public finds the notice."""
    keyword = unique("渡口码头护栏")
    liaison = await sign_in(browser, live_server, *people["liaison"])
    representative = await sign_in(browser, live_server, *people["representative"])
    staff = await sign_in(browser, live_server, *people["staff"])

    # The liaison opens the topic and investigates.
    page = await _office(browser, live_server, liaison)
    await page.goto(f"{live_server}/me")
    await page.get_by_role("link", name="提出议题").click()
    await page.get_by_label("议题标题").fill(f"{keyword}年久失修")
    await page.get_by_label("问题描述").fill("码头护栏锈蚀断裂,学生上下船有落水风险。")
    await page.locator("select[name=village_id]").select_option(label=village)
    await page.get_by_role("button", name="提交议题").click()
    await _current_step(page, "已提出")
    topic_url = page.url
    await page.get_by_label("调研日期").fill("2026-11-20")
    await page.get_by_label("地点").fill("渡口村码头")
    await page.get_by_label("参加人员").fill("联络员、村民代表3人")
    await page.get_by_label("调研发现").fill("护栏断裂4处,共约30米。")
    await page.get_by_role("button", name="保存调研记录").click()
    await expect(page.locator("#records li")).to_contain_text("护栏断裂4处")
    await _fire(page, "完成调研", "已调研")
    await _fire(page, "开始现场协商", "现场协商")
    await page.get_by_label("协商日期").fill("2026-11-24")
    await page.locator("#site_consultation-place").fill("渡口村村委会")
    await page.locator("#site_consultation-participants").fill("村两委、群众代表12人")
    await page.get_by_label("协商情况").fill("群众同意先修断裂处,再整体更换。")
    await page.get_by_role("button", name="保存现场协商记录").click()
    # Every change is on the timeline: the two records as well as the two moves.
    await expect(page.locator("ol.timeline li")).to_have_count(5)
    await expect(page.locator("ol.timeline")).to_contain_text("添加调研记录")
    await expect(page.locator("ol.timeline")).to_contain_text("添加现场协商记录")

    # The representative, on a phone, gives an opinion on their village's topic.
    phone = await representative.new_page()
    await phone.goto(f"{live_server}/me")
    await phone.locator("#my-topics").get_by_role("link", name=re.compile(keyword)).click()
    await phone.get_by_label("建议").check()
    await phone.get_by_label("意见内容").fill("建议护栏加高到1.2米,并装夜间反光条。")
    await phone.get_by_role("button", name="提交意见").click()
    await expect(phone.locator("#opinions li")).to_contain_text("等待答复")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Staff: schedule the meeting, convene it, answer the opinion, minutes with the
    # roster, an agreed item, the resolution notice.
    desk = await _office(browser, live_server, staff)
    await desk.goto(f"{live_server}/me")
    await desk.locator("#my-topics").get_by_role("link", name=re.compile(keyword)).click()
    await desk.get_by_label("会议时间").fill("2026-12-02T09:30")
    await desk.locator("#meeting-place").fill("镇政府三楼会议室")
    await desk.get_by_label("主持人").fill("陈主席")
    await desk.get_by_role("button", name="安排会议").click()
    await expect(desk.locator("#meetings li")).to_contain_text("2026-12-02 09:30")
    await _fire(desk, "召开协商会议", "会议协商")

    # Answering an opinion swaps just that opinion (htmx): the page is not reloaded.
    await desk.evaluate("window.notReloaded = true")
    opinion = desk.locator("#opinions li").first
    await opinion.get_by_label("采纳情况").select_option(label="已采纳")
    await opinion.get_by_label("答复说明").fill("纳入施工方案,护栏高度1.2米。")
    await opinion.get_by_role("button", name="保存答复").click()
    await expect(desk.locator("#opinions li").first.locator(".answer")).to_contain_text("已采纳")
    assert await desk.evaluate("window.notReloaded === true")

    minutes = desk.locator("form[id^=minutes-]")
    await minutes.get_by_label("会议情况").fill("镇政协联络组组织,交通、水利部门参加。")
    await minutes.get_by_label("议定事项").fill("一、12月底前完成护栏更换。")
    roster = [
        ("陈主席", "镇政协联络组", "出席"),
        ("李站长", "镇交管站", "出席"),
        ("王代表", "渡口村", "请假"),
        ("赵记者", "县融媒体中心", "列席"),
    ]
    await minutes.get_by_role("button", name="再加一行").click()  # 3 empty rows + 1
    await expect(minutes.locator(".roster-row")).to_have_count(4)
    for n, (name, unit, attendance) in enumerate(roster, start=1):
        await minutes.get_by_label(f"第 {n} 位 姓名").fill(name)
        await minutes.locator(".roster-row").nth(n - 1).get_by_label("单位或村组").fill(unit)
        await (
            minutes.locator(".roster-row")
            .nth(n - 1)
            .get_by_label("参会情况")
            .select_option(label=attendance)
        )
    await minutes.get_by_role("button", name="保存会议纪要").click()
    await expect(desk.locator("#meetings li")).to_contain_text("出席 2 人 · 请假 1 人 · 列席 1 人")

    await desk.get_by_label("成果内容").fill("更换渡口码头护栏30米,高度1.2米,加装反光条。")
    await desk.get_by_label("牵头落实单位").fill("镇交管站")
    await desk.get_by_label("完成时限").fill(days_from_today(30))
    await desk.get_by_role("button", name="添加成果").click()
    await expect(desk.locator("#items li")).to_contain_text("镇交管站")
    await _fire(desk, "形成协商成果", "已形成成果")

    # What the next step needs comes first: the notice's draft, from 下一步.
    await desk.locator("#next-step").get_by_role("button", name="生成协商成果公示草稿").click()
    draft = desk.locator("#documents li", has_text="草稿")
    await expect(draft).to_have_count(1)
    href = await draft.get_by_role("link", name="预览草稿 PDF").get_attribute("href")
    preview = await staff.request.get(f"{live_server}{href}")
    assert preview.headers["content-type"] == "application/pdf"
    assert (await preview.body()).startswith(b"%PDF")
    assert await serious_accessibility_problems(desk) == []  # the staff's topic page
    await draft.get_by_role("button", name=re.compile("^发布")).click()
    # Publishing asks first, with the number and posting period the notice will get.
    await expect(desk.get_by_role("heading", level=1)).to_have_text("确认发布协商成果公示")
    await expect(desk.locator("#facts")).to_contain_text("协商〔")
    await expect(desk.locator("#facts")).to_contain_text("个工作日")
    await desk.get_by_role("button", name="确认发布协商成果公示").click()
    await expect(desk.locator("#documents li").first).to_contain_text("有效")
    number = await desk.locator("#documents li").first.locator(".meta").inner_text()
    assert "协商〔2026〕" in number or "协商〔" in number
    await _fire(desk, "进入落实反馈", "落实反馈")

    # The representative finds the topic in their list again, sees the answer and
    # rates the result.
    await phone.goto(f"{live_server}/me")
    await expect(phone.locator("#my-topics li", has_text=keyword)).to_contain_text("请评价落实情况")
    await phone.locator("#my-topics").get_by_role("link", name=re.compile(keyword)).click()
    await expect(phone.locator("#opinions li")).to_contain_text("已采纳")
    await phone.get_by_label("满意", exact=True).check()
    await phone.get_by_role("button", name="提交评价").click()
    await expect(phone).to_have_url(re.compile(r"\?saved=satisfaction#saved$"))

    # Staff report the item done and close the topic.
    await desk.reload()
    item = desk.locator("#items li").first
    # Closing waits for every item's progress: its form is already open.
    await expect(item.get_by_label("进展情况")).to_be_visible()
    await item.get_by_label("进展情况").fill("护栏已全部更换,验收合格。")
    await item.get_by_label("完成比例").fill("100")
    await item.get_by_label("已全部完成").check()
    await item.get_by_role("button", name="保存进展").click()
    await expect(desk.locator("#items li").first).to_contain_text("已完成")
    # 办结 cannot be undone: it asks first.
    await desk.get_by_role("button", name="办结（需确认）", exact=True).click()
    await expect(desk.get_by_role("heading", level=1)).to_have_text("确认办结")
    await expect(desk.locator("#consequence")).to_contain_text("不能恢复")
    await _fire(desk, "确认办结", "已办结")
    await expect(desk.locator("ol.steps li.done")).to_have_count(6)

    # The public finds the notice by a keyword and checks it.
    public = await browser.new_context(viewport=PHONE, locale="zh-CN")
    board = await public.new_page()
    await board.goto(f"{live_server}/notices")
    await board.get_by_label("关键词").fill(keyword)
    await board.get_by_role("button", name="搜索").click()
    found = board.locator("ul.notices li")
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text(keyword)
    await found.get_by_role("link", name=re.compile("核验")).click()
    await expect(board.locator(".status")).to_contain_text("有效")
    await board.goto(topic_url)  # a closed topic is public, without personal data
    await expect(board.locator("ol.timeline")).not_to_contain_text(representative_name)
    # The answered opinion without its author's name; the records without the people
    # they name (docs/permissions.md).
    await expect(board.locator("#opinions li")).to_contain_text("护栏加高")
    await expect(board.locator("#opinions")).not_to_contain_text(representative_name)
    await expect(board.locator("#opinion-tally")).to_contain_text("建议 1")
    await expect(board.locator("#records")).to_contain_text("现场协商")
    await expect(board.locator("#records")).not_to_contain_text("参加人员")
    await expect(board.locator("#records")).not_to_contain_text("群众代表12人")
    await expect(board.locator("#items li")).to_contain_text("镇交管站")
    for context in (liaison, representative, staff, public):
        await context.close()
