"""The staff topic page ``GET /topics/{id}`` (server-rendered HTML, issue 13) of one
topic with 200 opinions, 20 records (10 investigations, 10 site consultations) and
every event those add to its chain, for the township's staff signed in through the
login form (a page session). Served by ``deliberation serve`` with its defaults (one
worker, request log on, delivery loop on), against a bare Litestar JSON endpoint
served by uvicorn with one worker, in the same run: p50/p95 of sequential requests
after a warm-up, and wrk (``-t1``, a few connections) with its latency distribution.

The data is made through the app: accounts with the CLI, the topic, its records and
its steps over the HTTP API, as a township would make them.

Target: p95 < 100 ms on SQLite and PostgreSQL.

    python -m bench.topic_page --engine sqlite
    python -m bench.topic_page --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from bench.common import (
    BENCH_PASSWORD,
    KEYS,
    ROOT,
    cli,
    fresh_database,
    save_results,
    serve,
    wrk_latency,
)
from bench.session_check import deliberation_serve
from deliberation import clock
from tests.live import lifespan

TOWNSHIP = "黄金埠镇"
VILLAGE = "金山村"
PASSWORD = BENCH_PASSWORD
TARGET_P95_MS = 100.0


def ok(answer: httpx.Response) -> httpx.Response:
    if answer.status_code >= 400:
        raise SystemExit(f"{answer.request.url}: {answer.status_code} {answer.text}")
    return answer


def p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1)


def sequential(client: httpx.Client, path: str, n: int, warm_up: int) -> dict[str, float]:
    """p50/p95 of ``n`` requests one after another, after ``warm_up`` unmeasured ones."""
    for _ in range(warm_up):
        ok(client.get(path))
    timings = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - t0) * 1000)
        ok(response)
    return {
        "requests": n,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": p95(timings),
        "max_ms": round(max(timings), 1),
    }


def accounts(url: str, representatives: int) -> list[str]:
    """A village and its representatives (the staff account ``bench`` exists)."""
    cli(url, "village", "create", VILLAGE, "--township", TOWNSHIP)
    names = [f"rep{i:02d}" for i in range(1, representatives + 1)]
    for i, name in enumerate(names, 1):
        cli(
            url,
            "user",
            "create",
            "--username",
            name,
            "--role",
            "representative",
            "--display-name",
            f"代表{i:02d}",
            "--township",
            TOWNSHIP,
            "--village",
            VILLAGE,
            "--password-stdin",
            stdin=f"{PASSWORD}\n",
        )
    return names


def api_client(base: str, username: str) -> httpx.Client:
    answer = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    )
    ok(answer)
    token = answer.json()["access_token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)


STANCES = ("support", "oppose", "suggestion")


def build_topic(
    base: str, names: list[str], opinions: int, investigations: int, consultations: int
) -> int:
    """One topic, through the API: half the opinions, the investigations, 完成调研,
    开始现场协商, the site consultations, the other half of the opinions."""
    staff = api_client(base, "bench")
    reps = [api_client(base, name) for name in names]
    answer = staff.post(
        "/api/v1/topics",
        json={
            "title": "金山村沿河路段路灯损坏、夜间出行不便问题",
            "description": "金山村沿河路段十余盏路灯损坏，村民夜间出行不便，"
            "多名代表提出尽快修复并明确日常维护责任。",
            "category": "基础设施",
        },
    )
    ok(answer)
    topic_id = int(answer.json()["id"])
    path = f"/api/v1/topics/{topic_id}"
    today = clock.china_today()

    def opinion(i: int) -> None:
        client = reps[i % len(reps)]
        r = client.post(
            f"{path}/opinions",
            json={
                "content": f"第{i + 1}条意见：沿河路段路灯应尽快修复，"
                "建议由村委会落实日常巡查和维护，费用纳入村级公益事业预算。" * 2,
                "stance": STANCES[i % len(STANCES)],
            },
        )
        ok(r)

    first_half = opinions // 2
    for i in range(first_half):
        opinion(i)
    for i in range(investigations):
        ok(
            staff.post(
                f"{path}/investigations",
                json={
                    "visited_on": (today - timedelta(days=30 - i)).isoformat(),
                    "place": f"金山村沿河路段第{i + 1}段",
                    "participants": "镇村建办张三、村委会李四、村民代表王五",
                    "findings": f"第{i + 1}次调研：该段路灯线路老化，灯头损坏，"
                    "需更换线缆和灯具，并增设两盏。" * 3,
                },
            )
        )

    def fire(trigger: str) -> None:
        version = staff.get(path).json()["version"]
        ok(staff.post(f"{path}/transitions", json={"trigger": trigger, "version": version}))

    fire("investigate")
    fire("begin_site_consultation")
    for i in range(consultations):
        ok(
            staff.post(
                f"{path}/site-consultations",
                json={
                    "held_on": (today - timedelta(days=15 - i)).isoformat(),
                    "place": f"金山村村委会会议室（第{i + 1}次）",
                    "participants": "镇政协联络组、村两委成员、村民代表十二人",
                    "summary": f"第{i + 1}次现场协商：与会人员一致同意先修复损坏路灯，"
                    "再研究增设方案，维护费用由村级公益事业资金列支。" * 3,
                },
            )
        )
    for i in range(first_half, opinions):
        opinion(i)
    for client in (staff, *reps):
        client.close()
    return topic_id


def page_session(base: str, username: str) -> dict[str, str]:
    """Sign in through the login form, as a browser does: GET /login for the CSRF
    cookie, POST the form with it; the cookies are Secure (loopback), so they are
    taken from the answer and sent by hand over plain http."""
    with httpx.Client(base_url=base, timeout=30) as browser:
        ok(browser.get("/login"))
        csrf = browser.cookies.get("csrftoken") or ""
        answer = browser.post(
            "/login",
            data={"username": username, "password": PASSWORD, "next": "/me"},
            headers={"x-csrftoken": csrf},
            cookies={"csrftoken": csrf},
        )
        if answer.status_code != 303:
            raise SystemExit(f"signing in through the form failed: {answer.status_code}")
        session = answer.cookies.get("hsl_session") or ""
        csrf = answer.cookies.get("csrftoken") or csrf
    if not session:
        raise SystemExit("signing in gave no hsl_session cookie")
    return {"hsl_session": session, "csrftoken": csrf}


def chain_events(base: str, topic_id: int) -> int:
    with api_client(base, "bench") as staff:
        answer = staff.get(f"/api/v1/topics/{topic_id}/events")
        ok(answer)
        return len(answer.json())


# The page's parts, timed in a process of its own ------------------------------------


def spread(timings: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(timings), 1), "p95_ms": p95(timings)}


def timed_async(spans: list[float], call: Callable[..., Any]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await call(*args, **kwargs)
        finally:
            spans.append((time.perf_counter() - t0) * 1000)

    return wrapper


async def page_parts(topic_id: int, n: int) -> dict[str, Any]:
    """The page called in-process (no HTTP, no server): the whole request, the
    topic's overview (topic, timeline, items, documents, next steps), the records
    as this person may see them, the Jinja render, and Python's full (generation 2)
    garbage collections during the requests; then the same requests after
    ``gc.freeze()`` (the objects alive after start-up are left out of collections),
    to show what those collections cost. Reads ``DELIBERATION_*`` from the
    environment."""
    import jinja2.environment

    from api.app import app_from_env
    from api.pages import topic as topic_module

    spans: dict[str, list[float]] = {"overview": [], "records": [], "render": []}
    render = jinja2.environment.Template.render

    def timed_render(self: Any, *args: Any, **kwargs: Any) -> str:
        t0 = time.perf_counter()
        try:
            return render(self, *args, **kwargs)
        finally:
            spans["render"].append((time.perf_counter() - t0) * 1000)

    setattr(jinja2.environment.Template, "render", timed_render)  # noqa: B010
    for name, span in (("topic_overview", "overview"), ("_records_for", "records")):
        setattr(topic_module, name, timed_async(spans[span], getattr(topic_module, name)))
    full: list[float] = []
    started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            full.append((time.perf_counter() - started[0]) * 1000)

    app = app_from_env()
    page = f"/topics/{topic_id}"
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            ok(await c.get("/login"))
            csrf = c.cookies.get("csrftoken") or ""
            c.cookies.clear()
            c.cookies.set("csrftoken", csrf)
            answer = await c.post(
                "/login",
                data={"username": "bench", "password": PASSWORD, "next": "/me"},
                headers={"x-csrftoken": csrf},
            )
            if answer.status_code != 303:
                raise SystemExit(f"signing in in-process failed: {answer.status_code}")
            c.cookies.clear()
            c.cookies.set("hsl_session", answer.cookies.get("hsl_session") or "")

            async def requests() -> list[float]:
                timings = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    ok(await c.get(page))
                    timings.append((time.perf_counter() - t0) * 1000)
                return timings

            for _ in range(20):
                ok(await c.get(page))
            for kept in spans.values():
                kept.clear()
            gc.callbacks.append(on_gc)
            plain = await requests()
            found = {
                "requests": n,
                "request": spread(plain),
                **{name: spread(kept) for name, kept in spans.items()},
                "full_gc_collections": len(full),
                "full_gc_ms_each": round(statistics.median(full), 1) if full else 0.0,
                "gc_tracked_objects": len(gc.get_objects()),
            }
            gc.collect()
            gc.freeze()
            full.clear()
            spans["render"].clear()
            frozen = await requests()
            found["after_gc_freeze"] = {
                "request": spread(frozen),
                "render": spread(spans["render"]),
                "full_gc_ms_each": round(statistics.median(full), 1) if full else 0.0,
            }
    return found


def measure_parts(url: str, topic_id: int, n: int) -> dict[str, Any]:
    """``page_parts`` in a child process (its own imports, engine and heap), with the
    request log and delivery loop off: only the page's own work is timed."""
    env = {
        **os.environ,
        "DELIBERATION_DATABASE_URL": url,
        **KEYS,
        "DELIBERATION_LOG_LEVEL": "WARNING",
        "DELIBERATION_DELIVERY_IN_SERVER": "0",
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.topic_page",
            "--parts-of",
            str(topic_id),
            "--requests",
            str(n),
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--opinions", type=int, default=200)
    parser.add_argument("--representatives", type=int, default=10)
    parser.add_argument("--investigations", type=int, default=10)
    parser.add_argument("--site-consultations", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200, help="sequential, measured")
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=8, help="each wrk run")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--no-parts", action="store_true", help="skip timing the page's parts")
    parser.add_argument("--parts-of", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parts_of is not None:
        print(json.dumps(asyncio.run(page_parts(args.parts_of, args.requests))))
        return

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        url = fresh_database(args.engine, tmp, TOWNSHIP)
        names = accounts(url, args.representatives)
        with serve("bench.baseline_app:create", {}, workers=1) as (bare, _):
            with httpx.Client(base_url=bare, timeout=60) as client:
                base_seq = sequential(client, "/bench/json", args.requests, args.warm_up)
            wrk_latency(f"{bare}/bench/json", 2, args.connections, 1)  # warm-up
            base_wrk = wrk_latency(f"{bare}/bench/json", args.seconds, args.connections, 1)
        baseline = {"sequential": base_seq, "wrk": base_wrk}
        print(json.dumps({"baseline_bare_litestar": baseline}), flush=True)

        with deliberation_serve(url, fast_path=True) as base:
            topic_id = build_topic(
                base, names, args.opinions, args.investigations, args.site_consultations
            )
            built_s = time.perf_counter() - started
            events = chain_events(base, topic_id)
            cookies = page_session(base, "bench")
            page = f"/topics/{topic_id}"
            with httpx.Client(base_url=base, timeout=60, cookies=cookies) as client:
                body = client.get(page)
                ok(body)
                html = body.text
                # The staff's own page: every opinion in full, the staff's name in the
                # header, the answer forms.
                shown = sum(f"第{i + 1}条意见：" in html for i in range(args.opinions))
                if shown != args.opinions or "压测" not in html:
                    raise SystemExit(
                        f"the page is not the staff's full page ({shown} opinions shown)"
                    )
                page_seq = sequential(client, page, args.requests, args.warm_up)
            cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
            wrk_latency(f"{base}{page}", 2, args.connections, 1, {"Cookie": cookie})
            page_wrk = wrk_latency(
                f"{base}{page}", args.seconds, args.connections, 1, {"Cookie": cookie}
            )
        # After the server has stopped: the same page in-process, by its parts.
        parts = None if args.no_parts else measure_parts(url, topic_id, args.requests)

    result: dict[str, Any] = {
        "engine": args.engine,
        "topic": {
            "opinions": args.opinions,
            "investigations": args.investigations,
            "site_consultations": args.site_consultations,
            "chain_events": events,
            "page_bytes": len(body.content),
            "setup_seconds": round(built_s, 1),
        },
        "baseline": baseline,
        "page": {"sequential": page_seq, "wrk": page_wrk},
        "parts_in_process": parts,
        "wrk_connections": args.connections,
        "p95_ratio_to_baseline": round(page_seq["p95_ms"] / base_seq["p95_ms"], 1),
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": page_seq["p95_ms"] < TARGET_P95_MS,
    }
    print(json.dumps(result, ensure_ascii=False), flush=True)
    save_results(f"topic_page_{args.engine}", result)


if __name__ == "__main__":
    main()
