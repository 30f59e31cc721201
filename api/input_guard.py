"""Bad input stops here, before any handler (api.md v1.1 "Bad input, more precisely"):
a NUL character or invalid UTF-8 in the query or the body, and JSON nested deeper than
any request of ours. PostgreSQL refuses NUL in text (a 500 before), SQLite stores it;
both now answer the same: 400 ``bad_request`` for the address, 422 ``validation_error``
naming the field for a JSON body. The errors go through the app's exception handlers,
so a browser gets a page and the API problem details."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from api.middleware import BODY_METHODS, is_json, media_type
from deliberation.errors import BadRequest, PayloadTooLarge, ValidationFailed

MAX_DEPTH = 32
"""Deeper than any request body of the API (they are two or three levels)."""


def query_problem(query: bytes) -> str | None:
    """The name of the first query parameter holding a NUL or invalid UTF-8."""
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            raw = unquote_to_bytes(part.replace(b"+", b" "))
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = "\x00"
            if "\x00" in text:
                return unquote_to_bytes(name).decode("utf-8", "replace").replace("\x00", "") or "?"
    return None


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON nests arrays or objects deeper than ``limit`` (brackets inside
    strings do not count). msgspec would recurse until Python's limit (a 500)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def nul_fields(value: Any, path: str = "") -> list[str]:
    """Where a decoded JSON value holds a NUL character (field names as the API's
    validation errors name them: the top-level key, or ``key[0].inner``)."""
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            found += [where] if "\x00" in str(key) else nul_fields(inner, where)
        return found
    if isinstance(value, list):
        return [f for i, inner in enumerate(value) for f in nul_fields(inner, f"{path}[{i}]")]
    return []


def _is_form(scope: Scope) -> bool:
    return media_type(scope) == "application/x-www-form-urlencoded"


def check_body(scope: Scope, body: bytes) -> None:
    if is_json(scope):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("请求体不是有效的 UTF-8 编码") from None
        if too_deep(body):
            raise BadRequest(f"请求体嵌套过深（最多 {MAX_DEPTH} 层）")
        if "\\u0000" in text.lower() or "\x00" in text:
            try:
                fields = nul_fields(json.loads(text))
            except ValueError:
                return  # malformed: the body parser answers 400 for it
            if fields:
                raise ValidationFailed(
                    [{"field": f, "message": "包含不允许的空字符（NUL）"} for f in fields]
                )
    elif _is_form(scope):
        field = query_problem(body)
        if field is not None:
            raise BadRequest(f"表单字段 {field} 包含无效字符")


class InputGuardMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        field = query_problem(scope.get("query_string", b""))
        if field is not None:
            raise BadRequest(f"查询参数 {field} 包含无效字符（空字符或非 UTF-8）")
        if scope.get("method") not in BODY_METHODS or not (is_json(scope) or _is_form(scope)):
            await next_app(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise PayloadTooLarge(f"请求内容超过 {self.max_body_bytes // 1024} KiB 的上限")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        check_body(scope, body)
        sent = False

        async def replay() -> ReceiveMessage:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await next_app(scope, replay, send)
