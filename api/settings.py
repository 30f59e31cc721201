"""Typed, frozen settings, read from the environment only when asked."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from deliberation import clock, fast_path
from deliberation.archive import RETENTION_PERIODS, ArchiveConfig
from deliberation.context import AppContext
from deliberation.documents.content import COUNTY_NUMBER_PREFIX
from deliberation.notifications.delivery import DeliveryConfig
from deliberation.notifications.targets import parse_allowed
from deliberation.security import PASSWORD_HASH_COSTS

DEFAULT_DATABASE_URL = "sqlite:///var/deliberation.sqlite3"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


class SettingsError(ValueError):
    pass


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from error


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from error


def _allowed_hosts(raw: str) -> frozenset[tuple[str, int]]:
    try:
        return parse_allowed(raw.split(","))
    except ValueError as error:
        raise SettingsError(f"DELIBERATION_WEBHOOK_ALLOWED_HOSTS: {error}") from error


def load_or_create_secret(var_dir: Path, name: str = "secret_key") -> str:
    """A secret kept in ``var/<name>`` (``secret_key``, ``audit_key``), generated on first
    use, readable by its owner only."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


HEADER_TIMEOUT_ENV = "DELIBERATION_HEADER_TIMEOUT_SECONDS"
BODY_TIMEOUT_ENV = "DELIBERATION_BODY_TIMEOUT_SECONDS"
MAX_CONNECTIONS_ENV = "DELIBERATION_MAX_CONNECTIONS"


@dataclass(frozen=True, slots=True)
class ServeLimits:
    """How long ``deliberation serve`` waits to receive a request, and how many
    connections one server process holds (api/serving.py; the defaults' reasons are in
    docs/decisions.md, "A deadline for receiving every request"). Read from the
    environment, which ``serve`` sets from its flags so that every worker process reads
    the same."""

    header_timeout_seconds: float = 10.0
    """The request line and headers complete within this long of the request's first
    byte (a connection's first request: of the connection opening)."""
    body_timeout_seconds: float = 60.0
    """The whole body within this long of the same moment."""
    max_connections: int = 900
    """Open connections per server process; a request on one more is answered 503."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServeLimits:
        env = os.environ if environ is None else environ
        limits = cls(
            header_timeout_seconds=_float(env, HEADER_TIMEOUT_ENV, 10.0),
            body_timeout_seconds=_float(env, BODY_TIMEOUT_ENV, 60.0),
            max_connections=_int(env, MAX_CONNECTIONS_ENV, 900),
        )
        limits.validate()
        return limits

    def validate(self) -> None:
        if not 0.1 <= self.header_timeout_seconds <= 3600:
            raise SettingsError(f"{HEADER_TIMEOUT_ENV} must be between 0.1 and 3600")
        if not self.header_timeout_seconds <= self.body_timeout_seconds <= 86400:
            raise SettingsError(
                f"{BODY_TIMEOUT_ENV} must be at least {HEADER_TIMEOUT_ENV} and at most 86400"
            )
        if not 1 <= self.max_connections <= 1_000_000:
            raise SettingsError(f"{MAX_CONNECTIONS_ENV} must be between 1 and 1000000")

    def environ(self) -> dict[str, str]:
        """These limits as the environment variables they are read from."""
        return {
            HEADER_TIMEOUT_ENV: repr(self.header_timeout_seconds),
            BODY_TIMEOUT_ENV: repr(self.body_timeout_seconds),
            MAX_CONNECTIONS_ENV: str(self.max_connections),
        }


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default="", repr=False)
    audit_key: str = field(default="", repr=False)
    """The key the topic chains are hashed with; never in the database."""
    public_url: str = DEFAULT_PUBLIC_URL
    var_dir: Path = Path("var")
    token_ttl_seconds: int = 8 * 3600
    session_idle_minutes: int = 30
    """A page session ends after this long without a request (bearer tokens: at expiry)."""
    security_log_days: int = 365
    """How long the security log is kept (at least 180 days)."""
    login_failures_per_username: int = 5
    login_failures_per_client: int = 20
    login_window_seconds: int = 900
    suggestions_per_client: int = 10
    """Suggestions filed from one client address per hour (villages sit behind carrier
    NAT: generous); ``DELIBERATION_SUGGESTIONS_PER_CLIENT``."""
    suggestions_per_phone: int = 3
    """Suggestions filed with one phone number per 24 hours."""
    suggestions_per_account: int = 20
    """Suggestions filed by one signed-in account per 24 hours."""
    max_body_bytes: int = 1024 * 1024
    db_pool_size: int = 10
    log_level: str = "INFO"
    render_workers: int = 2
    posting_days: int = 5
    county_number_prefix: str = COUNTY_NUMBER_PREFIX
    """The county's 机关代字 on its documents' numbers (县政协协商〔2027〕1号)."""
    webhook_allowed_hosts: frozenset[tuple[str, int]] = frozenset()
    """``(host, port)`` pairs webhooks may reach although they are inward."""
    delivery_in_server: bool = True
    delivery_lease_seconds: int = 60
    delivery_max_age_hours: int = 24
    digest_hour: int = 18
    trusted_proxies: frozenset[str] = frozenset()
    """Peers whose ``X-Forwarded-For`` names the client (a reverse proxy in front)."""
    fast_path: bool = True
    """``DELIBERATION_FAST_PATH=0``: plain Piccolo reads, no token cache, Litestar's
    logging (see deliberation/fast_path.py)."""
    archive_fonds: str = "0001"
    """全宗号: the fonds code the county archives gave the office (archive codes)."""
    archive_retention: str = "D30"
    """保管期限 of a topic's file: Y (永久), D30 (定期30年) or D10 (定期10年)."""
    archive_organization: str = ""
    """立档单位 named in each archive bag; empty: the topic's township."""
    clock_offset_seconds: float = 0.0
    """Shift of this process's clock (tests and demos; see deliberation.clock)."""
    password_hash_cost: str = "production"
    """argon2's cost for new password hashes: ``production``, or ``test`` (the cheapest;
    for the test suite only, see ``deliberation.security.PASSWORD_HASH_COSTS``)."""

    @property
    def session_idle_seconds(self) -> int:
        return self.session_idle_minutes * 60

    def delivery(self) -> DeliveryConfig:
        return DeliveryConfig(
            public_url=self.public_url,
            allowed_hosts=self.webhook_allowed_hosts,
            lease_seconds=float(self.delivery_lease_seconds),
            max_age_seconds=self.delivery_max_age_hours * 3600.0,
            digest_hour=self.digest_hour,
            security_log_days=self.security_log_days,
            token_ttl_seconds=self.token_ttl_seconds,
            open_data_dir=self.open_data_dir,
        )

    def archive(self) -> ArchiveConfig:
        return ArchiveConfig(
            fonds=self.archive_fonds,
            retention=self.archive_retention,
            organization=self.archive_organization,
        )

    @property
    def open_data_dir(self) -> Path:
        """Where the open data's newest build is kept (``var/open-data``)."""
        return self.var_dir / "open-data"

    def new_context(self) -> AppContext:
        """A fresh application context for these settings: their audit key and clock
        (the engine is bound when the application starts)."""
        return AppContext(
            audit_key=self.audit_key.encode(),
            clock_offset=timedelta(seconds=self.clock_offset_seconds),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        var_dir = Path(env.get("DELIBERATION_VAR_DIR", "var"))
        secret = env.get("DELIBERATION_SECRET_KEY") or load_or_create_secret(var_dir)
        audit_key = env.get("DELIBERATION_AUDIT_KEY") or load_or_create_secret(var_dir, "audit_key")
        settings = cls(
            database_url=env.get("DELIBERATION_DATABASE_URL") or DEFAULT_DATABASE_URL,
            secret_key=secret,
            audit_key=audit_key,
            public_url=(env.get("DELIBERATION_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
            var_dir=var_dir,
            token_ttl_seconds=_int(env, "DELIBERATION_TOKEN_TTL_SECONDS", 8 * 3600),
            session_idle_minutes=_int(env, "DELIBERATION_SESSION_IDLE_MINUTES", 30),
            security_log_days=_int(env, "DELIBERATION_SECURITY_LOG_DAYS", 365),
            login_failures_per_username=_int(env, "DELIBERATION_LOGIN_FAILURES_PER_USERNAME", 5),
            login_failures_per_client=_int(env, "DELIBERATION_LOGIN_FAILURES_PER_CLIENT", 20),
            login_window_seconds=_int(env, "DELIBERATION_LOGIN_WINDOW_SECONDS", 900),
            suggestions_per_client=_int(env, "DELIBERATION_SUGGESTIONS_PER_CLIENT", 10),
            suggestions_per_phone=_int(env, "DELIBERATION_SUGGESTIONS_PER_PHONE", 3),
            suggestions_per_account=_int(env, "DELIBERATION_SUGGESTIONS_PER_ACCOUNT", 20),
            db_pool_size=_int(env, "DELIBERATION_DB_POOL_SIZE", 10),
            log_level=env.get("DELIBERATION_LOG_LEVEL", "INFO"),
            render_workers=_int(env, "DELIBERATION_RENDER_WORKERS", 2),
            posting_days=_int(env, "DELIBERATION_POSTING_DAYS", 5),
            county_number_prefix=env.get(
                "DELIBERATION_COUNTY_NUMBER_PREFIX", COUNTY_NUMBER_PREFIX
            ).strip(),
            archive_fonds=env.get("DELIBERATION_ARCHIVE_FONDS", "0001").strip(),
            archive_retention=env.get("DELIBERATION_ARCHIVE_RETENTION", "D30").strip(),
            archive_organization=env.get("DELIBERATION_ARCHIVE_ORGANIZATION", "").strip(),
            webhook_allowed_hosts=_allowed_hosts(env.get("DELIBERATION_WEBHOOK_ALLOWED_HOSTS", "")),
            delivery_in_server=env.get("DELIBERATION_DELIVERY_IN_SERVER", "1").lower()
            not in ("0", "false", "no", "off"),
            delivery_lease_seconds=_int(env, "DELIBERATION_DELIVERY_LEASE_SECONDS", 60),
            delivery_max_age_hours=_int(env, "DELIBERATION_DELIVERY_MAX_AGE_HOURS", 24),
            digest_hour=_int(env, "DELIBERATION_DIGEST_HOUR", 18),
            trusted_proxies=frozenset(
                a.strip()
                for a in env.get("DELIBERATION_TRUSTED_PROXIES", "").split(",")
                if a.strip()
            ),
            fast_path=fast_path.enabled(env),
            clock_offset_seconds=_float(env, clock.OFFSET_ENV, 0.0),
            password_hash_cost=env.get("DELIBERATION_PASSWORD_HASH_COST", "").strip()
            or "production",
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if not self.database_url.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise SettingsError(
                "DELIBERATION_DATABASE_URL must start with sqlite:// or postgresql://"
            )
        if len(self.secret_key) < 16:
            raise SettingsError("DELIBERATION_SECRET_KEY must be at least 16 characters")
        if len(self.audit_key) < 16:
            raise SettingsError("DELIBERATION_AUDIT_KEY must be at least 16 characters")
        if not 1 <= self.render_workers <= 32:
            raise SettingsError("DELIBERATION_RENDER_WORKERS must be between 1 and 32")
        if not 1 <= self.delivery_lease_seconds <= 3600:
            raise SettingsError("DELIBERATION_DELIVERY_LEASE_SECONDS must be between 1 and 3600")
        if not 1 <= self.delivery_max_age_hours <= 24 * 30:
            raise SettingsError("DELIBERATION_DELIVERY_MAX_AGE_HOURS must be between 1 and 720")
        if not 0 <= self.digest_hour <= 23:
            raise SettingsError("DELIBERATION_DIGEST_HOUR must be between 0 and 23")
        if not 1 <= self.session_idle_minutes <= 24 * 60:
            raise SettingsError("DELIBERATION_SESSION_IDLE_MINUTES must be between 1 and 1440")
        if self.security_log_days < 180:
            raise SettingsError("DELIBERATION_SECURITY_LOG_DAYS must be at least 180")
        for name, value in (
            ("CLIENT", self.suggestions_per_client),
            ("PHONE", self.suggestions_per_phone),
            ("ACCOUNT", self.suggestions_per_account),
        ):
            if not 1 <= value <= 10_000:
                raise SettingsError(f"DELIBERATION_SUGGESTIONS_PER_{name} must be 1-10000")
        if not 1 <= self.posting_days <= 60:
            raise SettingsError("DELIBERATION_POSTING_DAYS must be between 1 and 60")
        if not 1 <= len(self.county_number_prefix) <= 20:
            raise SettingsError("DELIBERATION_COUNTY_NUMBER_PREFIX must be 1-20 characters")
        if not re.fullmatch(r"[0-9A-Za-z]{1,10}", self.archive_fonds):
            raise SettingsError("DELIBERATION_ARCHIVE_FONDS must be 1-10 letters or digits")
        if self.password_hash_cost not in PASSWORD_HASH_COSTS:
            raise SettingsError(
                "DELIBERATION_PASSWORD_HASH_COST must be one of " + ", ".join(PASSWORD_HASH_COSTS)
            )
        if self.archive_retention not in RETENTION_PERIODS:
            raise SettingsError(
                "DELIBERATION_ARCHIVE_RETENTION must be one of " + ", ".join(RETENTION_PERIODS)
            )
