"""A township's settings of villagers' suggestions (issue 27, I3): the threshold
divisors, the screening working days and the decline grounds, and a village's
registered villagers — set by the administrator through the API and the admin page,
each change logged; anyone else is refused."""

from __future__ import annotations

from litestar import Litestar

from deliberation.suggestions.threshold import DEFAULT_DECLINE_GROUNDS
from tests.api.test_sessions_end import page_client
from tests.world import World, new_township


async def test_the_administrator_sets_the_threshold_and_the_grounds(world: World) -> None:
    t = await new_township(world, "设置镇")
    path = f"/api/v1/townships/{t.id}"
    r = await world.admin.patch(
        path,
        {
            "threshold_representatives_divisor": 4,
            "screening_working_days": 15,
            "decline_grounds": ["  无法核实  ", "无法核实", "重复提出"],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["threshold_representatives_divisor"], body["threshold_villagers_divisor"]) == (
        4,
        10,
    )
    assert body["screening_working_days"] == 15
    assert body["decline_grounds"] == ["无法核实", "重复提出"]
    log = (
        await world.admin.get(
            "/api/v1/security-log", params={"kind": "township.suggestion_settings"}
        )
    ).json()
    assert any("审核期限（工作日） → 15" in e["detail"] for e in log["items"])
    # Out of range: refused, nothing changed.
    for bad in ({"threshold_villagers_divisor": 0}, {"screening_working_days": 61}):
        r = await world.admin.patch(path, bad)
        assert r.status_code == 422, r.text
    # An empty list restores the shipped grounds.
    r = await world.admin.patch(path, {"decline_grounds": []})
    assert r.json()["decline_grounds"] == list(DEFAULT_DECLINE_GROUNDS)
    assert r.json()["screening_working_days"] == 15
    # Only administrators.
    assert (await t["staff"].patch(path, {"screening_working_days": 3})).status_code == 403


async def test_registered_villagers_are_set_and_cleared(world: World) -> None:
    t = await new_township(world, "人数镇")
    path = f"/api/v1/villages/{t.villages[0]['id']}"
    r = await world.admin.patch(path, {"registered_villagers": 143})
    assert r.status_code == 200 and r.json()["registered_villagers"] == 143, r.text
    listed = (await world.admin.get("/api/v1/villages")).json()
    assert next(v for v in listed if v["id"] == t.villages[0]["id"])["registered_villagers"] == 143
    r = await world.admin.patch(path, {"registered_villagers": None})
    assert r.status_code == 200 and r.json()["registered_villagers"] is None
    assert (await world.admin.patch(path, {"registered_villagers": 0})).status_code == 422
    assert (await t["staff"].patch(path, {"registered_villagers": 9})).status_code == 403


async def test_the_admin_page_sets_them_with_each_problem_by_its_field(
    world: World, app: Litestar
) -> None:
    t = await new_township(world, "页面镇")
    admin = await page_client(app, world.admin.user["username"])
    page = await admin.get("/admin")
    assert f'action="/admin/townships/{t.id}/suggestions"' in page.text
    form = {
        "threshold_representatives_divisor": "5",
        "threshold_villagers_divisor": "8",
        "screening_working_days": "12",
        "decline_grounds": "无法核实\n\n重复提出\n",
    }
    r = await admin.post(f"/admin/townships/{t.id}/suggestions", data=form)
    assert r.status_code == 303, r.text
    page = await admin.get("/admin")
    assert "8分之一以上" in page.text and "12个工作日内审核" in page.text
    assert "无法核实\n重复提出" in page.text
    r = await admin.post(
        f"/admin/townships/{t.id}/suggestions", data={**form, "screening_working_days": "0"}
    )
    assert r.status_code == 422
    assert f'id="suggestions-{t.id}-screening_working_days-error"' in r.text
    village = t.villages[1]["id"]
    r = await admin.post(
        f"/admin/villages/{village}/registered-villagers", data={"registered_villagers": "143"}
    )
    assert r.status_code == 303
    assert "登记村民人数（143人）" in (await admin.get("/admin")).text
    r = await admin.post(
        f"/admin/villages/{village}/registered-villagers", data={"registered_villagers": ""}
    )
    assert r.status_code == 303
    staff = await page_client(app, t["staff"].user["username"])
    r = await staff.post(f"/admin/townships/{t.id}/suggestions", data=form)
    assert r.status_code == 403
