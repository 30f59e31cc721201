"""Outermost ASGI layer: request id, one log line per request, JSON content type."""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import send_problem

logger = logging.getLogger("deliberation.requests")

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
BODY_METHODS = {"POST", "PUT", "PATCH"}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
"""Scripts and styles only from this site (htmx and the style sheet; nothing inline,
nothing evaluated), and no page inside another site's frame (clickjacking)."""
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
_PAGE_CSP = (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())
_SCHEMA_CSP = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    b"connect-src 'self'; frame-ancestors 'none'",
)
"""The API explorers under /schema come from our own files (templates/static/); their
start-up scripts and styles are inline, ReDoc searches in a blob: worker. Nothing from
elsewhere."""


def raw_header(scope: Any, name: bytes) -> str | None:
    """A request header straight from the ASGI scope (``name`` lower-case), without
    decoding all of them as ``request.headers`` does."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def path_shape(template: str) -> str:
    """A route's path with its parameters unnamed (``/meetings/{meeting_id:int}`` and
    ``/meetings/{record_id:int}`` are the same address)."""
    return re.sub(r"\{[^}]*\}", "{}", template)


def client_address(scope: Any, trusted_proxies: frozenset[str]) -> str:
    """Who is asking, for the per-client login limit. ``X-Forwarded-For`` counts only when
    the direct peer is a proxy we were told to trust (``DELIBERATION_TRUSTED_PROXIES``);
    then the nearest address in it that is not itself a trusted proxy. Anyone else could
    write any address there and reset their count with each request.

    Every ``X-Forwarded-For`` line counts, joined in the order received (RFC 9110 §5.3):
    a proxy that appends a line of its own (HAProxy's ``option forwardfor``) leaves the
    client's own lines before it, and reading only the first line would take the
    client's word (docs/decisions.md, "Holds under load")."""
    peer = (scope.get("client") or ("unknown", 0))[0] or "unknown"
    if peer not in trusted_proxies:
        return str(peer)
    lines = [
        value.decode("latin-1")
        for key, value in scope.get("headers", ())
        if key == b"x-forwarded-for"
    ]
    forwarded = [a.strip() for a in ",".join(lines).split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted_proxies:
            return address[:64]
    return str(peer)


def client_of(request: Any) -> str:
    """``client_address`` of a Litestar request, with the app's trusted proxies."""
    return client_address(request.scope, request.app.state.settings.trusted_proxies)


UPLOAD_PATHS = frozenset({"/api/v1/users/import"})
"""API operations that take a file (``multipart/form-data``) instead of JSON."""


def _wants_json_body(scope: Any) -> bool:
    path = str(scope["path"])
    if path in UPLOAD_PATHS and media_type(scope) == "multipart/form-data":
        return False
    return scope["method"] in BODY_METHODS and path.startswith("/api/")


def _has_body(scope: Any) -> bool:
    length = raw_header(scope, b"content-length")
    return length not in (None, "0") or raw_header(scope, b"transfer-encoding") is not None


def media_type(scope: Any) -> str:
    """The request body's media type, lower-case, without parameters ("" if none)."""
    return (raw_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()


def is_json(scope: Any) -> bool:
    media = media_type(scope)
    return media == "application/json" or media.endswith("+json")


class RequestContextMiddleware:
    """Gives each request an id (kept from ``X-Request-ID`` when sane), returns it
    in the response, refuses non-JSON bodies on the API with 400, and logs one line:
    request id, method, path (never the query string or headers, so no token or
    password), user id, status and duration."""

    def __init__(self, app: ASGIApp, allowed_methods: dict[str, str] | None = None) -> None:
        self.app = app
        self.allowed_methods = allowed_methods or {}
        """``Allow`` per path template: Litestar's own OPTIONS answer can name only the
        methods its route had when the first handler of a path was added (GET missing
        from ``/api/v1/users``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = raw_header(scope, REQUEST_ID_HEADER)
        request_id = incoming if incoming and _SAFE_ID.match(incoming) else secrets.token_hex(16)
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (REQUEST_ID_HEADER, request_id.encode())
        csp = _SCHEMA_CSP if str(scope["path"]).startswith("/schema") else _PAGE_CSP
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), id_header, csp, *SECURITY_HEADERS]
                allow = self.allowed_methods.get(path_shape(scope.get("path_template", "")))
                if scope["method"] == "OPTIONS" and allow:
                    headers = [h for h in headers if h[0].lower() != b"allow"]
                    headers.append((b"allow", allow.encode()))
                message["headers"] = headers
            await send(message)

        try:
            if "\x00" in scope["path"]:
                await send_problem(send_with_id, "bad_request", "地址中包含无效字符（空字符）")
                return
            if _wants_json_body(scope) and _has_body(scope) and not is_json(scope):
                await send_problem(
                    send_with_id,
                    "bad_request",
                    "请求体必须是 JSON（Content-Type: application/json）",
                )
                return
            await self.app(scope, receive, send_with_id)
        finally:
            user = scope.get("user")
            user_id = getattr(user, "id", None)
            logger.info(
                "request_id=%s method=%s path=%s user_id=%s status=%s duration_ms=%.1f",
                request_id,
                scope["method"],
                scope["path"],
                user_id if user_id is not None else "-",
                status,
                (time.perf_counter() - started) * 1000,
            )
