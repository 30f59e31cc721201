"""Issue 29: a topic with 10 000 opinions (and their chain events) costs its readers
one small page and nobody else any wait.

One topic in 决议 (public) is made through the app (tests/world.py's township and
steps, in-process), then 10 000 opinions are added in bulk with the events the app
writes for them, hashed with deliberation/chain.py (tests/big_topic.py: ``audit
verify`` passes). Then ``deliberation serve`` (uvicorn, its defaults, one worker) on
127.0.0.1:18200 answers, measured from this process:

- the staff topic page (signed in through the login form) and the public one: bytes,
  p50/p95 of sequential requests;
- the API's opinions, first page and page 100 (``after=``, followed through the
  ``Link: rel="next"`` headers), p50/p95;
- ``/healthz`` p99 while 20 clients load the big staff page at once (and at rest).

The baseline is a bare Litestar JSON endpoint (bench/baseline_app.py) served by uvicorn
on 127.0.0.1:18201 in the same run. ``--against REV`` also serves the source tree of
another commit (``main``) on the same database for the before figures.

Aim: page <= 300 KB, p95 <= 300 ms, /healthz p99 <= 100 ms under that load.

    python -m bench.big_topic --engine sqlite
    python -m bench.big_topic --engine postgres --against main
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    KEYS,
    ROOT,
    cli,
    reset_postgres,
    save_results,
    source_at,
    started,
    wrk_latency,
)

PORT = 18200
BASELINE_PORT = 18201
PG_URL = os.environ.get(
    "BENCH_BIGPAGE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test_bigpage"
)
TARGET_BYTES = 300 * 1024
TARGET_P95_MS = 300.0
TARGET_HEALTHZ_P99_MS = 100.0


def pct(timings: list[float], q: float) -> float:
    ordered = sorted(timings)
    return round(ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))], 1)


def spread(timings: list[float]) -> dict[str, float]:
    return {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": pct(timings, 0.95),
        "max_ms": round(max(timings), 1),
    }


def ok(answer: httpx.Response) -> httpx.Response:
    if answer.status_code >= 400:
        raise SystemExit(f"{answer.request.url}: {answer.status_code} {answer.text[:300]}")
    return answer


def sequential(client: httpx.Client, path: str, n: int, warm_up: int = 3) -> dict[str, float]:
    for _ in range(warm_up):
        ok(client.get(path))
    timings = []
    for _ in range(n):
        t0 = time.perf_counter()
        ok(client.get(path))
        timings.append((time.perf_counter() - t0) * 1000)
    return spread(timings)


# Seeding (in a child process: the app in-process, its engine bound there) -------------


async def seed(opinions: int) -> dict[str, Any]:
    from api.app import create_app
    from api.settings import Settings
    from deliberation import context
    from deliberation.tables import Opinion
    from tests.big_topic import seed_opinions
    from tests.live import lifespan
    from tests.world import build_world, topic_in_state

    settings = Settings.from_env()
    app = create_app(settings, context=context.current())
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            world = await build_world(c)
            topic = await topic_in_state(world.a, "resolution")
            reps = [world.a["representative"].user["id"], world.a["representative2"].user["id"]]
            t0 = time.perf_counter()
            await seed_opinions(topic["id"], reps, opinions, staff_id=world.a["staff"].user["id"])
            seeded = time.perf_counter() - t0
            # The planner's statistics, as autovacuum would have them on a database that
            # grew to this over a term (right after a bulk insert it guesses 29 rows).
            if settings.database_url.startswith("postgres"):
                await Opinion.raw("ANALYZE")
    return {
        "topic_id": topic["id"],
        "staff": world.a["staff"].user["username"],
        "seed_seconds": round(seeded, 1),
    }


def environment(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DELIBERATION_DATABASE_URL": url,
        **KEYS,
        "DELIBERATION_VAR_DIR": tempfile.mkdtemp(prefix="bench-bigpage-var-"),
    }


def seeded_database(engine: str, folder: str, opinions: int) -> tuple[str, dict[str, Any]]:
    if engine == "sqlite":
        url = f"sqlite:///{Path(folder) / 'big.sqlite3'}"
    else:
        url = PG_URL
        reset_postgres(url)
    cli(url, "migrate")
    out = subprocess.run(
        [sys.executable, "-m", "bench.big_topic", "--seed-only", "--opinions", str(opinions)],
        env={**environment(url), "DELIBERATION_PASSWORD_HASH_COST": "test"},
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=1200,
    ).stdout
    return url, dict(json.loads(out.strip().splitlines()[-1]))


# Servers --------------------------------------------------------------------------------


def serve_app(url: str, root: Path = ROOT) -> contextlib.AbstractContextManager[str]:
    """``deliberation serve`` as an operator starts it, on 127.0.0.1:18200."""
    cmd = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(PORT)]
    return started(cmd, environment(url), PORT, root)


def serve_baseline() -> contextlib.AbstractContextManager[str]:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.baseline_app:create",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(BASELINE_PORT),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return started(cmd, dict(os.environ), BASELINE_PORT)


def page_cookies(base: str, username: str) -> dict[str, str]:
    """Signed in through the login form (the cookies are Secure: sent by hand)."""
    from tests.world import PASSWORD

    with httpx.Client(base_url=base, timeout=60) as browser:
        ok(browser.get("/login"))
        csrf = browser.cookies.get("csrftoken") or ""
        answer = browser.post(
            "/login",
            data={"username": username, "password": PASSWORD, "next": "/me"},
            headers={"x-csrftoken": csrf},
            cookies={"csrftoken": csrf},
        )
        if answer.status_code != 303:
            raise SystemExit(f"signing in failed: {answer.status_code}")
        return {"hsl_session": answer.cookies.get("hsl_session") or ""}


def api_token(base: str, username: str) -> str:
    from tests.world import PASSWORD

    answer = ok(
        httpx.post(
            f"{base}/api/v1/auth/token",
            json={"username": username, "password": PASSWORD},
            timeout=60,
        )
    )
    return str(answer.json()["access_token"])


# Measurements -----------------------------------------------------------------------


def healthz_under_load(
    base: str, path: str, cookies: dict[str, str], clients: int, seconds: int, timeout_s: int = 60
) -> dict[str, Any]:
    """``/healthz`` one request after another while wrk (a process of its own, so
    the load's client does not share this one's interpreter) keeps ``clients``
    connections loading ``path`` for ``seconds``: the health check's p99, and the
    page's latency under that load (wrk's)."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    load: dict[str, Any] = {}

    def run() -> None:
        load.update(
            wrk_latency(base + path, seconds, clients, 2, {"Cookie": cookie}, timeout_s=timeout_s)
        )

    loader = threading.Thread(target=run)
    loader.start()
    health: list[float] = []
    time.sleep(1.0)  # every connection has a request in flight
    stop = time.monotonic() + seconds - 1.5
    with httpx.Client(base_url=base, timeout=60) as client:
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            ok(client.get("/healthz"))
            health.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.02)
    loader.join()
    return {
        "clients": clients,
        "seconds": seconds,
        "healthz": {**spread(health), "p99_ms": pct(health, 0.99)},
        "page_under_load_wrk": load,
    }


def healthz_at_rest(base: str, n: int = 200) -> dict[str, float]:
    timings = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for _ in range(n):
            t0 = time.perf_counter()
            ok(client.get("/healthz"))
            timings.append((time.perf_counter() - t0) * 1000)
    return {**spread(timings), "p99_ms": pct(timings, 0.99)}


def api_pages(base: str, token: str, topic_id: int, n: int) -> dict[str, Any]:
    """The opinions' first page and page 100, reached through the Link headers."""
    path = f"/api/v1/topics/{topic_id}/opinions"
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as client:
        first = ok(client.get(path))
        found: dict[str, Any] = {
            "first_page_rows": len(first.json()),
            "first_page_bytes": len(first.content),
            "paged": "next" in first.headers.get("link", ""),
        }
        found["first_page"] = sequential(client, path, n)
        if not found["paged"]:
            return found
        here = first
        for _ in range(99):
            match = re.search(r'<([^>]+)>;\s*rel="next"', here.headers.get("link", ""))
            if match is None:
                found["page_100"] = None
                return found
            here = ok(client.get(match.group(1)))
        page_100 = str(here.request.url.raw_path.decode())
        found["page_100_path"] = page_100
        found["page_100_rows"] = len(here.json())
        found["page_100"] = sequential(client, page_100, n)
    return found


def measure(base: str, seeded: dict[str, Any], n: int, load_seconds: int) -> dict[str, Any]:
    page = f"/topics/{seeded['topic_id']}"
    cookies = page_cookies(base, seeded["staff"])
    result: dict[str, Any] = {}
    with httpx.Client(base_url=base, cookies=cookies, timeout=120) as staff:
        body = ok(staff.get(page))
        if "答复此意见" not in body.text:
            raise SystemExit("the staff page has no answer forms: not the staff's page")
        result["staff_page"] = {"bytes": len(body.content), **sequential(staff, page, n)}
    with httpx.Client(base_url=base, timeout=120) as public:
        body = ok(public.get(page))
        result["public_page"] = {"bytes": len(body.content), **sequential(public, page, n)}
    result["api_opinions"] = api_pages(
        base, api_token(base, seeded["staff"]), seeded["topic_id"], n
    )
    result["healthz_at_rest"] = healthz_at_rest(base)
    result["under_load"] = healthz_under_load(base, page, cookies, 20, load_seconds)
    return result


def measure_before(url: str, seeded: dict[str, Any], revision: str) -> dict[str, Any]:
    """The same staff page served by ``revision``'s source tree: a few requests (each
    takes seconds there), and /healthz while 4 clients load it for 20 s (20 clients of a
    page of seconds would only time out)."""
    with source_at(revision) as root, serve_app(url, root) as base:
        cookies = page_cookies(base, seeded["staff"])
        page = f"/topics/{seeded['topic_id']}"
        with httpx.Client(base_url=base, cookies=cookies, timeout=300) as staff:
            body = ok(staff.get(page))
            timed = sequential(staff, page, 3, warm_up=0)
        load = healthz_under_load(base, page, cookies, 4, 20, timeout_s=180)
    return {"revision": revision, "staff_page": {"bytes": len(body.content), **timed}, **load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--opinions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50, help="sequential, measured")
    parser.add_argument("--load-seconds", type=int, default=15)
    parser.add_argument("--against", help="also measure this commit's page (e.g. main)")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        print(json.dumps(asyncio.run(seed(args.opinions))))
        return

    with tempfile.TemporaryDirectory() as tmp:
        url, seeded = seeded_database(args.engine, tmp, args.opinions)
        print(json.dumps({"seeded": seeded}), flush=True)
        with serve_baseline() as bare, httpx.Client(base_url=bare, timeout=60) as client:
            baseline = sequential(client, "/bench/json", 200, 20)
        with serve_app(url) as base:
            result = measure(base, seeded, args.requests, args.load_seconds)
        before = measure_before(url, seeded, args.against) if args.against else None
    staff, public = result["staff_page"], result["public_page"]
    healthz_p99 = result["under_load"]["healthz"]["p99_ms"]
    summary = {
        "engine": args.engine,
        "opinions": args.opinions,
        **seeded,
        "baseline_bare_litestar": baseline,
        **result,
        "before": before,
        "targets": {
            "page_bytes": TARGET_BYTES,
            "p95_ms": TARGET_P95_MS,
            "healthz_p99_ms": TARGET_HEALTHZ_P99_MS,
        },
        "meets_targets": max(staff["bytes"], public["bytes"]) <= TARGET_BYTES
        and max(staff["p95_ms"], public["p95_ms"]) <= TARGET_P95_MS
        and healthz_p99 <= TARGET_HEALTHZ_P99_MS,
    }
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    save_results(f"big_topic_{args.engine}", summary)


if __name__ == "__main__":
    main()
