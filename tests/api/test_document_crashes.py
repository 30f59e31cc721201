"""Documents that survive a crash, and notice numbers without holes: concurrent
publishes in one township, and a server killed with ``kill -9`` while it renders a
draft and publishes, then the record looked at afterwards."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx

from deliberation.audit import verify_all
from deliberation.clock import utcnow
from deliberation.documents.service import sweep_unfinished
from deliberation.tables import Document, DocumentCounter
from tests.api.test_documents import create, publish
from tests.live import serving
from tests.world import PASSWORD, Township, World, new_township, topic_in_state

NUMBER = re.compile(r"〔(\d{4})〕(\d+)号")


def number_of(document: dict[str, Any]) -> int:
    found = NUMBER.search(document["number"] or "")
    assert found, document
    return int(found.group(2))


async def numbers_issued(t: Township) -> list[int]:
    rows = await Document.select(Document.number).where(
        Document.township == t.id, Document.number.is_not_null()
    )
    return sorted(r["number"] for r in rows)


async def counter_of(t: Township) -> int:
    row = (
        await DocumentCounter.select(DocumentCounter.last_number)
        .where(DocumentCounter.township == t.id)
        .first()
    )
    return int(row["last_number"]) if row else 0


async def test_five_concurrent_publishes_take_consecutive_numbers(world: World) -> None:
    t = await new_township(world, "编号镇")
    staff = t["staff"]
    topics = [await topic_in_state(t, "resolution") for _ in range(5)]
    drafts = [await create(staff, topic["id"], "resolution_notice") for topic in topics]
    answers = await asyncio.gather(
        *[staff.post(f"/api/v1/documents/{d['id']}/publish", {}) for d in drafts]
    )
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert sorted(number_of(a.json()) for a in answers) == [1, 2, 3, 4, 5]
    assert await counter_of(t) == 5 and await numbers_issued(t) == [1, 2, 3, 4, 5]


async def _killed_while_under_way(
    server: Any,
    token: str,
    requests: list[tuple[str, str, dict[str, Any]]],
    under_way: Callable[[], Awaitable[bool]],
) -> list[int | None]:
    """Send the requests together and ``kill -9`` the server as soon as ``under_way()``
    (the database shows every one of them begun); the status of each that answered
    first, None for the others."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as client:
        sending = [
            asyncio.create_task(client.request(method, path, json=body, headers=headers))
            for method, path, body in requests
        ]
        deadline = time.monotonic() + 60
        while not await under_way() and not all(task.done() for task in sending):
            assert time.monotonic() < deadline, "the requests never got under way"
            await asyncio.sleep(0.01)
        server.kill()
        statuses: list[int | None] = []
        for task in sending:
            try:
                statuses.append((await task).status_code)
            except httpx.HTTPError:
                statuses.append(None)
        return statuses


def _sign_in(base: str, username: str) -> str:
    r = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def test_kill_9_while_drafting_and_publishing_leaves_no_half_document_nor_hole(
    world: World, migrated: str
) -> None:
    """One ``kill -9`` lands while a draft renders and a publish of the same topic (its
    number peeked, not yet taken) renders: each is seen begun in the database first, so
    the kill falls inside both, not before or after them (a guessed delay could not
    promise that; four delays took eight server starts)."""
    t = await new_township(world, "断电镇")
    staff = t["staff"]
    env = {"DELIBERATION_RENDER_WORKERS": "1", "DELIBERATION_DELIVERY_IN_SERVER": "0"}
    topic = await topic_in_state(t, "resolution")
    tid = topic["id"]
    draft = await create(staff, tid, "resolution_notice")
    assert not await DocumentCounter.exists().where(DocumentCounter.township == t.id)

    async def under_way() -> bool:
        # Drafting has its row (whatever it is called) beside the draft made above.
        drafting = await Document.count().where(Document.topic == tid) > 1
        # Publishing peeks the township's next number (making its counter) before it renders.
        publishing = await DocumentCounter.exists().where(DocumentCounter.township == t.id)
        return bool(drafting and publishing)

    with serving(migrated, **env) as server:
        token = _sign_in(server.base, staff.user["username"])
        drafted, status = await _killed_while_under_way(
            server,
            token,
            [
                ("POST", f"/api/v1/topics/{tid}/documents", {"kind": "resolution_notice"}),
                ("POST", f"/api/v1/documents/{draft['id']}/publish", {}),
            ],
            under_way,
        )
    assert (drafted, status) == (None, None), "the kill came after the work it should cut"

    # Drafting: no empty draft is listed or served.
    listed = (await staff.get(f"/api/v1/topics/{tid}/documents")).json()
    for document in listed:
        assert document["size_bytes"] > 0 and document["sha256"], document
        pdf = await staff.get(f"/api/v1/documents/{document['id']}/pdf")
        assert pdf.content.startswith(b"%PDF")
    hidden = await Document.select(Document.id).where(
        Document.topic == tid, Document.status == "rendering"
    )
    assert hidden, "the killed draft's row is gone: the kill missed its render"
    for row in hidden:  # left by the kill: never served, swept later
        assert (await staff.get(f"/api/v1/documents/{row['id']}")).status_code == 404
        assert (await staff.get(f"/api/v1/documents/{row['id']}/pdf")).status_code == 404

    # Publishing: the draft is a draft or published, never half of each.
    now = (await staff.get(f"/api/v1/documents/{draft['id']}")).json()
    assert now["status"] in ("draft", "published"), now
    if status == 200:
        assert now["status"] == "published"
    if now["status"] == "draft":
        assert now["number"] is None
    # No number burnt: the counter is exactly the numbers issued, 1, 2, 3 …
    issued = await numbers_issued(t)
    assert issued == list(range(1, len(issued) + 1)), issued
    assert await counter_of(t) == len(issued)

    # The chain vouches for every document that exists, and nothing half-made.
    _, problems = await verify_all()
    assert [p.describe() for p in problems if p.topic_id == tid] == []
    # Publishing what the kills left goes on from the next number.
    before = len(await numbers_issued(t))
    drafts = await Document.select(Document.id).where(
        Document.township == t.id, Document.status == "draft", Document.kind == "resolution_notice"
    )
    for row in drafts:
        await publish(staff, row["id"])
    assert await numbers_issued(t) == list(range(1, before + len(drafts) + 1))
    # Unfinished renders are swept once they are old.
    await sweep_unfinished(utcnow() + timedelta(minutes=11))
    assert not await Document.exists().where(
        Document.township == t.id, Document.status == "rendering"
    )
