"""The representative's path and a sense of time (issue 25): 已评价 once rated, 办结 asks
first, confirmations say plainly how to go back, the document select offers only what
the state allows, a 下一步 box for representatives, and how far each limit is."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from litestar import Litestar

from deliberation.workdays import WorkingDays
from tests.api.test_my_list import listed
from tests.api.test_sessions_end import browser, page_client
from tests.world import World, new_township, satisfy, today, topic_in_state


def my_line(html: str, title: str) -> str:
    """The line of /me's list that holds the topic."""
    block = html.split('id="my-topics"', 1)[1].split("</ul>", 1)[0]
    found = [li for li in block.split("<li") if title in li]
    assert found, title
    return unescape(found[0])


async def test_after_rating_the_list_says_rated_not_to_do(world: World, app: Litestar) -> None:
    town = await new_township(world, "评价镇")
    topic = await topic_in_state(town, "feedback")
    rep = await page_client(app, town["representative"].user["username"])
    before = (await rep.get("/me?tab=todo")).text
    assert topic["title"] in listed(before)
    line = my_line(before, topic["title"])
    assert "请评价落实情况" in line
    # The link lands on the rating form.
    assert f'href="/topics/{topic["id"]}#rating-form"' in line

    await satisfy(town, topic, "satisfaction_rated")
    after = (await rep.get("/me?tab=open")).text
    line = my_line(after, topic["title"])
    assert "已评价" in line and "请评价落实情况" not in line
    todo = unescape((await rep.get("/me?tab=todo")).text)
    assert "待办（0）" in todo and topic["title"] not in listed(todo)


async def test_closing_asks_first_and_says_it_cannot_be_undone(world: World, app: Litestar) -> None:
    town = await new_township(world, "办结镇二")
    topic = await topic_in_state(town, "feedback")
    await satisfy(town, topic, "items_completed")
    await satisfy(town, topic, "satisfaction_rated")
    staff = await page_client(app, town["staff"].user["username"])
    page = unescape((await staff.get(f"/topics/{topic['id']}")).text)
    assert "办结（需确认）" in page
    version = str((await town["staff"].get(f"/api/v1/topics/{topic['id']}")).json()["version"])
    form = {"trigger": "close", "version": version, "comment": "全部落实"}
    asked = await staff.post(f"/topics/{topic['id']}/transitions", data=form)
    assert asked.status_code == 200
    shown = unescape(asked.text)
    assert "<h1>确认办结</h1>" in shown and "不能恢复" in shown
    assert "全部落实" in shown  # the comment typed on the topic page is kept
    still = (await town["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
    assert still["state"] == "feedback"
    done = await staff.post(f"/topics/{topic['id']}/transitions", data={**form, "confirmed": "yes"})
    assert done.status_code == 303
    closed = (await town["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
    assert closed["state"] == "closed"


async def test_every_confirmation_goes_back_in_plain_words(world: World, app: Litestar) -> None:
    town = await new_township(world, "返回镇")
    topic = await topic_in_state(town, "proposed")
    staff = await page_client(app, town["staff"].user["username"])
    asked = await staff.post(
        f"/topics/{topic['id']}/transitions",
        data={"trigger": "reject", "version": str(topic["version"])},
    )
    shown = unescape(asked.text)
    assert "<h1>确认不予立项</h1>" in shown
    assert "不不予立项" not in shown
    assert re.search(
        r'<a class="button secondary" href="/topics/\d+">返回议题，不做更改</a>', shown
    )
    liaison = await page_client(app, town["liaison"].user["username"])
    asked = await liaison.post(
        f"/topics/{topic['id']}/transitions",
        data={"trigger": "withdraw", "version": str(topic["version"])},
    )
    assert "返回议题，不做更改" in unescape(asked.text)


def kind_options(html: str) -> list[str]:
    found = re.search(r'<select id="document-kind"[^>]*>(.*?)</select>', html, re.S)
    if found is None:
        return []
    return [v for v in re.findall(r'<option value="([^"]*)"', found.group(1)) if v]


async def test_the_document_select_offers_only_what_the_state_allows(
    world: World, app: Litestar
) -> None:
    town = await new_township(world, "文件镇")
    staff = await page_client(app, town["staff"].user["username"])
    proposed = await topic_in_state(town, "proposed")
    page = unescape((await staff.get(f"/topics/{proposed['id']}")).text)
    assert kind_options(page) == []
    assert "议题当前阶段不能生成文件" in page
    meeting = await topic_in_state(town, "meeting")
    page = (await staff.get(f"/topics/{meeting['id']}")).text
    assert kind_options(page) == ["minutes"]
    feedback = await topic_in_state(town, "feedback")
    page = (await staff.get(f"/topics/{feedback['id']}")).text
    assert kind_options(page) == ["minutes", "resolution_notice", "feedback_report"]


def next_box(html: str) -> str:
    assert 'id="my-next"' in html
    return unescape(html.split('id="my-next"', 1)[1].split("</section>", 1)[0])


async def test_a_representative_sees_what_to_do_first(world: World, app: Litestar) -> None:
    town = await new_township(world, "下一步镇")
    rep = await page_client(app, town["representative"].user["username"])
    asked = await topic_in_state(town, "proposed")
    page = (await rep.get(f"/topics/{asked['id']}")).text
    # At the top: before the first section of the page.
    first = page.index("<section", page.index("<h1"))
    assert page.index('<section aria-labelledby="my-next-title"') == first
    box = next_box(page)
    assert 'href="#opinion-form"' in box and "还剩" in box
    assert 'id="opinion-form"' in page
    my_list = (await rep.get("/me")).text
    assert f'href="/topics/{asked["id"]}#opinion-form"' in my_list

    rating = await topic_in_state(town, "feedback")
    page = (await rep.get(f"/topics/{rating['id']}")).text
    assert 'href="#rating-form"' in next_box(page) and 'id="rating-form"' in page
    await satisfy(town, rating, "satisfaction_rated")
    page = (await rep.get(f"/topics/{rating['id']}")).text
    assert "您已评价" in next_box(page)

    waiting = await topic_in_state(town, "resolution")
    page = (await rep.get(f"/topics/{waiting['id']}")).text
    assert "目前没有需要您办理的事项" in next_box(page)
    # Staff get their own 下一步, not this box.
    staff = await page_client(app, town["staff"].user["username"])
    assert 'id="my-next"' not in (await staff.get(f"/topics/{asked['id']}")).text


async def test_each_limit_says_how_far_it_is(world: World, app: Litestar) -> None:
    town = await new_township(world, "期限镇")
    topic = await topic_in_state(town, "proposed")
    due_on = date.fromisoformat(topic["due_on"])
    left, _ = WorkingDays().count(today(), due_on)
    expected = f"还剩 {left} 个工作日"
    staff = await page_client(app, town["staff"].user["username"])
    page = unescape((await staff.get(f"/topics/{topic['id']}")).text)
    assert f"完成调研期限 {due_on}" in re.sub(r"<[^>]+>", "", page)
    assert expected in page
    # The timeline says how long ago each step was, beside its date.
    timeline = page.split('class="timeline"', 1)[1].split("</ol>", 1)[0]
    assert '<span class="meta ago">今天</span>' in timeline
    assert expected in my_line((await staff.get("/me?tab=open")).text, topic["title"])

    # A result's deadline is a typed date: calendar days.
    carried = await topic_in_state(town, "resolution")
    page = unescape((await staff.get(f"/topics/{carried['id']}")).text)
    item = page.split('id="items"', 1)[1].split("</ul>", 1)[0]
    assert "还剩 30 天" in item


async def test_the_board_and_the_county_say_how_far_too(world: World, app: Litestar) -> None:
    town = await new_township(world, "公示镇")
    staff = town["staff"]
    carried = await topic_in_state(town, "feedback")
    notices = (await staff.get(f"/api/v1/topics/{carried['id']}/documents")).json()
    notice = next(d for d in notices if d["kind"] == "resolution_notice")
    ends = date.fromisoformat(notice["posting_ends_on"])
    left, _ = WorkingDays().count(today(), ends)
    visitor, _ = await browser(app)
    board = unescape((await visitor.get("/notices")).text)
    item = board.split(f'href="/verify/{notice["id"]}"', 1)[1].split("</li>", 1)[0]
    assert f"公示还剩 {left} 个工作日" in item
    office = await page_client(app, staff.user["username"])
    page = unescape((await office.get(f"/topics/{carried['id']}")).text)
    assert f"公示还剩 {left} 个工作日" in page.split(f'id="document-{notice["id"]}"', 1)[1]
    # The page a printed QR code opens says it too, beside the period.
    verify = unescape((await visitor.get(f"/verify/{notice['id']}")).text)
    assert f"公示还剩 {left} 个工作日" in verify.split("<dt>公示期</dt>", 1)[1].split("</dd>", 1)[0]

    proposed = await topic_in_state(town, "proposed")
    due_on = date.fromisoformat(proposed["due_on"])
    left, _ = WorkingDays().count(today(), due_on)
    supervisor = await page_client(app, world.supervisor.user["username"])
    page = unescape((await supervisor.get(f"/county/townships/{town.id}")).text)
    line = page.split(proposed["title"], 1)[1].split("</li>", 1)[0]
    assert f"还剩 {left} 个工作日" in line
