"""Which workflows a township and a village offer (issue 26 item 5; docs/workflows.md,
"Which workflows a township offers"): every loaded one of the place's scope until the
administrator chooses; the administrator sets them with the PATCH routes and the places
page; a topic may be opened only in an offered workflow; ``/api/v1/me`` and the
new-topic page offer exactly those."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar import Litestar

from deliberation import offerings
from deliberation.database import bound_engine
from deliberation.pinning import loaded
from deliberation.tables import SecurityEvent, Topic, Township, Village
from tests.api.offered_workflows import TINY_SUMMARY, VILLAGE_SUMMARY, offerings_folder
from tests.api.test_sessions_end import page_client
from tests.api.test_workflow_pin import _take_out, loaded_later
from tests.cli import run_cli
from tests.world import Township as Place
from tests.world import World, new_township
from workflows.registry import Registry

__all__ = ["loaded_later"]  # the fixture, used by name

STANDARD = "standard（标准协商）"


@pytest.fixture
async def place(world: World, tmp_path: Path, loaded_later: Callable[[Registry], None]) -> Place:
    """A township of its own, with standard, tiny and vtiny loaded."""
    loaded_later(offerings_folder(tmp_path))
    return await new_township(world, "流程镇")


def text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def _township(world: World, place: Place) -> dict[str, object]:
    listed = (await world.admin.get("/api/v1/townships")).json()
    return next(t for t in listed if t["id"] == place.id)


async def _villages(world: World, place: Place) -> list[dict[str, object]]:
    listed = (await world.admin.get("/api/v1/villages")).json()
    return [v for v in listed if v["township_id"] == place.id]


async def test_a_place_offers_every_loaded_workflow_of_its_scope_until_chosen(
    world: World, place: Place
) -> None:
    assert (await _township(world, place))["workflows"] == ["standard", "tiny"]
    assert [v["workflows"] for v in await _villages(world, place)] == [["vtiny"], ["vtiny"]]
    # Its own people read it too (the township list is scoped as before).
    mine = (await place["staff"].get("/api/v1/townships")).json()
    assert [t["workflows"] for t in mine] == [["standard", "tiny"]]


async def test_the_admin_sets_what_a_place_offers_and_bad_keys_are_refused(
    world: World, place: Place
) -> None:
    path = f"/api/v1/townships/{place.id}"
    village = place.villages[0]
    set_ = await world.admin.patch(path, {"workflows": ["tiny", "standard", "tiny"]})
    assert set_.status_code == 200, set_.text
    answer = set_.json()
    assert {k: answer[k] for k in ("id", "name", "workflows")} == {
        "id": place.id,
        "name": place.name,
        "workflows": ["standard", "tiny"],
    }
    only = await world.admin.patch(path, {"workflows": ["standard"]})
    assert only.json()["workflows"] == ["standard"]
    assert (await _township(world, place))["workflows"] == ["standard"]
    logged = await SecurityEvent.select(SecurityEvent.detail).where(
        SecurityEvent.kind == "township.workflows"
    )
    assert f"{place.name}：standard、tiny → standard" in [r["detail"] for r in logged]

    refusals = [
        (path, ["nosuch"], "没有这个工作流程：nosuch"),
        (path, ["standard", "vtiny"], "“村小流程”（vtiny）是村级流程，不能由乡镇提供"),
        (path, [], "乡镇至少要提供一种协商流程"),
        (f"/api/v1/villages/{village['id']}", ["standard"], "是乡镇级流程，不能由村（社区）提供"),
    ]
    for where, keys, message in refusals:
        refused = await world.admin.patch(where, {"workflows": keys})
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["code"] == "validation_error"
        assert [e["field"] for e in problem["errors"]] == ["workflows"]
        assert message in problem["detail"]
    assert (await _township(world, place))["workflows"] == ["standard"]
    assert [v["workflows"] for v in await _villages(world, place)] == [["vtiny"], ["vtiny"]]

    # A village may offer none; a rename keeps what it offers.
    none = await world.admin.patch(f"/api/v1/villages/{village['id']}", {"workflows": []})
    assert none.status_code == 200 and none.json()["workflows"] == []
    renamed = await world.admin.patch(path, {"name": place.name + "新"})
    answer = renamed.json()
    assert {k: answer[k] for k in ("id", "name", "workflows")} == {
        "id": place.id,
        "name": place.name + "新",
        "workflows": ["standard"],
    }

    for actor in (place["staff"], place["liaison"], world.supervisor):
        answer = await actor.patch(path, {"workflows": ["standard", "tiny"]})
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "forbidden"
    assert (await _township(world, place))["workflows"] == ["standard"]


async def test_opening_in_a_workflow_the_place_does_not_offer_is_refused(
    world: World, place: Place
) -> None:
    first, second = place.villages
    await world.admin.patch(f"/api/v1/townships/{place.id}", {"workflows": ["standard"]})
    await world.admin.patch(f"/api/v1/villages/{second['id']}", {"workflows": []})
    before = await Topic.count()
    body = {"title": "想走小流程", "description": "说明"}

    refused = await place["liaison"].post("/api/v1/topics", {**body, "workflow": "tiny"})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert [e["field"] for e in problem["errors"]] == ["workflow"]
    assert "本乡镇未提供“小流程”流程" in problem["detail"]
    assert STANDARD in problem["detail"] and "tiny（" not in problem["detail"]

    no_village = await place["liaison"].post("/api/v1/topics", {**body, "workflow": "vtiny"})
    assert no_village.status_code == 422, no_village.text
    assert [e["field"] for e in no_village.json()["errors"]] == ["village_id"]
    assert "“村小流程”是村级流程" in no_village.json()["detail"]

    elsewhere = {**body, "workflow": "vtiny", "village_id": second["id"]}
    not_here = await place["liaison"].post("/api/v1/topics", elsewhere)
    assert not_here.status_code == 422, not_here.text
    assert "该村（社区）未提供“村小流程”流程" in not_here.json()["detail"]
    assert await Topic.count() == before

    opened = await place["village_cadre"].post(
        "/api/v1/topics", {**body, "workflow": "vtiny", "village_id": first["id"]}
    )
    assert opened.status_code == 201, opened.text
    try:
        assert opened.json()["workflow"]["key"] == "vtiny"
        standard = await place["liaison"].post("/api/v1/topics", {**body, "workflow": "standard"})
        assert standard.status_code == 201, standard.text
    finally:
        await _take_out(opened.json()["id"])


async def test_me_lists_what_the_person_may_open(world: World, place: Place) -> None:
    first, second = place.villages
    await world.admin.patch(f"/api/v1/villages/{second['id']}", {"workflows": []})
    liaison = (await place["liaison"].get("/api/v1/me")).json()
    assert [(w["key"], w["scope"], w["village_ids"]) for w in liaison["offered_workflows"]] == [
        ("standard", "township", None),
        ("tiny", "township", None),
        ("vtiny", "village", [first["id"]]),
    ]
    assert liaison["offered_workflows"][1]["summary"] == TINY_SUMMARY
    # Staff open standard only (tiny names liaisons); a village cadre vtiny only.
    staff = (await place["staff"].get("/api/v1/me")).json()
    assert [w["key"] for w in staff["offered_workflows"]] == ["standard"]
    cadre = (await place["village_cadre"].get("/api/v1/me")).json()
    assert [w["key"] for w in cadre["offered_workflows"]] == ["vtiny"]
    for nobody in (place["representative"], world.admin, world.supervisor):
        assert (await nobody.get("/api/v1/me")).json()["offered_workflows"] == []

    await world.admin.patch(f"/api/v1/townships/{place.id}", {"workflows": ["standard"]})
    await world.admin.patch(f"/api/v1/villages/{first['id']}", {"workflows": []})
    liaison = (await place["liaison"].get("/api/v1/me")).json()
    assert [w["key"] for w in liaison["offered_workflows"]] == ["standard"]


async def test_the_new_topic_page_offers_exactly_the_offered_workflows(
    world: World, app: Litestar, place: Place
) -> None:
    second = place.villages[1]
    await world.admin.patch(f"/api/v1/villages/{second['id']}", {"workflows": []})
    browser = await page_client(app, place["liaison"].user["username"])
    page = (await browser.get("/topics/new")).text
    offered = re.findall(r'name="workflow" value="(\w+)"', page)
    assert offered == ["standard", "tiny", "vtiny"]
    words = text(page)
    assert TINY_SUMMARY in words and VILLAGE_SUMMARY in words
    assert f"请在上面选择所属村（社区）：{place.villages[0]['name']}）" in words

    # The choice is kept when the form comes back with a problem.
    kept = await browser.post(
        "/topics/new",
        data={
            "title": "",
            "description": "说明",
            "category": "",
            "village_id": "",
            "workflow": "tiny",
        },
    )
    assert kept.status_code == 422, kept.text
    assert 'value="tiny" aria-describedby="workflow-tiny-summary" checked' in " ".join(
        kept.text.split()
    )
    # Not offered any more: refused next to the choice, nothing opened.
    await world.admin.patch(f"/api/v1/townships/{place.id}", {"workflows": ["standard"]})
    before = await Topic.count()
    gone = await browser.post(
        "/topics/new",
        data={
            "title": "小事",
            "description": "说明",
            "category": "",
            "village_id": "",
            "workflow": "tiny",
        },
    )
    assert gone.status_code == 422, gone.text
    assert "本乡镇未提供“小流程”流程" in text(gone.text)
    assert await Topic.count() == before

    # One workflow offered to staff (tiny and vtiny name liaisons): no choice shown.
    staff = await page_client(app, place["staff"].user["username"])
    alone = (await staff.get("/topics/new")).text
    assert 'id="workflow-choice"' not in alone
    assert 'type="hidden" name="workflow" value="standard"' in alone


async def test_the_places_page_ticks_what_a_place_offers(
    world: World, app: Litestar, place: Place
) -> None:
    admin = await page_client(app, world.admin.user["username"])
    page = (await admin.get("/admin")).text
    form = f"township-{place.id}-workflows"
    assert f'id="{form}"' in page
    section = page[page.index(f'id="{form}"') :]
    section = section[: section.index("</form>")]
    assert re.findall(r'name="workflows" value="(\w+)"', section) == ["standard", "tiny"]
    assert section.count(" checked") == 2
    assert TINY_SUMMARY in text(section)
    village_form = f"village-{place.villages[0]['id']}-workflows"
    assert f'id="{village_form}"' in page and VILLAGE_SUMMARY in text(page)

    saved = await admin.post(
        f"/admin/townships/{place.id}/workflows", data={"workflows": "standard"}
    )
    assert saved.status_code == 303, saved.text
    shown = await admin.get(saved.headers["location"].split("#")[0])
    assert "提供的协商流程已保存" in text(shown.text)
    assert (await _township(world, place))["workflows"] == ["standard"]
    row = await Township.select(Township.offered_workflows).where(Township.id == place.id).first()
    assert row == {"offered_workflows": '["standard"]'}

    refused = await admin.post(f"/admin/townships/{place.id}/workflows", data={})
    assert refused.status_code == 422
    assert "乡镇至少要提供一种协商流程" in text(refused.text)
    assert (await _township(world, place))["workflows"] == ["standard"]

    both = await admin.post(
        f"/admin/townships/{place.id}/workflows", data={"workflows": ["tiny", "standard"]}
    )
    assert both.status_code == 303
    assert (await _township(world, place))["workflows"] == ["standard", "tiny"]

    cleared = await admin.post(f"/admin/villages/{place.villages[0]['id']}/workflows", data={})
    assert cleared.status_code == 303
    village = await Village.select(Village.offered_workflows).where(
        Village.id == place.villages[0]["id"]
    )
    assert village == [{"offered_workflows": "[]"}]


async def test_the_command_line_shows_and_sets_what_a_place_offers(
    world: World, migrated: str
) -> None:
    """With the shipped workflows only (those of township scope offered by default)."""
    place = await new_township(world, "命令镇")
    village = place.villages[0]["name"]
    shown = run_cli(migrated, "township", "workflows", place.name)
    assert shown.returncode == 0, shown.stderr
    township_keys = sorted(w.key for w in loaded().newest() if w.scope == "township")
    assert "standard" in township_keys
    offered = "、".join(township_keys)
    assert f"乡镇 {place.name} 提供的协商流程：{offered}" in shown.stdout
    refused = run_cli(migrated, "township", "workflows", place.name, "nosuch")
    assert refused.returncode == 1
    assert "错误：workflows：没有这个工作流程：nosuch" in refused.stderr
    set_ = run_cli(migrated, "township", "workflows", place.name, "standard")
    assert set_.returncode == 0, set_.stderr
    row = await Township.select(Township.offered_workflows).where(Township.id == place.id).first()
    assert row == {"offered_workflows": '["standard"]'}

    wrong = run_cli(migrated, "village", "workflows", village, "standard", "--township", place.name)
    assert wrong.returncode == 1 and "是乡镇级流程，不能由村（社区）提供" in wrong.stderr
    none = run_cli(migrated, "village", "workflows", village, "--township", place.name, "--none")
    assert none.returncode == 0, none.stderr
    assert f"村（社区）{village} 提供的协商流程：无" in none.stdout
    assert (await _villages(world, place))[0]["workflows"] == []


MIGRATION_0021 = "2026-12-06T13:00:00:000000"


async def _restore_columns() -> None:
    """Put the columns back if the migration under test failed (the session's database
    is shared by the tests after this one)."""
    engine = bound_engine()
    for table in ("township", "village"):
        try:
            await engine.run_ddl(f"SELECT offered_workflows FROM {table} LIMIT 1")
        except Exception:
            await engine.run_ddl(f"ALTER TABLE {table} ADD COLUMN offered_workflows TEXT NULL")


async def test_the_migration_leaves_every_place_offering_what_is_loaded(
    world: World, migrated: str
) -> None:
    """A database from before 0021: after ``migrate`` its townships and villages offer
    every loaded workflow of their scope, as a new one does."""
    place = await new_township(world, "迁移镇")
    engine = bound_engine()
    await engine.run_ddl("ALTER TABLE township DROP COLUMN offered_workflows")
    await engine.run_ddl("ALTER TABLE village DROP COLUMN offered_workflows")
    try:
        await engine.run_ddl(f"DELETE FROM migration WHERE name = '{MIGRATION_0021}'")
        again = run_cli(migrated, "migrate")
        assert again.returncode == 0, again.stderr
    finally:
        await _restore_columns()
    township = await _township(world, place)
    assert township["workflows"] == [w.key for w in offerings.of_scope("township")]
    assert "standard" in township["workflows"]
    village_keys = [w.key for w in offerings.of_scope("village")]
    assert [v["workflows"] for v in await _villages(world, place)] == [village_keys] * 2


async def test_the_openapi_document_names_the_new_fields(world: World) -> None:
    schema = (await world.client.get("/schema/openapi.json")).json()
    shapes = schema["components"]["schemas"]
    assert "workflows" in shapes["TownshipUpdate"]["properties"]
    assert "workflows" in shapes["VillageUpdate"]["properties"]
    assert "workflows" in shapes["TownshipRead"]["required"]
    assert "offered_workflows" in shapes["MeRead"]["properties"]
    assert set(shapes["OfferedWorkflow"]["properties"]) == {
        "key",
        "version",
        "label",
        "summary",
        "scope",
        "village_ids",
    }
    patch = schema["paths"]["/api/v1/townships/{township_id}"]["patch"]
    assert {"403", "422"} <= set(patch["responses"])
