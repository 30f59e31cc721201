"""A second workflow loaded by a test only, beside the shipped ones: for the reports that
must show each topic in its own workflow's words (statistics, annual report, ledger,
open data, county view, archive, permission table; docs/decisions.md "Reports per
workflow").

Its state, trigger and record names are its own (none is standard's), so a report that
still reads standard's declaration for a topic of this one shows it wrongly or fails.
Use the ``second_workflow`` fixture (import it into the test module); topics opened in
it are taken out afterwards, since the suite's later tests run with the shipped
workflows only, which do not know this one.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from deliberation import context
from deliberation.tables import (
    ArchiveItem,
    Delivery,
    Document,
    Investigation,
    NoteRecord,
    OutboxEvent,
    RecordRevision,
    ReminderSent,
    Topic,
    TopicEvent,
    Vote,
)
from tests.world import Township, fire, open_topic
from workflows.declaration import Workflow
from workflows.registry import HERE as SHIPPED
from workflows.registry import Registry

KEY = "pilot"
PILOT = """
key = "pilot"
version = 1
label = "试点议事"
summary = "收集意见、集中商议、议定办结：仅供测试。"
basis = ["测试用规则"]
scope = "township"
openers = ["liaison", "staff"]
initial = "gathering"
public_from = "weighing"

[[states]]
name = "gathering"
label = "收集意见中"
time_limit = { label = "完成意见收集", working_days = 3 }

[[states]]
name = "weighing"
label = "集中商议中"
time_limit = { label = "完成集中商议", working_days = 5 }

[[states]]
name = "settled"
label = "已议定办结"
terminal = true

[[states]]
name = "dropped"
label = "已搁置"
terminal = true

[[transitions]]
trigger = "weigh"
label = "进入集中商议"
from = ["gathering"]
to = "weighing"
roles = ["staff"]

[[transitions]]
trigger = "settle"
label = "议定办结"
from = ["weighing"]
to = "settled"
roles = ["staff"]

[[transitions]]
trigger = "shelve_it"
label = "搁置"
from = ["gathering"]
to = "dropped"
roles = ["staff"]
danger = true
requires = [{ comment = true, name = "reason_given", label = "说明理由" }]

[[records]]
name = "jotting"
type = "note"
label = "走访记录"
roles = ["liaison", "staff"]
open_in = ["gathering", "weighing"]
read = { full = ["liaison", "staff"], others = "summary", public = "summary" }
"""
"""The second workflow: 试点议事 (gathering → weighing → settled, or dropped)."""

PATH = ("gathering", "weighing", "settled")
TRIGGER_TO = {"weighing": "weigh", "settled": "settle"}


def registry_with(folder: Path, key: str, text: str) -> Registry:
    """The shipped workflows and ``key`` v1 (the file ``text``), loaded from ``folder``."""
    for shipped in SHIPPED.iterdir():
        if shipped.is_dir() and any(shipped.glob("v*.toml")):
            shutil.copytree(shipped, folder / shipped.name)
    (folder / key).mkdir()
    (folder / key / "v1.toml").write_text(text, encoding="utf-8")
    return Registry.load(folder)


def registry_with_pilot(folder: Path) -> Registry:
    """The shipped workflows and ``pilot`` v1, loaded from ``folder``."""
    return registry_with(folder, KEY, PILOT)


@contextlib.asynccontextmanager
async def loaded_beside_shipped(folder: Path, key: str, text: str) -> AsyncIterator[Workflow]:
    """``key`` (the file ``text``) loaded into the application beside the shipped
    workflows; its topics are taken out again afterwards, and the shipped ones are back."""
    here = context.current()
    before = here.workflows
    registry = registry_with(folder, key, text)
    here.workflows = registry
    try:
        yield registry.latest(key)
    finally:
        here.workflows = before
        await take_out_topics_of(key)


@pytest.fixture
async def second_workflow(tmp_path: Path) -> AsyncIterator[Workflow]:
    """``pilot`` loaded into the application beside the shipped workflows."""
    async with loaded_beside_shipped(tmp_path, KEY, PILOT) as workflow:
        yield workflow


async def take_out_topics_of(key: str) -> None:
    """Delete every topic of workflow ``key`` with its chain, records and filing."""
    ids = [r["id"] for r in await Topic.select(Topic.id).where(Topic.workflow_key == key)]
    if not ids:
        return
    await Investigation.delete().where(Investigation.topic.is_in(ids))
    await NoteRecord.delete().where(NoteRecord.topic.is_in(ids))
    await Vote.delete().where(Vote.topic.is_in(ids))
    await RecordRevision.delete().where(RecordRevision.topic.is_in(ids))
    events = [
        e["id"]
        for e in await OutboxEvent.select(OutboxEvent.id).where(OutboxEvent.topic.is_in(ids))
    ]
    if events:  # delivered to a webhook
        await Delivery.delete().where(Delivery.event.is_in(events))
    await OutboxEvent.delete().where(OutboxEvent.topic.is_in(ids))
    await ReminderSent.delete().where(ReminderSent.topic.is_in(ids))
    await Document.delete().where(Document.topic.is_in(ids))
    await ArchiveItem.delete().where(ArchiveItem.id.is_in(ids))
    await TopicEvent.delete().where(TopicEvent.topic.is_in(ids))
    await Topic.delete().where(Topic.id.is_in(ids))


async def pilot_topic(t: Township, state: str, title: str | None = None) -> dict[str, Any]:
    """A topic of ``pilot`` opened in ``t`` and moved to ``state`` by its staff."""
    topic = await open_topic(t, title, workflow=KEY)
    if state == "dropped":
        answer = await fire(t["staff"], topic, "shelve_it", comment="暂不具备条件")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())
    for dest in PATH[1 : PATH.index(state) + 1]:
        answer = await fire(t["staff"], topic, TRIGGER_TO[dest], comment="推进")
        assert answer.status_code == 200, answer.text
    return dict((await t["staff"].get(f"/api/v1/topics/{topic['id']}")).json())
