"""A webhook receiver for tests: a real HTTP server on 127.0.0.1, in a thread."""

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
    ``gate`` (when set) holds every request until it is opened."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    fail: int = 0
    delay: float = 0.0
    gate: threading.Event | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(r["headers"]["x-hsl-event-id"] for r in self.received if r["ok"])


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    """A real HTTP endpoint on 127.0.0.1 that records what it is sent."""
    state = Receiver()

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
                    }
                )
            self.send_response(200 if ok else 503)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        if state.gate is not None:
            state.gate.set()
        server.shutdown()
