"""The open-data export (issue 15) of 10 000 public topics (50 townships × 200 topics,
all from ``resolution`` on, written straight into the tables by ``bench/county_year.py``:
~80 000 chain events, items with progress, a published notice each): the wall time of
``deliberation export open-data --out DIR`` as an operator runs it (a new process), the
rows of each file and the ZIP's size; against, in the same run, a bare dump of the two
largest tables (``topic`` and ``topic_event`` read with the driver and written as CSV).

Target: < 30 s on SQLite and PostgreSQL.

    python -m bench.open_data --engine sqlite
    python -m bench.open_data --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench import county_year
from bench.common import cli, fresh_database, save_results
from workflows import WORKFLOW

YEAR = 2025


def bare_dump(engine: str, url: str) -> float:
    """Seconds to read ``topic`` and ``topic_event`` whole and write them as CSV."""
    started = time.perf_counter()
    if engine == "sqlite":
        import sqlite3

        db = sqlite3.connect(url[len("sqlite:///") :])
        tables = {t: db.execute(f"SELECT * FROM {t}").fetchall() for t in ("topic", "topic_event")}
        db.close()
    else:
        import asyncpg

        async def fetch() -> dict[str, list[Any]]:
            conn = await asyncpg.connect(url)
            found = {
                t: [tuple(r) for r in await conn.fetch(f"SELECT * FROM {t}")]
                for t in ("topic", "topic_event")
            }
            await conn.close()
            return found

        tables = asyncio.run(fetch())
    for rows in tables.values():
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        out.getvalue().encode("utf-8-sig")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--townships", type=int, default=50)
    parser.add_argument("--per-township", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.engine, tmp, "压测镇001")
        topics = county_year.write(
            args.engine, url, YEAR, args.townships, args.per_township, WORKFLOW.public_states
        )
        results: dict[str, Any] = {"engine": args.engine, "topics": topics}
        results["bare_dump_s"] = round(bare_dump(args.engine, url), 2)
        out = Path(tmp) / "open-data"
        started = time.perf_counter()
        cli(url, "export", "open-data", "--out", str(out))
        results["export_s"] = round(time.perf_counter() - started, 2)
        build = json.loads((out / "build.json").read_text())
        results["rows"] = build["rows"]
        results["zip_mb"] = round((out / "latest.zip").stat().st_size / 1e6, 1)
        with zipfile.ZipFile(out / "latest.zip") as archive:
            results["files"] = len(archive.namelist())
        assert build["rows"]["topics"] == topics, "every topic is public here"
        results["target_s"] = 30
        print(json.dumps(results, ensure_ascii=False, indent=2))
        save_results(f"open_data_{args.engine}", results)


if __name__ == "__main__":
    main()
