"""What the receipt deadline costs, and what it buys (issue 29, item 4).

1. Throughput: the bare Litestar endpoint (``bench/baseline_app.py``) and
   ``GET /api/v1/topics/{id}`` of the demo (as ``bench/api_throughput.py`` cycles them),
   each served by uvicorn with its plain httptools protocol and with
   ``api.serving:ReceiptDeadlineProtocol``, one worker, wrk ``-t2 -c32``; rounds
   alternate plain and wrapped in the same run.
2. The protocol alone, in-process: CPU microseconds per request of the same requests
   fed to each protocol over a stand-in transport (a bare ASGI app answering at once,
   uvloop), rounds alternating, the fastest round of each; load on the machine barely
   moves it, where wrk's figures move by tens of percent.
3. A crowd: N connections trickling their headers one byte a second, against
   ``deliberation serve`` with its defaults (10 s header deadline) and against plain
   uvicorn: how many are closed and when (from their first byte), the server's open
   descriptors, and ``/healthz`` latency asked every 50 ms meanwhile, against the same
   probe alone on the same server.

Run: ``python -m bench.receipt_deadline [--engine sqlite] [--seconds 8] [--rounds 3]
[--crowd 500] [--port 18300]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.api_throughput import prepare, topic_paths
from bench.common import KEYS, ROOT, save_results, staff_token, wrk

PLAIN = "httptools"
WRAPPED = "api.serving:ReceiptDeadlineProtocol"


@contextlib.contextmanager
def uvicorn_serving(
    factory: str, http: str, port: int, env: dict[str, str]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """uvicorn as ``deliberation serve`` runs it, with the protocol ``http``."""
    code = (
        "import uvicorn; uvicorn.run("
        f"{factory!r}, factory=True, host='127.0.0.1', port={port}, http={http!r}, "
        "limit_concurrency=None, proxy_headers=False, log_level='warning', access_log=False)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, **env}, cwd=ROOT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_answering(base, proc)
        yield base, proc
    finally:
        _stop(proc)


@contextlib.contextmanager
def deliberation_serving(port: int, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """``deliberation serve`` with its defaults."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env={**os.environ, **env},
        cwd=ROOT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_answering(base, proc)
        yield base, proc.pid
    finally:
        _stop(proc)


def _wait_answering(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(base + "/healthz", timeout=1)
            return
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server at {base} did not start") from None
            time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class _Transport:
    """A stand-in for the socket: counts the answers written."""

    def __init__(self) -> None:
        self.answers = 0
        self.closing = False

    def write(self, data: bytes) -> None:
        self.answers += data.count(b"HTTP/1.1 200 ")

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _bare(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"{}"})


REQUEST = (
    b"GET /api/v1/topics/7 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: bench\r\n"
    b"Accept: application/json\r\nAuthorization: Bearer " + b"t" * 180 + b"\r\n\r\n"
)


def protocol_cpu(args: argparse.Namespace) -> dict[str, object]:
    """CPU µs per request through each protocol class, in this process."""
    import uvicorn
    import uvloop
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    from api.serving import ReceiptDeadlineProtocol

    config = uvicorn.Config(_bare, log_level="warning", access_log=False, lifespan="off")
    config.load()

    async def run(cls: type[HttpToolsProtocol], n: int) -> float:
        state = ServerState()
        protocol = cls(config=config, server_state=state, app_state={})
        transport = _Transport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        started = time.process_time()
        for _ in range(n):
            protocol.data_received(REQUEST)
            while state.tasks:
                await asyncio.sleep(0)
        spent = time.process_time() - started
        assert transport.answers == n, transport.answers
        protocol.connection_lost(None)
        return spent / n * 1e6

    rounds: dict[str, list[float]] = {"plain": [], "wrapped": []}
    classes = {"plain": HttpToolsProtocol, "wrapped": ReceiptDeadlineProtocol}
    for round_ in range(args.cpu_rounds):
        order = ("plain", "wrapped") if round_ % 2 == 0 else ("wrapped", "plain")
        for name in order:
            rounds[name].append(uvloop.run(run(classes[name], args.cpu_requests)))
    row = {
        "requests_per_round": args.cpu_requests,
        "rounds": args.cpu_rounds,
        **{f"{name}_us_min": round(min(v), 2) for name, v in rounds.items()},
        **{f"{name}_us_median": round(statistics.median(v), 2) for name, v in rounds.items()},
    }
    print(json.dumps(row), flush=True)
    return row


def throughput(url: str, port: int, args: argparse.Namespace) -> list[dict[str, object]]:
    """Rounds alternating plain and wrapped, for the bare endpoint and the topic GET."""
    rows: list[dict[str, object]] = []
    env = {"DELIBERATION_DATABASE_URL": url, **KEYS, "DELIBERATION_LOG_LEVEL": "INFO"}
    for round_ in range(args.rounds):
        for http in (PLAIN, WRAPPED) if round_ % 2 == 0 else (WRAPPED, PLAIN):
            with uvicorn_serving("bench.baseline_app:create", http, port, {}) as (base, _):
                wrk(f"{base}/bench/json", seconds=2)
                bare = wrk(f"{base}/bench/json", seconds=args.seconds)
            with uvicorn_serving("api.app:app_from_env", http, port, env) as (base, _):
                tok = staff_token(base)
                paths = topic_paths(base, tok)
                wrk(f"{base}{paths[0]}", seconds=2, token=tok, paths=paths)
                topic = wrk(f"{base}{paths[0]}", seconds=args.seconds, token=tok, paths=paths)
            row = {
                "round": round_ + 1,
                "protocol": "plain" if http == PLAIN else "wrapped",
                "bare_rps": round(bare),
                "topic_rps": round(topic),
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


async def _trickler(port: int, every: float, until: float) -> tuple[float | None, bool]:
    """Headers a byte every ``every`` seconds until closed or ``until`` (loop time):
    (seconds from the first byte to the close, or None; whether a 408 came)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = b""
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    try:
        while loop.time() < until:
            try:
                data = await asyncio.wait_for(reader.read(65536), every)
            except TimeoutError:
                writer.write(b"a")
                continue
            answer += data
            if not data:
                return loop.time() - started, answer.startswith(b"HTTP/1.1 408 ")
        return None, False
    except ConnectionError:
        return loop.time() - started, answer.startswith(b"HTTP/1.1 408 ")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def _probe(base: str, seconds: float) -> list[float]:
    """``/healthz`` every 50 ms on one kept-alive connection: latencies in ms."""
    latencies = []
    with httpx.Client(base_url=base, timeout=30) as client:
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            started = time.perf_counter()
            client.get("/healthz").raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
    return latencies


def _pctl(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def crowd(
    base: str, pid: int, port: int, args: argparse.Namespace, label: str
) -> dict[str, object]:
    alone = _probe(base, 5)
    seconds = args.watch
    probes: list[float] = []
    fds: list[int] = []

    def watch() -> None:
        probes.extend(_probe(base, seconds))

    def count_fds() -> None:
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            fds.append(_open_fds(pid))
            time.sleep(0.5)

    threads = [threading.Thread(target=watch), threading.Thread(target=count_fds)]
    for thread in threads:
        thread.start()

    async def all_of_them() -> list[tuple[float | None, bool]]:
        until = asyncio.get_running_loop().time() + seconds
        return await asyncio.gather(*[_trickler(port, 1.0, until) for _ in range(args.crowd)])

    results = asyncio.run(all_of_them())
    for thread in threads:
        thread.join()
    closed = [t for t, _ in results if t is not None]
    row = {
        "server": label,
        "crowd": args.crowd,
        "watched_s": seconds,
        "closed": len(closed),
        "answered_408": sum(1 for _, got in results if got),
        "closed_after_s_min": round(min(closed), 1) if closed else None,
        "closed_after_s_p50": _pctl(closed, 0.5) if closed else None,
        "closed_after_s_max": round(max(closed), 1) if closed else None,
        "server_fds_peak": max(fds),
        "server_fds_last": fds[-1],
        "healthz_alone_ms_p50_p95_max": [
            _pctl(alone, 0.5),
            _pctl(alone, 0.95),
            round(max(alone), 1),
        ],
        "healthz_crowd_ms_p50_p95_max": [
            _pctl(probes, 0.5),
            _pctl(probes, 0.95),
            round(max(probes), 1),
        ],
        "healthz_crowd_probes": len(probes),
    }
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--crowd", type=int, default=500)
    parser.add_argument("--watch", type=float, default=20.0, help="seconds the crowd trickles")
    parser.add_argument("--port", type=int, default=18300)
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--no-crowd", action="store_true")
    parser.add_argument("--cpu-requests", type=int, default=50_000)
    parser.add_argument("--cpu-rounds", type=int, default=6)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.crowd * 2 + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.crowd * 2 + 200), hard))
    results: dict[str, object] = {"protocol_cpu": protocol_cpu(args)}
    with tempfile.TemporaryDirectory() as tmp:
        url = prepare(args.engine, Path(tmp))
        if not args.no_throughput:
            rows = throughput(url, args.port, args)
            summary = {}
            for protocol in ("plain", "wrapped"):
                mine = [r for r in rows if r["protocol"] == protocol]
                summary[protocol] = {
                    key: round(statistics.median(float(str(r[key])) for r in mine))
                    for key in ("bare_rps", "topic_rps")
                }
            print(json.dumps({"medians": summary}), flush=True)
            results["throughput"] = rows
            results["medians"] = summary
        env = {"DELIBERATION_DATABASE_URL": url, **KEYS, "DELIBERATION_DELIVERY_IN_SERVER": "0"}
        if args.no_crowd:
            save_results("receipt_deadline", results)
            return
        with deliberation_serving(args.port + 1, env) as (base, pid):
            wrapped = crowd(base, pid, args.port + 1, args, "deliberation serve (deadline 10 s)")
        with uvicorn_serving("api.app:app_from_env", PLAIN, args.port + 2, env) as (base, proc):
            plain = crowd(base, proc.pid, args.port + 2, args, "plain uvicorn")
        results["crowd"] = [wrapped, plain]
    save_results("receipt_deadline", results)


if __name__ == "__main__":
    main()
