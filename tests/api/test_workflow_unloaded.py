"""A workflow removed from the folder never breaks the server (issue 26; docs/decisions.md
"A workflow removed from the folder"): topics pinned to ``pilot`` v1 are written while
it is loaded, then the application runs without it (the shipped workflows only, as a
server restarted after the file was deleted). Every surface still answers: lists,
county view, statistics, open data, ledger, scheduler, delivery; the topic's page says
which version is missing and offers no steps; every write is a 409
``workflow_not_loaded``; the server says so once at start, and ``workflow list`` too."""

from __future__ import annotations

import csv
import html
import io
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from openpyxl import load_workbook

from api.app import create_app
from api.settings import Settings
from deliberation import context, open_data
from deliberation.notifications.reminders import tick
from deliberation.tables import OutboxEvent, ReminderSent, Topic
from tests.api.test_ledger import sheet_rows
from tests.api.test_sessions_end import page_client
from tests.api.test_siyi import _vote
from tests.api.test_webhooks import BASE, drain, subscribe
from tests.cli import run_cli
from tests.conftest import client_from
from tests.live import lifespan
from tests.receiver import Receiver
from tests.second_workflow import pilot_topic, second_workflow
from tests.world import Township, World, days_from_today, new_township, topic_in_state
from workflows.declaration import Workflow

__all__ = ["second_workflow"]  # the fixture, used by name below

MISSING = "该议题所用的协商流程（pilot 第1版）未加载，暂不能办理"


class Unloaded:
    """A township with a standard topic and pilot topics in three states, written
    while pilot was loaded; then pilot is gone."""

    def __init__(self, t: Township, topics: dict[str, dict[str, Any]]) -> None:
        self.t = t
        self.topics = topics


@pytest.fixture
async def unloaded(world: World, second_workflow: Workflow) -> AsyncIterator[Unloaded]:
    t = await new_township(world, "卸载镇")
    topics = {"proposed": await topic_in_state(t, "proposed")}
    for state in ("gathering", "weighing", "settled"):
        topics[state] = await pilot_topic(t, state, f"试点{state}议题")
    here = context.current()
    with_pilot = here.workflows
    here.workflows = None  # the shipped workflows only: pilot's file is gone
    try:
        yield Unloaded(t, topics)
    finally:
        here.workflows = with_pilot  # the fixture's own teardown takes the topics out


def refused(answer: Any) -> None:
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert (body["code"], body["detail"]) == ("workflow_not_loaded", MISSING)


async def test_its_page_says_the_version_is_missing_and_offers_no_step(
    world: World, app: Litestar, unloaded: Unloaded
) -> None:
    t, gathering = unloaded.t, unloaded.topics["gathering"]
    staff = await page_client(app, t["staff"].user["username"])
    for state in ("gathering", "weighing", "settled"):  # settled has moves on its timeline
        page = await staff.get(f"/topics/{unloaded.topics[state]['id']}")
        assert page.status_code == 200, page.text
        text = html.unescape(page.text)
        assert f'id="workflow-unloaded">{MISSING}<' in text
        assert "/transitions" not in text and 'id="archive' not in text  # no step, no bag
    # A standard topic's page is as before.
    standard = html.unescape((await staff.get(f"/topics/{unloaded.topics['proposed']['id']}")).text)
    assert MISSING not in standard and "/transitions" in standard

    # Firing from the page: the page again, with the refusal, nothing changed.
    answer = await staff.post(
        f"/topics/{gathering['id']}/transitions",
        data={"trigger": "weigh", "version": str(gathering["version"]), "comment": "推进"},
    )
    assert answer.status_code == 409 and MISSING in html.unescape(answer.text)
    row = await Topic.select(Topic.state, Topic.version).where(Topic.id == gathering["id"]).first()
    assert row == {"state": "gathering", "version": gathering["version"]}

    # Reading through the API: the topic, its history, the lists.
    read = await t["staff"].get(f"/api/v1/topics/{gathering['id']}")
    assert read.status_code == 200 and read.json()["state"] == "gathering"
    assert (await t["staff"].get(f"/api/v1/topics/{gathering['id']}/events")).status_code == 200
    assert (await t["staff"].get("/api/v1/overdue")).status_code == 200
    listed = await t["staff"].get("/api/v1/topics", params={"limit": 50})
    assert listed.status_code == 200
    assert {i["id"] for i in listed.json()["items"]} >= {x["id"] for x in unloaded.topics.values()}
    opener = await page_client(app, t["liaison"].user["username"])
    mine = await opener.get("/me", params={"tab": "open"})  # the topics they opened
    assert mine.status_code == 200 and "试点gathering议题" in mine.text
    # Its public page is not shown while its rules (public from which stage) are unknown.
    public = await world.client.get(f"/topics/{unloaded.topics['settled']['id']}")
    assert public.status_code == 404


async def test_every_write_is_a_409_naming_the_missing_version(
    world: World, unloaded: Unloaded
) -> None:
    t, topic = unloaded.t, unloaded.topics["gathering"]
    tid = topic["id"]

    def fire(trigger: str) -> Any:
        body = {"trigger": trigger, "version": topic["version"], "comment": "推进"}
        return t["staff"].post(f"/api/v1/topics/{tid}/transitions", body)

    refused(await fire("weigh"))  # pilot's own step: no loaded workflow knows it
    refused(await fire("reject"))  # a step of the shipped workflows
    opinion = {"content": "同意", "stance": "support"}
    refused(await t["representative"].post(f"/api/v1/topics/{tid}/opinions", opinion))
    investigation = {
        "visited_on": days_from_today(0),
        "place": "三组",
        "participants": "联络员",
        "findings": "属实",
    }
    refused(await t["liaison"].post(f"/api/v1/topics/{tid}/investigations", investigation))
    vote = _vote("村民代表会议")
    refused(await t["village_cadre"].post(f"/api/v1/topics/{tid}/votes", vote))
    refused(await t["staff"].post(f"/api/v1/topics/{tid}/documents", {"kind": "resolution_notice"}))
    refused(await world.supervisor.post(f"/api/v1/topics/{tid}/urge", {"note": "请尽快办理"}))
    settled = unloaded.topics["settled"]["id"]
    refused(await t["staff"].get(f"/api/v1/topics/{settled}/archive"))
    # Who may not see the topic learns nothing (404); a role that may never do it, 403.
    other = await world.b["staff"].post(
        f"/api/v1/topics/{tid}/transitions", {"trigger": "weigh", "version": 1}
    )
    assert other.status_code == 404, other.text
    rep = await t["representative"].post(
        f"/api/v1/topics/{tid}/documents", {"kind": "resolution_notice"}
    )
    assert rep.status_code == 403, rep.text
    after = await Topic.select(Topic.state, Topic.version).where(Topic.id == tid).first()
    assert after == {"state": "gathering", "version": topic["version"]}


async def test_the_reports_count_its_topics_under_the_missing_version(
    world: World, app: Litestar, unloaded: Unloaded
) -> None:
    t = unloaded.t
    stats = await t["staff"].get("/api/v1/statistics", params={"township_id": t.id})
    assert stats.status_code == 200, stats.text
    figures = stats.json()["townships"][0]
    assert figures["topics"] == 4
    assert figures["workflows"]["pilot"]["topics"] == 3
    assert figures["workflows"]["pilot"]["label"] == "pilot 第1版（未加载）"
    assert (await world.client.get("/api/v1/statistics")).status_code == 200

    county = await world.supervisor.get("/api/v1/county")
    assert county.status_code == 200, county.text
    line = next(x for x in county.json()["townships"] if x["id"] == t.id)
    assert line["total"] == 4 and line["by_workflow"]["pilot"]["total"] == 3

    ledger = await t["staff"].get("/api/v1/ledger.xlsx")
    assert ledger.status_code == 200, ledger.text
    rows = {
        r["编号"]: r for r in sheet_rows(load_workbook(io.BytesIO(ledger.content)).worksheets[0])
    }
    settled = rows[unloaded.topics["settled"]["reference"]]
    assert settled["协商流程"] == "pilot 第1版（未加载）" and settled["当前状态"] == "settled"

    supervisor = await page_client(app, world.supervisor.user["username"])
    staff = await page_client(app, t["staff"].user["username"])
    for client, path in (
        (supervisor, "/county"),
        (supervisor, f"/county/townships/{t.id}"),
        (staff, f"/statistics?township={t.id}"),
        (staff, "/statistics/report.pdf"),
        (staff, "/statistics/ledger.xlsx"),
        (world.client, "/open-data"),
        (world.client, "/notices"),
        (world.client, "/"),
    ):
        answer = await client.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])

    export = await open_data.build("https://example.org")
    rows_out = list(csv.DictReader(io.StringIO(export.files["topics.csv"].decode("utf-8-sig"))))
    # Not public while its rules are unknown; the township's other topics as before.
    assert not {r["topic_reference"] for r in rows_out} & {
        x["reference"] for x in unloaded.topics.values()
    }


async def test_the_scheduler_and_the_delivery_loop_leave_it_alone(
    world: World, settings: Settings, receiver: Receiver, second_workflow: Workflow
) -> None:
    t = await new_township(world, "卸载投递镇")
    await subscribe(t, receiver.url, events=["topic.opened", "topic.transitioned"])
    topic = await pilot_topic(t, "gathering", "试点逾期议题")
    # Long past its stage's due date: the scheduler would remind, were pilot loaded.
    overdue = date.fromisoformat(days_from_today(-30))
    await Topic.update({Topic.due_on: overdue}).where(Topic.id == topic["id"])
    here = context.current()
    with_pilot, here.workflows = here.workflows, None
    try:
        await tick()
        assert not await ReminderSent.select().where(ReminderSent.topic == topic["id"])
        events = await OutboxEvent.select(OutboxEvent.type).where(OutboxEvent.topic == topic["id"])
        assert [e["type"] for e in events] == ["topic.opened"]
        await drain(replace(BASE, allowed_hosts=settings.webhook_allowed_hosts))
        delivered = [r["body"].decode() for r in receiver.received if r["ok"]]
        assert any(topic["reference"] in body for body in delivered), delivered
    finally:
        here.workflows = with_pilot


async def test_a_server_started_without_it_says_so_once_and_serves_the_topic(
    world: World, settings: Settings, second_workflow: Workflow
) -> None:
    t = await new_township(world, "卸载重启镇")
    topic = await pilot_topic(t, "weighing", "试点重启议题")
    # A new application with a context of its own: the shipped workflows only.
    restarted = create_app(settings)
    heard = Heard()
    logging.getLogger("deliberation.workflows").addHandler(heard)
    try:
        async with lifespan(restarted):
            said = heard.said
            assert len(said) == 1, said
            assert topic["reference"] in said[0] and "pilot v1 未加载" in said[0]
            assert "pilot/v1.toml 放回" in said[0] and "DELIBERATION_WORKFLOWS_DIR" in said[0]
            async with client_from(restarted) as client:
                answer = await client.get(
                    f"/api/v1/topics/{topic['id']}", headers=t["staff"].headers
                )
                assert answer.status_code == 200, answer.text
                fired = await client.post(
                    f"/api/v1/topics/{topic['id']}/transitions",
                    json={"trigger": "settle", "version": topic["version"]},
                    headers=t["staff"].headers,
                )
                refused(fired)
    finally:
        logging.getLogger("deliberation.workflows").removeHandler(heard)


class Heard(logging.Handler):
    """What a logger said (the application's logging replaces the root's handlers)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.said.append(record.getMessage())


async def test_workflow_list_names_the_topics_and_the_missing_version(
    world: World, database_url: str, tmp_path: Path, second_workflow: Workflow
) -> None:
    t = await new_township(world, "卸载清单镇")
    topic = await pilot_topic(t, "gathering", "试点清单议题")
    done = run_cli(database_url, "workflow", "list", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "standard\tv1\t标准协商" in done.stdout
    warned = [line for line in done.stderr.splitlines() if "pilot v1 未加载" in line]
    assert len(warned) == 1 and topic["reference"] in warned[0]
    assert warned[0].startswith("警告：") and "v1.toml 放回" in warned[0]
    archived = run_cli(database_url, "archive", topic["reference"], "--out", "x.zip", cwd=tmp_path)
    assert archived.returncode == 1 and "pilot 第1版" in archived.stderr
