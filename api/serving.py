"""How ``deliberation serve`` receives requests: uvicorn's httptools protocol with a
receipt deadline and a connection cap (docs/decisions.md, "A deadline for receiving
every request").

uvicorn times only the idle wait between two requests on a connection (its keep-alive
timer, restarted by every byte); a client that trickles its headers one byte at a time,
or opens a connection and sends nothing, holds it for ever. This protocol counts from
the first byte of each request (for a connection's first request, from the moment the
connection opened) and closes the connection when the headers are not complete within
``header_timeout_seconds`` or the whole body within ``body_timeout_seconds`` of that
moment, answering 408 first when nothing else has been written for that request.
``serve`` names it with ``http="api.serving:ReceiptDeadlineProtocol"``; its limits come
from the environment (``ServeLimits``), so that every worker process reads the same.

The cost per request is one timer armed at the request's first byte and cancelled when
its body is complete (docs/benchmarks.md, "issue 29: a deadline for receiving every
request").
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.errors import PROBLEM_JSON, STATUS_OF_CODE, TITLES
from api.settings import ServeLimits

logger = logging.getLogger("deliberation.serve")

_HEADERS, _BODY, _DONE = 0, 1, 2
"""Where a connection is in receiving its current request."""

CAP_WARNING_EVERY_SECONDS = 60.0


def problem_body(code: str, detail: str) -> bytes:
    """The problem details body of ``code`` (api/errors.py), as bytes."""
    return json.dumps(
        {
            "type": "about:blank",
            "status": STATUS_OF_CODE[code],
            "title": TITLES[code],
            "detail": detail,
            "code": code,
        },
        ensure_ascii=False,
    ).encode()


REQUEST_TIMEOUT_BODY = problem_body(
    "request_timeout", "请求未能在规定时间内发送完毕，连接已关闭。请检查网络后重试。"
)
SERVER_BUSY_BODY = problem_body("server_busy", "服务器当前连接数已满，请稍后再试。")
SERVER_BUSY_RETRY_AFTER_SECONDS = 5


async def server_busy(scope: Any, receive: Any, send: Any) -> None:
    """The answer to a request over the connection cap: 503 problem details, the
    connection closed after it."""
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(SERVER_BUSY_BODY)).encode()),
                (b"retry-after", str(SERVER_BUSY_RETRY_AFTER_SECONDS).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": SERVER_BUSY_BODY, "more_body": False})


class ReceiptDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a receipt deadline per request and a cap on the
    process's open connections."""

    limits: ClassVar[ServeLimits | None] = None
    """This process's limits, read from the environment at the first connection."""
    _cap_warned_at: ClassVar[float] = -CAP_WARNING_EVERY_SECONDS
    _cap_refused: ClassVar[int] = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = ReceiptDeadlineProtocol.limits
        if limits is None:
            limits = ReceiptDeadlineProtocol.limits = ServeLimits.from_env()
        self.header_timeout = limits.header_timeout_seconds
        self.body_timeout = limits.body_timeout_seconds
        self.max_connections = limits.max_connections
        self.receipt_deadline: asyncio.TimerHandle | None = None
        self.request_started = 0.0
        """Loop time of the current request's first byte."""
        self.receipt_phase = _DONE
        self.request_bytes = False
        """Whether any byte of the current request has arrived (a connection opened and
        left silent is closed without a 408)."""

    # The deadline: armed at the first byte, re-armed for the body, cancelled at its end.

    def _arm(self) -> None:
        self.request_started = now = self.loop.time()
        self.receipt_phase = _HEADERS
        self.receipt_deadline = self.loop.call_at(now + self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self.receipt_deadline is not None:
            self.receipt_deadline.cancel()
            self.receipt_deadline = None
        self.receipt_phase = _DONE

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.request_bytes = False
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.receipt_deadline is None:
            self._arm()
        self.request_bytes = True
        super().data_received(data)

    def on_message_begin(self) -> None:
        # A pipelined request whose first byte came with the previous one's last.
        if self.receipt_deadline is None:
            self._arm()
        self.request_bytes = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self.receipt_phase = _BODY
        if len(self.connections) > self.max_connections:
            self._refuse_over_cap()
            return
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self.request_bytes = False
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        # The WebSocket protocol takes the connection over: no HTTP request to receive.
        self._disarm()
        super().handle_websocket_upgrade()

    def _refuse_over_cap(self) -> None:
        """This request is answered ``server_busy`` instead of by the application."""
        cls = ReceiptDeadlineProtocol
        cls._cap_refused += 1
        now = self.loop.time()
        if now - cls._cap_warned_at >= CAP_WARNING_EVERY_SECONDS:
            logger.warning(
                "over the connection cap (%d open, cap %d): %d requests answered 503 since "
                "the last warning",
                len(self.connections),
                self.max_connections,
                cls._cap_refused,
            )
            cls._cap_warned_at, cls._cap_refused = now, 0
        app = self.app
        self.app = server_busy
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def _expired(self) -> None:
        self.receipt_deadline = None
        if self.transport is None or self.transport.is_closing():
            return
        if self.receipt_phase == _BODY:
            body_deadline = self.request_started + self.body_timeout
            if self.loop.time() < body_deadline:
                self.receipt_deadline = self.loop.call_at(body_deadline, self._expired)
                return
        self._answer_408_and_close()

    def _answer_408_and_close(self) -> None:
        cycle = self.cycle
        if self.receipt_phase == _HEADERS:
            # ``cycle`` is the previous request's: free to answer once it is complete.
            free = self.request_bytes and (cycle is None or cycle.response_complete)
        else:
            # This request's own cycle, unless it still waits behind a pipelined one.
            free = not self.pipeline and not cycle.response_started
        if cycle is not None and not cycle.response_complete and self.receipt_phase == _BODY:
            # The application reads a disconnect from now on; what it sends is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
        if free:
            self.transport.write(self._408())
        self.transport.close()

    def _408(self) -> bytes:
        head = [b"HTTP/1.1 408 Request Timeout\r\n"]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: ",
            PROBLEM_JSON.encode(),
            b"\r\ncontent-length: ",
            str(len(REQUEST_TIMEOUT_BODY)).encode(),
            b"\r\nconnection: close\r\n\r\n",
            REQUEST_TIMEOUT_BODY,
        ]
        return b"".join(head)
