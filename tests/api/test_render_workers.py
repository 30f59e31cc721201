"""Render workers die with their server: ``kill -9`` of ``deliberation serve`` (no
clean-up runs) leaves no PDF worker process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.live import serving
from tests.world import PASSWORD, World, topic_in_state


def children(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return {int(p) for p in found.split()}


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" not in status.read_text()
    except OSError:
        return False


async def test_kill_9_of_the_server_leaves_no_render_worker(world: World, migrated: str) -> None:
    topic = await topic_in_state(world.a, "resolution")
    staff = world.a["staff"]
    with serving(
        migrated, DELIBERATION_RENDER_WORKERS="2", DELIBERATION_DELIVERY_IN_SERVER="0"
    ) as server:
        token = httpx.post(
            f"{server.base}/api/v1/auth/token",
            json={"username": staff.user["username"], "password": PASSWORD},
            timeout=30,
        ).json()["access_token"]
        # A render makes the worker processes start.
        r = httpx.post(
            f"{server.base}/api/v1/topics/{topic['id']}/documents",
            json={"kind": "resolution_notice"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        assert r.status_code == 201, r.text
        workers = children(server.process.pid)
        assert workers, "no render worker was started"
        try:
            os.kill(server.process.pid, signal.SIGKILL)  # the server only, not its group
            server.process.wait(timeout=30)
            deadline = time.monotonic() + 10
            while any(alive(w) for w in workers) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert [w for w in workers if alive(w)] == []
        finally:
            for w in workers:
                if alive(w):
                    os.kill(w, signal.SIGKILL)
