"""argon2 never runs on the event loop (issue 23, item 5): one default verification is
~100 ms of CPU during which a one-worker server answered nothing (8 clients signing in
took ``/healthz`` to 150–190 ms median). What it costs under load is measured in
``bench/sign_in_load.py``; here, that every hash and verification of a sign-in, a
password change, an administrator's reset and a new account runs in another thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher

from tests.world import PASSWORD, World, new_township, sign_in, unique


@pytest.fixture
def argon2_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Every argon2 hash and verification (still done for real), with the thread it ran
    in: ``("loop", …)`` for the thread running the event loop."""
    seen: list[tuple[str, str]] = []
    loop_thread = threading.current_thread()
    real_hash, real_verify = PasswordHasher.hash, PasswordHasher.verify

    def where() -> str:
        return "loop" if threading.current_thread() is loop_thread else "pool"

    def hash_(self: PasswordHasher, password: Any, *args: Any, **kwargs: Any) -> str:
        seen.append((where(), "hash"))
        return real_hash(self, password, *args, **kwargs)

    def verify(self: PasswordHasher, hash: Any, password: Any) -> bool:
        seen.append((where(), "verify"))
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "hash", hash_)
    monkeypatch.setattr(PasswordHasher, "verify", verify)
    yield seen


async def test_passwords_are_hashed_and_checked_off_the_event_loop(
    world: World, argon2_threads: list[tuple[str, str]]
) -> None:
    t = await new_township(world, "散列镇")
    name = unique("hasher")
    made = await world.admin.post(
        "/api/v1/users",
        {
            "username": name,
            "password": PASSWORD,
            "display_name": "散列",
            "role": "staff",
            "township_id": t.id,
        },
    )
    assert made.status_code == 201, made.text
    who = await sign_in(world.client, name)
    changed = await who.put(
        "/api/v1/me/password", {"current_password": PASSWORD, "new_password": "a-new-password-26"}
    )
    assert changed.status_code == 204, changed.text
    reset = await world.admin.post(f"/api/v1/users/{made.json()['id']}/password-reset")
    assert reset.status_code == 200, reset.text
    wrong = await world.client.post(
        "/api/v1/auth/token", json={"username": unique("nobody"), "password": "x"}
    )
    assert wrong.status_code == 401

    kinds = [kind for _, kind in argon2_threads]
    # create, sign in, change (check + new hash), reset, a sign-in for nobody
    assert kinds.count("hash") >= 3 and kinds.count("verify") >= 3, argon2_threads
    on_loop = [call for call in argon2_threads if call[0] == "loop"]
    assert on_loop == [], f"argon2 ran on the event loop: {on_loop}"
