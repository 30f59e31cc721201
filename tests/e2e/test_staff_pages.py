"""Staff pages without JavaScript (every core form works by a plain post), their bad
paths (the problem next to the field, nothing saved), and the error pages that say
what to do."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, expect

from tests.e2e.pages import OFFICE, signed_in
from tests.world import World, fire, satisfy, topic_in_state


async def _meeting_topic(world: World) -> dict[str, Any]:
    """A topic in ``meeting`` with a representative's opinion waiting for an answer."""
    topic = await topic_in_state(world.a, "site_consultation", village_id=world.a.villages[0]["id"])
    r = await world.a["representative"].post(
        f"/api/v1/topics/{topic['id']}/opinions",
        {"content": "建议错峰施工", "stance": "suggestion"},
    )
    assert r.status_code == 201, r.text
    await satisfy(world.a, topic, "site_consultation_recorded")
    await satisfy(world.a, topic, "meeting_scheduled")
    assert (await fire(world.a["staff"], topic, "convene_meeting")).status_code == 200
    return topic


async def test_minutes_and_answers_work_without_javascript(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await _meeting_topic(world)
    context = await signed_in(
        browser, live_server, world.a["staff"], viewport=OFFICE, javascript=False
    )
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    minutes = page.locator("form[id^=minutes-]")
    await minutes.get_by_label("会议情况").fill("各方充分发表意见。")
    # Nobody on the roster: refused, the problem next to the roster, the text kept.
    await minutes.get_by_role("button", name="保存会议纪要").click()
    minutes = page.locator("form[id^=minutes-]")
    await expect(minutes.locator("[id$=-attendees-error]")).to_have_text(
        "请至少填写一位参会人员的姓名"
    )
    await expect(minutes.locator("[id$=-decisions-error]")).to_have_text("请填写此项")
    await expect(minutes.get_by_label("会议情况")).to_have_value("各方充分发表意见。")
    await expect(minutes.locator(".roster-row")).to_have_count(3)
    # "再加一行" without JavaScript: the form comes back as it was, with more rows.
    await minutes.get_by_label("第 1 位 姓名").fill("陈主席")
    await minutes.get_by_role("button", name="再加一行").click()
    minutes = page.locator("form[id^=minutes-]")
    await expect(minutes.locator(".roster-row")).to_have_count(6)
    await expect(minutes.get_by_label("第 1 位 姓名")).to_have_value("陈主席")
    await expect(minutes.get_by_label("会议情况")).to_have_value("各方充分发表意见。")
    await minutes.get_by_label("第 2 位 姓名").fill("周会计")
    await minutes.locator(".roster-row").nth(1).get_by_label("参会情况").select_option(label="请假")
    await minutes.get_by_label("议定事项").fill("一、分两段施工。")
    await minutes.get_by_role("button", name="保存会议纪要").click()
    await expect(page.locator("#meetings li")).to_contain_text("出席 1 人 · 请假 1 人 · 列席 0 人")
    meetings = (await world.a["staff"].get(f"/api/v1/topics/{topic['id']}/meetings")).json()
    assert [(a["name"], a["attendance"]) for a in meetings[0]["attendees"]] == [
        ("陈主席", "present"),
        ("周会计", "on_leave"),
    ]
    # Answering an opinion by a plain post: no choice made is refused next to the field.
    opinion = page.locator("#opinions li").first
    await opinion.get_by_label("答复说明").fill("采纳。")
    await opinion.get_by_role("button", name="保存答复").click()
    opinion = page.locator("#opinions li").first
    await expect(opinion.locator(".field-error")).to_contain_text("请选择一项")
    await expect(opinion.get_by_label("答复说明")).to_have_value("采纳。")
    await opinion.get_by_label("采纳情况").select_option(label="部分采纳")
    await opinion.get_by_role("button", name="保存答复").click()
    await expect(page.locator("#opinions li").first.locator(".answer")).to_contain_text("部分采纳")
    await context.close()


async def test_bad_publish_and_revoke_keep_the_document_as_it_was(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await topic_in_state(world.a, "resolution")
    context = await signed_in(browser, live_server, world.a["staff"])
    page = await context.new_page()
    await page.set_viewport_size(OFFICE)
    await page.goto(f"{live_server}/topics/{topic['id']}")
    await page.get_by_role("button", name="生成协商成果公示草稿").click()
    draft = page.locator("#documents li").first
    # The browser checks the range itself; an older one that does not gets the
    # server's answer next to the field.
    await draft.locator("form").evaluate("form => form.noValidate = true")
    await draft.get_by_label("公示天数").fill("61")
    await draft.get_by_role("button", name="发布协商成果公示").click()
    draft = page.locator("#documents li").first
    await expect(draft.locator(".field-error")).to_contain_text("不能大于 60")
    await expect(draft.get_by_label("公示天数")).to_have_value("61")
    await expect(draft.locator(".status")).to_have_text("草稿")
    await draft.get_by_label("公示天数").fill("7")
    await draft.get_by_role("button", name="发布协商成果公示").click()
    # Asked first, with the 7 working days; going back publishes nothing.
    await expect(page.locator("#facts")).to_contain_text("7个工作日")
    await page.get_by_role("link", name="返回议题，不做更改").click()
    await expect(page.locator("#documents li").first.locator(".status")).to_have_text("草稿")
    await page.locator("#documents li").first.get_by_label("公示天数").fill("7")
    await page.locator("#documents li").first.get_by_role("button", name="发布协商成果公示").click()
    await page.get_by_role("button", name="确认发布协商成果公示").click()
    published = page.locator("#documents li").first
    await expect(published.locator(".status")).to_have_text("有效")
    # Revoking asks first too, and wants its reason there.
    await published.get_by_role("button", name="撤销此文件（需确认）").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("确认撤销文件")
    await page.get_by_role("button", name="确认撤销").click()  # no reason given
    await expect(page.locator(".field-error")).to_contain_text("请填写此项")
    await page.get_by_label("撤销原因").fill("成果内容有误,重新印发")
    await page.get_by_role("button", name="确认撤销").click()
    await expect(page.locator("#documents li").first.locator(".status")).to_have_text("已撤销")
    await page.locator("#documents li").first.get_by_role("link").first.click()
    await expect(page.locator(".status")).to_contain_text("已撤销")
    await expect(page.get_by_text("成果内容有误")).to_be_visible()
    await context.close()


async def test_the_error_pages_say_what_to_do(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await _meeting_topic(world)
    context = await signed_in(browser, live_server, world.a["representative"])
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    # Staff forms are not offered to a representative ...
    await expect(page.get_by_role("button", name="保存会议纪要")).to_have_count(0)
    await expect(page.get_by_role("button", name="生成草稿")).to_have_count(0)
    # ... and a forged one, with a valid CSRF token, is refused with a 403 page.
    meetings = (await world.a["staff"].get(f"/api/v1/topics/{topic['id']}/meetings")).json()
    token = await page.locator("input[name=_csrf_token]").first.get_attribute("value")
    refused = await page.request.post(
        f"{live_server}/topics/{topic['id']}/records/minutes/{meetings[0]['id']}",
        form={
            "_csrf_token": token or "",
            "summary": "伪造",
            "decisions": "伪造",
            "attendee_name": "某人",
        },
        headers={"Accept": "text/html"},
    )
    assert refused.status == 403
    assert "您的角色不能添加会议纪要" in await refused.text()
    after = (await world.a["staff"].get(f"/api/v1/topics/{topic['id']}/meetings")).json()
    assert after[0]["minutes_recorded"] is False
    # A form whose CSRF token went missing (an old tab) gets a page, not JSON.
    await page.evaluate(
        "document.querySelectorAll('input[name=_csrf_token]').forEach(e => e.remove())"
    )
    await page.get_by_role("button", name="提交意见").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("无权操作")
    await expect(page.get_by_role("alert")).to_contain_text("页面已过期")
    # An address that does not exist.
    missing = await page.goto(f"{live_server}/topics/{topic['id']}/nothing-here")
    assert missing is not None and missing.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("未找到")
    await expect(page.get_by_role("link", name="查看公开栏")).to_be_visible()
    await context.close()


async def test_a_meeting_without_a_time_is_refused_next_to_the_field(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await topic_in_state(world.a, "site_consultation")
    context = await signed_in(browser, live_server, world.a["staff"])
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    await page.locator("#meeting-place").fill("镇政府会议室")
    await page.get_by_role("button", name="安排会议").click()
    await expect(page.locator("#meeting-scheduled_at-error")).to_have_text("请选择会议的日期和时间")
    await expect(page.locator("#meeting-host-error")).to_have_text("请填写此项")
    await expect(page.locator("#meeting-place")).to_have_value("镇政府会议室")
    await expect(page.get_by_label("会议时间")).to_have_attribute("aria-invalid", "true")
    meetings = (await world.a["staff"].get(f"/api/v1/topics/{topic['id']}/meetings")).json()
    assert meetings == []
    await page.get_by_label("会议时间").fill("2026-12-09T14:30")
    await page.get_by_label("主持人").fill("陈主席")
    await page.get_by_role("button", name="安排会议").click()
    await expect(page.locator("#meetings li")).to_contain_text("2026-12-09 14:30 · 镇政府会议室")
    meetings = (await world.a["staff"].get(f"/api/v1/topics/{topic['id']}/meetings")).json()
    assert [m["scheduled_at"] for m in meetings] == ["2026-12-09T06:30:00Z"]
    await context.close()


async def test_a_form_naming_another_topics_record_changes_nothing(
    live_server: str, world: World, browser: Browser
) -> None:
    """A form address pairs a topic with one of its records; a record of another topic
    (same township) is not found, nothing is saved and no page says it was."""
    here = await _meeting_topic(world)
    there = await _meeting_topic(world)
    their_meeting = (await world.a["staff"].get(f"/api/v1/topics/{there['id']}/meetings")).json()[0]
    their_opinion = (await world.a["staff"].get(f"/api/v1/topics/{there['id']}/opinions")).json()[0]
    context = await signed_in(browser, live_server, world.a["staff"])
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{here['id']}")
    token = await page.locator("input[name=_csrf_token]").first.get_attribute("value") or ""
    minutes = await page.request.post(
        f"{live_server}/topics/{here['id']}/records/minutes/{their_meeting['id']}",
        form={"_csrf_token": token, "summary": "错", "decisions": "错", "attendee_name": "某人"},
        headers={"Accept": "text/html"},
        max_redirects=0,
    )
    assert minutes.status == 404 and "该记录不属于这个议题" in await minutes.text()
    answer = await page.request.post(
        f"{live_server}/topics/{here['id']}/records/opinion_answer/{their_opinion['id']}",
        form={"_csrf_token": token, "adoption": "adopted", "reason": "错"},
        headers={"HX-Request": "true"},
    )
    assert answer.status == 404 and answer.headers.get("hx-retarget") == "body"
    after = (await world.a["staff"].get(f"/api/v1/topics/{there['id']}/meetings")).json()[0]
    assert after["minutes_recorded"] is False
    opinion = (await world.a["staff"].get(f"/api/v1/topics/{there['id']}/opinions")).json()[0]
    assert opinion["adoption"] is None
    await context.close()


async def test_an_htmx_answer_with_an_expired_token_shows_the_error_page(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await _meeting_topic(world)
    context = await signed_in(browser, live_server, world.a["staff"])
    page = await context.new_page()
    await page.set_viewport_size(OFFICE)
    await page.goto(f"{live_server}/topics/{topic['id']}")
    await page.evaluate(
        "document.querySelectorAll('input[name=_csrf_token]').forEach(e => e.remove())"
    )
    opinion = page.locator("#opinions li").first
    await opinion.get_by_label("采纳情况").select_option(label="已采纳")
    await opinion.get_by_label("答复说明").fill("采纳")
    await opinion.get_by_role("button", name="保存答复").click()
    # The whole page becomes the error page (not raw JSON inside the opinion's box).
    await expect(page.get_by_role("heading", level=1)).to_have_text("无权操作")
    await expect(page.get_by_role("alert")).to_contain_text("页面已过期")
    await expect(page.locator("#opinions")).to_have_count(0)
    await context.close()
