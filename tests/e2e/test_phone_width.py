"""Issue 25: nothing on a phone scrolls sideways. At 360 px, in standard and in large
mode (大字模式), every signed-in page of every role fits the screen: the document's
scrollWidth never exceeds the viewport (before: 468-477 px in large mode, the header's
name and role did not wrap). Wide tables scroll inside a box that says so; the open-data
field meanings stack; /verify keeps dates and numbers whole."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.api.test_documents import create, publish
from tests.e2e.pages import PHONE, signed_in
from tests.world import World, topic_in_state

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
