"""The reads that used to assume standard v1 follow each topic's own workflow (issue 26,
increment 4): who may open a topic, the list's state filter, and which topics are
finished (never overdue, not reminded, not active on the county view, archived)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from litestar import Litestar

from deliberation import context
from deliberation.archive import finished_topics
from deliberation.clock import china_today
from deliberation.notifications.reminders import remind
from deliberation.tables import ArchiveItem, ReminderSent, Topic
from tests.api.test_archive import bag_info, unpack
from tests.api.test_my_list import listed as titles_in
from tests.api.test_sessions_end import page_client
from tests.api.test_workflow_pin import _take_out
from tests.world import World, fire, new_township, open_topic
from workflows.registry import HERE as SHIPPED
from workflows.registry import Registry

SHELVED = """
[[states]]
name = "shelved"
label = "暂缓办理"
terminal = true

[[transitions]]
trigger = "shelve"
label = "暂缓"
from = ["proposed"]
to = "shelved"
roles = ["staff"]
"""


def _standard_v2(folder: Path, *, openers: str | None = None) -> Registry:
    """The shipped standard v1 and a v2 of it that adds a terminal state ``shelved``
    (暂缓办理), reached from ``proposed`` by ``shelve``, and another name for
    what is due while proposed; perhaps other openers."""
    for shipped in SHIPPED.glob("*/v*.toml"):  # the others too: topics of them may exist
        if shipped.parent.name != "standard":
            (folder / shipped.parent.name).mkdir(exist_ok=True)
            shutil.copy(shipped, folder / shipped.parent.name / shipped.name)
    (folder / "standard").mkdir()
    first = (SHIPPED / "standard" / "v1.toml").read_text(encoding="utf-8")
    (folder / "standard" / "v1.toml").write_text(first, encoding="utf-8")
    limit = 'time_limit = { label = "完成调研"'
    assert limit in first
    second = (
        first.replace("version = 1", "version = 2", 1).replace(
            limit, 'time_limit = { label = "完成初步调研"'
        )
        + SHELVED
    )
    if openers is not None:
        shipped = 'openers = ["liaison", "staff"]'
        assert shipped in second
        second = second.replace(shipped, f"openers = {openers}")
    (folder / "standard" / "v2.toml").write_text(second, encoding="utf-8")
    return Registry.load(folder)


@pytest.fixture
def loaded_later() -> Iterator[Callable[[Registry], None]]:
    here = context.current()
    before = here.workflows

    def load(registry: Registry) -> None:
        here.workflows = registry

    try:
        yield load
    finally:
        here.workflows = before


async def test_a_topic_finished_in_its_own_workflows_terminal_state_is_not_open(
    world: World, app: Litestar, tmp_path: Path, loaded_later: Callable[[Registry], None]
) -> None:
    t = await new_township(world, "暂缓镇")
    loaded_later(_standard_v2(tmp_path))
    shelved = await open_topic(t, "暂缓的议题")
    running = await open_topic(t, "仍在办的议题")
    try:
        assert shelved["workflow"]["version"] == 2
        answer = await fire(t["staff"], shelved, "shelve", comment="暂缓")
        assert answer.status_code == 200, answer.text
        assert answer.json()["state"] == "shelved"
        past = china_today() - timedelta(days=3)
        await Topic.update({Topic.due_on: past}).where(
            Topic.id.is_in([shelved["id"], running["id"]])
        )

        # The list may be filtered by the state only v2 declares.
        listed = await t["staff"].get("/api/v1/topics", params={"state": "shelved"})
        assert listed.status_code == 200, listed.text
        assert [i["id"] for i in listed.json()["items"]] == [shelved["id"]]

        # Past its due date but finished: not overdue; the running one is.
        overdue = await t["staff"].get("/api/v1/overdue")
        assert overdue.status_code == 200, overdue.text
        ids = [i["id"] for i in overdue.json()["items"]]
        assert running["id"] in ids and shelved["id"] not in ids

        # The county counts it as a finished topic, not an active one.
        county = (await world.supervisor.get("/api/v1/county")).json()
        line = next(x for x in county["townships"] if x["id"] == t.id)
        assert line["by_state"] == {"proposed": 1, "shelved": 1}
        assert (line["total"], line["active"]) == (2, 1)
        late = [x for x in county["overdue"] if x["id"] in (shelved["id"], running["id"])]
        assert [(x["id"], x["due_label"]) for x in late] == [(running["id"], "完成初步调研")]

        # No deadline reminder for it.
        await remind()
        reminded = await ReminderSent.select(ReminderSent.topic).where(
            ReminderSent.topic.is_in([shelved["id"], running["id"]])
        )
        assert {r["topic"] for r in reminded} == {running["id"]}

        # It ended this year, for the archive.
        assert shelved["id"] in await finished_topics(china_today().year)
        bag = await t["staff"].get(f"/api/v1/topics/{shelved['id']}/archive")
        assert bag.status_code == 200, bag.text
        assert bag_info(unpack(bag.content, tmp_path / "bag"))["Topic-State"] == "暂缓办理"

        # The opener's own list keeps it under 已办结, in its workflow's words.
        liaison = await page_client(app, t["liaison"].user["username"])
        done = (await liaison.get("/me?tab=done")).text
        assert titles_in(done) == [shelved["title"]]
        assert "暂缓办理" in done
        assert titles_in((await liaison.get("/me?tab=open")).text) == [running["title"]]
        only = (await liaison.get("/me?state=shelved")).text
        assert titles_in(only) == [shelved["title"]] and "暂缓办理" in only
    finally:
        await ArchiveItem.delete().where(ArchiveItem.id == shelved["id"])
        await ReminderSent.delete().where(ReminderSent.topic.is_in([shelved["id"], running["id"]]))
        await _take_out(shelved["id"])
        await _take_out(running["id"])


async def test_an_unknown_state_is_still_refused_in_the_list_filter(world: World) -> None:
    answer = await world.a["staff"].get("/api/v1/topics", params={"state": "shelved"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "state"


async def test_who_may_open_a_topic_follows_the_chosen_workflows_openers(
    world: World, tmp_path: Path, loaded_later: Callable[[Registry], None]
) -> None:
    t = await new_township(world, "只许工作人员镇")
    before = await Topic.count()
    loaded_later(_standard_v2(tmp_path, openers='["staff"]'))
    body = {"title": "联络员提出", "description": "说明"}
    refused = await t["liaison"].post("/api/v1/topics", body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == "只有工作人员可以提出议题"
    assert await Topic.count() == before
    opened = await t["staff"].post("/api/v1/topics", {**body, "title": "工作人员提出"})
    assert opened.status_code == 201, opened.text
    await _take_out(opened.json()["id"])
