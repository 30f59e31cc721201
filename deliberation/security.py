"""Password hashing (argon2), the password rules, and expiring bearer tokens (HS256 JWT)
that name their session."""

from __future__ import annotations

import asyncio
import os
import secrets
import string
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from deliberation.clock import timestamp
from deliberation.errors import Unauthenticated
from deliberation.fast_path import TokenCache

PASSWORD_HASH_COSTS = ("production", "test")
"""``Settings.password_hash_cost``: ``production`` is argon2-cffi's default (RFC 9106's
low-memory profile: t=3, m=64 MiB, p=4; ~100-250 ms a hash); ``test`` is the cheapest
argon2id allows (t=1, m=8 KiB, p=1; ~0.06 ms), for the test suite only, which hashes
the same test password about a thousand times. Verification reads the cost from the
hash, so hashes of either cost verify under both."""


def password_hasher(cost: str) -> PasswordHasher:
    """The hasher of one of :data:`PASSWORD_HASH_COSTS`."""
    if cost == "production":
        return PasswordHasher()
    if cost == "test":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    raise ValueError(f"no password hash cost {cost!r}: one of {', '.join(PASSWORD_HASH_COSTS)}")


_hasher = password_hasher("production")
_dummy_hash: str | None = None
"""Verified against when the username does not exist, so both paths cost the same; made
at the first such sign-in (at import, every command of the CLI paid for it)."""


def use_hash_cost(cost: str) -> None:
    """Hash new passwords at ``cost`` from now on (``create_app`` applies the settings';
    the test suite chooses ``test``)."""
    global _hasher, _dummy_hash
    _hasher, _dummy_hash = password_hasher(cost), None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not-a-real-password")
    return _dummy_hash


_first_hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def hash_first_password(password: str) -> str:
    """The hash of a first password made by :func:`temporary_password` for an imported
    account (~4 ms instead of ~100 ms). A slow hash protects passwords people choose,
    which are guessable; these are 12 random characters (about 69 bits), which no
    offline guessing reaches at any hash cost, and they must be replaced at the first
    sign-in, whose new hash is the slow one. Verification reads the cost from the hash."""
    return _first_hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


HASHING = ThreadPoolExecutor(
    max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="argon2"
)
"""Where every argon2 hash and verification runs: never on the event loop (one default
verification is ~100 ms of CPU, during which nothing else would be answered). argon2
releases the GIL; one core is left to the event loop (docs/decisions.md, "Holds under
load"; measured in bench/sign_in_load.py)."""


async def hashed(password: str) -> str:
    """:func:`hash_password`, in the hashing pool."""
    return await asyncio.get_running_loop().run_in_executor(HASHING, hash_password, password)


async def hashed_first(password: str) -> str:
    """:func:`hash_first_password`, in the hashing pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(HASHING, hash_first_password, password)


async def password_matches(password_hash: str | None, password: str) -> bool:
    """:func:`verify_password`, in the hashing pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(HASHING, verify_password, password_hash, password)


MIN_PASSWORD_LENGTH = 10


def password_problems(password: str, username: str) -> list[str]:
    """What is wrong with a new password, in plain words (product.md §9: at least 10
    characters of at least two kinds, never the username)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"密码至少要有 {MIN_PASSWORD_LENGTH} 个字符")
    kinds = (
        any(c.isalpha() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    if sum(kinds) < 2:
        problems.append("密码要包含字母、数字、符号中的至少两种")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    return problems


_TEMPORARY_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def temporary_password() -> str:
    """A first or reset password an office can read out: 12 letters and digits, no
    look-alikes (0/O, 1/l/I), always of both kinds."""
    while True:
        candidate = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(12))
        if not password_problems(candidate, ""):
            return candidate


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in caller, as carried by the token, and the session it signed in with."""

    id: int
    username: str
    role: str
    township_id: int | None
    village_id: int | None
    session_id: int = 0
    must_change_password: bool = False
    """Set by the session check after an administrator's reset: only a new password."""


@dataclass(frozen=True, slots=True)
class TokenIssuer:
    """Issues and verifies HS256 tokens; with a ``cache`` (the fast path), a token's
    signature is checked once (``deliberation.fast_path.TokenCache``)."""

    secret_key: str
    ttl_seconds: int
    cache: TokenCache[tuple[Principal, float]] | None = field(
        default=None, repr=False, compare=False
    )

    def issue(self, principal: Principal, now: float | None = None) -> str:
        issued = int(now if now is not None else timestamp())
        claims = {
            "sub": str(principal.id),
            "usr": principal.username,
            "rol": principal.role,
            "twp": principal.township_id,
            "vil": principal.village_id,
            "sid": principal.session_id,
            "iat": issued,
            "exp": issued + self.ttl_seconds,
        }
        return jwt.encode(claims, self.secret_key, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        """The caller a token names, if its signature holds and it has not expired (the
        session it names is checked by ``deliberation.sessions``, every time)."""
        if self.cache is None:
            return self._decode(token)[0]
        cached = self.cache.get(token, timestamp())
        if cached is not None:
            return cached[0]
        principal, expires = self._decode(token)
        self.cache.put(token, (principal, expires), expires)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self.secret_key,
                algorithms=["HS256"],
                # Expiry is checked against the project's clock (deliberation.clock),
                # not PyJWT's own reading of the time.
                options={
                    "require": ["sub", "exp", "iat"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
            expires = float(claims["exp"])
            if timestamp() >= expires:
                raise jwt.ExpiredSignatureError("expired")
            principal = Principal(
                id=int(claims["sub"]),
                username=str(claims["usr"]),
                role=str(claims["rol"]),
                township_id=claims["twp"],
                village_id=claims["vil"],
                session_id=int(claims["sid"]),
            )
            return principal, expires
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("登录已过期，请重新登录") from error
        except (jwt.PyJWTError, KeyError, ValueError, TypeError) as error:
            raise Unauthenticated("登录凭证无效，请重新登录") from error
