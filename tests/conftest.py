"""Shared fixtures. The database is SQLite in a temporary folder unless
``DELIBERATION_TEST_DATABASE_URL`` names a PostgreSQL database, which is then
emptied and migrated: the same tests run on both engines."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from deliberation import chain, clock, context, fast_path, security
from deliberation.database import bind_engine, close_engine, engine_for_url
from deliberation.migrate import migrate
from deliberation.notifications.targets import parse_allowed
from tests.demo import DemoBuild, build_demo
from tests.live import lifespan
from tests.receiver import Receiver, receiving
from tests.world import World, build_world

# Tests marked needs_faces skip without the documents' faces (fail when CI requires them).
pytest_plugins = ("tests.faces",)

TEST_DB_ENV = "DELIBERATION_TEST_DATABASE_URL"
TEST_CLOCK_ENV = "DELIBERATION_TEST_CLOCK"
"""``HH:MM``: run the whole suite with the clock at that China time today (CI runs it
at 23:30 and at 00:30, either side of the UTC/China date change)."""


TEST_AUDIT_KEY = "test-audit-key-" + "k" * 24
HASH_COST_ENV = "DELIBERATION_PASSWORD_HASH_COST"


def pytest_configure(config: pytest.Config) -> None:
    """Shift the clock before any test module is imported, and choose the audit key;
    servers and CLI commands the tests start inherit both through the environment."""
    os.environ.setdefault("DELIBERATION_AUDIT_KEY", TEST_AUDIT_KEY)
    chain.use_key(os.environ["DELIBERATION_AUDIT_KEY"])
    # The same test password is hashed ~1000 times: at argon2's cheapest cost, here and
    # in the servers started (tests/api/test_settings.py checks production's own cost).
    os.environ.setdefault(HASH_COST_ENV, "test")
    security.use_hash_cost(os.environ[HASH_COST_ENV])
    wanted = os.environ.get(TEST_CLOCK_ENV, "").strip()
    if not wanted:
        return
    try:
        hour, minute = (int(part) for part in wanted.split(":"))
    except ValueError as error:
        raise pytest.UsageError(f"{TEST_CLOCK_ENV} must be HH:MM, got {wanted!r}") from error
    offset = clock.offset_to_china_time(hour, minute)
    clock.set_offset(offset)
    os.environ[clock.OFFSET_ENV] = repr(offset)


def pytest_report_header(config: pytest.Config) -> list[str]:
    url = os.environ.get(TEST_DB_ENV)
    now = clock.utcnow().astimezone(clock.CHINA)
    return [
        f"database: {url if url else 'SQLite (temporary file)'}",
        f"clock: {now:%Y-%m-%d %H:%M} China time (offset {clock.offset_seconds():+.0f} s)",
        f"fast path: {'on' if fast_path.enabled() else 'off (DELIBERATION_FAST_PATH=0)'}",
        f"password hashes: argon2 at {os.environ.get(HASH_COST_ENV)} cost",
    ]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite in the run's (or xdist worker's) own temporary folder; on PostgreSQL the
    named database, or under pytest-xdist (``make test``) a database of the worker's own
    beside it (``test`` → ``test_gw0``), made for the run and dropped after it."""
    url = os.environ.get(TEST_DB_ENV)
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        yield url
        return
    parts = urlsplit(url)
    own = f"{parts.path.lstrip('/') or 'postgres'}_{worker}"
    asyncio.run(_recreate_database(url, own))
    yield urlunsplit(parts._replace(path=f"/{own}"))
    asyncio.run(_recreate_database(url, own, create=False))


async def _recreate_database(url: str, name: str, create: bool = True) -> None:
    """Drop ``name`` (whoever is still connected) and make it empty again, through
    the database ``url`` names."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgres")


async def _reset_postgres(url: str) -> None:
    engine = engine_for_url(url)
    bind_engine(engine)
    await engine.run_ddl("DROP SCHEMA IF EXISTS public CASCADE")
    await engine.run_ddl("CREATE SCHEMA public")


@pytest.fixture(scope="session")
async def migrated(database_url: str) -> str:
    if database_url.startswith("postgres"):
        await _reset_postgres(database_url)
    engine = engine_for_url(database_url)
    bind_engine(engine)
    try:
        await migrate(quiet=True)
    finally:
        await close_engine(engine)
    return database_url


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def settings(migrated: str, var_dir: Path, allowed_hosts: str) -> Settings:
    return Settings(
        database_url=migrated,
        secret_key=secrets.token_urlsafe(32),
        audit_key=os.environ["DELIBERATION_AUDIT_KEY"],
        var_dir=var_dir,
        login_failures_per_username=5,
        login_failures_per_client=20,
        # Tests run the delivery loop themselves, and their receivers listen on 127.0.0.1.
        webhook_allowed_hosts=parse_allowed(allowed_hosts.split(",")),
        # DELIBERATION_FAST_PATH=0 runs the suite without the shortcuts (CI does not: the
        # fast path's equivalence tests compare both in every run).
        fast_path=fast_path.enabled(),
        delivery_in_server=False,
        password_hash_cost=os.environ[HASH_COST_ENV],
        # The suite's clock (DELIBERATION_TEST_CLOCK) for every application made from
        # these settings, as for the servers started with the environment: one made in a
        # test (a restart) otherwise runs on the machine's time and finds the sessions
        # the suite's clock started long ended, or not yet begun.
        clock_offset_seconds=clock.offset_seconds(),
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    """The session's application, in the context the tests' own code runs in (the
    process default): a test and its application share one engine, key and clock."""
    application = create_app(settings, context=context.current())
    async with lifespan(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(app, "127.0.0.10") as c:
        yield c


_addresses = itertools.count(1)


def client_from(app: Litestar, host: str | None = None) -> httpx.AsyncClient:
    """An in-process client whose requests come from ``host`` (for per-address limits)."""
    address = host or f"127.0.1.{next(_addresses) % 250 + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def browser(app: Litestar) -> tuple[httpx.AsyncClient, str]:
    """An in-process client that opened a page and holds its CSRF token (the cookie is
    Secure, as for https or loopback: copied so this plain-http client sends it)."""
    client = client_from(app)
    await client.get("/login")
    token = client.cookies.get("csrftoken") or ""
    client.cookies.delete("csrftoken")
    client.cookies.set("csrftoken", token)
    return client, token


@pytest.fixture(scope="session")
async def world(client: httpx.AsyncClient) -> World:
    return await build_world(client)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """The demo, built once a run; a test takes a ``tests.demo.demo_copy`` of its own."""
    return build_demo(tmp_path_factory.mktemp("demo-build"))


@pytest.fixture
def move_clock() -> Iterator[Callable[[float], None]]:
    """Move this process's clock forward by some seconds; put back after the test."""
    start = clock.offset_seconds()

    def move(seconds: float) -> None:
        clock.set_offset(clock.offset_seconds() + seconds)

    yield move
    clock.set_offset(start)


@pytest.fixture(scope="session")
def receivers() -> Iterator[list[Receiver]]:
    """The session's receivers (each on a port of its own, named in the settings)."""
    with receiving(3) as started:
        yield started


@pytest.fixture(scope="session")
def allowed_hosts(receivers: list[Receiver]) -> str:
    """``DELIBERATION_WEBHOOK_ALLOWED_HOSTS`` naming exactly the receivers' ports."""
    return ",".join(r.host_port for r in receivers)


@pytest.fixture
def receiver(receivers: list[Receiver]) -> Iterator[Receiver]:
    receivers[0].reset()
    yield receivers[0]
    receivers[0].reset()


@pytest.fixture
def second_receiver(receivers: list[Receiver]) -> Iterator[Receiver]:
    receivers[1].reset()
    yield receivers[1]
    receivers[1].reset()
