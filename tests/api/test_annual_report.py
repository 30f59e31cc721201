"""The annual report (issue 15, item 5): the year's figures and charts as a PDF in the
documents' style, for the township's office and the county; pdfplumber finds the
figures in its text and the charts' bars drawn on its pages."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from litestar import Litestar

from deliberation.documents.content import COUNTY_ISSUER
from deliberation.tables import PlanItem, Township
from tests.api.suggestion_seed import take_out_made
from tests.api.test_plan_figures import plan_of
from tests.api.test_sessions_end import page_client
from tests.cli import run_cli
from tests.world import World, new_township, today, topic_in_state

BAR = (0.34902, 0.34902, 0.34902)
"""The charts' first grey (#595959), as pdfplumber reads a filled rectangle."""


def read(pdf: bytes) -> tuple[str, int]:
    """The report's text, and how many chart bars are drawn in it."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = "\n".join(page.extract_text() or "" for page in document.pages)
        bars = sum(
            1
            for page in document.pages
            for rect in page.rects
            if tuple(round(c, 5) for c in rect["non_stroking_color"] or ()) == BAR
        )
    return text, bars


async def test_the_report_holds_the_years_figures_and_its_charts(
    world: World, app: Litestar, database_url: str, tmp_path: Path
) -> None:
    t = await new_township(world, "报告镇")
    for state in ("proposed", "meeting", "closed", "closed", "rejected"):
        await topic_in_state(t, state)
    figures: dict[str, Any] = (
        await t["staff"].get("/api/v1/statistics", params={"township_id": t.id})
    ).json()["townships"][0]
    year = today().year

    staff = await page_client(app, t["staff"].user["username"])
    statistics_page = await staff.get("/statistics")
    assert "年度报告（PDF）" in statistics_page.text
    answer = await staff.get("/statistics/report.pdf", params={"year": year})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    text, bars = read(answer.content)
    flat = text.replace("\n", "")
    assert f"{t.name}{year}年“好商量”协商议事工作情况" in flat
    assert (
        f"共提出“好商量”协商议题{figures['topics']}件，已办结{figures['by_state']['closed']}件"
        in flat
    )
    for stage in figures["stages"]:  # the time table: finished and on time per stage
        assert f"{stage['label']} {stage['finished']} {stage['on_time']}" in text, stage
    items = figures["items"]
    assert f"形成协商成果{items['total']}项，已完成{items['completed']}项" in flat
    assert "测试liaison" in text  # each liaison's participation
    # One bar per stage with topics, per stage that finished, per kind of answer and
    # rating given: the charts are drawn, not only their tables.
    drawn = (
        sum(1 for n in figures["by_state"].values() if n)
        + sum(1 for s in figures["stages"] if s["finished"])
        + sum(1 for n in figures["satisfaction_by_rating"].values() if n)
    )
    assert bars >= drawn > 0

    county = await page_client(app, world.supervisor.user["username"])
    whole = await county.get("/statistics/report.pdf", params={"year": year})
    assert whole.status_code == 200
    text, bars = read(whole.content)
    assert f"全县{year}年“好商量”协商议事工作情况" in text.replace("\n", "")
    assert COUNTY_ISSUER in text.replace("\n", "")  # as on the county's plan notice
    assert "各乡镇情况" in text and t.name in text and bars > 0

    liaison = await page_client(app, t["liaison"].user["username"])
    assert "年度报告" not in (await liaison.get("/statistics")).text
    assert (await liaison.get("/statistics/report.pdf")).status_code == 403
    other = await page_client(app, world.a["staff"].user["username"])
    refused = await other.get("/statistics/report.pdf", params={"township": t.id})
    assert refused.status_code == 403

    out = tmp_path / "report.pdf"
    done = run_cli(
        database_url, "report", "--year", str(year), "--township", t.name, "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert f"{t.name}{year}年“好商量”协商议事工作情况" in read(out.read_bytes())[0].replace(
        "\n", ""
    )
    missing = run_cli(
        database_url, "report", "--year", str(year), "--township", "无此镇", "--out", str(out)
    )
    assert missing.returncode == 1 and "找不到乡镇" in missing.stderr


TYPE_BOTTOM = (297 - 35) * 72 / 25.4
"""The bottom of the type area (GB/T 9704: 35 mm below it)."""


async def test_the_reports_first_page_is_filled_and_no_line_is_a_stub(
    world: World, app: Litestar
) -> None:
    """A chart or table that does not fit is not pushed whole to page 2, leaving page 1
    two-thirds blank (issue 25): page 1's text and drawing reach within three lines of
    the type area's foot."""
    t = await new_township(world, "满页镇")
    states = ("proposed", "investigated", "site_consultation", "meeting", "resolution")
    for state in (*states, "feedback", "closed", "rejected", "withdrawn"):
        await topic_in_state(t, state)
    staff = await page_client(app, t["staff"].user["username"])
    answer = await staff.get("/statistics/report.pdf", params={"year": today().year})
    assert answer.status_code == 200, answer.text
    with pdfplumber.open(io.BytesIO(answer.content)) as document:
        first = document.pages[0]
        drawn = [o["bottom"] for o in first.chars + first.rects + first.curves + first.lines]
        lowest = max(b for b in drawn if b < TYPE_BOTTOM + 2)  # not the footer
        assert len(document.pages) >= 2
        body = [c for page in document.pages for c in page.chars if round(c["size"]) == 16]
        lines: dict[tuple[int, int], str] = {}
        for c in body:
            key = (c["page_number"], round(c["bottom"]))
            lines[key] = lines.get(key, "") + c["text"]
    assert all(len(text) >= 3 for text in lines.values()), lines  # no stub lines
    assert lowest > TYPE_BOTTOM - 3 * 28.9, (lowest, TYPE_BOTTOM)


async def test_a_name_with_a_character_no_face_has_loses_no_row(
    world: World, app: Litestar
) -> None:
    """A township named with a control and a tag-plane character (stored before names
    refused them) once made the county report drop every township's row: WeasyPrint
    could not place it. Such names are refused now, and printed without the characters."""
    refused = await world.admin.post("/api/v1/townships", {"name": "控\x0b制\U000eadfa镇"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "validation_error"

    odd = await new_township(world, "旧数据镇")
    await topic_in_state(odd, "proposed")
    await Township.update({Township.name: "旧\x0b数据\U000eadfa镇"}).where(Township.id == odd.id)
    after = await new_township(world, "其后镇")
    await topic_in_state(after, "proposed")
    county = await page_client(app, world.supervisor.user["username"])
    whole = await county.get("/statistics/report.pdf", params={"year": today().year})
    assert whole.status_code == 200
    text, _ = read(whole.content)
    assert "旧数据镇" in text and after.name in text


async def test_the_report_has_the_years_plan_by_quarter(world: World, app: Litestar) -> None:
    """年度协商计划执行情况 (issue 27): the plan's quarters as the statistics count them."""
    t = await new_township(world, "计划报告镇")
    year = today().year
    _, version = await plan_of(t.id, t["staff"].user["id"], year=year)
    closed, proposed = await topic_in_state(t, "closed"), await topic_in_state(t, "proposed")
    for position, (quarter, topic) in enumerate(
        ((1, None), (1, None), (2, None), (4, closed["id"]), (4, proposed["id"])), 1
    ):
        await PlanItem.insert(
            PlanItem(
                plan_version=version,
                position=position,
                quarter=quarter,
                title=f"计划议题{position}",
                workflow_key="standard",
                lead_unit="镇政府",
                topic=topic,
            )
        )
    staff = await page_client(app, t["staff"].user["username"])
    answer = await staff.get("/statistics/report.pdf", params={"year": year})
    assert answer.status_code == 200, answer.text
    text, _ = read(answer.content)
    flat = text.replace("\n", "")
    assert "五、年度协商计划执行情况" in flat and "六、政协委员/联络员履职情况" in flat
    assert f"{year}年度协商计划（第2版）列入议题5件，已立项2件" in flat
    # Both topics were opened today, by the fourth quarter's last day: on time.
    for row in (
        "第一季度 2 0 0 0",
        "第二季度 1 0 0 0",
        "第三季度 0 0 0 0",
        "第四季度 2 2 2 1",
        "合计 5 2 2 1",
    ):
        assert row in text, row


@pytest.fixture(autouse=True)
async def _off_the_chain_rows_taken_out() -> AsyncIterator[None]:
    """The suggestions and plans a test wrote straight into the tables go after it."""
    yield
    await take_out_made()
