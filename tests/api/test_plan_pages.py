"""The annual plan on the pages (issue 27, I6): the office drafts it in the editor
(rows added like a roster's, with and without script), a row naming a suggestion that
does not exist or missing its lead unit is refused, the draft is the office's alone
until published; then everyone reads it by quarter with its delivery and its PDF."""

from __future__ import annotations

from html import unescape

from litestar import Litestar

from tests.api.test_sessions_end import page_client
from tests.api.test_suggestion_pages import anonymous, file_one, page
from tests.world import World, new_township, unique


def rows(*items: tuple[str, str, str, str, str]) -> dict[str, list[str]]:
    return {
        "item_title": [i[0] for i in items],
        "item_quarter": [i[1] for i in items],
        "item_workflow": [i[2] for i in items],
        "item_lead_unit": [i[3] for i in items],
        "item_suggestion": [i[4] for i in items],
    }


async def test_the_office_drafts_and_publishes_a_plan_the_public_reads_by_quarter(
    app: Litestar, world: World
) -> None:
    t = await new_township(world, "计划页面镇")
    staff = await page_client(app, t["staff"].user["username"])
    editor = await page(staff, "/plans/new?year=2027")
    assert editor.count('name="item_title"') == 3 and 'hx-get="/plans/row?n=4"' in editor
    # 再加一行 without script: the form comes back with one more row, as typed.
    more = await staff.post(
        "/plans/new",
        data={"year": "2027", "more": "1", **rows(("修路", "2", "micro", "镇交通办", ""))},
    )
    assert more.status_code == 200
    assert more.text.count('name="item_title"') == 2 and 'value="修路"' in more.text
    part = await page(staff, "/plans/row?n=5")
    assert 'id="item-title-5"' in part and 'hx-get="/plans/row?n=6"' in part

    suggestion_id, reference = await file_one(app, t)
    wrong = await staff.post(
        "/plans/new",
        data={"year": "2027", **rows(("修路", "2", "micro", "镇交通办", "JY-1999-0001"))},
    )
    assert wrong.status_code == 422 and "没有编号为 JY-1999-0001 的建议" in unescape(wrong.text)
    unit = await staff.post(
        "/plans/new", data={"year": "2027", **rows(("修路", "2", "micro", "", ""))}
    )
    assert unit.status_code == 422 and "第 1 项" in unescape(unit.text)

    title = unique("村道硬化")
    saved = await staff.post(
        "/plans/new",
        data={
            "year": "2027",
            **rows(
                (title, "2", "micro", "镇交通办", reference),
                ("河道清淤", "3", "micro", "镇水利站", ""),
            ),
        },
    )
    assert saved.status_code == 303, saved.text[-600:]
    url = saved.headers["location"]
    draft = await page(staff, url)
    assert 'id="publish-form"' in draft and "第二季度" in draft and "第三季度" in draft
    assert title in draft and "未启动" in draft and reference in draft
    # A draft is the office's: the public does not see it.
    await page(await anonymous(app), url, 404)
    representative = await page_client(app, t["representative"].user["username"])
    await page(representative, "/plans/new", 403)

    published = await staff.post(f"{url}/publish", data={})
    assert published.status_code == 303, published.text[-600:]
    public = await page(await anonymous(app), url)
    assert title in public and 'id="plan-document"' in public and "/verify/" in public
    assert 'id="publish-form"' not in public
    listed = await page(await anonymous(app), "/plans")
    assert url in listed
    assert suggestion_id > 0
