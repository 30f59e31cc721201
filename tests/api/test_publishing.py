"""Publishing documents: frozen bytes, HTTP caching, who sees drafts, supersede and
revoke on the verify page, the public notice list, and the posting period."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest

from deliberation.database import write_transaction
from deliberation.documents import Publishing, Renderer, create_document, publish_document
from deliberation.workdays import load_schedule, parse_schedule, remove_schedule
from tests.api.test_documents import create, publish
from tests.world import World, topic_in_state, unique


@pytest.fixture(scope="module")
async def resolution_topic(world: World) -> dict[str, Any]:
    return await topic_in_state(world.a, "resolution")


async def test_published_bytes_are_frozen_and_cacheable(
    world: World, resolution_topic: dict[str, Any]
) -> None:
    staff = world.a["staff"]
    document = await publish(staff, (await create(staff, resolution_topic["id"], "minutes"))["id"])
    assert document["status"] == "published" and document["status_label"] == "有效"
    url = f"/api/v1/documents/{document['id']}/pdf"
    first = await world.client.get(url)  # public: no token
    second = await world.client.get(url)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert hashlib.sha256(first.content).hexdigest() == document["sha256"]
    assert len(first.content) == document["size_bytes"]
    assert first.headers["etag"] == f'"{document["sha256"]}"'
    assert "immutable" in first.headers["cache-control"]
    assert "public" in first.headers["cache-control"]
    again = await world.client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    stale = await world.client.get(url, headers={"If-None-Match": '"0000"'})
    assert stale.status_code == 200 and stale.content == first.content
    # Publishing again is refused; the bytes stay as they were.
    r = await staff.post(f"/api/v1/documents/{document['id']}/publish", {})
    assert r.status_code == 409 and r.json()["code"] == "transition_not_allowed"
    assert (await world.client.get(url)).content == first.content


async def test_drafts_are_for_their_township_staff_only(
    world: World, resolution_topic: dict[str, Any]
) -> None:
    staff = world.a["staff"]
    draft = await create(staff, resolution_topic["id"], "resolution_notice")
    assert draft["status"] == "draft" and draft["number"] is None
    assert draft["published_at"] is None and draft["posting_ends_on"] is None
    url = f"/api/v1/documents/{draft['id']}/pdf"
    own = await staff.get(url)
    assert own.status_code == 200 and own.headers["cache-control"] == "no-store"
    assert "etag" not in own.headers
    assert (await world.client.get(url)).status_code == 404
    assert (await world.b["staff"].get(url)).status_code == 404
    assert (await world.a["liaison"].get(url)).status_code == 404
    bad_token = await world.client.get(url, headers={"Authorization": "Bearer nonsense"})
    assert bad_token.status_code == 401
    for body in ({"posting_days": 0}, {"posting_days": 61}, {"posting_days": "五"}, {"x": 1}):
        r = await staff.post(f"/api/v1/documents/{draft['id']}/publish", body)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", body
    r = await world.a["liaison"].post(f"/api/v1/documents/{draft['id']}/publish", {})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await world.b["staff"].post(f"/api/v1/documents/{draft['id']}/publish", {})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert (await staff.get(f"/api/v1/documents/{draft['id']}")).json()["status"] == "draft"
    listed = await world.a["liaison"].get(f"/api/v1/topics/{resolution_topic['id']}/documents")
    assert draft["id"] not in [d["id"] for d in listed.json()]


async def test_who_may_create_and_what_each_kind_needs(
    world: World, resolution_topic: dict[str, Any]
) -> None:
    tid = resolution_topic["id"]
    r = await world.a["liaison"].post(f"/api/v1/topics/{tid}/documents", {"kind": "minutes"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await world.b["staff"].post(f"/api/v1/topics/{tid}/documents", {"kind": "minutes"})
    assert r.status_code == 404
    r = await world.a["staff"].post(f"/api/v1/topics/{tid}/documents", {"kind": "poster"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = await world.a["staff"].post(
        f"/api/v1/topics/{tid}/documents", {"kind": "minutes", "extra": 1}
    )
    assert r.status_code == 422
    # Each kind from its stage on (the workflow declaration), 409 before it.
    early = await topic_in_state(world.a, "proposed")
    for kind in ("minutes", "resolution_notice", "feedback_report"):
        r = await world.a["staff"].post(f"/api/v1/topics/{early['id']}/documents", {"kind": kind})
        assert r.status_code == 409 and r.json()["code"] == "stage_closed", r.text
        assert "已提出" in r.json()["detail"]
    # In its stage but without the record it is made from: 422 naming what is missing.
    meeting = await topic_in_state(world.a, "meeting")
    r = await world.a["staff"].post(
        f"/api/v1/topics/{meeting['id']}/documents", {"kind": "minutes"}
    )
    assert r.status_code == 422 and r.json()["code"] == "condition_failed"
    assert "会议纪要" in r.json()["detail"]
    r = await world.a["staff"].post(
        f"/api/v1/topics/{meeting['id']}/documents", {"kind": "resolution_notice"}
    )
    assert r.status_code == 409 and r.json()["code"] == "stage_closed"
    # Nothing half-written was left behind.
    for topic in (early, meeting):
        listed = await world.a["staff"].get(f"/api/v1/topics/{topic['id']}/documents")
        assert listed.json() == []


async def test_supersede_and_revoke_show_on_the_verify_page(
    world: World, resolution_topic: dict[str, Any]
) -> None:
    staff = world.a["staff"]
    tid = resolution_topic["id"]
    older = await publish(staff, (await create(staff, tid, "resolution_notice"))["id"])
    newer = await publish(staff, (await create(staff, tid, "resolution_notice"))["id"])
    assert older["number"] != newer["number"]
    assert re.fullmatch(r".+协商〔\d{4}〕\d+号", newer["number"])
    older_now = (await staff.get(f"/api/v1/documents/{older['id']}")).json()
    assert older_now["status"] == "superseded" and older_now["superseded_by"] == newer["id"]
    page = await world.client.get(f"/verify/{older['id']}")
    assert page.status_code == 200
    assert "已被新版本替代" in page.text and f"/verify/{newer['id']}" in page.text
    assert older["sha256"] in page.text
    # The superseded file itself is still served, unchanged.
    kept = await world.client.get(f"/api/v1/documents/{older['id']}/pdf")
    assert hashlib.sha256(kept.content).hexdigest() == older["sha256"]

    r = await staff.post(f"/api/v1/documents/{newer['id']}/revoke", {"reason": "  "})
    assert r.status_code == 422
    r = await world.a["liaison"].post(f"/api/v1/documents/{newer['id']}/revoke", {"reason": "x"})
    assert r.status_code == 403
    r = await staff.post(
        f"/api/v1/documents/{newer['id']}/revoke", {"reason": "成果内容有误,重新公示"}
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    r = await staff.post(f"/api/v1/documents/{newer['id']}/revoke", {"reason": "again"})
    assert r.status_code == 409
    page = await world.client.get(f"/verify/{newer['id']}")
    assert "已撤销" in page.text and "成果内容有误,重新公示" in page.text
    notices = (await world.client.get("/api/v1/public/notices", params={"limit": 100})).json()
    shown = {d["id"] for d in notices["items"]}
    assert newer["id"] not in shown and older["id"] not in shown

    draft = await create(staff, tid, "minutes")
    r = await staff.post(f"/api/v1/documents/{draft['id']}/revoke", {"reason": "草稿"})
    assert r.status_code == 409
    assert (await world.client.get("/verify/999999")).status_code == 404


async def test_verify_page_checks_a_downloaded_file(
    world: World, resolution_topic: dict[str, Any]
) -> None:
    staff = world.a["staff"]
    document = await publish(staff, (await create(staff, resolution_topic["id"], "minutes"))["id"])
    pdf = (await world.client.get(f"/api/v1/documents/{document['id']}/pdf")).content
    page = await world.client.get(f"/verify/{document['id']}")
    for shown in (document["title"], document["topic_reference"], "会议纪要", "有效"):
        assert shown in page.text
    assert 'name="viewport"' in page.text and 'lang="zh-CN"' in page.text
    url = f"/verify/{document['id']}"
    good = await world.client.post(url, files={"file": ("x.pdf", pdf, "application/pdf")})
    assert good.status_code == 200 and "核验通过" in good.text
    bad = await world.client.post(url, files={"file": ("x.pdf", pdf + b"%", "application/pdf")})
    assert "核验未通过" in bad.text
    pasted = await world.client.post(url, files={"sha256": (None, document["sha256"].upper())})
    assert "核验通过" in pasted.text


async def test_public_notices_search_and_date_range(
    world: World, resolution_topic: dict[str, Any]
) -> None:
    staff = world.a["staff"]
    marker = unique("排水沟")
    topic = await topic_in_state(world.a, "resolution", title=f"{marker}改造")
    notice = await publish(staff, (await create(staff, topic["id"], "resolution_notice"))["id"])
    found = await world.client.get("/api/v1/public/notices", params={"q": marker[2:]})
    assert found.status_code == 200
    assert [d["id"] for d in found.json()["items"]] == [notice["id"]]
    assert found.json()["total"] == 1
    today = notice["posting_starts_on"]
    within = await world.client.get(
        "/api/v1/public/notices", params={"q": marker, "from": today, "to": today}
    )
    assert within.json()["total"] == 1
    before = await world.client.get(
        "/api/v1/public/notices", params={"q": marker, "to": "2000-01-01"}
    )
    assert before.json()["total"] == 0
    everything = (await world.client.get("/api/v1/public/notices", params={"limit": 100})).json()
    published = [d["published_at"] for d in everything["items"]]
    assert published == sorted(published, reverse=True)
    assert all(d["status"] == "published" for d in everything["items"])
    for params in ({"from": "yesterday"}, {"limit": 1000}, {"offset": -1}, {"q": "x" * 101}):
        bad = await world.client.get("/api/v1/public/notices", params=params)
        assert bad.status_code == 422 and bad.json()["code"] == "validation_error", params


async def test_the_board_answers_the_same_question_anew_after_each_publish_and_revocation(
    world: World,
) -> None:
    """The board's pages are kept in memory; asking again after a change must show it."""
    staff = world.a["staff"]
    marker = unique("涵洞")
    ask = {"q": marker}

    async def board() -> tuple[int, list[int], str]:
        api = (await world.client.get("/api/v1/public/notices", params=ask)).json()
        page = await world.client.get("/notices", params=ask, headers={"accept": "text/html"})
        return api["total"], [d["id"] for d in api["items"]], page.text

    first_topic = await topic_in_state(world.a, "resolution", title=f"{marker}疏通")
    first = await publish(staff, (await create(staff, first_topic["id"], "minutes"))["id"])
    total, ids, page = await board()
    assert (total, ids) == (1, [first["id"]])
    assert (total, ids) == (await board())[:2]  # asked again: the same answer
    second_topic = await topic_in_state(world.a, "resolution", title=f"{marker}加固")
    second = await publish(staff, (await create(staff, second_topic["id"], "minutes"))["id"])
    total, ids, page = await board()
    assert (total, ids) == (2, [second["id"], first["id"]])
    assert f"{marker}加固" in page
    revoked = await staff.post(f"/api/v1/documents/{second['id']}/revoke", {"reason": "内容有误"})
    assert revoked.status_code == 200, revoked.text
    total, ids, page = await board()
    assert (total, ids) == (1, [first["id"]])
    assert f"{marker}加固" not in page and f"{marker}疏通" in page


async def test_concurrent_visitors_after_a_change_share_one_query(world: World) -> None:
    """32 visitors asking the same question at once cost the database one search."""
    from deliberation.documents import board

    cache = board.BoardCache()
    loads = 0

    async def load() -> board.BoardPage:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.05)
        return board.BoardPage(rows=[], total=loads)

    answers = await asyncio.gather(*(cache.get("路灯", load) for _ in range(32)))
    assert loads == 1 and {a.total for a in answers} == {1}
    assert (await cache.get("路灯", load)).total == 1  # unchanged board: from memory
    async with write_transaction():
        await board.changed()
    answers = await asyncio.gather(*(cache.get("路灯", load) for _ in range(32)))
    assert loads == 2 and {a.total for a in answers} == {2}


async def test_posting_period_counts_chinese_working_days(
    world: World, resolution_topic: dict[str, Any]
) -> None:
    staff = world.a["staff"].principal
    publishing = Publishing(Renderer(0), "http://127.0.0.1:8000")

    async def posted(now: datetime, days: int | None = None) -> Any:
        draft = await create_document(staff, resolution_topic["id"], "minutes", publishing)
        return await publish_document(staff, draft.id, days, publishing, now=now)

    # Published 2026-09-29 (China time): 5 working days → 10-12, counting the
    # make-up Saturday 10-10 and skipping the National Day holiday.
    national_day = await posted(datetime(2026, 9, 29, 2, 0, tzinfo=UTC))
    assert national_day.posting_starts_on == date(2026, 9, 29)
    assert (national_day.posting_ends_on, national_day.posting_provisional) == (
        date(2026, 10, 12),
        False,
    )
    # Into 2027, whose schedule is not known yet: provisional...
    new_year = await posted(datetime(2026, 12, 28, 2, 0, tzinfo=UTC))
    assert (new_year.posting_ends_on, new_year.posting_provisional) == (date(2027, 1, 5), True)
    page = await world.client.get(f"/verify/{new_year.id}")
    assert "暂定" in page.text
    # ...and exact once the 2027 schedule is loaded.
    schedule = {
        "year": 2027,
        "holidays": {"元旦": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"]},
        "workdays": [],
    }
    await load_schedule(parse_schedule(json.dumps(schedule)))
    try:
        exact = await posted(datetime(2026, 12, 28, 2, 0, tzinfo=UTC))
        assert (exact.posting_ends_on, exact.posting_provisional) == (date(2027, 1, 6), False)
        seven = await posted(datetime(2026, 12, 28, 2, 0, tzinfo=UTC), days=7)
        assert seven.posting_ends_on == date(2027, 1, 8)
    finally:
        await remove_schedule(2027)


async def test_a_dead_render_worker_is_replaced(
    app: Any, world: World, resolution_topic: dict[str, Any]
) -> None:
    import os
    import signal

    renderer = app.state.publishing.renderer
    staff = world.a["staff"]
    await create(staff, resolution_topic["id"], "minutes")  # the pool is up
    for pid in list(renderer._pool._processes):
        os.kill(pid, signal.SIGKILL)
    document = await create(staff, resolution_topic["id"], "minutes")
    assert document["status"] == "draft" and document["size_bytes"] > 0
    assert (await create(staff, resolution_topic["id"], "minutes"))["size_bytes"] > 0
