"""Issue 25: nothing on a phone scrolls sideways. At 360 px, in standard and in large
mode (大字模式), every signed-in page of every role fits the screen: the document's
scrollWidth never exceeds the viewport (before: 468-477 px in large mode, the header's
name and role did not wrap). Wide tables scroll inside a box that says so; the open-data
field meanings stack; /verify keeps dates and numbers whole."""

from __future__ import annotations

import re

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.api.test_documents import create, publish
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import LARGE_TEXT_CHECK, OFFICE, PHONE, signed_in
from tests.world import World, new_township, topic_in_state, unique

WIDTH = """() => {
  const view = window.innerWidth;
  const out = [...document.querySelectorAll('body *')].filter(
    el => el.getBoundingClientRect().right > view + 0.5 && !el.closest('.table-scroll'))
    .map(el => el.tagName.toLowerCase() + '.' + el.className + ' "' + (el.innerText || '').slice(0, 20) + '"');
  return {scroll: document.documentElement.scrollWidth, view, out: out.slice(0, 3)};
}"""


async def set_mode(context: BrowserContext, live_server: str, size: str) -> None:
    await context.add_cookies([{"name": "hsl_text", "value": size, "url": live_server}])


async def too_wide(page: Page, url: str) -> str | None:
    response = await page.goto(url)
    assert response is not None and response.status < 400, url
    measured = await page.evaluate(WIDTH)
    if measured["scroll"] > measured["view"]:
        return f"{url}: {measured['scroll']} px > {measured['view']} px ({measured['out']})"
    return None


async def test_no_signed_in_page_scrolls_sideways_at_360_in_either_mode(
    live_server: str, world: World, browser: Browser
) -> None:
    t = world.a
    proposed = await topic_in_state(t, "proposed")
    feedback = await topic_in_state(t, "feedback")
    common = ["/", "/notices", "/statistics", "/open-data/", "/me/password"]
    topics = [f"/topics/{proposed['id']}", f"/topics/{feedback['id']}"]
    pages = [
        (t["representative"], ["/me", *topics, *common]),
        (t["liaison"], ["/me", "/topics/new", *topics, *common]),
        (t["staff"], ["/me", *topics, *common]),
        (
            t["admin"],
            ["/admin", "/admin/accounts", "/admin/import", "/admin/security-log", *common],
        ),
        (world.supervisor, ["/county", f"/county/townships/{t.id}", *topics, *common]),
    ]
    problems = []
    for actor, urls in pages:
        context = await signed_in(browser, live_server, actor)
        page = await context.new_page()
        for size in ("normal", "large"):
            await set_mode(context, live_server, size)
            for url in urls:
                problem = await too_wide(page, live_server + url)
                if problem:
                    problems.append(f"{actor.user['role']} {size} {problem}")
        await context.close()
    assert problems == [], "\n".join(problems)


WHOLE = """() => {
  // Every date (2026年12月4日) and number in the verification list stays on one line
  // (a 64-character hash aside: it wraps anywhere rather than widen the page).
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector('main dl'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('.hash')) continue;  // a hash may break anywhere
    for (const m of node.textContent.matchAll(/\\d{4}年\\d{1,2}月\\d{1,2}日|\\d+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""


async def test_verify_keeps_dates_and_numbers_whole_in_large_mode(
    live_server: str, world: World, browser: Browser
) -> None:
    staff = world.a["staff"]
    feedback = await topic_in_state(world.a, "feedback")
    notice = await publish(staff, (await create(staff, feedback["id"], "resolution_notice"))["id"])
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    for size in ("normal", "large"):
        await set_mode(context, live_server, size)
        await page.goto(f"{live_server}/verify/{notice['id']}")
        await expect(page.locator("main dl")).to_be_visible()
        assert await page.evaluate(WHOLE) == [], size
        measured = await page.evaluate(WIDTH)
        assert measured["scroll"] <= PHONE["width"], (size, measured)
    await context.close()


async def test_a_wide_table_says_it_scrolls_and_open_data_fields_stack(
    live_server: str, world: World, browser: Browser
) -> None:
    staff = await signed_in(browser, live_server, world.a["staff"])
    page = await staff.new_page()
    for size in ("normal", "large"):
        await set_mode(staff, live_server, size)
        # The comparison of townships is wider than a phone: a hint and a shadow say so.
        await page.goto(f"{live_server}/statistics")
        box = page.locator("#by-township .table-scroll")
        wider = await box.evaluate("b => b.scrollWidth > b.clientWidth")
        assert wider, size
        await expect(box).to_have_class(re.compile(r"\boverflowing\b"))
        hint = page.locator("#by-township .scroll-hint")
        await expect(hint).to_be_visible()
        await expect(hint).to_contain_text("左右滑动查看")
        shadow = await box.evaluate("b => getComputedStyle(b).boxShadow")
        assert shadow != "none", size
        # A table that fits has no hint.
        narrow = page.locator(".table-scroll:not(.overflowing)").first
        await expect(narrow).to_have_count(1)
        # Open data: each field's meaning is on the screen, under its name.
        await page.goto(f"{live_server}/open-data/")
        rows = page.locator("table.fields tbody tr")
        assert await rows.count() > 3
        for n in range(3):
            row = rows.nth(n)
            name = await row.locator("th").bounding_box()
            meaning = await row.locator("td.meaning").bounding_box()
            assert name and meaning
            assert meaning["x"] >= 0 and meaning["x"] + meaning["width"] <= PHONE["width"], size
            assert meaning["y"] >= name["y"] + name["height"] - 1, size  # below, not beside
    await staff.close()


MARKER_ROOM = """() => {
  // The room left of each history entry against the width of its number (10., 11., ...).
  const ol = document.querySelector('ol.timeline');
  const items = ol.querySelectorAll(':scope > li');
  const canvas = document.createElement('canvas').getContext('2d');
  const style = getComputedStyle(ol);
  canvas.font = `${style.fontSize} ${style.fontFamily}`;
  const needed = canvas.measureText(`${items.length}. `).width;
  const aside = ol.closest('aside').getBoundingClientRect();
  const room = items[items.length - 1].getBoundingClientRect().left - aside.left;
  return {count: items.length, needed, room};
}"""


async def test_history_numbers_of_two_digits_are_not_clipped(
    live_server: str, world: World, browser: Browser
) -> None:
    feedback = await topic_in_state(world.a, "feedback")
    staff = await signed_in(browser, live_server, world.a["staff"], viewport=OFFICE)
    page = await staff.new_page()
    await page.goto(f"{live_server}/topics/{feedback['id']}")
    measured = await page.evaluate(MARKER_ROOM)
    assert measured["count"] >= 10, measured
    assert measured["room"] >= measured["needed"], measured
    await staff.close()


async def test_the_suggestion_and_plan_pages_fit_360_in_either_mode_and_pass_axe(
    live_server: str, world: World, browser: Browser
) -> None:
    """Issue 27's pages: the public form, list and a screened suggestion; a member's
    tabs and a pending suggestion; the office's queue, its view and the plan editor;
    the plans. No sideways scroll at 360 px in either mode; axe finds nothing serious;
    large mode's sizes, targets and contrast hold."""
    t = await new_township(world, "建议宽度镇")
    staff = t["staff"]
    filed = []
    for _ in range(2):
        answer = await staff.post(
            "/api/v1/suggestions",
            {
                "title": unique("村口路灯不亮，夜间出行不便"),
                "content": "三盏路灯坏了一个月。联系电话13800001111。",
                "village_id": t.villages[0]["id"],
                "submitter_name": "王小明",
                "submitter_phone": "13900002222",
            },
        )
        assert answer.status_code == 201, answer.text
        filed.append(answer.json()["id"])
    screened, pending = filed
    answer = await staff.post(
        f"/api/v1/suggestions/{screened}/screening",
        {"decision": "decline", "reason": "不属于本村（社区）公共事务、仅涉及个人诉求"},
    )
    assert answer.status_code == 200, answer.text
    plan = await staff.post(
        "/api/v1/plans",
        {
            "year": 2027,
            "items": [
                {"title": "村道硬化", "quarter": 2, "workflow": "micro", "lead_unit": "镇交通办"}
            ],
        },
    )
    assert plan.status_code == 201, plan.text
    plan_id = plan.json()["id"]
    common = ["/suggestions", "/suggestions/new", f"/suggestions/{screened}", "/plans"]
    pages = [
        (None, [*common, f"/suggestions/new?village={t.villages[0]['id']}"]),
        (t["representative"], ["/me", "/suggestions?tab=pending", f"/suggestions/{pending}"]),
        (
            staff,
            [
                "/suggestions/office",
                f"/suggestions/{pending}",
                "/plans/new?year=2027",
                f"/plans/{plan_id}",
            ],
        ),
    ]
    problems = []
    for actor, urls in pages:
        if actor is None:
            context = await browser.new_context(viewport=PHONE, locale="zh-CN")
        else:
            context = await signed_in(browser, live_server, actor)
        page = await context.new_page()
        for size in ("normal", "large"):
            await set_mode(context, live_server, size)
            for url in urls:
                problem = await too_wide(page, live_server + url)
                if problem:
                    problems.append(f"{size} {problem}")
                if size == "normal":
                    found = await serious_accessibility_problems(page)
                    if found:
                        problems.append(f"axe {url}: {found}")
                else:  # 适老化: text, targets and contrast as large mode wants them
                    found = await page.evaluate(LARGE_TEXT_CHECK)
                    if found:
                        problems.append(f"large text {url}: {found}")
        await context.close()
    assert problems == [], "\n".join(problems)
