"""The Litestar application factory. Settings come in; nothing is read at import."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jinja2 import Undefined
from jinja2.utils import missing
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from api import openapi
from api.auth import auth_middleware, provide_principal
from api.controllers import ROUTE_HANDLERS
from api.dependencies import provide_publishing
from api.errors import EXCEPTION_HANDLERS
from api.input_guard import InputGuardMiddleware
from api.logs import configure_logging, flush_logs, logging_config
from api.middleware import RequestContextMiddleware, path_shape
from api.pages.signin import (
    SignInRequired,
    handle_sign_in_required,
    remember_viewer,
    secure_cookies,
)
from api.settings import Settings
from deliberation import audit, chain, pinning, record_types, security
from deliberation.accounts import LoginLimits
from deliberation.clock import CHINA
from deliberation.context import AppContext, entered
from deliberation.database import bind_engine, close_engine, engine_for_url, open_engine
from deliberation.documents import Publishing, Renderer
from deliberation.fast_path import TokenCache
from deliberation.notifications.delivery import new_client, run_worker
from deliberation.notifications.reminders import scheduler_tick
from deliberation.numbers import percent
from deliberation.security import TokenIssuer
from deliberation.suggestions.filing import SuggestionLimits
from workflows.registry import REGISTRY

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
PAGES = TEMPLATES / "pages"
STATIC = TEMPLATES / "static"

logger = logging.getLogger("deliberation.workflows")


class PageUndefined(Undefined):
    """A name missing from a page's context is a bug and fails loudly (in the tests,
    not as a silently empty page); a missing key of a dict it was given (an optional
    form field) stays empty."""

    __slots__ = ()

    def _check(self) -> None:
        if self._undefined_obj is missing:
            self._fail_with_undefined_error()

    def __str__(self) -> str:
        self._check()
        return ""

    def __bool__(self) -> bool:
        self._check()
        return False

    def __iter__(self) -> Iterator[Any]:
        self._check()
        return iter(())

    def __eq__(self, other: object) -> bool:
        self._check()
        return type(self) is type(other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return id(type(self))


SWAGGER = "swagger-ui-5.35.0"  # npm swagger-ui-dist, Apache-2.0
REDOC = "redoc-2.5.4"  # npm redoc, MIT
FAVICON_LINK = '<link rel="icon" href="/favicon.ico">'
STATIC_VERSION = hashlib.sha256(
    (STATIC / "site.css").read_bytes() + (STATIC / "page.js").read_bytes()
).hexdigest()[:12]
"""The style sheet's and page script's addresses change with their content (static files
are cached a year)."""


def page_filters(engine: JinjaTemplateEngine) -> None:
    """Times on the pages are China times; a missing context name is an error."""
    engine.engine.undefined = PageUndefined
    engine.engine.globals["static_version"] = STATIC_VERSION
    engine.engine.filters["china_time"] = lambda moment: moment.astimezone(CHINA).strftime(
        "%Y-%m-%d %H:%M"
    )
    # Every share on every page one way, as the documents print it (deliberation/numbers.py).
    engine.engine.filters["percent"] = percent
    # The value of a ``datetime-local`` field, in China time.
    engine.engine.filters["china_local"] = lambda moment: moment.astimezone(CHINA).strftime(
        "%Y-%m-%dT%H:%M"
    )


async def warn_of_unloaded_pins() -> None:
    """The server starts when topics are pinned to a workflow version that is not
    loaded, and says so once, plainly, in its log (docs/decisions.md, "A workflow
    removed from the folder"): those topics stay readable and refuse every change."""
    directory = str(pinning.loaded().directory)
    for pin in await pinning.unloaded_pins():
        logger.warning("%s", pin.describe(directory))


class DeliberationApp(Litestar):
    """The application, run in its own application context (``deliberation.context``):
    its lifespan (and the delivery worker it starts) and every request see its engine,
    audit key, clock and caches, whatever else shares the process."""

    context: AppContext

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        with entered(self.context):
            await super().__call__(scope, receive, send)


def create_app(settings: Settings, context: AppContext | None = None) -> Litestar:
    """The application for ``settings``, in ``context`` (a new one by default; the
    tests pass the context their own code runs in, so both share one engine and clock)."""
    record_types.check_storage(REGISTRY)
    engine = engine_for_url(settings.database_url, fast_path=settings.fast_path)
    context = context or settings.new_context()
    with entered(context):
        chain.use_key(settings.audit_key)
    security.use_hash_cost(settings.password_hash_cost)

    renderer = Renderer(settings.render_workers)

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        previous = context.engine
        bind_engine(engine)
        await open_engine(engine, pool_size=settings.db_pool_size)
        try:
            await audit.check_key()
            await warn_of_unloaded_pins()
            yield
        finally:
            await close_engine(engine)
            context.engine = previous

    @asynccontextmanager
    async def webhook_deliveries(app: Litestar) -> AsyncIterator[None]:
        """The outbox's delivery loop and scheduler, inside the server (unless a
        separate ``deliberation worker`` does it), with the one shared HTTP client."""
        if not settings.delivery_in_server:
            yield
            return
        config = settings.delivery()
        stop = asyncio.Event()
        async with new_client(config) as client:
            task = asyncio.create_task(
                run_worker(config, stop, client=client, scheduler=scheduler_tick)
            )
            try:
                yield
            finally:
                stop.set()
                await task

    @asynccontextmanager
    async def pdf_renderer(app: Litestar) -> AsyncIterator[None]:
        renderer.open()
        try:
            yield
        finally:
            await asyncio.to_thread(renderer.close)

    app = DeliberationApp(
        route_handlers=[
            *ROUTE_HANDLERS,
            # The pages' one script (htmx), versioned in its file name: cached for a year.
            create_static_files_router(
                "/static",
                directories=[STATIC],
                cache_control=CacheControlHeader(max_age=31_536_000, public=True),
                include_in_schema=False,
                opt={"exclude_from_auth": True},
            ),
        ],
        lifespan=[database, pdf_renderer, webhook_deliveries],
        # Pages: who is signed in, for the header of every page.
        before_request=remember_viewer,
        on_shutdown=[flush_logs],
        # Bad input (NUL, invalid UTF-8, deep nesting) first, then who is asking.
        middleware=[InputGuardMiddleware(settings.max_body_bytes), auth_middleware()],
        # The signed-in caller, for any handler that asks for ``principal``.
        dependencies={
            "principal": Provide(provide_principal, sync_to_thread=False),
            "publishing": Provide(provide_publishing, sync_to_thread=False),
        },
        template_config=TemplateConfig(
            directory=PAGES, engine=JinjaTemplateEngine, engine_callback=page_filters
        ),
        # Every page form carries a CSRF token; the API (bearer tokens) and the public
        # hash check on /verify (no session, no state) are outside it.
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            exclude=["^/api/", "^/verify/", "^/healthz", "^/schema"],
            cookie_secure=secure_cookies(settings.public_url),
            cookie_httponly=True,
            cookie_samesite="lax",
        ),
        exception_handlers={**EXCEPTION_HANDLERS, SignInRequired: handle_sign_in_required},
        request_max_body_size=settings.max_body_bytes,
        logging_config=logging_config(settings.log_level, buffered=settings.fast_path),
        openapi_config=OpenAPIConfig(
            title=openapi.TITLE,
            version="1.1.0",
            description=openapi.DESCRIPTION,
            path="/schema",
            # Both explorers from our own files (templates/static/), so /schema works
            # without the internet: Swagger UI at /schema, ReDoc at /schema/redoc.
            render_plugins=[
                SwaggerRenderPlugin(
                    js_url=f"/static/{SWAGGER}/swagger-ui-bundle.js",
                    css_url=f"/static/{SWAGGER}/swagger-ui.css",
                    standalone_preset_js_url=f"/static/{SWAGGER}/swagger-ui-standalone-preset.js",
                    favicon=FAVICON_LINK,
                ),
                RedocRenderPlugin(
                    js_url=f"/static/{REDOC}/redoc.standalone.js",
                    google_fonts=False,
                    favicon=FAVICON_LINK,
                ),
            ],
        ),
    )
    app.context = context
    app.state.settings = settings
    app.state.publishing = Publishing(
        renderer, settings.public_url, settings.posting_days, settings.county_number_prefix
    )
    app.state.token_issuer = TokenIssuer(
        settings.secret_key,
        settings.token_ttl_seconds,
        cache=TokenCache() if settings.fast_path else None,
    )
    app.state.login_limits = LoginLimits(
        per_username=settings.login_failures_per_username,
        per_client=settings.login_failures_per_client,
        window_seconds=settings.login_window_seconds,
    )
    app.state.suggestion_limits = SuggestionLimits(
        per_client=settings.suggestions_per_client,
        per_phone=settings.suggestions_per_phone,
        per_account=settings.suggestions_per_account,
    )
    # Outermost: request id and the one log line per request, around error handling too.
    methods: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            methods.setdefault(path_shape(route.path), set()).update(route.methods)
    allowed_methods = {shape: ", ".join(sorted(m)) for shape, m in methods.items()}
    app.asgi_handler = RequestContextMiddleware(app.asgi_handler, allowed_methods)
    openapi.finish_openapi(app)
    return app


def app_from_env() -> Litestar:
    """Factory for ``uvicorn --factory`` and ``deliberation serve``."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return create_app(settings)
