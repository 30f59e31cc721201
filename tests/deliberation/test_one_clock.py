"""Only deliberation/clock.py reads the time (docs/decisions.md, "Time"): code that asks
the system instead disagrees with the suite's clock (and a shifted server's) and, around
16:00 UTC, with China's date."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READS_THE_TIME = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}


def _clock_reads(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, where)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.value.id, node.func.attr) in READS_THE_TIME
        ):
            found.append(f"{where}:{node.lineno}")
    return found


def test_the_time_is_read_only_by_the_clock_module() -> None:
    sources = [p for folder in ("deliberation", "api") for p in (ROOT / folder).rglob("*.py")]
    assert any("piccolo_migrations" in str(p) for p in sources)  # migrations are included
    found = [
        where
        for path in sources
        if path != ROOT / "deliberation" / "clock.py"
        for where in _clock_reads(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == []


def test_the_scan_finds_what_it_looks_for() -> None:
    source = "now = datetime.now(UTC)\nday = date.today()\nt = time.monotonic()\n"
    assert _clock_reads(source, "x.py") == ["x.py:1", "x.py:2"]
