"""Heavy pages with a bound, so that while 20 people load a big topic the loop still
answers everyone else (``/healthz`` among them): at most :data:`PAGE_BUILDS` topic
pages are built at once (the others wait their turn without using the loop), and their
Jinja render runs in a worker thread. docs/decisions.md "The topic page shows 50"."""

from __future__ import annotations

from functools import partial
from typing import Any, cast

import anyio
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.response import Template

PAGE_BUILDS = 2
"""Heavy pages built at once (their queries, projection and render). Each takes tens of
milliseconds of the process's one CPU-bound interpreter: more at once only makes every
other request wait behind them, without answering them sooner."""


RENDER_THREADS = 2
"""Worker threads rendering at once (a bound of their own: a build holding its place in
:func:`page_builds` also takes a thread)."""


def _limiter(request: Request[Any, Any, Any], name: str, size: int) -> anyio.CapacityLimiter:
    """The application's limiter ``name`` (made on its first use, in its loop)."""
    state = request.app.state
    limiter = state.get(name)
    if limiter is None:
        limiter = state[name] = anyio.CapacityLimiter(size)
    return cast(anyio.CapacityLimiter, limiter)


def page_builds(request: Request[Any, Any, Any]) -> anyio.CapacityLimiter:
    """The bound on heavy pages built at once."""
    return _limiter(request, "page_builds", PAGE_BUILDS)


async def rendered(request: Request[Any, Any, Any], page: Template) -> Response[bytes]:
    """``page`` rendered in a worker thread (bounded), as Litestar would render it on
    the loop: the same context (``request``, ``csrf_input``), status, headers, cookies.
    The thread runs in the request's context (anyio copies it): one clock, one app."""
    engine = request.app.template_engine
    assert engine is not None and page.template_name is not None
    template = engine.get_template(page.template_name)
    context = page.create_template_context(request)
    body = await anyio.to_thread.run_sync(
        partial(template.render, **context),
        limiter=_limiter(request, "page_renders", RENDER_THREADS),
    )
    return Response(
        body.encode(page.encoding),
        status_code=page.status_code or 200,
        media_type=page.media_type or MediaType.HTML,
        headers=page.headers,
        cookies=page.cookies,
    )
