"""Answers kept in memory while the data they were read from is unchanged.

A cache is given a function that reads the data's version (a row the writers raise in
their own transaction, or a stamp read from the tables): each request reads it, an answer
cached under the same version is the answer the database would give, and any other
version is a miss. So an answer is never staler than the last commit, in one process or
many. Misses for the same question and version share one load.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from deliberation.context import current

T = TypeVar("T")


class _Memory(Generic[T]):
    """One application's answers and the loads in flight."""

    def __init__(self) -> None:
        self.answers: OrderedDict[Hashable, tuple[Hashable, T]] = OrderedDict()
        self.pending: dict[tuple[Hashable, Hashable], asyncio.Future[T]] = {}


class VersionedCache(Generic[T]):
    """Answers by question, each good for the version of the data it was read at."""

    def __init__(self, version: Callable[[], Awaitable[Hashable]], size: int = 512) -> None:
        self.version = version
        self.size = size

    def _memory(self) -> _Memory[T]:
        """This application's answers (each application context keeps its own: another
        database, another event loop, nothing shared)."""
        return current().kept(self, _Memory)

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        memory = self._memory()
        answers, pending_loads = memory.answers, memory.pending
        version = await self.version()
        cached = answers.get(key)
        if cached is not None and cached[0] == version:
            answers.move_to_end(key)
            return cached[1]
        pending = pending_loads.get((version, key))
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request was cancelled, not the one it waited on
                return await load()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        pending_loads[(version, key)] = future
        try:
            found = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # waiters see it; nobody else has to retrieve it
            raise
        finally:
            del pending_loads[(version, key)]
        future.set_result(found)
        answers[key] = (version, found)
        answers.move_to_end(key)
        while len(answers) > self.size:
            answers.popitem(last=False)
        return found
