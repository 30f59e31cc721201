"""The annual plan's notice (issue 27), rendered from a plan sheet and read back: its
title, number line and attachment table, whose header repeats on every page."""

from __future__ import annotations

import io
from datetime import date

import pdfplumber

from deliberation.documents.content import (
    PlanLine,
    PlanSheet,
    document_number,
    plan_content,
    subject_label,
)
from deliberation.documents.render import RenderJob, render_pdf

WORKFLOWS = ("标准协商", "微协商", "四议两公开")
HEADER = ["序号", "季度", "议题", "协商流程", "牵头单位", "来源"]


def sheet(items: int, township: str | None = "黄金埠镇", version: int = 1) -> PlanSheet:
    return PlanSheet(
        year=2027,
        township=township,
        version=version,
        note="增列第四季度议题" if version > 1 else "",
        items=tuple(
            PlanLine(
                quarter=1 + n % 4,
                title=f"金山村第{n + 1}组道路硬化和路灯安装",
                workflow=WORKFLOWS[n % 3],
                lead_unit="镇村建办",
                suggestion_reference=f"JY-2027-{n + 1:04d}" if n % 2 == 0 else None,
            )
            for n in range(items)
        ),
        place_names=("黄金埠镇", "金山村"),
    )


def render(content_sheet: PlanSheet, number: str) -> bytes:
    content = plan_content(content_sheet, date(2027, 1, 8))
    context = {**content.context, "number_text": number, "draft": False}
    context["posting_text"] = "公示期：2027年1月8日至2027年1月15日（5个工作日）。"
    label = f"扫码核验真伪 · {subject_label(content)}\nhttp://127.0.0.1/verify/7"
    return render_pdf(
        RenderJob(content.template, context, "http://127.0.0.1/verify/7", label, content.title, "a")
    )


def tables(pdf: bytes) -> list[list[list[str]]]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return [
            [[(cell or "").replace("\n", "") for cell in row] for row in table]
            for page in doc.pages
            for table in page.extract_tables()
        ]


def test_the_plan_notice_reads_back_with_its_number_and_every_item() -> None:
    plan = sheet(30)
    pdf = render(plan, document_number("黄金埠镇", 2027, 1))
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        pages = ["".join((p.extract_text() or "").split()) for p in doc.pages]
    first = pages[0]
    assert "黄金埠镇“好商量”协商议事会" in first
    assert "黄金埠协商〔2027〕1号" in first
    assert "关于印发2027年度“好商量”协商计划的通知" in first
    assert "附件：2027年度“好商量”协商计划" in first
    assert "确定2027年度协商议题30项" in first
    assert all("协商计划2027年度（第1版）" in page for page in pages), "the QR label"
    found = tables(pdf)
    assert len(found) >= 2, "thirty items run over more than one page"
    # Every page of the attachment starts with the header: it repeats.
    assert all(table[0] == HEADER for table in found)
    rows = [row for table in found for row in table[1:]]
    expected = [
        [
            str(n),
            ("第一季度", "第二季度", "第三季度", "第四季度")[line.quarter - 1],
            line.title,
            line.workflow,
            line.lead_unit,
            f"村民建议{line.suggestion_reference}" if line.suggestion_reference else "直接列入",
        ]
        for n, line in enumerate(plan.items, start=1)
    ]
    assert [[cell.replace(" ", "") for cell in row] for row in rows] == expected


def test_a_revision_says_what_it_replaces_and_the_county_plan_its_issuer() -> None:
    revised = plan_content(sheet(3, version=2), date(2027, 4, 1))
    assert (
        "本计划为第2版，自发布之日起替代第1版。修订说明：增列第四季度议题。"
        in revised.context["intro"]
    )
    assert subject_label(revised) == "协商计划 2027年度（第2版）"
    county = plan_content(sheet(2, township=None), date(2027, 1, 8))
    assert county.issuer == "县政协“好商量”协商议事工作办公室"
    assert county.context["addressees"].startswith("各乡镇")
    assert document_number(None, 2027, 1) == "县政协协商〔2027〕1号"
