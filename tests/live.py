"""A real ``deliberation serve`` process on the test database, for tests that need
one over HTTP (its log, its delivery loop, a browser)."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx

from bench.common import free_port
from tests.deliberation.test_audit import ROOT


@contextlib.contextmanager
def served(database_url: str, **env: str) -> Iterator[tuple[str, queue.Queue[str]]]:
    """Yields the base URL and a queue of the server's stderr lines."""
    port = free_port()
    environ = {
        **os.environ,
        "DELIBERATION_DATABASE_URL": database_url,
        "DELIBERATION_SECRET_KEY": "s" * 32,
        "DELIBERATION_LOG_LEVEL": "INFO",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=environ,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not answer within 30 s"
            time.sleep(0.1)
        yield base, lines
    finally:
        process.terminate()
        process.wait(timeout=30)
