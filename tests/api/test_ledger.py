"""The consultation ledger (台账, issue 15, item 2): the workbook opens with openpyxl and
its cells match the topics; only the township's staff and the county get it."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest
from litestar import Litestar
from openpyxl import load_workbook

from deliberation.clock import china_date
from deliberation.permissions import SUGGESTION_STATUS_LABELS
from deliberation.tables import Document, ResolutionItem, Suggestion
from tests.api.suggestion_seed import SECRETS, as_datetime, seed, take_out_made
from tests.api.test_sessions_end import page_client
from tests.world import World, new_township, today, topic_in_state
from workflows import WORKFLOW

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet_rows(sheet: Any) -> list[dict[str, Any]]:
    header = [c.value for c in sheet[1]]
    return [
        dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]


async def test_the_ledger_holds_one_row_per_topic_with_dates_as_dates(world: World) -> None:
    t = await new_township(world, "台账镇")
    topics = {state: await topic_in_state(t, state) for state in ("closed", "meeting", "rejected")}
    answer = await t["staff"].get("/api/v1/ledger.xlsx")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(XLSX)
    assert "attachment" in answer.headers["content-disposition"]
    book = load_workbook(io.BytesIO(answer.content))
    ledger, items_sheet, _ = book.worksheets
    assert ledger.freeze_panes == "A2" and ledger["A1"].font.bold
    rows = {r["编号"]: r for r in sheet_rows(ledger)}
    assert set(rows) == {topic["reference"] for topic in topics.values()}
    assert "乡镇" not in rows[topics["closed"]["reference"]]  # one township: no such column
    closed = rows[topics["closed"]["reference"]]
    assert closed["议题"] == topics["closed"]["title"]
    assert closed["当前状态"] == WORKFLOW.state("closed").label
    assert closed["提出人"] == "测试liaison"
    for column in ("提出日期", f"进入“{WORKFLOW.state('closed').label}”日期", "协商会议日期"):
        assert isinstance(closed[column], datetime), column  # a date cell, not text
    assert closed["提出日期"].date() == today()
    items = await ResolutionItem.select().where(ResolutionItem.topic == topics["closed"]["id"])
    assert closed["成果完成情况"] == f"已完成 {len(items)}/{len(items)} 项"
    assert items[0]["responsible_unit"] in closed["协商成果（责任单位、完成时限）"]
    assert closed["群众满意度"].startswith("满意 1")
    numbered = await Document.select(Document.number).where(
        Document.topic == topics["closed"]["id"], Document.number.is_not_null()
    )
    assert closed["已发布文件文号"].count("〔") == len(numbered) > 0
    meeting = rows[topics["meeting"]["reference"]]
    assert meeting[f"进入“{WORKFLOW.state('resolution').label}”日期"] is None
    assert meeting["成果完成情况"] is None and meeting["已发布文件文号"] is None
    assert rows[topics["rejected"]["reference"]]["当前状态"] == WORKFLOW.state("rejected").label
    # Columns fit their content: the title's column is wider than the sequence number's.
    widths = {c.value: ledger.column_dimensions[c.column_letter].width for c in ledger[1]}
    shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in closed["议题"])  # Chinese: two wide
    assert widths["议题"] > widths["序号"] and widths["议题"] >= shown
    # The items sheet: one row per item, its due date a date.
    item_rows = sheet_rows(items_sheet)
    assert [r["协商成果"] for r in item_rows] == [i["content"] for i in items]
    assert all(isinstance(r["完成时限"], datetime) and r["是否完成"] == "已完成" for r in item_rows)
    assert item_rows[0]["是否按期"] == "按期"


async def test_the_county_gets_every_township_and_nobody_else_gets_it(world: World) -> None:
    t = await new_township(world, "台账县镇")
    topic = await topic_in_state(t, "proposed")
    answer = await world.supervisor.get("/api/v1/ledger.xlsx")
    assert answer.status_code == 200, answer.text
    rows = sheet_rows(load_workbook(io.BytesIO(answer.content)).worksheets[0])
    mine = [r for r in rows if r["编号"] == topic["reference"]]
    assert len(mine) == 1 and mine[0]["乡镇"] == t.name
    assert all(r["乡镇"] for r in rows)
    one = await world.supervisor.get("/api/v1/ledger.xlsx", params={"township_id": t.id})
    assert [
        r["编号"] for r in sheet_rows(load_workbook(io.BytesIO(one.content)).worksheets[0])
    ] == [topic["reference"]]
    last_year = await t["staff"].get("/api/v1/ledger.xlsx", params={"year": today().year - 1})
    assert sheet_rows(load_workbook(io.BytesIO(last_year.content)).worksheets[0]) == []
    for who, params, status in (
        (t["liaison"], {}, 403),
        (t["representative"], {}, 403),
        (world.a["staff"], {"township_id": t.id}, 403),  # another township's staff
        (world.admin, {}, 403),
        (world.supervisor, {"township_id": 999999}, 404),
        (world.supervisor, {"year": "去年"}, 422),
    ):
        answer = await who.get("/api/v1/ledger.xlsx", params=params)
        assert answer.status_code == status, (who.user["role"], params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await world.client.get("/api/v1/ledger.xlsx")).status_code == 401


async def test_text_is_never_a_formula_and_control_characters_do_not_break_it(
    world: World,
) -> None:
    t = await new_township(world, "公式镇")
    r = await t["liaison"].post(
        "/api/v1/topics",
        {"title": '=HYPERLINK("http://x")路灯\x0b不亮', "description": "从文档粘贴\x0b来的"},
    )
    assert r.status_code == 201, r.text
    answer = await t["staff"].get("/api/v1/ledger.xlsx")
    assert answer.status_code == 200, answer.text
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    [row] = sheet_rows(sheet)
    assert row["议题"] == '\'=HYPERLINK("http://x")路灯不亮'
    column = next(c.column_letter for c in sheet[1] if c.value == "议题")
    assert sheet[f"{column}2"].data_type == "s"  # text, not a formula


async def test_the_ledger_prints_landscape_one_page_wide_and_is_named_for_its_township(
    world: World, app: Litestar
) -> None:
    t = await new_township(world, "台账打印镇")
    for state in ("closed", "meeting"):
        await topic_in_state(t, state)
    answer = await t["staff"].get("/api/v1/ledger.xlsx")
    assert answer.status_code == 200, answer.text
    for sheet in load_workbook(io.BytesIO(answer.content)).worksheets:
        # LibreOffice printed 10 portrait pages with the columns split across them.
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.print_title_rows == "$1:$1"  # the header row on every page
        assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text
    # Every township's file was ledger-2026.xlsx: now it carries the township's name.
    year = today().year
    disposition = answer.headers["content-disposition"]
    wanted = quote(f"{t.name}{year}年协商议事台账.xlsx", safe="")
    assert f"filename*=UTF-8''{wanted}" in disposition
    assert 'filename="ledger-' in disposition and disposition.isascii()
    staff_page = await page_client(app, t["staff"].user["username"])
    page = await staff_page.get("/statistics/ledger.xlsx")
    assert page.status_code == 200
    assert page.headers["content-disposition"] == disposition
    county = await world.supervisor.get("/api/v1/ledger.xlsx")
    assert (
        quote(f"各乡镇{year}年协商议事台账.xlsx", safe="") in county.headers["content-disposition"]
    )


async def test_the_suggestions_sheet_matches_the_rows_and_shows_no_phone_or_name(
    world: World,
) -> None:
    t = await new_township(world, "建议台账镇")
    seeded = await seed(t)
    answer = await t["staff"].get("/api/v1/ledger.xlsx")
    assert answer.status_code == 200, answer.text
    book = load_workbook(io.BytesIO(answer.content))
    sheet = book["村民建议"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    rows = {r["编号"]: r for r in sheet_rows(sheet)}
    assert set(rows) == {s["reference"] for s in seeded.values()}  # pending ones too
    stored = {
        s["reference"]: s for s in await Suggestion.select().where(Suggestion.township == t.id)
    }
    for reference, row in rows.items():
        s = stored[reference]
        assert row["标题（公开）"] == s["public_title"]
        assert row["提出日期"] == as_datetime(china_date(s["created_at"]))  # a date cell
        assert row["审核结果"] == SUGGESTION_STATUS_LABELS[s["status"]]
        assert row["审核期限"] == as_datetime(s["screening_due_on"])
    public = rows[seeded["public"]["reference"]]
    assert public["提出人"] == "雒某" and public["村（社区）"] == t.villages[0]["name"]
    # Two representatives; everyone but the liaison for the villagers' rule; the liaison.
    assert (public["代表附议"], public["村民附议（含代表）"], public["委员附议"]) == (2, 5, 1)
    assert public["须列入日期"] is not None and public["审核日期"] is not None
    assert public["理由"] == "情况属实，转为议题"  # the public reason, not the office's own
    assert public["转为议题"] == seeded["public"]["topic_reference"]
    assert rows[seeded["hidden"]["reference"]]["提出人"] == "欧阳某"
    assert rows[seeded["hidden"]["reference"]]["村（社区）"] == "全乡镇"
    assert rows[seeded["declined"]["reference"]]["提出人"] == "代表"
    assert rows[seeded["must_list"]["reference"]]["提出人"] == "委员"
    merged = rows[seeded["merged"]["reference"]]
    assert merged["转为议题"] == f"并入 {seeded['public']['reference']}"
    pending = rows[seeded["pending"]["reference"]]
    assert pending["审核日期"] is None and pending["理由"] is None
    # No phone, name, ID number or the villager's own words anywhere in the workbook.
    cells = [
        str(c.value) for ws in book.worksheets for line in ws.iter_rows() for c in line if c.value
    ]
    assert [c for c in cells if any(secret in c for secret in SECRETS)] == []
    assert not [c for c in cells if re.search(r"1[3-9]\d{9}", c.replace(" ", ""))]


@pytest.fixture(autouse=True)
async def _off_the_chain_rows_taken_out() -> AsyncIterator[None]:
    """The suggestions and plans a test wrote straight into the tables go after it."""
    yield
    await take_out_made()
