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

The cost per request is noting the time of its first byte and its phase; a sweep every
half second closes the late connections (docs/benchmarks.md, "issue 29: a deadline for
receiving every request").
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.errors import PROBLEM_JSON, problem_bytes, send_problem
from api.settings import ServeLimits

logger = logging.getLogger("deliberation.serve")

_HEADERS, _BODY, _DONE, _LINGER = 0, 1, 2, 3
"""Where a connection is in receiving its current request (``_LINGER``: answered 408,
reading what still comes before closing)."""

LINGER_SECONDS = 2.0
"""After a 408, how long the connection stays half-open (our side sent its end, what
the client still sends is read and dropped) before it is closed. Closing at once with
unread bytes makes the kernel reset the connection, and the client may lose the 408
(nginx's ``lingering_close`` for the same reason)."""

CAP_WARNING_EVERY_SECONDS = 60.0
SWEEP_EVERY_SECONDS = 0.5
"""How late a deadline may be kept (a quarter of the header deadline if that is less)."""


REQUEST_TIMEOUT_BODY = problem_bytes(
    "request_timeout", "请求未能在规定时间内发送完毕，连接已关闭。请检查网络后重试。"
)
SERVER_BUSY_RETRY_AFTER_SECONDS = 5


async def server_busy(scope: Any, receive: Any, send: Any) -> None:
    """The answer to a request over the connection cap: 503 problem details, the
    connection closed after it."""
    await send_problem(
        send,
        "server_busy",
        "服务器当前连接数已满，请稍后再试。",
        headers=(
            (b"retry-after", str(SERVER_BUSY_RETRY_AFTER_SECONDS).encode()),
            (b"connection", b"close"),
        ),
    )


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
        self.request_started = 0.0
        """Loop time of the current request's first byte."""
        self.receipt_phase = _DONE
        self.request_bytes = False
        """Whether any byte of the current request has arrived (a connection opened and
        left silent is closed without a 408)."""

    # The deadline: the request's first byte noted, its phase kept; a sweep of the
    # process's connections closes the late ones (no timer per request: a timer armed and
    # cancelled per request cost more than everything else here together).

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.request_bytes = False
        self.request_started = self.loop.time()
        self.receipt_phase = _HEADERS
        _Sweep.watch(self)

    def data_received(self, data: bytes) -> None:
        if self.receipt_phase >= _DONE:
            if self.receipt_phase == _LINGER:
                return  # answered 408: what still comes is dropped
            self.request_started = self.loop.time()
            self.receipt_phase = _HEADERS
        self.request_bytes = True
        super().data_received(data)

    def on_message_begin(self) -> None:
        # A pipelined request whose first byte came with the previous one's last.
        if self.receipt_phase == _DONE:
            self.request_started = self.loop.time()
            self.receipt_phase = _HEADERS
        self.request_bytes = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self.receipt_phase = _BODY
        if len(self.connections) > self.max_connections:
            self._refuse_over_cap()
            return
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.receipt_phase = _DONE
        self.request_bytes = False
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        # The WebSocket protocol takes the connection over: no HTTP request to receive.
        self.receipt_phase = _DONE
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

    def receipt_overdue(self, now: float) -> bool:
        phase = self.receipt_phase
        if phase == _DONE:
            return False
        if phase == _HEADERS:
            allowed = self.header_timeout
        else:
            allowed = self.body_timeout if phase == _BODY else LINGER_SECONDS
        return now > self.request_started + allowed

    def receipt_expired(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self.receipt_phase == _LINGER:
            self.transport.close()
        else:
            self.answer_408_and_close()

    def answer_408_and_close(self) -> None:
        cycle = self.cycle
        if self.receipt_phase == _HEADERS:
            # ``cycle`` is the previous request's: free to answer once it is complete.
            free = self.request_bytes and (cycle is None or cycle.response_complete)
        else:
            # This request's own cycle, unless it still waits behind a pipelined one.
            free = not self.pipeline and not cycle.response_started
            if not cycle.response_complete:
                # The application reads a disconnect from now on; what it sends is dropped.
                cycle.disconnected = True
                cycle.message_event.set()
        self.receipt_phase = _DONE
        if free and self.transport.can_write_eof():
            self.transport.write(self._408())
            self.transport.write_eof()
            self.receipt_phase = _LINGER
            self.request_started = self.loop.time()
        else:
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


class _Sweep:
    """Every ``period`` seconds, the server's connections whose request is overdue are
    answered 408 and closed: a deadline is kept to within one period. One sweep per
    server (its ``ServerState``), running while it has connections."""

    def __init__(self, protocol: ReceiptDeadlineProtocol) -> None:
        self.loop = protocol.loop
        self.connections = protocol.connections
        self.period = min(SWEEP_EVERY_SECONDS, protocol.header_timeout / 4)
        self.handle: asyncio.TimerHandle | None = None

    @staticmethod
    def watch(protocol: ReceiptDeadlineProtocol) -> None:
        state = protocol.server_state
        sweep: _Sweep | None = getattr(state, "_receipt_sweep", None)
        if sweep is None or sweep.loop is not protocol.loop:
            sweep = _Sweep(protocol)
            state._receipt_sweep = sweep  # type: ignore[attr-defined]
        if sweep.handle is None:
            sweep.handle = sweep.loop.call_later(sweep.period, sweep.run)

    def run(self) -> None:
        now = self.loop.time()
        overdue = [
            c
            for c in self.connections
            if isinstance(c, ReceiptDeadlineProtocol) and c.receipt_overdue(now)
        ]
        for protocol in overdue:
            protocol.receipt_expired()
        self.handle = self.loop.call_later(self.period, self.run) if self.connections else None
