"""Only deliberation/clock.py reads the time (docs/decisions.md, "Time"): code that asks
the system instead disagrees with the suite's clock (and a shifted server's) and, around
16:00 UTC, with China's date."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What reads the wall clock, by its full dotted name once imports are resolved.
READS_THE_TIME = {
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "datetime.datetime.today",
    "datetime.date.today",
    "time.time",
    "time.time_ns",
}
# Read by name when the name's import is out of sight (a module-level name passed in).
UNRESOLVED = {name.split(".", 1)[1] for name in READS_THE_TIME if name.startswith("datetime.")}
UNRESOLVED |= {"time.time", "time.time_ns"}
# Wall-clock time that is not a date: processes agreeing on a start instant.
MAY_READ_THE_TIME = {"tests/deliberation/test_font_cache.py"}


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _clock_reads(source: str, where: str) -> list[str]:
    tree = ast.parse(source, where)
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imported[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module in ("datetime", "time"):
            for alias in node.names:
                imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or (name := _dotted(node.func)) is None:
            continue
        first, _, rest = name.partition(".")
        if first in imported:
            full = imported[first] + ("." + rest if rest else "")
            reads = full in READS_THE_TIME
        else:
            reads = name in UNRESOLVED
        if reads:
            found.append(f"{where}:{node.lineno}")
    return found


def test_the_time_is_read_only_by_the_clock_module() -> None:
    folders = ("deliberation", "api", "tests", "bench", "tools")
    sources = [p for folder in folders for p in (ROOT / folder).rglob("*.py")]
    assert any("piccolo_migrations" in str(p) for p in sources)  # migrations are included
    found = [
        where
        for path in sources
        if path != ROOT / "deliberation" / "clock.py"
        and str(path.relative_to(ROOT)) not in MAY_READ_THE_TIME
        for where in _clock_reads(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == []


def test_the_scan_finds_what_it_looks_for() -> None:
    source = "now = datetime.now(UTC)\nday = date.today()\nt = time.monotonic()\n"
    assert _clock_reads(source, "x.py") == ["x.py:1", "x.py:2"]


def test_the_scan_sees_through_imports() -> None:
    source = (
        "import datetime\n"
        "import datetime as dtm\n"
        "from datetime import datetime as DT, date as D\n"
        "from time import time as wall, monotonic\n"
        "a = datetime.datetime.now()\n"
        "b = dtm.date.today()\n"
        "c = DT.utcnow()\n"
        "d = D.today()\n"
        "e = wall()\n"
        "f = monotonic()\n"
        "g = datetime.timedelta(days=1)\n"
    )
    assert _clock_reads(source, "x.py") == [f"x.py:{n}" for n in (5, 6, 7, 8, 9)]
