"""The reports show each topic in its own workflow's words (issue 26, item 6; docs/
decisions.md "Reports per workflow"): with a second workflow loaded (``pilot``, whose
names are none of standard's), the statistics, the annual report, the ledger, the open
data, the county view and the archive bag each give its topics by its own stages."""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path
from typing import Any

from litestar import Litestar
from openpyxl import load_workbook

from deliberation import open_data
from tests.api.test_annual_report import read
from tests.api.test_archive import bag_info, unpack
from tests.api.test_ledger import sheet_rows
from tests.api.test_sessions_end import page_client
from tests.second_workflow import pilot_topic, second_workflow
from tests.world import World, new_township, topic_in_state
from workflows.declaration import Workflow

__all__ = ["second_workflow"]  # the fixture, used by name below

PILOT_STATES = [
    ("gathering", "收集意见中"),
    ("weighing", "集中商议中"),
    ("settled", "已议定办结"),
    ("dropped", "已搁置"),
]


async def _mixed(world: World, label: str) -> tuple[Any, dict[str, dict[str, Any]]]:
    """A township with standard topics (proposed, resolution) and pilot topics in each
    of pilot's four states."""
    t = await new_township(world, label)
    topics = {
        "proposed": await topic_in_state(t, "proposed"),
        "resolution": await topic_in_state(t, "resolution"),
    }
    for state, _ in PILOT_STATES:
        topics[state] = await pilot_topic(t, state, f"试点{state}议题")
    return t, topics


async def test_statistics_and_the_annual_report_give_each_workflow_its_own_stages(
    world: World, app: Litestar, second_workflow: Workflow
) -> None:
    t, _ = await _mixed(world, "双流程统计镇")
    answer = await t["staff"].get("/api/v1/statistics", params={"township_id": t.id})
    assert answer.status_code == 200, answer.text
    figures = answer.json()["townships"][0]
    assert list(figures["workflows"]) == ["standard", "pilot"]
    pilot = figures["workflows"]["pilot"]
    assert (pilot["label"], pilot["topics"], pilot["topics_completed"]) == ("试点议事", 4, 1)
    assert [(s["state"], s["label"], s["topics"]) for s in pilot["states"]] == [
        (name, label, 1) for name, label in PILOT_STATES
    ]
    # Its timed stages by its own limits: three topics left 收集意见中, one 集中商议中.
    assert [(s["state"], s["label"], s["finished"]) for s in pilot["stages"]] == [
        ("gathering", "完成意见收集", 3),
        ("weighing", "完成集中商议", 1),
    ]
    standard = figures["workflows"]["standard"]
    assert standard["topics"] == 2 and standard["label"] == "标准协商"
    assert {s["state"] for s in standard["states"]}.isdisjoint(dict(PILOT_STATES))
    assert {s["state"]: s["topics"] for s in standard["states"] if s["topics"]} == {
        "proposed": 1,
        "resolution": 1,
    }
    # The fields that were there stay, over every workflow's topics.
    assert figures["topics"] == 6 and figures["by_state"]["gathering"] == 1
    assert figures["topics_completed"] == 1

    # The public sees public topics of each workflow by that workflow's public_from.
    public = (await world.client.get("/api/v1/statistics", params={"township_id": t.id})).json()
    seen = public["townships"][0]["workflows"]
    assert {s["state"]: s["topics"] for s in seen["pilot"]["states"]} == {
        "gathering": 0,
        "weighing": 1,
        "settled": 1,
        "dropped": 0,
    }
    assert seen["standard"]["topics"] == 1

    staff = await page_client(app, t["staff"].user["username"])
    page = html.unescape((await staff.get("/statistics", params={"township": t.id})).text)
    assert "试点议事：议题 4 件，已办结 1 件" in page and "标准协商：议题 2 件" in page
    assert '<th scope="row">收集意见中</th><td class="n">1</td>' in page

    report = await staff.get("/statistics/report.pdf")
    assert report.status_code == 200, report.text
    text, bars = read(report.content)
    flat = text.replace("\n", "")
    assert "试点议事：议题4件，已办结1件。" in flat and "标准协商：议题2件，已办结0件。" in flat
    assert "试点议事阶段 议题（件）" in text and "标准协商阶段 议题（件）" in text
    for _, label in PILOT_STATES:
        assert f"{label} 1" in text, label
    assert "完成意见收集 3" in text and "完成集中商议 1" in text
    assert bars >= 6  # one bar per stage with topics, in its workflow's words


async def test_the_ledger_has_a_workflow_column_and_each_workflows_stages(
    world: World, second_workflow: Workflow
) -> None:
    t, topics = await _mixed(world, "双流程台账镇")
    answer = await t["staff"].get("/api/v1/ledger.xlsx")
    assert answer.status_code == 200, answer.text
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    rows = {r["编号"]: r for r in sheet_rows(sheet)}
    settled = rows[topics["settled"]["reference"]]
    assert (settled["协商流程"], settled["当前状态"]) == ("试点议事", "已议定办结")
    assert settled["试点议事：进入“已议定办结”日期"] is not None
    assert settled["标准协商：进入“已形成成果”日期"] is None
    resolution = rows[topics["resolution"]["reference"]]
    assert (resolution["协商流程"], resolution["当前状态"]) == ("标准协商", "已形成成果")
    assert resolution["标准协商：进入“已形成成果”日期"] is not None
    assert resolution["试点议事：进入“集中商议中”日期"] is None
    assert rows[topics["dropped"]["reference"]]["当前状态"] == "已搁置"


async def test_open_data_names_each_topics_workflow_in_its_own_words(
    world: World, second_workflow: Workflow
) -> None:
    t, topics = await _mixed(world, "双流程公开镇")
    export = await open_data.build("https://example.org")
    rows = list(csv.DictReader(io.StringIO(export.files["topics.csv"].decode("utf-8-sig"))))
    mine = {r["topic_reference"]: r for r in rows if r["township"] == t.name}
    # Public by each workflow's own public_from: pilot's from 集中商议中, standard's from
    # 已形成成果; pilot's gathering and dropped topics and the proposed one are not there.
    assert set(mine) == {topics[s]["reference"] for s in ("weighing", "settled", "resolution")}
    settled = mine[topics["settled"]["reference"]]
    assert (settled["workflow"], settled["workflow_label"], settled["state_label"]) == (
        "pilot",
        "试点议事",
        "已议定办结",
    )
    assert settled["workflow_version"] == "1"
    assert settled["resolution_on"] and settled["closed_on"]  # its own public_from and end
    weighing = mine[topics["weighing"]["reference"]]
    assert weighing["closed_on"] == "" and weighing["resolution_on"]
    assert mine[topics["resolution"]["reference"]]["workflow"] == "standard"
    as_json = json.loads(export.files["topics.json"])
    assert {r["workflow_label"] for r in as_json if r["township"] == t.name} == {
        "试点议事",
        "标准协商",
    }
    timeline = list(csv.DictReader(io.StringIO(export.files["timeline.csv"].decode("utf-8-sig"))))
    moves = [r["what"] for r in timeline if r["topic_reference"] == settled["topic_reference"]]
    assert moves == ["提出议题", "进入集中商议", "议定办结"]
    card = export.files["README.md"].decode()
    assert "| workflow_label |" in card and "试点议事（pilot）：gathering（收集意见中）" in card
    assert "| pilot | 试点议事 | gathering：收集意见中" in card
    package = json.loads(export.files["datapackage.json"])
    topics_schema = next(r for r in package["resources"] if r["name"] == "topics")["schema"]
    names = [f["name"] for f in topics_schema["fields"]]
    assert names[names.index("category") + 1 : names.index("state")] == [
        "workflow",
        "workflow_label",
        "workflow_version",
    ]


async def test_the_county_counts_each_workflow_in_its_own_stages(
    world: World, app: Litestar, second_workflow: Workflow
) -> None:
    t, _ = await _mixed(world, "双流程县览镇")
    view = (await world.supervisor.get("/api/v1/county")).json()
    line = next(x for x in view["townships"] if x["id"] == t.id)
    assert list(line["by_workflow"]) == ["standard", "pilot"]
    pilot = line["by_workflow"]["pilot"]
    assert (pilot["label"], pilot["total"]) == ("试点议事", 4)
    assert pilot["by_state"] == {name: 1 for name, _ in PILOT_STATES}
    assert line["by_workflow"]["standard"]["total"] == 2
    assert line["by_workflow"]["standard"]["by_state"]["resolution"] == 1
    # Pilot's settled and dropped topics are finished by pilot's declaration.
    assert (line["total"], line["active"]) == (6, 4)

    county = await page_client(app, world.supervisor.user["username"])
    page = html.unescape((await county.get("/county")).text)
    assert "各乡镇试点议事议题（按阶段）" in page
    row = page.split(f'id="workflow-pilot-township-{t.id}"', 1)[1].split("</tr>", 1)[0]
    assert row.count('<td class="n">1</td>') == 4
    head = page.split('id="workflow-pilot"', 1)[1].split("</thead>", 1)[0]
    assert all(label in head for _, label in PILOT_STATES)


async def test_the_archive_bag_carries_the_pinned_workflow(
    world: World, tmp_path: Path, second_workflow: Workflow
) -> None:
    t = await new_township(world, "双流程归档镇")
    topic = await pilot_topic(t, "settled", "试点归档议题")
    answer = await t["staff"].get(f"/api/v1/topics/{topic['id']}/archive")
    assert answer.status_code == 200, answer.text
    bag = unpack(answer.content, tmp_path)
    info = bag_info(bag)
    assert info["Workflow"] == "pilot v1 试点议事"
    assert info["Topic-State"] == "已议定办结"
    pinned = json.loads((bag / "data" / "workflow.json").read_text(encoding="utf-8"))
    assert (pinned["key"], pinned["version"]) == ("pilot", 1)
    assert [s["label"] for s in pinned["states"]] == [label for _, label in PILOT_STATES]
    assert "versions" not in pinned
    record = json.loads((bag / "data" / "record.json").read_text(encoding="utf-8"))
    assert record["topic"]["workflow"] == {"key": "pilot", "version": 1, "label": "试点议事"}
    manifest = (bag / "manifest-sha256.txt").read_text(encoding="utf-8")
    assert "data/workflow.json" in manifest
