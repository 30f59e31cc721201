"""Rendering is safe: people's text never fetches, embeds or attaches anything.

Hostile markup goes into every field a document prints; a real HTTP listener on
127.0.0.1 records any request the renderer would make."""

from __future__ import annotations

import http.server
import io
import threading
from collections.abc import Iterator
from typing import Any

import pypdf
import pytest

from deliberation.documents.render import TEMPLATES, ProjectFilesFetcher, RefusedURL, html_to_pdf
from tests.api.test_documents import create, pdf_of, publish, text_of
from tests.world import World, days_from_today, fire, open_topic


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        body = b"body{}" if self.path.endswith(".css") else b"\x89PNG"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()


def hostile(base: str) -> str:
    return (
        '<img src="file:///etc/passwd">'
        '<link rel="attachment" href="file:///etc/passwd">'
        f"<style>@import url({base}/import.css);</style>"
        f'<img src="{base}/pixel.png">'
        f'<link rel="stylesheet" href="{base}/sheet.css">'
    )


def _assert_clean(pdf: bytes, seen: list[str]) -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert not reader.attachments, "a file was attached"
    for page in reader.pages:
        assert not page.images, "an image was embedded"
    assert "root:x:0:0" not in text_of(pdf)
    assert seen == [], f"the renderer made requests: {seen}"


async def test_hostile_text_in_every_field_is_printed_as_text(
    world: World, listener: tuple[str, list[str]]
) -> None:
    base, seen = listener
    evil = hostile(base)
    short = '<img src="file:///etc/passwd">'
    staff, liaison = world.a["staff"], world.a["liaison"]
    topic = await open_topic(world.a, title=evil[:200], description=evil)
    tid = topic["id"]
    r = await liaison.post(
        f"/api/v1/topics/{tid}/investigations",
        {"visited_on": "2026-11-01", "place": evil[:200], "participants": evil, "findings": evil},
    )
    assert r.status_code == 201, r.text
    assert (await fire(liaison, topic, "investigate")).status_code == 200
    topic = (await staff.get(f"/api/v1/topics/{tid}")).json()
    assert (await fire(liaison, topic, "begin_site_consultation")).status_code == 200
    r = await liaison.post(
        f"/api/v1/topics/{tid}/site-consultations",
        {"held_on": "2026-11-02", "place": evil[:200], "participants": evil, "summary": evil},
    )
    assert r.status_code == 201, r.text
    r = await staff.post(
        f"/api/v1/topics/{tid}/meetings",
        {"scheduled_at": "2026-11-03T09:00:00+08:00", "place": evil[:200], "host": evil[:100]},
    )
    assert r.status_code == 201, r.text
    meeting_id = r.json()["id"]
    topic = (await staff.get(f"/api/v1/topics/{tid}")).json()
    assert (await fire(staff, topic, "convene_meeting")).status_code == 200
    r = await staff.put(
        f"/api/v1/meetings/{meeting_id}/minutes",
        {
            "summary": evil,
            "decisions": evil,
            "attendees": [
                {"name": short, "unit": evil[:100], "attendance": "present"},
                {"name": short, "unit": evil[:100], "attendance": "on_leave"},
                {"name": short, "unit": evil[:100], "attendance": "observer"},
            ],
        },
    )
    assert r.status_code == 200, r.text
    r = await staff.post(
        f"/api/v1/topics/{tid}/resolution-items",
        {"content": evil, "responsible_unit": evil[:100], "due_date": days_from_today(30)},
    )
    assert r.status_code == 201, r.text
    item_id = r.json()["id"]
    topic = (await staff.get(f"/api/v1/topics/{tid}")).json()
    assert (await fire(staff, topic, "adopt_resolution")).status_code == 200
    r = await staff.post(
        f"/api/v1/resolution-items/{item_id}/progress", {"note": evil, "percent": 10}
    )
    assert r.status_code == 201, r.text

    for kind in ("minutes", "resolution_notice", "feedback_report"):
        if kind == "feedback_report":  # a feedback report is drafted from `feedback` on
            topic = (await staff.get(f"/api/v1/topics/{tid}")).json()
            assert (await fire(staff, topic, "start_feedback")).status_code == 200
        draft = await create(staff, tid, kind)
        _assert_clean(await pdf_of(staff, draft), seen)
        published = await publish(staff, draft["id"])
        pdf = await pdf_of(staff, published)
        _assert_clean(pdf, seen)
        # The markup is there to read, as text.
        assert 'src="file:///etc/passwd">' in text_of(pdf), kind


def test_the_fetcher_refuses_everything_but_the_project_files(
    listener: tuple[str, list[str]],
) -> None:
    base, seen = listener
    fetcher = ProjectFilesFetcher()
    stylesheet = fetcher.fetch((TEMPLATES / "print.css").as_uri())
    assert b"@page" in stylesheet.read()
    for url in (
        "file:///etc/passwd",
        (TEMPLATES / ".." / ".." / "pyproject.toml").as_uri(),
        f"file://{TEMPLATES}/../../../../etc/passwd",
        f"{base}/x.css",
        "https://example.com/x.css",
        "ftp://127.0.0.1/x",
        "data:text/css,body{}",
        (TEMPLATES / "missing.css").as_uri(),
    ):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert seen == []


def test_raw_hostile_html_still_fetches_nothing(listener: tuple[str, list[str]]) -> None:
    """Even markup that reached WeasyPrint unescaped (it cannot: Jinja escapes) would
    fetch nothing and attach nothing."""
    base, seen = listener
    html = f'<html lang="zh-CN"><head>{hostile(base)}</head><body>正文{hostile(base)}</body></html>'
    _assert_clean(html_to_pdf(html), seen)
