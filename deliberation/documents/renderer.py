"""Rendering off the event loop: a pool of worker processes, opened in the lifespan.

WeasyPrint is CPU-bound Python; in a thread it would hold the GIL and slow every
request of the process. Worker processes (``spawn``: no forked event loop or
database connections) keep the API answering while PDFs render.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from deliberation.documents.render import RenderJob, render_pdf, warm_up


class Renderer:
    """``workers`` processes; 0 renders in a thread of this process (the CLI, the demo)."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = max(0, workers)
        self._pool: ProcessPoolExecutor | None = None

    def open(self) -> None:
        if self.workers:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=warm_up
            )

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    async def render(self, job: RenderJob) -> bytes:
        if not self.workers:
            return await asyncio.to_thread(render_pdf, job)
        if self._pool is None:
            raise RuntimeError("the renderer is not open")
        return await asyncio.get_running_loop().run_in_executor(self._pool, render_pdf, job)
