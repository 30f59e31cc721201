"""A real ``deliberation serve`` process on the test database, for tests that need
one over HTTP (its log, its delivery loop, a browser)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bench.common import free_port
from tests.cli import ROOT


@dataclass
class Server:
    base: str
    lines: queue.Queue[str]
    process: subprocess.Popen[str]

    def kill(self) -> None:
        """``kill -9`` the server and its render workers (its whole process group), as
        a power cut or the OOM killer would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextlib.contextmanager
def serving(database_url: str, **env: str) -> Iterator[Server]:
    """A ``deliberation serve`` process (in a process group of its own) that answers."""
    port = free_port()
    environ = {
        **os.environ,
        "DELIBERATION_DATABASE_URL": database_url,
        "DELIBERATION_SECRET_KEY": "s" * 32,
        "DELIBERATION_LOG_LEVEL": "INFO",
        # Files it writes (the open data) go to a folder of its own, not the checkout's var/.
        "DELIBERATION_VAR_DIR": tempfile.mkdtemp(prefix="hsl-live-var-"),
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=environ,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
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
            assert process.poll() is None, "the server exited: " + "".join(list(lines.queue))
            assert time.monotonic() < deadline, "the server did not answer within 30 s"
            time.sleep(0.1)
        yield Server(base, lines, process)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


@contextlib.contextmanager
def served(database_url: str, **env: str) -> Iterator[tuple[str, queue.Queue[str]]]:
    """Yields the base URL and a queue of the server's stderr lines."""
    with serving(database_url, **env) as server:
        yield server.base, server.lines


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run an app's ASGI lifespan on the caller's own event loop (the tests' app, the
    benchmarks' in-process timings)."""
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan"}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task
