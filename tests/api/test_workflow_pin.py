"""Each topic is pinned to the workflow it follows (issue 26, item 5): the migration
pins every existing topic to standard v1, opening pins a new one to the newest loaded
version of the key it names, and the topic keeps its version's rules after a newer one
is loaded."""

from __future__ import annotations

import html
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from deliberation import context
from deliberation.audit import verify_all
from deliberation.database import bound_engine
from deliberation.tables import Investigation, OutboxEvent, RecordRevision, Topic, TopicEvent
from tests.api.test_sessions_end import page_client
from tests.api.test_workflow_catalog import TINY
from tests.cli import run_cli
from tests.world import Township, World, fire, new_township, open_topic, topic_in_state
from workflows.registry import HERE as SHIPPED
from workflows.registry import Registry

MIGRATION_0019 = "2026-12-06T04:30:00:000000"
STANDARD_V1 = {"key": "standard", "version": 1, "label": "标准协商"}


async def _restore_columns() -> None:
    """Put the columns back if the migration under test failed (the session's database
    is shared by the tests after this one)."""
    engine = bound_engine()
    try:
        await engine.run_ddl("SELECT workflow_key, workflow_version FROM topic LIMIT 1")
    except Exception:
        await engine.run_ddl(
            "ALTER TABLE topic ADD COLUMN workflow_key VARCHAR(40) NOT NULL DEFAULT 'standard'"
        )
        await engine.run_ddl(
            "ALTER TABLE topic ADD COLUMN workflow_version INTEGER NOT NULL DEFAULT 1"
        )


async def test_the_migration_pins_every_existing_topic_to_standard_v1(
    world: World, migrated: str
) -> None:
    """A database from before 0019: a topic without the columns. After ``migrate`` it
    reads back, through the API, as the standard workflow's first version."""
    topic = await open_topic(world.a, "迁移前的议题")
    # Topics other tests opened in another workflow (siyi) get their pin back after:
    # the session's database is shared, and the audit reads the pin.
    pinned = await Topic.select(Topic.id, Topic.workflow_key, Topic.workflow_version).where(
        (Topic.workflow_key != "standard") | (Topic.workflow_version != 1)
    )
    engine = bound_engine()
    await engine.run_ddl("ALTER TABLE topic DROP COLUMN workflow_key")
    await engine.run_ddl("ALTER TABLE topic DROP COLUMN workflow_version")
    try:
        await engine.run_ddl(f"DELETE FROM migration WHERE name = '{MIGRATION_0019}'")
        migrated_again = run_cli(migrated, "migrate")
        assert migrated_again.returncode == 0, migrated_again.stderr
    finally:
        await _restore_columns()
        for other in pinned:
            await Topic.update(
                {
                    Topic.workflow_key: other["workflow_key"],
                    Topic.workflow_version: other["workflow_version"],
                }
            ).where(Topic.id == other["id"])
    row = (
        await Topic.select(Topic.workflow_key, Topic.workflow_version)
        .where(Topic.id == topic["id"])
        .first()
    )
    assert row == {"workflow_key": "standard", "workflow_version": 1}
    read = await world.a["liaison"].get(f"/api/v1/topics/{topic['id']}")
    assert read.status_code == 200, read.text
    assert read.json()["workflow"] == STANDARD_V1


async def test_a_topic_opened_without_naming_a_workflow_follows_the_standard_one(
    world: World,
) -> None:
    topic = await open_topic(world.a)
    assert topic["workflow"] == STANDARD_V1
    named = await open_topic(world.a, workflow="standard")
    assert named["workflow"] == STANDARD_V1
    listed = await world.a["staff"].get("/api/v1/topics", params={"q": named["title"]})
    assert [t["workflow"] for t in listed.json()["items"]] == [STANDARD_V1]


async def test_an_unknown_workflow_is_refused_naming_the_field_and_the_workflows_offered(
    world: World,
) -> None:
    before = await Topic.count()
    body = {"title": "不存在的流程", "description": "说明", "workflow": "nosuch"}
    answer = await world.a["liaison"].post("/api/v1/topics", body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == "validation_error"
    assert [e["field"] for e in problem["errors"]] == ["workflow"]
    assert "standard（标准协商）" in problem["detail"]
    assert await Topic.count() == before
    too_long = await world.a["liaison"].post("/api/v1/topics", {**body, "workflow": "x" * 41})
    assert too_long.status_code == 400 or too_long.status_code == 422, too_long.text
    assert too_long.json()["code"]


async def test_the_chain_vouches_for_the_pin_and_the_audit_catches_a_changed_one(
    world: World,
) -> None:
    topic = await open_topic(world.a)
    events = await world.a["liaison"].get(f"/api/v1/topics/{topic['id']}/events")
    opened = events.json()[0]
    assert opened["kind"] == "topic.opened"
    assert opened["data"]["workflow"] == {"key": "standard", "version": 1}
    _, problems = await verify_all()
    assert [p for p in problems if p.topic_id == topic["id"]] == []

    await Topic.update({Topic.workflow_version: 2}).where(Topic.id == topic["id"])
    try:
        _, problems = await verify_all()
        mine = [p.reason for p in problems if p.topic_id == topic["id"]]
        assert mine == ["topic follows workflow standard v2 but was opened in standard v1"]
    finally:
        await Topic.update({Topic.workflow_version: 1}).where(Topic.id == topic["id"])


def _standard_v2(folder: Path) -> Registry:
    """A folder with the shipped standard v1 and a v2 of it: withdrawing only before the
    investigation, under another name, and the investigated stage named otherwise."""
    for shipped in SHIPPED.glob("*/v*.toml"):  # the others too: topics of them may exist
        if shipped.parent.name != "standard":
            (folder / shipped.parent.name).mkdir(exist_ok=True)
            shutil.copy(shipped, folder / shipped.parent.name / shipped.name)
    (folder / "standard").mkdir()
    first = (SHIPPED / "standard" / "v1.toml").read_text(encoding="utf-8")
    (folder / "standard" / "v1.toml").write_text(first, encoding="utf-8")
    withdraw = 'label = "撤回"\nfrom = ["proposed", "investigated"]'
    investigated = 'name = "investigated"\nlabel = "已调研"'
    assert withdraw in first and investigated in first
    second = (
        first.replace("version = 1", "version = 2", 1)
        .replace(withdraw, 'label = "撤回议题"\nfrom = ["proposed"]')
        .replace(investigated, 'name = "investigated"\nlabel = "调研已完成"')
    )
    (folder / "standard" / "v2.toml").write_text(second, encoding="utf-8")
    return Registry.load(folder)


@pytest.fixture
def loaded_later(tmp_path: Path) -> Iterator[Callable[[Registry], None]]:
    """Load a registry of the test's own into the application (and the test), as if the
    server restarted with new files; the shipped ones are back afterwards."""
    here = context.current()
    before = here.workflows

    def load(registry: Registry) -> None:
        here.workflows = registry

    try:
        yield load
    finally:
        here.workflows = before


async def test_a_topic_pinned_to_version_1_keeps_its_rules_after_version_2_is_loaded(
    world: World, app: Litestar, tmp_path: Path, loaded_later: Callable[[Registry], None]
) -> None:
    t = await new_township(world, "两版镇")  # its v2 topic is taken out afterwards
    old = await topic_in_state(t, "investigated")
    assert old["workflow"] == STANDARD_V1

    loaded_later(_standard_v2(tmp_path))
    new = await topic_in_state(t, "investigated")
    try:
        await _keeps_its_rules(app, t, old, new)
    finally:
        await _take_out(new["id"])


async def _keeps_its_rules(
    app: Litestar, t: Township, old: dict[str, Any], new: dict[str, Any]
) -> None:
    assert new["workflow"] == {"key": "standard", "version": 2, "label": "标准协商"}
    events = await t["liaison"].get(f"/api/v1/topics/{new['id']}/events")
    assert events.json()[0]["data"]["workflow"] == {"key": "standard", "version": 2}

    # The opener may still withdraw the v1 topic after its investigation; not the v2 one.
    old_read = (await t["liaison"].get(f"/api/v1/topics/{old['id']}")).json()
    new_read = (await t["liaison"].get(f"/api/v1/topics/{new['id']}")).json()
    assert "withdraw" in old_read["available_triggers"]
    assert "withdraw" not in new_read["available_triggers"]
    assert (old_read["state_label"], new_read["state_label"]) == ("已调研", "调研已完成")

    # The topic page offers each topic its own version's steps, in its own words.
    browser = await page_client(app, t["liaison"].user["username"])
    old_page = html.unescape((await browser.get(f"/topics/{old['id']}")).text)
    new_page = html.unescape((await browser.get(f"/topics/{new['id']}")).text)
    assert 'id="fire-withdraw-form"' in old_page and "撤回（需确认）" in old_page
    assert 'id="fire-withdraw-form"' not in new_page
    assert "调研已完成" in new_page and "调研已完成" not in old_page

    # Firing follows the pin too: v2 refuses the step its file no longer allows here.
    refused = await fire(t["liaison"], new, "withdraw", comment="不再需要")
    assert refused.status_code == 409, refused.text
    assert "调研已完成" in refused.json()["detail"] and "撤回议题" in refused.json()["detail"]
    withdrawn = await fire(t["liaison"], old, "withdraw", comment="不再需要")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["state"] == "withdrawn"
    assert withdrawn.json()["workflow"] == STANDARD_V1


async def test_the_new_topic_form_offers_a_choice_only_when_several_workflows_are_loaded(
    world: World, app: Litestar, tmp_path: Path, loaded_later: Callable[[Registry], None]
) -> None:
    browser = await page_client(app, world.a["liaison"].user["username"])
    (tmp_path / "only").mkdir()  # one workflow loaded (more are shipped)
    shutil.copytree(SHIPPED / "standard", tmp_path / "only" / "standard")
    loaded_later(Registry.load(tmp_path / "only"))
    one = (await browser.get("/topics/new")).text
    assert 'name="workflow" value="standard"' in one and 'type="hidden"' in one
    assert 'id="workflow-choice"' not in one

    shutil.copytree(SHIPPED / "standard", tmp_path / "standard")
    (tmp_path / "tiny").mkdir()
    shutil.copy(TINY, tmp_path / "tiny" / "v1.toml")
    loaded_later(Registry.load(tmp_path))
    several = (await browser.get("/topics/new")).text
    assert 'id="workflow-choice"' in several
    tiny = Registry.load(tmp_path).latest("tiny")
    assert tiny.label in several and tiny.summary in several
    assert 'value="standard" aria-describedby="workflow-standard-summary" checked' in " ".join(
        several.split()
    )

    # Opened in a township of its own, and taken out again: the suite's later tests run
    # with the shipped workflows only, which do not know this one.
    place = await new_township(world, "选流程镇")
    chooser = await page_client(app, place["liaison"].user["username"])
    data = {"title": "选小流程", "description": "说明", "category": "", "village_id": ""}
    answer = await chooser.post("/topics/new", data={**data, "workflow": "tiny"})
    assert answer.status_code == 303, answer.text
    topic_id = int(answer.headers["location"].rsplit("/", 1)[1])
    try:
        read = await place["liaison"].get(f"/api/v1/topics/{topic_id}")
        assert read.json()["workflow"] == {"key": "tiny", "version": 1, "label": tiny.label}
    finally:
        await _take_out(topic_id)


async def _take_out(topic_id: int) -> None:
    """Delete a topic of a workflow only this test loaded, with its chain and records:
    the suite's later tests run with the shipped workflows, which do not know it."""
    await Investigation.delete().where(Investigation.topic == topic_id)
    await RecordRevision.delete().where(RecordRevision.topic == topic_id)
    await OutboxEvent.delete().where(OutboxEvent.topic == topic_id)
    await TopicEvent.delete().where(TopicEvent.topic == topic_id)
    await Topic.delete().where(Topic.id == topic_id)
