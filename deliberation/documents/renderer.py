"""Rendering off the event loop: a pool of worker processes, opened in the lifespan.

WeasyPrint is CPU-bound Python; in a thread it would hold the GIL and slow every
request of the process. Worker processes (``spawn``: no forked event loop or
database connections) keep the API answering while PDFs render.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from deliberation.documents.render import RenderJob, render_pdf, warm_up

logger = logging.getLogger("deliberation.documents")

PR_SET_PDEATHSIG = 1
ORPHAN_CHECK_SECONDS = 1.0


def _die_with(parent: int) -> None:
    """A render worker ends when the server that started it is gone, even after a
    ``kill -9`` of the server (which runs no clean-up): Linux signals the worker when its
    parent dies, and a watch on the parent's pid covers the rest."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the signal was asked for
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def start_worker(parent: int) -> None:
    """Each worker's initializer: die with the server, then warm up."""
    _die_with(parent)
    warm_up()


class Renderer:
    """``workers`` processes; 0 renders in a thread of this process (the CLI, the demo)."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = max(0, workers)
        self._pool: ProcessPoolExecutor | None = None

    def open(self) -> None:
        if self.workers:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=start_worker,
                initargs=(os.getpid(),),
            )

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    async def render(self, job: RenderJob) -> bytes:
        if not self.workers:
            return await asyncio.to_thread(render_pdf, job)
        pool = self._pool
        if pool is None:
            raise RuntimeError("the renderer is not open")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, render_pdf, job)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a fresh pool, try once more.
            logger.warning("a PDF render worker died; starting new workers")
            if self._pool is pool:
                self.open()
                await asyncio.to_thread(pool.shutdown, wait=False, cancel_futures=True)
            assert self._pool is not None
            return await loop.run_in_executor(self._pool, render_pdf, job)
