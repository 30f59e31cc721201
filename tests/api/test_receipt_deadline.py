"""A deadline for receiving every request, and a cap on connections (issue 29, item 4):
a real ``deliberation serve`` process, raw sockets that trickle their requests a byte at
a time, and the connections that must be closed while everyone else is answered
(api/serving.py; docs/decisions.md, "A deadline for receiving every request").

The deadlines here are short (3 s for the headers, 6 s for the body) so the tests run
in seconds; the margins are generous because the machine may be loaded: a trickling
connection must be closed long before its request could have been complete."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from api import cli
from tests.live import Server, serving

HEADER_TIMEOUT = 3.0
BODY_TIMEOUT = 6.0
MARGIN = 15.0
"""How late a close may come on a loaded machine and still count as on time."""
TRICKLE_EVERY = 0.5
ENDLESS_HEADER = b"X-Slow: " + b"a" * 400
"""A header that, one byte every 0.5 s, would take 200 s to send."""


@pytest.fixture(scope="module")
def server(migrated: str) -> Iterator[Server]:
    with serving(
        migrated,
        DELIBERATION_DELIVERY_IN_SERVER="0",
        DELIBERATION_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        DELIBERATION_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
        DELIBERATION_MAX_CONNECTIONS="2000",
    ) as running:
        yield running


def _address(server: Server) -> tuple[str, int]:
    host, port = server.base.removeprefix("http://").split(":")
    return host, int(port)


@dataclass
class Trickle:
    """What one trickling client saw: how much it sent before the server closed, and
    the answer it got (if any)."""

    sent: int = 0
    total: int = 0
    answer: bytes = b""
    closed_after: float | None = None


def trickle(address: tuple[str, int], head: bytes, tail: bytes) -> Trickle:
    """Send ``head`` at once, then ``tail`` one byte every 0.5 s, until the server closes
    the connection (or everything is sent)."""
    seen = Trickle(total=len(head) + len(tail))
    with socket.create_connection(address, timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(head)
        seen.sent = len(head)
        sock.settimeout(TRICKLE_EVERY)
        for byte in tail:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                data = None
            except ConnectionResetError:
                break
            if data is not None:
                if not data:
                    break
                seen.answer += data
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # closed by the server (a reset once its 408 was read)
                break
            seen.sent += 1
        sock.settimeout(MARGIN)
        with contextlib.suppress(OSError):
            while data := sock.recv(65536):
                seen.answer += data
        seen.closed_after = time.monotonic() - started
    return seen


def _problem(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/problem+json" in head.lower(), head
    return status, json.loads(body)


@contextlib.contextmanager
def healthz_meanwhile(base: str) -> Iterator[list[int]]:
    """``/healthz`` asked every 0.2 s on fresh connections while the block runs: the
    statuses answered (a request that fails outright counts as 0)."""
    statuses: list[int] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            try:
                statuses.append(httpx.get(f"{base}/healthz", timeout=10).status_code)
            except httpx.HTTPError:
                statuses.append(0)
            stop.wait(0.2)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    try:
        yield statuses
    finally:
        stop.set()
        thread.join(timeout=30)


def test_headers_trickled_past_the_deadline_are_answered_408_and_closed(
    server: Server,
) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    with healthz_meanwhile(server.base) as statuses:
        seen = trickle(_address(server), head, ENDLESS_HEADER)
    assert seen.closed_after is not None and seen.closed_after < HEADER_TIMEOUT + MARGIN
    assert seen.sent < seen.total, "the server waited for the whole trickled request"
    status, problem = _problem(seen.answer)
    assert status == 408 and problem["code"] == "request_timeout"
    assert "连接已关闭" in str(problem["detail"])
    assert statuses and set(statuses) == {200}, statuses


def test_a_body_trickled_past_the_deadline_is_answered_408_and_closed(server: Server) -> None:
    body = b'{"username": "' + b"a" * 200 + b'"}'
    head = (
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with healthz_meanwhile(server.base) as statuses:
        seen = trickle(_address(server), head, body)
    assert seen.closed_after is not None and seen.closed_after < BODY_TIMEOUT + MARGIN
    assert seen.sent < seen.total
    status, problem = _problem(seen.answer)
    assert status == 408 and problem["code"] == "request_timeout"
    assert statuses and set(statuses) == {200}, statuses


def test_a_silent_connection_is_closed_without_an_answer(server: Server) -> None:
    with socket.create_connection(_address(server), timeout=HEADER_TIMEOUT + MARGIN) as sock:
        assert sock.recv(65536) == b""


def _slowly(sock: socket.socket, request: bytes, pieces: int, over: float) -> None:
    """Send ``request`` in ``pieces`` parts spread over ``over`` seconds."""
    size = -(-len(request) // pieces)
    for start in range(0, len(request), size):
        if start:
            time.sleep(over / (pieces - 1))
        sock.sendall(request[start : start + size])


def _read_answer(sock: socket.socket) -> tuple[int, bytes]:
    """One answer with a Content-Length, read off a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed in the middle of an answer"
        body += chunk
    return int(head.split(b" ", 2)[1]), body


def test_slow_requests_within_the_deadline_each_get_a_full_deadline_on_one_connection(
    server: Server,
) -> None:
    """Each request of a kept-alive connection counts from its own first byte: two
    requests each taking 60 % of the header deadline succeed on one connection (together
    they take longer than one deadline), and a third trickled past it is answered 408."""
    take = HEADER_TIMEOUT * 0.6
    body = json.dumps({"username": "nobody-here", "password": "wrong-password-1"}).encode()
    post = (
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    get = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(_address(server), timeout=30) as sock:
        _slowly(sock, get, pieces=4, over=take)
        assert _read_answer(sock)[0] == 200
        _slowly(sock, post, pieces=4, over=take)
        status, answer = _read_answer(sock)
        assert status == 401, answer  # the app's own answer: wrong password, not a 408
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        sock.settimeout(TRICKLE_EVERY)
        answer = b""
        for byte in ENDLESS_HEADER:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                data = None
            except ConnectionResetError:
                break
            if data is not None:
                if not data:
                    break
                answer += data
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
        else:
            pytest.fail("the third request was never cut off")
        sock.settimeout(MARGIN)
        with contextlib.suppress(OSError):
            while data := sock.recv(65536):
                answer += data
    assert _problem(answer)[0] == 408


CROWD = 500


async def _trickler(address: tuple[str, int]) -> tuple[float | None, bytes]:
    """One of the crowd: headers a byte every 0.5 s until closed; (seconds from its first
    byte to the close, or None if never closed; what it was answered)."""
    reader, writer = await asyncio.open_connection(*address)
    started = time.monotonic()
    answer = b""
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for byte in ENDLESS_HEADER:
            try:
                data = await asyncio.wait_for(reader.read(65536), TRICKLE_EVERY)
            except TimeoutError:
                data = None
            if data is not None:
                answer += data
                if not data:
                    return time.monotonic() - started, answer
            if writer.is_closing():
                break
            writer.write(bytes([byte]))
        return None, answer
    except ConnectionError:
        return time.monotonic() - started, answer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def _enough_descriptors(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"{CROWD} connections need {needed} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def test_500_trickling_connections_are_all_closed_on_time_while_others_are_served(
    server: Server,
) -> None:
    _enough_descriptors(CROWD * 2 + 200)
    address = _address(server)

    async def crowd() -> list[tuple[float | None, bytes]]:
        return await asyncio.gather(*[_trickler(address) for _ in range(CROWD)])

    with healthz_meanwhile(server.base) as statuses:
        results = asyncio.run(crowd())
    never = [r for r in results if r[0] is None]
    assert not never, f"{len(never)} of {CROWD} connections were never closed"
    late = [t for t, _ in results if t is not None and t > HEADER_TIMEOUT + MARGIN]
    assert not late, f"{len(late)} closed late, the latest after {max(late):.1f} s"
    answered = [a for _, a in results if a.startswith(b"HTTP/1.1 408 ")]
    assert len(answered) == CROWD
    assert statuses and set(statuses) == {200}, statuses


def test_a_request_over_the_connection_cap_is_answered_503_problem_details(
    migrated: str,
) -> None:
    with serving(
        migrated, DELIBERATION_DELIVERY_IN_SERVER="0", DELIBERATION_MAX_CONNECTIONS="3"
    ) as capped:
        address = _address(capped)
        held = [socket.create_connection(address) for _ in range(3)]
        try:
            with socket.create_connection(address, timeout=10) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                status, body = _read_answer(sock)
            assert status == 503
            problem = json.loads(body)
            assert problem["code"] == "server_busy" and problem["status"] == 503
            assert "稍后再试" in problem["detail"]
        finally:
            for sock in held:
                sock.close()
        # The held connections gone, the next request is the application's again.
        deadline = time.monotonic() + 30
        while (status := httpx.get(f"{capped.base}/healthz", timeout=10).status_code) != 200:
            assert time.monotonic() < deadline, status
            time.sleep(0.1)


def test_serve_help_shows_the_deadlines_and_the_cap(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    shown = capsys.readouterr().out
    for flag, variable in (
        ("--header-timeout", "DELIBERATION_HEADER_TIMEOUT_SECONDS"),
        ("--body-timeout", "DELIBERATION_BODY_TIMEOUT_SECONDS"),
        ("--max-connections", "DELIBERATION_MAX_CONNECTIONS"),
    ):
        assert flag in shown and variable in shown


def test_a_bad_deadline_setting_stops_serve_with_a_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, migrated: str
) -> None:
    monkeypatch.setenv("DELIBERATION_DATABASE_URL", migrated)
    monkeypatch.setenv("DELIBERATION_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("DELIBERATION_BODY_TIMEOUT_SECONDS", "1")
    assert cli.main(["serve", "--header-timeout", "5"]) == 2
    assert "DELIBERATION_BODY_TIMEOUT_SECONDS" in capsys.readouterr().err
