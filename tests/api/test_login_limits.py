"""Login limits that hold: attempts counted atomically, the client address not taken
from a header anyone can write, and a refusal that says whom to ask."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import httpx
from litestar import Litestar

from api.middleware import client_address
from deliberation.tables import LoginFailure
from tests.conftest import client_from
from tests.live import serving
from tests.world import PASSWORD, World, new_township, unique


async def test_forty_wrong_passwords_at_once_count_only_up_to_the_limit(
    world: World, app: Litestar, move_clock: Callable[[float], None]
) -> None:
    t = await new_township(world, "限次镇")
    username = t["representative"].user["username"]
    client = client_from(app)
    answers = await asyncio.gather(
        *[
            client.post("/api/v1/auth/token", json={"username": username, "password": f"bad{i}"})
            for i in range(40)
        ]
    )
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {401: 5, 429: 35}, statuses
    assert await LoginFailure.count().where(LoginFailure.username == username) == 5
    # Locked out: even the right password waits, and the answer says whom to ask.
    right = {"username": username, "password": PASSWORD}
    refused = await client.post("/api/v1/auth/token", json=right)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert "乡镇协商办公室" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0
    page = await client.post("/login", data={"username": username, "password": PASSWORD})
    assert page.status_code in (403, 429)  # without a CSRF token the page refuses first
    move_clock(900 + 1)  # the window has passed
    assert (await client.post("/api/v1/auth/token", json=right)).status_code == 200
    # A right password takes its attempt back: nothing more is counted.
    assert await LoginFailure.count().where(LoginFailure.username == username) == 5


def test_forwarded_for_counts_only_from_a_trusted_proxy() -> None:
    scope = {"client": ("127.0.0.1", 5000), "headers": [(b"x-forwarded-for", b"1.2.3.4, 10.0.0.5")]}
    assert client_address(scope, frozenset()) == "127.0.0.1"
    assert client_address(scope, frozenset({"127.0.0.1"})) == "10.0.0.5"
    assert client_address(scope, frozenset({"127.0.0.1", "10.0.0.5"})) == "1.2.3.4"
    assert client_address(
        {"client": ("127.0.0.1", 1), "headers": []}, frozenset({"127.0.0.1"})
    ) == ("127.0.0.1")


async def test_the_served_process_does_not_trust_forwarded_for_from_loopback(
    migrated: str,
) -> None:
    """uvicorn believed X-Forwarded-For from any loopback peer: each request could
    claim a new address and never reach the per-client limit."""
    ghosts = [unique("ghost") for _ in range(21)]
    # Failed sign-ins other tests made to their served processes (from 127.0.0.1 too,
    # in whatever order the run puts them) would count toward this client's limit.
    await LoginFailure.delete().where(LoginFailure.client == "127.0.0.1")
    try:
        with serving(migrated, DELIBERATION_DELIVERY_IN_SERVER="0") as server:
            statuses = [
                httpx.post(
                    f"{server.base}/api/v1/auth/token",
                    json={"username": ghost, "password": "x"},
                    headers={"X-Forwarded-For": f"203.0.113.{i}"},
                    timeout=30,
                ).status_code
                for i, ghost in enumerate(ghosts)
            ]
        assert statuses == [401] * 20 + [429]
    finally:
        # The other tests' servers are signed in to from 127.0.0.1 too.
        await LoginFailure.delete().where(LoginFailure.username.is_in(ghosts))


def test_forwarded_for_reads_every_header_line_in_order() -> None:
    """A proxy that appends a line of its own (HAProxy) leaves the client's lines first."""
    scope = {
        "client": ("127.0.0.1", 5000),
        "headers": [
            (b"x-forwarded-for", b"203.0.113.9"),  # written by the client
            (b"accept", b"*/*"),
            (b"x-forwarded-for", b"198.51.100.7"),  # appended by the proxy
        ],
    }
    assert client_address(scope, frozenset({"127.0.0.1"})) == "198.51.100.7"
    assert client_address(scope, frozenset({"127.0.0.1", "198.51.100.7"})) == "203.0.113.9"


async def test_spoofed_forwarded_for_lines_behind_an_appending_proxy_still_reach_the_limit(
    migrated: str,
) -> None:
    """Behind a trusted proxy that appends a second ``X-Forwarded-For`` line, 30 clients
    claimed by the client's own first line never met the per-client limit."""
    ghosts = [unique("spoof") for _ in range(21)]
    real = "198.51.100.77"
    try:
        with serving(
            migrated, DELIBERATION_DELIVERY_IN_SERVER="0", DELIBERATION_TRUSTED_PROXIES="127.0.0.1"
        ) as server:
            statuses = [
                httpx.post(
                    f"{server.base}/api/v1/auth/token",
                    json={"username": ghost, "password": "x"},
                    headers=[("X-Forwarded-For", f"203.0.113.{i}"), ("X-Forwarded-For", real)],
                    timeout=30,
                ).status_code
                for i, ghost in enumerate(ghosts)
            ]
        assert statuses == [401] * 20 + [429]
        counted = await LoginFailure.count().where(LoginFailure.username.is_in(ghosts))
        assert counted == 20
        assert await LoginFailure.count().where(LoginFailure.client == real) == 20
    finally:
        await LoginFailure.delete().where(LoginFailure.username.is_in(ghosts))
