"""The villager's own words and number are read by the office's view alone (plan §5):
a walk over the code for any other read of ``Suggestion.title``, ``.content`` or
``.submitter_phone`` (or ``.submitter_name``)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAW = {"title", "content", "submitter_phone", "submitter_name"}
ALLOWED = {
    ("deliberation/suggestions/read.py", "office_view"),
}
"""(file, function) that may name a raw column."""
ALLOWED_FILES = {
    # The chain vouches every field (keyed digests, never the text) and the audit
    # checks them; the office's ledger masks what it prints.
    "deliberation/owned_records.py",
    "deliberation/chain.py",
    "deliberation/audit.py",
    "deliberation/changes.py",
    "deliberation/ledger.py",
    "deliberation/tables.py",
}


def _raw_reads(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []

    def walk(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name
            if (
                isinstance(child, ast.Attribute)
                and child.attr in RAW
                and isinstance(child.value, ast.Name)
                and child.value.id == "Suggestion"
            ):
                found.append((name, child.lineno))
            walk(child, name)

    walk(tree, "")
    return found


def test_only_the_office_view_reads_the_villagers_words() -> None:
    offending = []
    for folder in ("deliberation", "api"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ALLOWED_FILES or "piccolo_migrations" in relative:
                continue
            for function, line in _raw_reads(path):
                if (relative, function) not in ALLOWED:
                    offending.append(f"{relative}:{line} ({function})")
    assert offending == []


def test_the_walk_finds_a_read() -> None:
    assert _raw_reads(ROOT / "deliberation/suggestions/read.py")
