"""What a representative reads (issue 13, item 7): when opinions close, never the
office's own time limits; a missing choice says 请选择 and stands in its own box."""

from __future__ import annotations

from html import unescape

from litestar import Litestar

from tests.api.test_sessions_end import page_client
from tests.world import World, new_township, open_topic


async def test_a_representative_sees_when_opinions_close_not_staff_deadlines(
    world: World, app: Litestar
) -> None:
    town = await new_township(world, "意见镇")
    topic = await open_topic(town, village_id=town.villages[0]["id"])
    rep = await page_client(app, town["representative"].user["username"])
    staff = await page_client(app, town["staff"].user["username"])

    seen = unescape((await rep.get(f"/topics/{topic['id']}")).text)
    assert "意见征集至" in seen
    assert "期限" not in seen and "完成调研" not in seen
    mine = unescape((await rep.get("/me?tab=todo")).text)
    assert "意见征集至" in mine and "期限" not in mine

    office = unescape((await staff.get(f"/topics/{topic['id']}")).text)
    assert "完成调研期限" in office and "意见征集至" not in office

    # No stance chosen: 请选择一项, inside the stance box (not above the next field).
    answer = await rep.post(f"/topics/{topic['id']}/records/opinion", data={"content": "路灯太暗"})
    assert answer.status_code == 422
    page = unescape(answer.text)
    box = page.split("<legend>态度</legend>", 1)[1].split("</fieldset>", 1)[0]
    assert "请选择一项" in box and 'id="opinion-stance-error"' in box
    assert 'aria-describedby="opinion-stance-error"' in page
