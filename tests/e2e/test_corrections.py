"""更正 on the topic page: offered on each record the person may correct, with the
reason; the earlier revision kept; published minutes corrected by a new draft."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.api.test_documents import create, publish, text_of
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import OFFICE, signed_in
from tests.world import World, topic_in_state


async def test_staff_correct_a_record_with_a_reason(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await topic_in_state(world.a, "meeting", village_id=world.a.villages[0]["id"])
    tid = topic["id"]
    rep = world.a["representative"]
    opinion = await rep.post(
        f"/api/v1/topics/{tid}/opinions", {"content": "护栏要加高", "stance": "suggestion"}
    )
    assert opinion.status_code == 201
    record = (await world.a["staff"].get(f"/api/v1/topics/{tid}/investigations")).json()[0]

    context = await signed_in(browser, live_server, world.a["staff"], viewport=OFFICE)
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{tid}")
    item = page.locator("#records li").first
    # Staff may correct the investigation, the site consultation and the meeting, not
    # the representative's opinion.
    await expect(page.locator("#records details.correction")).to_have_count(2)
    await expect(page.locator("#opinions details.correction")).to_have_count(0)
    await item.locator("summary", has_text="更正").click()
    await item.get_by_label("地点").fill("三组东头")
    await item.get_by_role("button", name="保存更正").click()
    # The reason is required: said next to its field, nothing saved.
    await expect(page.locator(".field-error").first).to_contain_text("请填写")
    assert (await world.a["staff"].get(f"/api/v1/investigations/{record['id']}/revisions")).json()[
        -1
    ]["revision"] == 1
    assert await serious_accessibility_problems(page) == []
    item = page.locator("#records li").first
    await item.get_by_label("更正理由").fill("地点记错了")
    await item.get_by_role("button", name="保存更正").click()
    await expect(page.get_by_role("status")).to_contain_text("原来的记录作为历史版本保留")
    await expect(page.locator("#records li").first).to_contain_text("三组东头")
    await expect(page.locator("#records li").first).to_contain_text("已更正 1 次")
    await expect(page.locator("ol.timeline")).to_contain_text("更正调研记录")
    await expect(page.locator("ol.timeline")).to_contain_text("地点记错了")
    revisions = (
        await world.a["staff"].get(f"/api/v1/investigations/{record['id']}/revisions")
    ).json()
    assert [r["content"]["place"] for r in revisions] == [record["place"], "三组东头"]
    await context.close()

    # The representative is offered 更正 on their own opinion only.
    phone = await signed_in(browser, live_server, rep)
    page = await phone.new_page()
    await page.goto(f"{live_server}/topics/{tid}")
    await expect(page.locator("#opinions details.correction")).to_have_count(1)
    await expect(page.locator("#records details.correction")).to_have_count(0)
    await phone.close()


async def test_published_minutes_say_a_new_document_will_replace_them(
    live_server: str, world: World, browser: Browser
) -> None:
    topic = await topic_in_state(world.a, "resolution")
    staff = world.a["staff"]
    await publish(staff, (await create(staff, topic["id"], "minutes"))["id"])
    context = await signed_in(browser, live_server, staff, viewport=OFFICE)
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    meeting = page.locator("#meetings li").first
    await meeting.locator("summary", has_text="更正会议纪要").click()
    await expect(meeting.get_by_role("note")).to_contain_text("印发的文件不会改变")
    await meeting.get_by_label("议定事项").fill("明确牵头单位、时限和验收方式")
    await meeting.get_by_label("更正理由").fill("漏记验收方式")
    await meeting.get_by_role("button", name="保存更正").click()
    await expect(page.get_by_role("status")).to_contain_text("已生成新的会议纪要草稿")
    documents = (await staff.get(f"/api/v1/topics/{topic['id']}/documents")).json()
    assert [(d["kind"], d["status"]) for d in documents] == [
        ("minutes", "published"),
        ("minutes", "draft"),
    ]
    await context.close()


async def test_a_draft_made_before_a_correction_shows_stale_and_publishes_the_correction(
    live_server: str, world: World, browser: Browser
) -> None:
    """Issue 23: a notice drafted with 48盏, the result then corrected to 60盏: the topic
    page marks the draft 已过时, the confirmation says it will be made again, and the
    posted notice says 60盏."""
    topic = await topic_in_state(world.a, "resolution")
    staff = world.a["staff"]
    items = (await staff.get(f"/api/v1/topics/{topic['id']}/resolution-items")).json()
    r = await staff.patch(
        f"/api/v1/resolution-items/{items[0]['id']}",
        {"content": "在村主干道安装路灯48盏", "reason": "写明数量"},
    )
    assert r.status_code == 200, r.text
    draft = await create(staff, topic["id"], "resolution_notice")
    r = await staff.patch(
        f"/api/v1/resolution-items/{items[0]['id']}",
        {"content": "在村主干道安装路灯60盏", "reason": "会议记录核对后更正数量"},
    )
    assert r.status_code == 200, r.text

    context = await signed_in(browser, live_server, staff, viewport=OFFICE)
    page = await context.new_page()
    await page.goto(f"{live_server}/topics/{topic['id']}")
    entry = page.locator(f"#document-{draft['id']}")
    await expect(entry.locator(".status.stale")).to_have_text("已过时")
    await expect(entry.get_by_role("note")).to_contain_text("发布时将按当前记录重新生成")
    await expect(entry.get_by_role("button", name="按当前记录重新生成草稿")).to_be_visible()
    assert await serious_accessibility_problems(page) == []
    await entry.get_by_role("button", name="发布协商成果公示").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("确认发布协商成果公示")
    await expect(page.locator("main")).to_contain_text("此草稿已过时")
    await page.get_by_role("button", name="确认发布协商成果公示").click()
    await expect(page.get_by_role("status")).to_contain_text("文件已发布")
    await context.close()

    published = await staff.get(f"/api/v1/documents/{draft['id']}")
    assert published.json()["status"] == "published"
    text = text_of((await world.client.get(f"/api/v1/documents/{draft['id']}/pdf")).content)
    assert "60盏" in text and "48盏" not in text
