"""Two apps on the test database, one with the fast path and one without
(``create_app(replace(settings, fast_path=...))``), asked the same things: the answers
are the same. Every GET sent through a twins client goes to both apps and the two
answers must match (status, type, redirect, body); every other request goes to one of
them in turn, so both apps' write paths are walked too. Shortcut by shortcut against
plain Piccolo: ``tests/deliberation/test_fast_path.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from api.app import create_app
from api.logs import logging_config
from api.settings import Settings
from deliberation import clock, context
from deliberation.database import PooledPostgresEngine, PooledSQLiteEngine
from tests.api.test_county import make_overdue
from tests.api.test_sessions_end import EVENTS
from tests.live import lifespan
from tests.world import (
    PASSWORD,
    Actor,
    Township,
    World,
    new_township,
    open_topic,
    sign_in,
    topic_in_state,
    unique,
)
from workflows import WORKFLOW


@dataclass
class Twins:
    fast: Litestar
    plain: Litestar
    compared: int = 0
    """How many GETs both have answered (alike: each is checked as it comes)."""

    def client(self, host: str = "127.0.2.1") -> httpx.AsyncClient:
        """A client whose GETs both apps answer, and must answer alike."""
        transport = TwinTransport(self, host)
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def only(self, app: Litestar, host: str = "127.0.2.2") -> httpx.AsyncClient:
        """A client of one of the two."""
        transport = BindingTransport(app=app, client=(host, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")


BindingTransport = httpx.ASGITransport
"""Each app runs in its own application context (its own engine): nothing to bind
(docs/decisions.md, "One application context")."""


CSRF_TOKEN = re.compile(r'(name="_csrf_token" value=")[^"]+')


def answer(response: httpx.Response) -> tuple[Any, ...]:
    """What the caller sees: status, type, redirect and body (JSON parsed, a page's CSRF
    token left out, anything else by its digest)."""
    kind = response.headers.get("content-type", "")
    body: Any
    if "json" in kind:
        body = response.json()
    elif kind.startswith("text/"):
        body = CSRF_TOKEN.sub(r"\1…", response.text)
    else:
        body = hashlib.sha256(response.content).hexdigest()
    return response.status_code, kind, response.headers.get("location"), body


class TwinTransport(httpx.AsyncBaseTransport):
    def __init__(self, twins: Twins, host: str) -> None:
        self.twins = twins
        self.fast = BindingTransport(app=twins.fast, client=(host, 40000))
        self.plain = BindingTransport(app=twins.plain, client=(host, 40000))
        self.writers = itertools.cycle([self.fast, self.plain])

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method not in ("GET", "HEAD"):
            return await next(self.writers).handle_async_request(request)
        fast = await self.fast.handle_async_request(request)
        plain = await self.plain.handle_async_request(request)
        await fast.aread()
        await plain.aread()
        assert answer(fast) == answer(plain), f"{request.method} {request.url}"
        self.twins.compared += 1
        return fast


@pytest.fixture(scope="module")
async def twins(settings: Settings, app: Litestar) -> AsyncIterator[Twins]:
    """The two apps, started (each in its own application context); the suite's
    logging again afterwards."""
    pair = Twins(
        # Each in its own application context, on the suite's clock.
        create_app(replace(settings, fast_path=True, clock_offset_seconds=clock.offset_seconds())),
        create_app(replace(settings, fast_path=False, clock_offset_seconds=clock.offset_seconds())),
    )
    for twin in (pair.fast, pair.plain):
        # PDFs are not part of the fast path: both use the suite's renderer (one
        # worker process, started once) instead of starting one each.
        twin.state.publishing = app.state.publishing
    try:
        async with lifespan(pair.fast), lifespan(pair.plain):
            yield pair
    finally:
        logging_config(settings.log_level, buffered=settings.fast_path).configure()


def rebound(actor: Actor, client: httpx.AsyncClient) -> Actor:
    return replace(actor, client=client)


def township_of(t: Township, client: httpx.AsyncClient) -> Township:
    """``t`` with its people asking through ``client``."""
    actors = {key: rebound(actor, client) for key, actor in t.actors.items()}
    return Township(t.id, t.name, t.villages, actors)


async def page_session(client: httpx.AsyncClient, username: str) -> None:
    """Sign ``client`` in through the login form (a page session), as a browser does;
    its cookies (Secure) copied so this plain-http client sends them."""
    await client.get("/login")
    token = client.cookies.get("csrftoken") or ""
    client.cookies.delete("csrftoken")
    client.cookies.set("csrftoken", token)
    signed = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": "/me"},
        headers={"x-csrftoken": token},
    )
    assert signed.status_code == 303, signed.text
    session = signed.cookies.get("hsl_session") or ""
    csrf = signed.cookies.get("csrftoken") or token
    client.cookies.clear()
    client.cookies.set("hsl_session", session)
    client.cookies.set("csrftoken", csrf)
    client.headers["x-csrftoken"] = csrf


TOPIC_PATHS = (
    "/api/v1/topics/{id}",
    "/api/v1/topics/{id}/events",
    "/api/v1/topics/{id}/documents",
    "/api/v1/topics/{id}/investigations",
    "/api/v1/topics/{id}/opinions",
    "/api/v1/topics/{id}/meetings",
    "/api/v1/topics/{id}/resolution-items",
    "/api/v1/topics/{id}/tallies",
)
ACCOUNT_PATHS = (
    "/api/v1/me",
    "/api/v1/topics",
    "/api/v1/topics?q=路灯",
    "/api/v1/overdue",
    "/api/v1/county",
    "/api/v1/public/notices",
    "/api/v1/workflow",
)
PAGE_PATHS = ("/", "/me", "/notices", "/notices?q=路灯", "/county", "/statistics")


async def test_a_walk_through_both_apps_gets_the_same_answers(world: World, twins: Twins) -> None:
    """Topics walked to every state (every write through one app or the other, every
    read answered by both), then read by every role, anonymously and through the pages:
    not one answer differs."""
    client = twins.client()
    t = township_of(await new_township(world, "双生镇"), client)
    supervisor = rebound(world.supervisor, client)
    topics = []
    for n, state in enumerate((*WORKFLOW.main_path, "rejected", "withdrawn")):
        village = t.villages[n % 2]["id"] if n % 3 else None
        title = f"{state}：路灯坏了 😀 “引号” {unique('')}"
        topics.append(await topic_in_state(t, state, title=title, village_id=village))
    urged = await open_topic(t, title="逾期未办的路灯", description="夜里全黑。\n\t请尽快修。")
    await make_overdue(urged)
    urging = await supervisor.post(f"/api/v1/topics/{urged['id']}/urge", {"note": "请加快 🚧"})
    assert urging.status_code == 201, urging.text
    topics.append(urged)
    opinion = {"content": "支持，尽快办理。\n第二行", "stance": "support"}
    voiced = topics[WORKFLOW.main_path.index("investigated")]
    ours = "representative" if voiced["village_id"] == t.villages[0]["id"] else "representative2"
    said = await t[ours].post(f"/api/v1/topics/{voiced['id']}/opinions", opinion)
    assert said.status_code == 201, said.text

    readers = [
        *t.actors.values(),
        supervisor,
        rebound(world.b["staff"], client),
        Actor(client, "not-a-token", {}),
    ]
    before = twins.compared
    for topic in topics:
        for path in TOPIC_PATHS:
            await client.get(path.format(id=topic["id"]))  # anonymous
            for reader in readers:
                await reader.get(path.format(id=topic["id"]))
    for reader in readers:
        for path in ACCOUNT_PATHS:
            await reader.get(path)
    documents = [
        document["id"]
        for topic in topics
        for document in (await t["staff"].get(f"/api/v1/topics/{topic['id']}/documents")).json()
    ]
    assert documents, "the walk should have published the resolution notices"
    for document_id in documents:
        for path in ("/api/v1/documents/{id}", "/api/v1/documents/{id}/pdf", "/verify/{id}"):
            await client.get(path.format(id=document_id))
            await t["staff"].get(path.format(id=document_id))

    for who in (None, "staff", "representative", "liaison"):
        browser = twins.client(host=f"127.0.3.{len(who or '')}")
        if who is not None:
            await page_session(browser, t[who].user["username"])
        for path in PAGE_PATHS:
            await browser.get(path)
        for topic in topics:
            await browser.get(f"/topics/{topic['id']}")

    reads = len(topics) * len(TOPIC_PATHS) * (len(readers) + 1)
    reads += len(readers) * len(ACCOUNT_PATHS) + len(topics) + 6 * len(documents)
    reads += 4 * (len(PAGE_PATHS) + len(topics)) + 3  # and each signed-in browser's /login
    assert twins.compared - before == reads
    # Both did what they are for: the fast one by its shortcuts, the plain one without.
    fast_engine, plain_engine = twins.fast.context.engine, twins.plain.context.engine  # type: ignore[attr-defined]
    if isinstance(fast_engine, PooledSQLiteEngine):
        assert fast_engine.inline is not None and plain_engine.inline is None
    else:
        assert isinstance(fast_engine, PooledPostgresEngine)
        assert fast_engine.readers is not None and plain_engine.readers is None
    assert twins.fast.state.token_issuer.cache is not None
    assert len(twins.fast.state.token_issuer.cache._entries) >= len(readers) - 1
    assert twins.plain.state.token_issuer.cache is None


@pytest.fixture(scope="module")
async def township(world: World) -> Township:
    return await new_township(world, "退出双生镇")


async def someone(world: World, t: Township, client: httpx.AsyncClient) -> Actor:
    """A new representative of ``t``, signed in (a bearer token)."""
    username = unique("twin")
    created = await world.admin.post(
        "/api/v1/users",
        {
            "username": username,
            "password": PASSWORD,
            "display_name": "双生代表",
            "role": "representative",
            "township_id": t.id,
            "village_id": t.villages[0]["id"],
        },
    )
    assert created.status_code == 201, created.text
    return rebound(await sign_in(world.client, username), client)


@pytest.mark.parametrize("event", [*EVENTS, "expiry"])
async def test_an_ended_session_is_refused_alike_at_once(
    event: str,
    world: World,
    twins: Twins,
    township: Township,
    settings: Settings,
    move_clock: Callable[[float], None],
) -> None:
    """A token both apps have just accepted (the fast one from its token cache the
    second time) and a page session: after a sign-out, a password change, a reset, a
    deactivation, a change of role, township or village, or the token's expiry, the
    next request is refused by both, in the same words."""
    start = clock.offset_seconds()
    client = twins.client()
    who = await someone(world, township, client)
    browser = twins.client(host="127.0.3.9")
    await page_session(browser, who.user["username"])
    for _ in range(2):
        assert (await who.get("/api/v1/me")).status_code == 200
        assert (await browser.get("/me")).status_code == 200
    assert who.token in twins.fast.state.token_issuer.cache._entries

    if event == "expiry":
        move_clock(settings.token_ttl_seconds + 1)
    else:
        await EVENTS[event](world, township_of(township, client), who)
    # Each app keeps its own clock (its application context): they read the moved one.
    for twin in (twins.fast, twins.plain):
        twin.context.clock_offset = context.current().clock_offset  # type: ignore[attr-defined]
    try:
        refused = await who.get("/api/v1/topics")
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "unauthenticated"
        assert ("已过期" in refused.json()["detail"]) is (event == "expiry")
        page = await browser.get("/me")
    finally:
        for twin in (twins.fast, twins.plain):
            twin.context.clock_offset = timedelta(seconds=start)  # type: ignore[attr-defined]
    ends_pages = event not in ("sign_out",)  # sign-out ends the bearer session alone
    assert page.status_code == (303 if ends_pages else 200)


async def test_sessions_ended_during_a_rush_are_refused_from_the_next_request(
    world: World, twins: Twins, township: Township
) -> None:
    """Forty-two requests at a time on the fast app (session reads coalesced on PostgreSQL)
    while the same person's sessions are signed out one by one: a request asked after
    a sign-out was answered is refused, one answered before it began is served; after
    the rush, both apps answer every token alike."""
    client = twins.client()
    who = await someone(world, township, client)
    tokens = [who.token] + [
        (await sign_in(world.client, who.user["username"])).token for _ in range(5)
    ]
    fast = twins.only(twins.fast)
    clock = itertools.count()
    jitter = random.Random(24)
    began_ending: dict[str, int] = {}
    ended: dict[str, int] = {}
    seen: list[tuple[str, int, int, int]] = []
    done = asyncio.Event()

    async def ask(token: str, delay: float) -> None:
        await asyncio.sleep(delay)  # out of step: some asked while others are answered
        start = next(clock)
        got = await fast.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        seen.append((token, start, next(clock), got.status_code))

    async def rush() -> None:
        while not done.is_set():
            await asyncio.gather(*(ask(t, jitter.random() / 500) for t in tokens * 7))

    async def sign_out_one_by_one() -> None:
        for token in tokens[:-1]:
            await asyncio.sleep(0.02)
            began_ending[token] = next(clock)
            out = await fast.post(
                "/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
            )
            assert out.status_code == 204, out.text
            ended[token] = next(clock)
        await asyncio.sleep(0.02)
        done.set()

    await asyncio.gather(sign_out_one_by_one(), rush())

    for token, start, end, status in seen:
        if token in ended and start > ended[token]:
            assert status == 401, "a request after the sign-out was served"
        elif token not in began_ending or end < began_ending[token]:
            assert status == 200, status
    assert {status for *_, status in seen} == {200, 401}
    for token in tokens:
        answer = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == (200 if token == tokens[-1] else 401)
