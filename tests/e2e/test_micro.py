"""微协商 (workflows/micro/v1.toml) walked in a real browser by the roles its file names:
a liaison opens it from the new-topic page (the workflow picker) and starts the opinion
window; a representative, on a phone, sees the window line and gives an opinion; once
the window has closed, staff move it on, write the 微建议's items, draft, preview and
publish the 微协商建议, hand it over and report progress; the representative rates;
staff close it.

The served app's clock does not move (tests/e2e/conftest.py): the window is closed by
moving the day the topic entered 征求意见 back a month in the database, which is what
the passing of those days would have done. Crossing the window's days on the calendar
is tested with a moving clock in tests/api/test_micro_pages.py."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import Browser, Page, expect

from deliberation.clock import china_today
from deliberation.tables import Topic
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import OFFICE, PHONE, signed_in
from tests.world import World, days_from_today, new_township, unique
from workflows.registry import REGISTRY

MICRO = REGISTRY.latest("micro")
PATH = MICRO.main_path
"""发起 → 征求意见 → 形成微建议 → 交办落实 → 已办结."""


def _step_to(dest: str) -> str:
    """The label of the main path's step into ``dest`` (its button)."""
    source = PATH[PATH.index(dest) - 1]
    return next(t.label for t in MICRO.transitions if source in t.sources and t.dest == dest)


def _label(state: str) -> str:
    return MICRO.state(state).label


async def _current_step(page: Page, state: str) -> None:
    await expect(page.locator('ol.steps li[aria-current="step"]')).to_contain_text(_label(state))


async def _fire(page: Page, dest: str) -> None:
    await page.get_by_role("button", name=_step_to(dest), exact=True).click()
    await _current_step(page, dest)


async def test_a_micro_consultation_from_the_new_topic_page_to_closed(
    live_server: str, world: World, browser: Browser
) -> None:
    t = await new_township(world, "微协商浏览器镇")
    keyword = unique("小区路灯")
    liaison = await signed_in(browser, live_server, t["liaison"], viewport=OFFICE)
    representative = await signed_in(browser, live_server, t["representative"])  # a phone
    staff = await signed_in(browser, live_server, t["staff"], viewport=OFFICE)

    # The liaison opens it, choosing 微协商 among the workflows offered, and starts
    # the opinion window.
    page = await liaison.new_page()
    await page.goto(f"{live_server}/me")
    await page.get_by_role("link", name="提出议题").click()
    picker = page.locator("#workflow-choice")
    await expect(picker).to_contain_text(MICRO.summary)
    await picker.get_by_label(MICRO.label, exact=True).check()
    await page.get_by_label("议题标题").fill(f"{keyword}坏了三盏")
    await page.get_by_label("问题描述").fill("小区东门路灯坏了三盏，夜里老人出行不便。")
    await page.locator("select[name=village_id]").select_option(label=t.villages[0]["name"])
    await page.get_by_role("button", name="提交议题").click()
    await _current_step(page, PATH[0])
    topic_url = page.url
    tid = int(topic_url.rstrip("/").split("/")[-1])
    await _fire(page, PATH[1])
    await expect(page.locator("#opinion-window")).to_contain_text("意见征集至")

    # The representative, on a phone, finds it, sees until when, and gives an opinion.
    phone = await representative.new_page()
    await phone.goto(f"{live_server}/me")
    await phone.locator("#my-topics").get_by_role("link", name=re.compile(keyword)).click()
    window = phone.locator("#opinion-window")
    await expect(window).to_contain_text("意见征集至")
    await expect(window).to_contain_text("个工作日")
    await phone.get_by_label("建议").check()
    await phone.get_by_label("意见内容").fill("建议换成节能灯，并检修线路。")
    await phone.get_by_role("button", name="提交意见").click()
    await expect(phone.locator("#opinions li")).to_contain_text("等待答复")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await serious_accessibility_problems(phone) == []

    # A month later the window has closed: the line says so, the form is gone.
    await Topic.update({Topic.stage_entered_on: china_today() - timedelta(days=30)}).where(
        Topic.id == tid
    )
    await phone.reload()
    await expect(phone.locator("#opinion-window")).to_contain_text("截止")
    await expect(phone.locator("#opinion-form")).to_have_count(0)

    # Staff: answer the opinion, move on, write the items.
    desk = await staff.new_page()
    await desk.goto(f"{live_server}/me")
    await desk.locator("#my-topics").get_by_role("link", name=re.compile(keyword)).click()
    await expect(desk.locator("#opinion-window")).to_contain_text("截止")
    opinion = desk.locator("#opinions li").first
    await opinion.get_by_label("采纳情况").select_option(label="已采纳")
    await opinion.get_by_label("答复说明").fill("采纳，列入微建议。")
    await opinion.get_by_role("button", name="保存答复").click()
    await expect(desk.locator("#opinions li").first.locator(".answer")).to_contain_text("已采纳")
    await _fire(desk, PATH[2])
    await expect(desk.locator("#opinion-window")).to_have_count(0)
    for content, unit in (("更换东门路灯3盏", "镇村建办"), ("检修路灯供电线路", "镇供电所")):
        # The first under 下一步 (the step waits for it), the next folded in its section.
        form = desk.locator("#item-form")
        if not await form.is_visible():
            await desk.get_by_text("添加协商成果", exact=True).click()
        await form.get_by_label("成果内容").fill(content)
        await form.get_by_label("牵头落实单位").fill(unit)
        await form.get_by_label("完成时限").fill(days_from_today(30))
        await form.get_by_role("button", name="添加成果").click()
        await expect(desk.locator("#items")).to_contain_text(unit)

    # The 微协商建议: drafted, previewed as a PDF, published (asked first).
    document = MICRO.documents[0]
    await desk.locator("#documents-title").scroll_into_view_if_needed()
    await desk.get_by_text("生成文件草稿", exact=True).click()
    await desk.get_by_label("文件类型").select_option(label=document.label)
    await desk.get_by_role("button", name="生成草稿").click()
    draft = desk.locator("#documents li", has_text="草稿")
    await expect(draft).to_have_count(1)
    href = await draft.get_by_role("link", name="预览草稿 PDF").get_attribute("href")
    preview = await staff.request.get(f"{live_server}{href}")
    assert preview.headers["content-type"] == "application/pdf"
    assert (await preview.body()).startswith(b"%PDF")
    assert await serious_accessibility_problems(desk) == []  # the staff's topic page
    await draft.get_by_role("button", name=re.compile("^发布")).click()
    await expect(desk.get_by_role("heading", level=1)).to_have_text(f"确认发布{document.label}")
    await desk.get_by_role("button", name=f"确认发布{document.label}").click()
    await expect(desk.locator("#documents li").first).to_contain_text("有效")
    await _fire(desk, PATH[3])

    # Progress on each item, reported from the page.
    for n in range(2):
        item = desk.locator("#items li").nth(n)
        await expect(item.get_by_label("进展情况")).to_be_visible()
        await item.get_by_label("进展情况").fill("已完成，验收合格。")
        await item.get_by_label("完成比例").fill("100")
        await item.get_by_label("已全部完成").check()
        await item.get_by_role("button", name="保存进展").click()
        await expect(desk.locator("#items li").nth(n)).to_contain_text("已完成")

    # The representative rates, from their list.
    await phone.goto(f"{live_server}/me")
    await expect(phone.locator("#my-topics li", has_text=keyword)).to_contain_text("请评价落实情况")
    await phone.locator("#my-topics").get_by_role("link", name=re.compile(keyword)).click()
    await phone.get_by_label("满意", exact=True).check()
    await phone.get_by_role("button", name="提交评价").click()
    await expect(phone).to_have_url(re.compile(r"\?saved=satisfaction#saved$"))

    # Staff close it (it cannot be undone: asked first).
    await desk.reload()
    await desk.get_by_role("button", name=f"{_step_to(PATH[4])}（需确认）", exact=True).click()
    await expect(desk.get_by_role("heading", level=1)).to_have_text(f"确认{_step_to(PATH[4])}")
    await desk.get_by_role("button", name=f"确认{_step_to(PATH[4])}").click()
    await _current_step(desk, PATH[4])
    for context in (liaison, representative, staff):
        await context.close()
