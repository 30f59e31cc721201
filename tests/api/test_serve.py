"""``deliberation serve`` as an operator runs it: a real server process and its log."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.live import served
from tests.receiver import Receiver
from tests.world import PASSWORD, World, new_township


@pytest.fixture
def server(migrated: str, allowed_hosts: str) -> Iterator[tuple[str, queue.Queue[str]]]:
    with served(migrated, DELIBERATION_WEBHOOK_ALLOWED_HOSTS=allowed_hosts) as running:
        yield running


def _line_with(lines: queue.Queue[str], needle: str, within: float) -> str | None:
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            return None
        if needle in line:
            return line
    return None


def test_each_request_is_logged_promptly_without_secrets(
    server: tuple[str, queue.Queue[str]], world: World
) -> None:
    base, lines = server
    username = world.a["staff"].user["username"]
    r = httpx.post(
        f"{base}/api/v1/auth/token",
        json={"username": username, "password": PASSWORD},
        headers={"X-Request-ID": "serve-sign-in"},
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    r = httpx.get(
        f"{base}/api/v1/me",
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "serve-me"},
    )
    assert r.status_code == 200 and r.headers["x-request-id"] == "serve-me"

    # A quiet server still writes its last line within a couple of seconds.
    line = _line_with(lines, "request_id=serve-me", within=3.0)
    assert line is not None, "the request's log line did not reach stderr within 3 s"
    assert "status=200" in line and f"user_id={world.a['staff'].user['id']}" in line
    assert "path=/api/v1/me" in line and "duration_ms=" in line
    seen = line + "".join(lines.get_nowait() for _ in range(lines.qsize()))
    assert token not in seen and PASSWORD not in seen


async def test_the_server_delivers_webhooks_itself(
    server: tuple[str, queue.Queue[str]], world: World, receiver: Receiver
) -> None:
    """``serve`` runs the delivery loop in-process by default: no worker needed."""
    base, _ = server
    t = await new_township(world)
    staff = t["staff"].user["username"]
    token = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": staff, "password": PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.post(f"{base}/api/v1/webhooks", json={"target_url": receiver.url}, headers=headers)
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{base}/api/v1/topics", json={"title": "served", "description": "d"}, headers=headers
    )
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 20
    while not receiver.ok_ids() and time.monotonic() < deadline:
        time.sleep(0.1)
    bodies = [json.loads(x["body"]) for x in receiver.received]
    assert [b["topic"]["reference"] for b in bodies] == [r.json()["reference"]]


async def test_links_and_qr_codes_name_the_port_it_serves_on(migrated: str, world: World) -> None:
    """Without DELIBERATION_PUBLIC_URL, a document's verify address (printed as the QR
    code) is the address ``serve`` listens on, not a fixed port 8000."""
    import os

    from tests.api.test_documents import create
    from tests.world import topic_in_state

    assert "DELIBERATION_PUBLIC_URL" not in os.environ
    topic = await topic_in_state(world.a, "resolution")
    draft = await create(world.a["staff"], topic["id"], "resolution_notice")
    with served(migrated, DELIBERATION_DELIVERY_IN_SERVER="0") as (base, _):
        assert not base.endswith(":8000")
        staff = world.a["staff"].user["username"]
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            token = (
                await client.post(
                    "/api/v1/auth/token", json={"username": staff, "password": PASSWORD}
                )
            ).json()["access_token"]
            r = await client.get(
                f"/api/v1/documents/{draft['id']}", headers={"Authorization": f"Bearer {token}"}
            )
        assert r.status_code == 200, r.text
        assert r.json()["verify_url"] == f"{base}/verify/{draft['id']}"
