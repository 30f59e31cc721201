"""Documents that break well (issue 25): long notices, reports and minutes read back from
their PDFs. A table row is never split between pages, a heading is never the last line
of a page, no body line holds fewer than three characters, shares are printed one way,
and the PDFs are tagged (headings, paragraphs, tables) while staying PDF/A-3b."""

from __future__ import annotations

import io
import re
from typing import Any

import pdfplumber
import pypdf
import pytest

from deliberation.documents.render import RenderJob, render_pdf
from deliberation.numbers import percent
from tests.deliberation.test_document_layout import PLACES, lines_of

MM = 72 / 25.4
NUMBER_COLUMN = 28 * MM + 3.2 * 14  # the right edge of a notice's 序号 column
ISSUER = "黄金埠镇“好商量”协商议事会"

CONTENTS = [
    "对金山村至塘背村的村组道路进行全面硬化，路面宽度不少于四点五米，并同步修建两侧排水沟和错车道，解决群众雨天出行难的问题",
    "在渡口村渡船码头增设安全护栏、救生圈和夜间照明设施，落实渡船每日安全检查制度，汛期实行专人值守，确保过渡群众安全",
    "新街村农贸市场周边划定临时停车位四十个，设置交通标志标线，安排专人在赶集日疏导交通，规范流动摊贩经营秩序",
    "建立村组道路管护长效机制，明确管护责任人和管护经费来源，每季度组织一次道路巡查，发现问题及时修补并向群众公开",
    "对留守儿童课后托管场所进行安全评估和改造，配备必要的图书和文体器材，组织志愿者轮流值守，确保托管服务正常开展",
    "将协商成果落实情况纳入村务公开内容，每月在村务公开栏和村民微信群公布进展，接受群众监督并及时回应群众关切",
    "组织镇村干部和政协联络员对协商成果落实情况开展一次回头看，形成书面报告报镇党委和县政协，对落实不力的单位进行督办",
]
UNITS = [
    "镇村建办",
    "镇交管站",
    "镇市场监管所",
    "金山村委会",
    "镇社会事务办公室",
    "镇党政办",
    "镇纪委",
]


def _job(template: str, context: dict[str, Any]) -> RenderJob:
    common = {
        "issuer": ISSUER,
        "number_text": "黄金埠协商〔2026〕12号",
        "office": ISSUER + "办公室",
        "date_text": "2026年12月31日",
        "copy_to": "镇党委、镇人大主席团、镇人民政府、县政协。",
        "place_names": PLACES,
        "addressees": "各村（社区）、镇直有关单位，广大群众：",
    }
    return RenderJob(template, {**common, **context}, "http://127.0.0.1/verify/1", "核验", "t", "a")


def _rows(n: int, extra: str = "") -> list[dict[str, str]]:
    return [
        {
            "n": str(i),
            "heading_n": "一二三四五六七八九"[i - 1],
            "content": CONTENTS[(i - 1) % len(CONTENTS)] + extra,
            "unit": UNITS[(i - 1) % len(UNITS)],
            "due": "2026年12月31日",
            "state": "推进中",
            "percent": percent(i * 10, 100),
            "progress": "已完成施工设计和招标，正在组织施工，预计2026年12月31日前完成全部建设任务"
            + extra,
            "reported": "2026年12月1日",
        }
        for i in range(1, n + 1)
    ]


def notice(items: int, extra: str = "") -> bytes:
    return render_pdf(
        _job(
            "resolution_notice.html",
            {
                "title": "关于“金山村道路硬化”协商成果的公示",
                "intro": "现将“好商量”协商议事会议形成的协商成果公示如下：",
                "items": _rows(items, extra),
                "posting_text": "公示期：2026年12月24日至2026年12月31日（5个工作日）。",
            },
        )
    )


def report(items: int, extra: str = "") -> bytes:
    return render_pdf(
        _job(
            "feedback_report.html",
            {
                "title": "关于“金山村道路硬化”协商成果落实情况的通报",
                "intro": f"“金山村道路硬化”协商成果共{items}项，已完成0项。现将落实情况和群众满意度评价通报如下：",
                "items": _rows(items, extra),
                "tally": [
                    {"label": "满意", "count": "1", "share": percent(1, 3)},
                    {"label": "基本满意", "count": "2", "share": percent(2, 3)},
                    {"label": "不满意", "count": "0", "share": percent(0, 3)},
                ],
                "rated": "3",
            },
        )
    )


def minutes(items: int, extra: str = "", decisions: tuple[str, ...] = ()) -> bytes:
    return render_pdf(
        _job(
            "minutes.html",
            {
                "title": "关于“金山村道路硬化”的协商议事会议纪要",
                "intro": "2026年12月1日上午，镇政协联络员在镇会议室主持召开“好商量”协商议事会议，就“金山村道路硬化”进行协商。现将会议议定事项纪要如下：",
                "summary": [CONTENTS[5] + extra, CONTENTS[6]],
                "decisions": list(decisions),
                "items": _rows(items, extra),
                "present": "、".join(f"张{n}（政协联络员）" for n in "一二三四五六七八九十"),
                "on_leave": "李四（村民代表）",
                "observers": "王五（镇纪委）",
            },
        )
    )


def _chars(pdf: bytes) -> list[dict[str, Any]]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return [c for page in doc.pages for c in page.chars]


def _text(line: list[dict[str, Any]]) -> str:
    return "".join(c["text"] for c in line)


def body_lines(pdf: bytes) -> list[list[dict[str, Any]]]:
    """The 16 pt lines of the body (not the title, masthead, table or footer)."""
    return lines_of([c for c in _chars(pdf) if round(c["size"]) == 16])


def _is_heading(line: list[dict[str, Any]]) -> bool:
    return all("Heading" in c["fontname"] or "Subheading" in c["fontname"] for c in line)


# Enough to put a heading, a row, a last line at every height of the page (each of
# these failed before issue 25).
ITEM_COUNTS = [5, 6, 7]
EXTRAS = ["", "并及时向群众公布进展情况和资金使用明细"]


@pytest.mark.parametrize("extra", EXTRAS)
@pytest.mark.parametrize("items", ITEM_COUNTS)
def test_a_table_row_is_never_split_between_pages(items: int, extra: str) -> None:
    """On every page, the table's first line of body text is a row's first line: it
    carries the row's number (a split row would go on with its content alone)."""
    pdf = notice(items, extra)
    table = [c for c in _chars(pdf) if round(c["size"]) == 14 and "Body" in c["fontname"]]
    pages = sorted({c["page_number"] for c in table})
    for page in pages:
        first = lines_of([c for c in table if c["page_number"] == page])[0]
        assert any(c["x1"] <= NUMBER_COLUMN for c in first), (items, page, _text(first))
    numbers = [c for c in table if c["x1"] <= NUMBER_COLUMN and c["text"].isdigit()]
    assert "".join(c["text"] for c in numbers) == "".join(str(i) for i in range(1, items + 1))


@pytest.mark.parametrize("extra", EXTRAS)
@pytest.mark.parametrize("render", [report, minutes], ids=["report", "minutes"])
@pytest.mark.parametrize("items", [3, 4, 6])
def test_no_heading_is_the_last_line_of_a_page(render: Any, items: int, extra: str) -> None:
    lines = body_lines(render(items, extra))
    by_page: dict[int, list[list[dict[str, Any]]]] = {}
    for line in lines:
        by_page.setdefault(line[0]["page_number"], []).append(line)
    for page, page_lines in by_page.items():
        if page == max(by_page):
            continue
        assert not _is_heading(page_lines[-1]), (page, _text(page_lines[-1]))


@pytest.mark.parametrize("extra", ["", "等", "等事项", "并公开"])
@pytest.mark.parametrize("render", [report, minutes, notice], ids=["report", "minutes", "notice"])
def test_no_body_line_is_shorter_than_three_characters(render: Any, extra: str) -> None:
    for items in (3, 6):
        for line in body_lines(render(items, extra)):
            text = _text(line).strip()
            assert len(text) >= 3, (
                items,
                text,
                [_text(x) for x in body_lines(render(items, extra))],
            )


def test_dates_roles_and_labels_are_never_broken() -> None:
    pdf = minutes(6, "并公开")
    text = "\n".join(_text(line) for line in body_lines(pdf))
    for broken in ("2026年12月31\n日", "政协联络\n员", "状\n态"):
        assert broken not in text
    for line in body_lines(report(6, "等")):
        assert not re.search(r"\d$", _text(line)), _text(line)


def test_shares_print_one_way() -> None:
    assert [percent(1, 2), percent(1, 3), percent(0, 4), percent(4, 4)] == [
        "50%",
        "33.3%",
        "0%",
        "100%",
    ]
    assert percent(0, 0) == "—" and percent(None) == "—" and percent(0.25) == "25%"


def test_a_published_pdf_is_tagged_and_still_pdf_a_3b() -> None:
    job = _job(
        "feedback_report.html",
        {
            "title": "关于“金山村道路硬化”协商成果落实情况的通报",
            "intro": "通报如下：",
            "items": _rows(2),
            "tally": [{"label": "满意", "count": "1", "share": "100%"}],
            "rated": "1",
        },
    )
    pdf = render_pdf(RenderJob(**{**job.__dict__, "pdf_a": True}))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"] in (True, "true", pypdf.generic.BooleanObject(True))
    raw = reader.xmp_metadata.stream.get_data().decode()  # type: ignore[union-attr]
    assert re.search(r"pdfaid:part[^0-9]{0,3}3", raw)
    assert re.search(r"pdfaid:conformance[^A-Z]{0,3}B", raw)

    roles: set[str] = set()

    def walk(node: Any, depth: int = 0) -> None:
        node = node.get_object()
        if isinstance(node, pypdf.generic.DictionaryObject):
            if "/S" in node:
                roles.add(str(node["/S"]))
            kids = node.get("/K")
            if kids is not None:
                for kid in kids if isinstance(kids, list) else [kids]:
                    if depth < 40:
                        walk(kid, depth + 1)
        elif isinstance(node, list):
            for kid in node:
                walk(kid, depth + 1)

    walk(root["/StructTreeRoot"])
    assert {"/H1", "/H2", "/P", "/Table", "/TR", "/TH", "/TD"} <= roles, roles


def test_a_charts_share_reads_as_the_table_beneath_it() -> None:
    """The annual report's on-time chart labels a bar as its table prints the share."""
    from deliberation import charts

    svg = charts.printed_bars(["完成调研", "发出会议通知"], [100 * 2 / 3, 50.0], percent=True)
    assert f">{percent(2, 3)}<" in svg and ">50%<" in svg
    assert ">67%<" not in svg


def test_a_long_unit_stays_in_its_column() -> None:
    """A narrow column keeps only its last characters together: a long unit wraps inside
    its column instead of running into the time limit's."""
    global UNITS
    saved, UNITS = UNITS, ["镇社会事务办公室（牵头单位）"]
    try:
        pdf = notice(2)
    finally:
        UNITS = saved
    due_left = (210 - 26) * MM - 7.6 * 14
    unit = [
        c for c in _chars(pdf) if round(c["size"]) == 14 and c["text"] in "社会事务办公室牵头单位"
    ]
    assert unit and all(c["x1"] <= due_left + 1 for c in unit)
