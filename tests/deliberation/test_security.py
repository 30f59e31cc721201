"""Passwords and tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deliberation.clock import timestamp
from deliberation.errors import Unauthenticated
from deliberation.fast_path import TokenCache
from deliberation.security import Principal, TokenIssuer, hash_password, verify_password

ALICE = Principal(id=7, username="alice", role="staff", township_id=1, village_id=None)


def test_passwords_are_argon2_and_verify() -> None:
    hashed = hash_password("a-long-password")
    assert hashed.startswith("$argon2id$") and "a-long-password" not in hashed
    assert verify_password(hashed, "a-long-password")
    assert not verify_password(hashed, "wrong-password")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")


def test_a_remembered_token_still_expires(move_clock: Callable[[float], None]) -> None:
    issuer = TokenIssuer("s" * 32, ttl_seconds=1, cache=TokenCache())
    token = issuer.issue(ALICE)
    assert issuer.verify(token) == ALICE
    assert issuer.verify(token) == ALICE  # served from the cache
    move_clock(1.2)
    with pytest.raises(Unauthenticated, match="过期"):
        issuer.verify(token)


def test_token_from_another_key_is_refused_and_cache_is_bounded() -> None:
    cache: TokenCache[tuple[Principal, float]] = TokenCache(size=3)
    ours = TokenIssuer("s" * 32, ttl_seconds=60, cache=cache)
    theirs = TokenIssuer("t" * 32, ttl_seconds=60)
    with pytest.raises(Unauthenticated):
        ours.verify(theirs.issue(ALICE))
    for i in range(10):
        ours.verify(ours.issue(Principal(i + 1, f"u{i}", "staff", 1, None), now=timestamp() - i))
    assert len(cache._entries) == 3
