"""Official documents through the API: what the PDFs say and how they are laid out
(read back with pdfplumber and pypdf), publishing, caching, supersede and revoke,
the verify page and the public notice list."""

from __future__ import annotations

import io
import itertools
import logging
import re
import subprocess
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pdfplumber
import pypdf
import pytest
import zxingcpp
from PIL import Image

from deliberation import clock
from deliberation.clock import china_today, chinese_date
from tests.world import Actor, World, satisfy, topic_in_state

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
LEFT, RIGHT, TOP, BOTTOM = 28 * MM, (210 - 26) * MM, 37 * MM, (297 - 35) * MM
CHINESE_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
TOLERANCE = 1.5  # points


async def create(staff: Actor, topic_id: int, kind: str) -> dict[str, Any]:
    r = await staff.post(f"/api/v1/topics/{topic_id}/documents", {"kind": kind})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def publish(staff: Actor, document_id: int, **body: Any) -> dict[str, Any]:
    r = await staff.post(f"/api/v1/documents/{document_id}/publish", body)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def pdf_of(actor: Actor, document: dict[str, Any]) -> bytes:
    r = await actor.get(f"/api/v1/documents/{document['id']}/pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    return r.content


def text_of(pdf: bytes) -> str:
    """The PDF's text with line breaks removed (titles and paragraphs wrap)."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return "".join((page.extract_text() or "").replace("\n", "") for page in doc.pages)


@pytest.fixture(scope="module")
async def feedback_topic(world: World) -> dict[str, Any]:
    """A topic in ``feedback`` with minutes, roster, items, progress and ratings."""
    topic = await topic_in_state(world.a, "feedback")
    staff = world.a["staff"]
    items = (await staff.get(f"/api/v1/topics/{topic['id']}/resolution-items")).json()
    r = await staff.post(
        f"/api/v1/resolution-items/{items[0]['id']}/progress",
        {"note": "路基已完成,正在铺设路面", "percent": 60},
    )
    assert r.status_code == 201, r.text
    await satisfy(world.a, topic, "satisfaction_rated")
    return topic


@pytest.fixture(scope="module")
async def rendered(world: World, feedback_topic: dict[str, Any]) -> dict[str, bytes]:
    """Each kind, published, as the public downloads it."""
    staff = world.a["staff"]
    out = {}
    for kind in ("minutes", "resolution_notice", "feedback_report"):
        document = await publish(staff, (await create(staff, feedback_topic["id"], kind))["id"])
        out[kind] = await pdf_of(staff, document)
    return out


async def test_each_kind_says_what_the_record_says(
    rendered: dict[str, bytes], feedback_topic: dict[str, Any]
) -> None:
    minutes = text_of(rendered["minutes"])
    assert "会议纪要" in minutes and feedback_topic["title"] in minutes
    for name in ("陈国强", "赵丽", "李秀英"):
        assert name in minutes
    for label in ("出席", "请假", "列席"):
        assert label in minutes
    assert "镇会议室" in minutes
    # The decisions as typed, then the agreed items (with unit and time limit): the
    # typed text is not dropped when items exist (issue 25).
    assert "硬化道路1.2公里" in minutes and "镇村建办" in minutes
    assert minutes.index("明确牵头单位和时限") < minutes.index("（一）硬化道路1.2公里")

    notice = text_of(rendered["resolution_notice"])
    assert "协商成果的公示" in notice and feedback_topic["title"] in notice
    assert "硬化道路1.2公里" in notice and "镇村建办" in notice
    assert re.search(r"协商〔\d{4}〕\d+号", notice), notice[:300]
    assert "公示期" in notice and "个工作日" in notice and "异议" in notice

    report = text_of(rendered["feedback_report"])
    assert "落实情况的通报" in report and "路基已完成,正在铺设路面" in report
    assert "满意" in report and "基本满意" in report and "不满意" in report
    # One representative rated, satisfied: shares print one way in every document.
    assert "100%" in report and "100.0%" not in report and "0.0%" not in report
    assert "（60%）" in report  # the item's progress

    for kind, pdf in rendered.items():
        text = text_of(pdf)
        dates = CHINESE_DATE.findall(text)
        assert dates, kind
        # GB/T 9704 dates: Arabic numerals, no leading zeros.
        assert all(not m.startswith("0") and not d.startswith("0") for _, m, d in dates), kind
        assert feedback_topic["reference"] in text, kind


def _body_words(page: Any) -> list[dict[str, Any]]:
    """Words inside the type area (the footer with page number and QR is below it)."""
    words = page.extract_words(extra_attrs=["size"])
    return [w for w in words if w["bottom"] <= BOTTOM + TOLERANCE]


def test_layout_follows_gb_t_9704(rendered: dict[str, bytes]) -> None:
    with pdfplumber.open(io.BytesIO(rendered["feedback_report"])) as doc:
        assert len(doc.pages) >= 2, "the report (items, ratings, colophon) runs over two pages"
        for page in doc.pages:
            assert (page.width, page.height) == pytest.approx(A4, abs=1)
            body = _body_words(page)
            assert body
            assert min(w["x0"] for w in body) >= LEFT - TOLERANCE
            assert max(w["x1"] for w in body) <= RIGHT + TOLERANCE
            assert min(w["top"] for w in body) >= TOP - TOLERANCE
        first = doc.pages[0]
        sizes = {round(w["size"]) for w in _body_words(first)}
        assert 22 in sizes, "the title is 22 pt"
        assert 16 in sizes, "the body is 16 pt"
        # A full body line holds 28 characters; lines are ~28.9 pt apart.
        # Lines of body text (仿宋), by baseline (faces differ in how high their boxes reach).
        lines: dict[float, list[dict[str, Any]]] = {}
        for ch in first.chars:
            if round(ch["size"]) == 16 and ch["bottom"] <= BOTTOM and "HSL-Body" in ch["fontname"]:
                lines.setdefault(round(first.height - ch["matrix"][5], 1), []).append(ch)
        # 28 characters to a 156 mm line: Chinese characters advance 442.2 / 28 pt each,
        # and full lines reach the right edge of the type area.
        advances = sorted(
            b["x0"] - a["x0"]
            for chars in lines.values()
            for a, b in itertools.pairwise(chars)
            if ord(a["text"]) > 0x2E80 and ord(b["text"]) > 0x2E80 and b["x0"] > a["x0"]
        )
        assert advances[len(advances) // 2] == pytest.approx(156 * MM / 28, abs=0.15)
        assert max(c[-1]["x1"] for c in lines.values()) == pytest.approx(RIGHT, abs=16)
        tops = sorted(lines)
        pitches = [b - a for a, b in itertools.pairwise(tops) if 27 < b - a < 31]
        assert pitches and all(abs(p - 28.9) < 0.5 for p in pitches), pitches
        # Page numbers: "— N —", 14 pt, ~7 mm below the type area, odd right, even left.
        for page in doc.pages[:2]:
            n = page.page_number
            marks = [
                w
                for w in page.extract_words(extra_attrs=["size"])
                if w["text"] == str(n) and w["top"] > BOTTOM
            ]
            assert marks, f"no page number on page {n}"
            mark = marks[0]
            assert round(mark["size"]) == 14
            assert BOTTOM + 5 * MM <= mark["top"] <= BOTTOM + 10 * MM
            line = page.crop((0, mark["top"] - 1, page.width, mark["bottom"] + 1)).extract_text()
            assert f"— {n} —" in line
            if n % 2:
                assert mark["x1"] > page.width / 2 and mark["x1"] <= RIGHT
            else:
                assert mark["x0"] < page.width / 2 and mark["x0"] >= LEFT
        # The colophon is on the last page, at the bottom of the type area.
        last = doc.pages[-1]
        printed = [w for w in _body_words(last) if "印发" in w["text"]]
        assert printed and printed[0]["bottom"] > BOTTOM - 60


def _face_of(chars: list[dict[str, Any]], text: str) -> set[str]:
    """The faces (WeasyPrint names each embedded font after its role and weight) of the
    first occurrence of ``text``."""
    joined = "".join(c["text"] for c in chars)
    start = joined.index(text)
    return {c["fontname"].split("+")[-1] for c in chars[start : start + len(text)]}


def test_the_published_notice_is_one_page_signed_and_dated(
    rendered: dict[str, bytes], feedback_topic: dict[str, Any]
) -> None:
    with pdfplumber.open(io.BytesIO(rendered["resolution_notice"])) as doc:
        assert len(doc.pages) == 1
        text = (doc.pages[0].extract_text() or "").replace("\n", "")
    assert "协商议事会" + chinese_date(china_today()) in text
    assert "抄送" not in text  # a posted notice carries no colophon


def test_each_part_prints_in_its_own_face(rendered: dict[str, bytes]) -> None:
    """GB/T 9704: masthead and title in a heavy 小标宋-like face, body in 仿宋, 一、 in
    黑体, （一） in 楷体, page numbers in 宋体, each from its role's file."""
    with pdfplumber.open(io.BytesIO(rendered["feedback_report"])) as doc:
        chars = [c for page in doc.pages for c in page.chars]
        numbers = [c for c in doc.pages[0].chars if c["bottom"] > BOTTOM and c["size"] > 12]
    masthead, title = _face_of(chars, "协商议事会"), _face_of(chars, "落实情况的通报")
    for face in (masthead, title):
        assert len(face) == 1 and face.pop().startswith("HSL-Title-"), face
    heavy = {c["fontname"].split("-")[-1] for c in chars if "HSL-Title" in c["fontname"]}
    assert heavy <= {"Heavy", "Black", "Bold"}, heavy  # a bold weight, never the regular one
    assert _face_of(chars, "一、落实情况") == {"HSL-Heading"}
    assert _face_of(chars, "牵头单位") == {"HSL-Body"}
    assert _face_of(chars, "（一）") == {"HSL-Subheading"}
    assert numbers and {c["fontname"].split("+")[-1] for c in numbers} == {"HSL-Song"}
    heading = chars[[c["text"] for c in chars].index("一") :][:6]
    assert all(round(c["size"]) == 16 for c in heading)


def test_published_pdf_is_pdf_a_3b_with_metadata_and_small(rendered: dict[str, bytes]) -> None:
    for kind, pdf in rendered.items():
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        xmp = reader.xmp_metadata
        assert xmp is not None, kind
        raw = xmp.stream.get_data().decode()
        assert re.search(r"pdfaid:part[^0-9]{0,3}3", raw), raw[:500]
        assert re.search(r"pdfaid:conformance[^A-Z]{0,3}B", raw), raw[:500]
        info = reader.metadata
        assert info is not None and info.title and "“" in info.title
        assert info.author and "协商议事会" in info.author
        assert reader.trailer["/Root"].get("/Lang") == "zh-CN"
        # Tagged for screen readers (issue 25), while still PDF/A-3b above.
        assert "/StructTreeRoot" in reader.trailer["/Root"], kind
        assert reader.trailer["/Root"]["/MarkInfo"]["/Marked"], kind
        assert len(pdf) < 400 * 1024, f"{kind}: {len(pdf)} bytes"  # five faces, cut
        assert not reader.attachments, kind


def _qr_texts(pdf: bytes, tmp_path: Any) -> list[str]:
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", str(source), str(tmp_path / "page")], check=True
    )
    found = []
    for png in sorted(tmp_path.glob("page*.png")):
        found += [r.text for r in zxingcpp.read_barcodes(Image.open(png))]
    return found


async def test_every_page_carries_the_qr_code_of_its_verify_page(
    world: World, rendered: dict[str, bytes], tmp_path: Any, feedback_topic: dict[str, Any]
) -> None:
    staff = world.a["staff"]
    docs = (await staff.get(f"/api/v1/topics/{feedback_topic['id']}/documents")).json()
    notice = next(
        d for d in docs if d["kind"] == "resolution_notice" and d["status"] == "published"
    )
    pages = len(pypdf.PdfReader(io.BytesIO(rendered["resolution_notice"])).pages)
    assert _qr_texts(rendered["resolution_notice"], tmp_path) == [notice["verify_url"]] * pages
    assert notice["verify_url"].endswith(f"/verify/{notice['id']}")
    assert notice["verify_url"] in text_of(rendered["resolution_notice"])

    draft = await create(staff, feedback_topic["id"], "minutes")
    draft_pdf = await pdf_of(staff, draft)
    (tmp_path / "draft").mkdir()
    texts = _qr_texts(draft_pdf, tmp_path / "draft")
    assert texts and all(t == f"{draft['verify_url']}?draft=1" for t in texts)
    assert "草稿" in text_of(draft_pdf)
    page = await world.client.get(f"/verify/{draft['id']}")
    assert page.status_code == 200 and "草稿" in page.text and draft["title"] not in page.text


async def test_every_template_renders_without_missing_glyphs(
    world: World, feedback_topic: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Rendered in this process so WeasyPrint's warnings reach the log capture."""
    from datetime import date

    from deliberation.documents import document_content
    from deliberation.documents.render import RenderJob, render_pdf

    caplog.set_level(logging.WARNING, logger="weasyprint")
    for kind in ("minutes", "resolution_notice", "feedback_report"):
        content = await document_content(kind, feedback_topic["id"], date(2026, 1, 5))
        context = {
            **content.context,
            "number_text": "黄金埠协商〔2026〕1号",
            "posting_text": "公示期：2026年1月5日至2026年1月12日（5个工作日）。",
        }
        job = RenderJob(
            content.template, context, "http://127.0.0.1/verify/1", "核验", content.title, "x"
        )
        pdf = render_pdf(job)
        assert pdf.startswith(b"%PDF")
    problems = [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")]
    assert not [p for p in problems if "notdef" in p], problems
    assert not [p for p in problems if "refused" in p.lower()], problems


async def test_minutes_carry_the_china_date_of_an_early_morning_meeting(world: World) -> None:
    """A meeting at 07:30 China time is the day before in UTC: the minutes were dated a
    day early (documents.md, "What a clean install printed")."""
    staff = world.a["staff"]
    topic = await topic_in_state(world.a, "meeting")
    day = china_today() - timedelta(days=1)  # held already: its minutes can be recorded
    answer = await staff.post(
        f"/api/v1/topics/{topic['id']}/meetings",
        {"scheduled_at": f"{day}T07:30:00+08:00", "place": "村委会", "host": "陈主任"},
    )
    assert answer.status_code == 201, answer.text
    await satisfy(world.a, topic, "minutes_recorded")
    draft = await create(staff, topic["id"], "minutes")
    text = text_of(await pdf_of(staff, draft))
    assert f"{chinese_date(day)}7时30分" in text.replace(" ", "").replace("\n", "")
    assert chinese_date(day - timedelta(days=1)) not in text
    # No items agreed yet: the decisions print as the minutes wrote them.
    assert "明确牵头单位和时限" in text


async def test_a_draft_is_marked_on_every_page_and_the_published_file_never(
    world: World, feedback_topic: dict[str, Any]
) -> None:
    staff = world.a["staff"]
    for kind in ("minutes", "feedback_report"):
        draft = await create(staff, feedback_topic["id"], kind)
        with pdfplumber.open(io.BytesIO(await pdf_of(staff, draft))) as pdf:
            pages = [page.extract_text() or "" for page in pdf.pages]
            marks = [
                [c for c in page.chars if c["text"] == "草" and c["size"] > 60]
                for page in pdf.pages
            ]
        assert all(found for found in marks), (kind, [len(m) for m in marks])  # big, diagonal
        # Turned across the page: each character's text matrix is rotated.
        assert all(abs(m["matrix"][1]) > 0.3 * abs(m["matrix"][0]) for f in marks for m in f), [
            m["matrix"] for f in marks for m in f
        ][:2]
        assert "(草稿)" in pages[0].replace("（", "(").replace("）", ")"), pages[0][:200]
        published = await publish(staff, draft["id"])
        text = text_of(await pdf_of(staff, published))
        assert "草稿" not in text, kind


@pytest.mark.parametrize(("hour", "minute"), [(23, 30), (0, 30)])
async def test_the_feedback_report_is_dated_by_the_china_date_at_any_hour(
    world: World,
    feedback_topic: dict[str, Any],
    move_clock: Callable[[float], None],
    hour: int,
    minute: int,
) -> None:
    """After 16:00 UTC it is already the next day in China: the report was a day early."""
    # Back in time from the suite's clock, not forward (the session's tokens would
    # expire): 00:30 of the suite's China date, or 23:30 of the day before.
    suite_day = china_today()
    day = suite_day - timedelta(days=1) if hour == 23 else suite_day
    move_clock(clock.offset_to_china_time(hour, minute, day) - clock.offset_seconds())
    assert clock.utcnow().astimezone(clock.CHINA).strftime("%H:%M") == f"{hour:02d}:{minute:02d}"
    today = china_today()
    draft = await create(world.a["staff"], feedback_topic["id"], "feedback_report")
    text = text_of(await pdf_of(world.a["staff"], draft))
    assert chinese_date(today) in text.replace(" ", "")


async def test_the_minutes_print_typed_decisions_once_and_the_form_says_what_prints(
    world: World, app: Any
) -> None:
    """A typed paragraph that repeats an item prints once, as the item; the others print
    before the items; the minutes form tells the writer this."""
    from tests.api.test_sessions_end import page_client

    topic = await topic_in_state(world.a, "meeting")
    staff = world.a["staff"]
    day = china_today() - timedelta(days=1)
    answer = await staff.post(
        f"/api/v1/topics/{topic['id']}/meetings",
        {"scheduled_at": f"{day}T09:00:00+08:00", "place": "村委会", "host": "陈主任"},
    )
    assert answer.status_code == 201, answer.text
    meeting_id = answer.json()["id"]
    page = await (await page_client(app, staff.user["username"])).get(f"/topics/{topic['id']}")
    assert "会议纪要的“议定事项”先印这里填写的内容" in page.text
    answer = await staff.post(
        f"/api/v1/topics/{topic['id']}/resolution-items",
        {
            "content": "修建排水沟800米",
            "responsible_unit": "镇水利站",
            "due_date": str(day + timedelta(days=60)),
        },
    )
    assert answer.status_code == 201, answer.text
    answer = await staff.put(
        f"/api/v1/meetings/{meeting_id}/minutes",
        {
            "summary": "与会人员充分协商",
            "decisions": "一、修建排水沟800米。\n同意由镇水利站统筹实施，资金由镇财政列支",
            "attendees": [{"name": "陈国强", "unit": "政协联络委", "attendance": "present"}],
        },
    )
    assert answer.status_code == 200, answer.text
    text = text_of(await pdf_of(staff, await create(staff, topic["id"], "minutes")))
    assert text.count("修建排水沟800米") == 1
    assert text.index("同意由镇水利站统筹实施") < text.index("（一）修建排水沟800米")
