"""Webhook receivers for tests: real HTTP servers on 127.0.0.1, in threads.

A few listen for the whole session on ports of their own, so the allowed-hosts setting
can name each one as ``host:port`` (allowing a host must not allow its other ports);
each test gets them back reset."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Receiver:
    """What a township's endpoint would see. ``fail`` answers 503 that many times;
    ``gate`` (when set) holds every request until it is opened; ``trickle`` answers
    with headers, then one byte every that many seconds; ``huge`` answers with a body
    of that many bytes."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    fail: int = 0
    delay: float = 0.0
    gate: threading.Event | None = None
    trickle: float = 0.0
    huge: int = 0
    sent_bytes: int = 0
    """How much of a ``huge`` body got out before the client hung up."""
    quit: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def host_port(self) -> str:
        return self.url.split("/")[2]

    def ok_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(r["headers"]["x-hsl-event-id"] for r in self.received if r["ok"])

    def reset(self) -> None:
        """Back to a plain, fast, empty receiver (ending any answer still trickling)."""
        self.quit.set()
        if self.gate is not None:
            self.gate.set()
        with self.lock:
            self.received = []
            self.fail = 0
            self.delay = 0.0
            self.gate = None
            self.trickle = 0.0
            self.huge = 0
            self.sent_bytes = 0
            self.quit = threading.Event()


def _handler(state: Receiver) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state.gate is not None:
                state.gate.wait(30)
            if state.delay:
                time.sleep(state.delay)
            with state.lock:
                ok = state.fail <= 0
                state.fail -= 1
                state.received.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "ok": ok,
                        "at": time.monotonic(),
                    }
                )
            if state.trickle:
                self._trickle(state.trickle, state.quit)
            elif state.huge:
                self._huge(state.huge, state.quit)
            else:
                self.send_response(200 if ok else 503)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        def _trickle(self, every: float, quit: threading.Event) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(1000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    if quit.wait(every):
                        return

        def _huge(self, size: int, quit: threading.Event) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"x" * 65536
            with contextlib.suppress(OSError):
                while state.sent_bytes < size and not quit.is_set():
                    self.wfile.write(chunk)
                    state.sent_bytes += len(chunk)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def receiving(count: int = 3) -> Iterator[list[Receiver]]:
    """``count`` real HTTP endpoints on 127.0.0.1 that record what they are sent."""
    servers, states = [], []
    for _ in range(count):
        state = Receiver()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        servers.append(server)
        states.append(state)
    try:
        yield states
    finally:
        for state, server in zip(states, servers, strict=True):
            state.reset()
            server.shutdown()
