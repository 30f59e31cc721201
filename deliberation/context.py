"""The application context: what one application works with, held in one object.

A server, a command of the ``deliberation`` CLI and the test suite each work with a
database engine, the audit chain's key, a clock (the real one, or shifted) and some
memory kept between requests (caches, per-township locks). They used to be module
globals, so two of them could not live in one process: the CLI could only be tested in
a subprocess. Now they live in an :class:`AppContext`, and the code asks
:func:`current` for the one it runs in:

- ``create_app`` makes one context per application; the application enters it for its
  lifespan and for every request (``api.app.DeliberationApp``), so whatever that
  application starts (its delivery worker, its tasks) runs in it too;
- ``api.cli.main`` makes one per command and enters it for that command only, then
  the caller's context is back;
- code running in no entered context (an import, a script, the tests' own code) uses
  the process's default context, which :func:`install` may replace (the tests make the
  session application's context the default, so a test and its application share one
  engine and one clock).

A context variable (``contextvars``), not explicit passing: asyncio copies it into every
task and ``asyncio.to_thread`` into the thread, so the whole call tree of a request or
a command sees its application's context without ~100 signatures changing, and two
applications in one process (a test calling the CLI while its server runs) never see
each other's engine. ``docs/decisions.md`` ("One application context") says more.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(eq=False)
class AppContext:
    """One application's engine, audit key, clock and memory."""

    engine: Any = None
    """The Piccolo engine every table uses here (``deliberation.database``)."""
    audit_key: bytes | None = None
    """The key the audit chain is hashed and checked with (``deliberation.chain``)."""
    clock_offset: timedelta = timedelta(0)
    """How far this application's clock is from the real time (``deliberation.clock``)."""
    workflows: Any = None
    """The loaded workflows (``workflows.registry.Registry``) when not the shipped ones
    (``deliberation.pinning.loaded``): a test loads a folder of its own."""
    memory: dict[Hashable, Any] = field(default_factory=dict)
    """Caches and locks kept between requests, by name or owner (see :meth:`kept`)."""

    def kept(self, name: Hashable, make: Callable[[], T]) -> T:
        """The object kept under ``name`` (made by ``make`` the first time): caches of
        this application's data, asyncio locks of its event loop."""
        found = self.memory.get(name)
        if found is None:
            found = self.memory[name] = make()
        return found

    def forget(self, name: Hashable) -> None:
        self.memory.pop(name, None)


_default = AppContext()
_current: ContextVar[AppContext] = ContextVar("deliberation_app_context")


def current() -> AppContext:
    """The context the calling code runs in (the process default outside any)."""
    return _current.get(_default)


def install(context: AppContext) -> AppContext:
    """Make ``context`` the process default; returns the one it replaces."""
    global _default
    previous, _default = _default, context
    return previous


@contextlib.contextmanager
def entered(context: AppContext) -> Iterator[AppContext]:
    """Run the block (and every task or thread it starts) in ``context``; the caller's
    context is back afterwards."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


__all__ = ["AppContext", "current", "entered", "install"]
