"""The documents, measured in one run each:

1. **render overhead**: our render of a one-page ``resolution_notice`` (record read,
   Jinja, QR code, restricted fetcher, worker process, storing it) against a bare
   WeasyPrint render of the same final HTML in the same worker process;
2. **download**: ``GET /api/v1/documents/{id}/pdf`` of a published PDF against the
   bare Litestar JSON endpoint, served the same way (uvicorn, 1 and 2 workers, wrk);
3. **responsiveness**: ``/healthz`` latency (p50/p99) while 20 PDFs render.

Run: ``python -m bench.documents [--renders 20] [--seconds 8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import KEYS, cli, save_results, serve, staff_token, wrk


def _bare_render(html: str, pdf_a: bool) -> bytes:
    """WeasyPrint alone: the same HTML, its default fetcher, nothing else."""
    from weasyprint import HTML

    from deliberation.documents.render import TEMPLATES

    out = io.BytesIO()
    options: dict[str, Any] = {"pdf_variant": "pdf/a-3b"} if pdf_a else {}
    HTML(string=html, base_url=TEMPLATES.as_uri() + "/").write_pdf(out, **options)
    return out.getvalue()


async def render_overhead(url: str, runs: int) -> dict[str, Any]:
    from bench.common import AUDIT_KEY
    from deliberation import chain
    from deliberation.clock import china_today
    from deliberation.database import bind_engine, close_engine, engine_for_url, open_engine
    from deliberation.documents import Publishing, Renderer, create_document
    from deliberation.documents.content import document_content
    from deliberation.documents.render import render_html
    from deliberation.documents.service import _draft_job, staff_of_topic
    from deliberation.tables import Topic

    chain.use_key(AUDIT_KEY)  # the served app's key: this process adds to the same chain
    engine = engine_for_url(url)
    bind_engine(engine)
    await open_engine(engine)
    renderer = Renderer(1)
    renderer.open()
    loop = asyncio.get_running_loop()
    try:
        publishing = Publishing(renderer, "http://127.0.0.1:8000")
        topic = await Topic.select(Topic.reference).where(Topic.title == BENCH_TITLE).first()
        assert topic is not None
        staff, topic_id = await staff_of_topic(topic["reference"], None)
        first = await create_document(staff, topic_id, "resolution_notice", publishing)
        content = await document_content("resolution_notice", topic_id, china_today())
        html = render_html(_draft_job(content, first.id, publishing))
        pool = renderer._pool
        ours, bare = [], []
        for _ in range(runs):
            started = time.perf_counter()
            await create_document(staff, topic_id, "resolution_notice", publishing)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            await loop.run_in_executor(pool, _bare_render, html, False)
            bare.append(time.perf_counter() - started)
        pages = html_pages(await loop.run_in_executor(pool, _bare_render, html, False))
        return {
            "pages": pages,
            "ours_median_ms": round(statistics.median(ours) * 1000, 1),
            "bare_median_ms": round(statistics.median(bare) * 1000, 1),
            "ratio": round(statistics.median(ours) / statistics.median(bare), 3),
            "pdf_bytes": first.size_bytes,
        }
    finally:
        renderer.close()
        await close_engine(engine)


def html_pages(pdf: bytes) -> int:
    import pypdf

    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


BENCH_TITLE = "渡口村路灯维修"


async def prepare_topic(base: str, token: str) -> int:
    """A small topic at ``resolution``, whose notice fits on one page."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as c:
        r = await c.post("/api/v1/topics", json={"title": BENCH_TITLE, "description": "路灯损坏。"})
        topic = r.json()
        tid = topic["id"]

        async def fire(trigger: str) -> None:
            version = (await c.get(f"/api/v1/topics/{tid}")).json()["version"]
            r = await c.post(
                f"/api/v1/topics/{tid}/transitions", json={"trigger": trigger, "version": version}
            )
            assert r.status_code == 200, r.text

        await c.post(
            f"/api/v1/topics/{tid}/investigations",
            json={
                "visited_on": "2026-11-01",
                "place": "渡口村",
                "participants": "p",
                "findings": "f",
            },
        )
        await fire("investigate")
        await fire("begin_site_consultation")
        await c.post(
            f"/api/v1/topics/{tid}/site-consultations",
            json={"held_on": "2026-11-02", "place": "村委会", "participants": "p", "summary": "s"},
        )
        meeting = (
            await c.post(
                f"/api/v1/topics/{tid}/meetings",
                json={
                    "scheduled_at": "2026-11-03T09:00:00+08:00",
                    "place": "镇会议室",
                    "host": "陈主任",
                },
            )
        ).json()
        await fire("convene_meeting")
        r = await c.put(
            f"/api/v1/meetings/{meeting['id']}/minutes",
            json={
                "summary": "同意维修。",
                "decisions": "本月完成。",
                "attendees": [{"name": "陈国强", "unit": "政协联络委", "attendance": "present"}],
            },
        )
        assert r.status_code == 200, r.text
        await c.post(
            f"/api/v1/topics/{tid}/resolution-items",
            json={
                "content": "更换路灯8盏",
                "responsible_unit": "镇村建办",
                "due_date": "2026-12-31",
            },
        )
        await fire("adopt_resolution")
        return int(tid)


async def healthz_while_rendering(
    base: str, token: str, topic_id: int, renders: int
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        done = asyncio.Event()

        async def poll() -> None:
            while not done.is_set():
                started = time.perf_counter()
                r = await c.get("/healthz")
                assert r.status_code == 200
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.01)

        async def render() -> None:
            r = await c.post(
                f"/api/v1/topics/{topic_id}/documents",
                json={"kind": "resolution_notice"},
                headers=headers,
            )
            assert r.status_code == 201, r.text

        poller = asyncio.create_task(poll())
        started = time.perf_counter()
        await asyncio.gather(*[render() for _ in range(renders)])
        elapsed = time.perf_counter() - started
        done.set()
        await poller
    latencies.sort()
    return {
        "renders": renders,
        "render_seconds": round(elapsed, 2),
        "healthz_samples": len(latencies),
        "healthz_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "healthz_p99_ms": round(
            latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1
        ),
        "healthz_max_ms": round(latencies[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        cli(url, "migrate")
        cli(url, "demo")
        env = {
            "DELIBERATION_DATABASE_URL": url,
            **KEYS,
            "DELIBERATION_LOG_LEVEL": "WARNING",
            "DELIBERATION_RENDER_WORKERS": "2",
        }
        with serve("api.app:app_from_env", env, 1) as (base, _):
            tok = staff_token(base)
            topic_id = asyncio.run(prepare_topic(base, tok))
            results["healthz_while_rendering"] = asyncio.run(
                healthz_while_rendering(base, tok, topic_id, args.renders)
            )
            print(json.dumps(results["healthz_while_rendering"], ensure_ascii=False), flush=True)
            r = httpx.post(
                f"{base}/api/v1/topics/{topic_id}/documents",
                json={"kind": "resolution_notice"},
                headers={"Authorization": f"Bearer {tok}"},
                timeout=120,
            )
            document_id = r.json()["id"]
            r = httpx.post(
                f"{base}/api/v1/documents/{document_id}/publish",
                json={},
                headers={"Authorization": f"Bearer {tok}"},
                timeout=120,
            )
            published = r.json()
        results["render_overhead"] = asyncio.run(render_overhead(url, args.renders))
        print(json.dumps(results["render_overhead"], ensure_ascii=False), flush=True)
        downloads = []
        for workers in args.workers:
            with serve("bench.baseline_app:create", {}, workers) as (base, _):
                wrk(f"{base}/bench/json", seconds=2)
                baseline = wrk(f"{base}/bench/json", seconds=args.seconds)
            with serve("api.app:app_from_env", env, workers) as (base, _):
                path = f"{base}/api/v1/documents/{document_id}/pdf"
                wrk(path, seconds=2)
                pdf = wrk(path, seconds=args.seconds)
            row = {
                "workers": workers,
                "baseline_rps": round(baseline),
                "pdf_rps": round(pdf),
                "ratio": round(pdf / baseline, 3),
                "pdf_bytes": published["size_bytes"],
            }
            print(json.dumps(row, ensure_ascii=False), flush=True)
            downloads.append(row)
        results["download"] = downloads
    save_results("documents", results)


if __name__ == "__main__":
    main()
