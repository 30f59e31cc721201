"""How the documents are set, read back from the PDFs (issue 12, items 2 and 3): titles in
whole words and balanced lines, mastheads on one line, a notice of up to five items on
one page, the sealed sign-off kept with the last paragraph and its seal space clear."""

from __future__ import annotations

import io
import itertools
import math
from typing import Any

import jieba
import pdfplumber
import pytest

from deliberation.documents.content import subject_of
from deliberation.documents.render import RenderJob, render_pdf
from deliberation.documents.typeset import title_lines

MM = 72 / 25.4
RIGHT = (210 - 26) * MM
CHAR = 156 * MM / 28  # one body character, 16 pt on a 28-character line
LINE = 28.9
SEAL_RADIUS = 21 * MM
PLACES = ["黄金埠镇", "金山村", "塘背村", "渡口村", "新街村"]

ITEMS = [
    ("硬化村组道路1.2公里", "镇村建办"),
    ("修建排水沟800米", "镇水利站"),
    ("增设路灯20盏", "镇村建办"),
    ("设置限高限宽设施", "镇交管站"),
    ("建立道路管护制度并明确管护责任人", "金山村委会"),
]


def notice(subject: str, items: int = 1, issuer: str = "黄金埠镇“好商量”协商议事会") -> bytes:
    rows = [
        {"n": str(i), "content": c, "unit": u, "due": "2027年3月31日"}
        for i, (c, u) in enumerate(itertools.islice(itertools.cycle(ITEMS), items), start=1)
    ]
    context = {
        "issuer": issuer,
        "number_text": "黄金埠协商〔2026〕12号",
        "title": f"关于“{subject}”协商成果的公示",
        "intro": "现将“好商量”协商议事会议形成的协商成果公示如下：",
        "items": rows,
        "posting_text": "公示期：2026年12月1日至2026年12月8日（5个工作日）。",
        "office": issuer + "办公室",
        "date_text": "2026年12月1日",
        "copy_to": "镇党委。",
        "place_names": PLACES,
    }
    return render_pdf(
        RenderJob("resolution_notice.html", context, "http://127.0.0.1/verify/1", "核验", "t", "a")
    )


def lines_of(chars: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Characters grouped into lines by baseline, top to bottom, left to right."""
    grouped: dict[tuple[int, float], list[dict[str, Any]]] = {}
    for c in chars:
        grouped.setdefault((c["page_number"], round(-c["matrix"][5], 1)), []).append(c)
    return [sorted(grouped[k], key=lambda c: c["x0"]) for k in sorted(grouped)]


def chars_of(pdf: bytes) -> list[dict[str, Any]]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return [c for page in doc.pages for c in page.chars]


def pages_of(pdf: bytes) -> int:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def title_rows(pdf: bytes) -> list[str]:
    title = [c for c in chars_of(pdf) if "HSL-Title" in c["fontname"] and round(c["size"]) == 22]
    return ["".join(c["text"] for c in line) for line in lines_of(title)]


SUBJECTS = [
    "塘背村留守儿童课后托管",
    "金山村高标准农田灌溉渠修复与村组道路硬化",
    "黄金埠镇农贸市场摊位规范与周边交通秩序整治及停车位增设",
    "渡口村渡船安全管理",
    "新街村垃圾分类收运2026年第二批设施采购",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_title_lines_keep_words_whole_and_stack_evenly(subject: str) -> None:
    rows = title_rows(notice(subject))
    title = f"关于“{subject}”协商成果的公示"
    assert "".join(rows) == title
    # Every line ends where jieba ends a word, never inside a place name or a number.
    word_ends = set(itertools.accumulate(len(w) for w in jieba.cut(title)))
    protected = [
        range(m + 1, m + len(p))
        for p in PLACES
        for m in range(len(title))
        if title.startswith(p, m)
    ]
    for end in itertools.accumulate(len(r) for r in rows[:-1]):
        assert end in word_ends, (rows, end)
        assert not any(end in span for span in protected), rows
        assert not (title[end - 1].isdigit() and title[end].isdigit()), rows
        assert title[end - 1] not in "“与和及" and title[end] not in "”的，、", rows
    assert all(len(r) >= 3 for r in rows), rows
    # As even as whole words allow; three lines or more: a trapezoid or a diamond.
    if len(rows) >= 3:
        n = [len(r) for r in rows]
        rising = all(a <= b for a, b in itertools.pairwise(n))
        falling = all(a >= b for a, b in itertools.pairwise(n))
        diamond = max(n[1:-1]) >= max(n[0], n[-1])
        assert rising or falling or diamond, rows


def test_a_short_title_is_one_line_and_a_long_one_is_not_left_with_a_stub() -> None:
    assert title_rows(notice("渡口村渡船安全管理")) == ["关于“渡口村渡船安全管理”协商成果的公示"]
    # Two lines, broken where the meaning breaks (after the quoted subject), not inside
    # it for a more even pair of lines, and never leaving 公示 alone.
    rows = title_rows(notice("塘背村留守儿童课后托管"))
    assert rows == ["关于“塘背村留守儿童课后托管”", "协商成果的公示"]


def test_title_lines_by_measure() -> None:
    """The breaking itself, with every character one em: no line of one or two
    characters, even when the text would allow an even split only that way."""
    text = "关于进一步加强农村饮用水安全保障工作的通知"
    for width in (8.0, 10.0, 12.0, 15.0):
        rows = title_lines(text, len, width)
        assert "".join(rows) == text
        assert all(len(r) >= 3 and len(r) <= width for r in rows), (width, rows)
    assert title_lines(text, len, 40.0) == [text]
    # Beyond five lines the page wraps it (the search for breaks stays small).
    assert title_lines(text * 10, len, 8.0) == [text * 10]
    rows = title_lines(text * 2, len, 12.0)
    assert len(rows) == 4 and all(3 <= len(r) <= 12 for r in rows), rows


def test_mastheads_stay_on_one_line() -> None:
    long_issuer = "余干县黄金埠镇“好商量”村民协商议事委员会"
    chars = chars_of(notice("渡口村渡船安全管理", issuer=long_issuer))
    mark = [c for c in chars if "HSL-Title" in c["fontname"] and round(c["size"]) != 22]
    assert "".join(c["text"] for c in mark) == long_issuer
    assert len(lines_of(mark)) == 1
    assert max(c["x1"] for c in mark) <= RIGHT + 1 and round(mark[0]["size"]) < 26
    # A short one keeps its full 26 pt.
    chars = chars_of(notice("渡口村渡船安全管理"))
    mark = [c for c in chars if "HSL-Title" in c["fontname"] and round(c["size"]) != 22]
    assert {round(c["size"]) for c in mark} == {26}


def _signoff(chars: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = lines_of([c for c in chars if "HSL-Body" in c["fontname"]])
    texts = ["".join(c["text"] for c in r) for r in rows]
    date_at = max(i for i, t in enumerate(texts) if t == "2026年12月1日")
    assert texts[date_at - 1] == "黄金埠镇“好商量”协商议事会", texts[-4:]
    return rows[date_at - 1], rows[date_at]


# Five items fit on one page in the documents' own faces (the pip fallback is wider).
@pytest.mark.parametrize("items", [1, pytest.param(5, marks=pytest.mark.needs_faces)])
def test_a_notice_of_up_to_five_items_is_one_page_with_its_seal_space(items: int) -> None:
    pdf = notice("金山村高标准农田灌溉渠修复与村组道路硬化", items)
    assert pages_of(pdf) == 1
    chars = [c for c in chars_of(pdf) if c["bottom"] < (297 - 35) * MM]  # not the footer
    issuer, date = _signoff(chars)
    # The date four characters in from the right; the issuer centred over it.
    assert RIGHT - date[-1]["x1"] == pytest.approx(4 * CHAR, abs=3)
    centre = (date[0]["x0"] + date[-1]["x1"]) / 2
    assert (issuer[0]["x0"] + issuer[-1]["x1"]) / 2 == pytest.approx(centre, abs=2)
    # The seal space: 42 mm across, centred on the date, a little above the middle of
    # the two lines. No other text inside it; its top within one line of the body.
    middle = (issuer[-1]["bottom"] + date[0]["top"]) / 2
    cy = middle - 6
    own = {id(c) for c in issuer + date}
    for c in chars:
        if id(c) in own:
            continue
        nearest_x = min(max(centre, c["x0"]), c["x1"])
        nearest_y = min(max(cy, c["top"]), c["bottom"])
        assert math.hypot(nearest_x - centre, nearest_y - cy) > SEAL_RADIUS, c["text"]
    body_bottom = max(c["bottom"] for c in chars if id(c) not in own)
    assert 0 < (cy - SEAL_RADIUS) - body_bottom < LINE


def test_the_sign_off_stays_with_the_last_paragraph_on_a_long_notice() -> None:
    for items in (9, 10, 11, 12, 13):
        pdf = notice("金山村高标准农田灌溉渠修复与村组道路硬化", items)
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            last = doc.pages[-1]
            text = (last.extract_text() or "").replace("\n", "")
        assert pages_of(pdf) >= 2
        # On the last page: the posting paragraph, then the issuer and the date.
        assert "如有异议" in text and "公示期" in text, (items, text[:120])
        assert text.index("如有异议") < text.index("协商议事会2026年12月1日")


@pytest.mark.parametrize(
    ("title", "subject"),
    [
        ("关于金山村道路硬化的协商议题", "金山村道路硬化"),
        ("关于渡口村渡船安全管理", "渡口村渡船安全管理"),
        ("“新街村垃圾分类”议题", "新街村垃圾分类"),
        ("塘背村排水沟清淤改造", "塘背村排水沟清淤改造"),
        ("议题", "议题"),
    ],
)
def test_document_titles_name_the_subject_once(title: str, subject: str) -> None:
    assert subject_of(title) == subject
