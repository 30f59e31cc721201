"""Full-width punctuation in Chinese text (issue 13, item 11): every message, page, CLI
line, demo text and PDF template uses ，；：（） next to Chinese, never ASCII ,;:().

The scan reads the code as Python (string literals, not comments or docstrings, which
are English for maintainers) and the templates as HTML (entities decoded, Jinja
comments left out). Text given to ``wording.zh`` is exempt: it turns ASCII into
full-width itself."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

from api.errors import summarise
from deliberation.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
CHINESE = "\u3400-\u9fff"
FULL_WIDTH = "\uff00-\uffef\u3000-\u303f"
ASCII_NEXT_TO_CHINESE = re.compile(
    rf"[{CHINESE}{FULL_WIDTH}][,;:()]|[,;:()][{CHINESE}{FULL_WIDTH}]"
)
SOURCES = ("api", "deliberation", "workflows")


def _exempt(tree: ast.AST) -> set[int]:
    """Docstrings and other bare string statements, and whatever goes through zh()."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skip.add(id(node.value))
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name == "zh":
                skip.update(id(sub) for arg in node.args for sub in ast.walk(arg))
    return skip


def ascii_in_python() -> list[str]:
    found = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "piccolo_migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skip = _exempt(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in skip
                    and ASCII_NEXT_TO_CHINESE.search(node.value)
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    return found


def ascii_in_templates() -> list[str]:
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
        for number, line in enumerate(html.unescape(text).splitlines(), start=1):
            if ASCII_NEXT_TO_CHINESE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    return found


def test_code_and_templates_use_full_width_punctuation_in_chinese() -> None:
    assert ascii_in_python() == []
    assert ascii_in_templates() == []


def test_the_scan_finds_what_it_looks_for() -> None:
    assert ASCII_NEXT_TO_CHINESE.search("缺少:说明")
    assert ASCII_NEXT_TO_CHINESE.search("村(社区)")
    assert ASCII_NEXT_TO_CHINESE.search("好的,谢谢")
    assert not ASCII_NEXT_TO_CHINESE.search("缺少：说明（必填），谢谢；")
    assert not ASCII_NEXT_TO_CHINESE.search("scheduled_at: 2026-12-01 (China)")
    tree = ast.parse('zh("村(社区)")\nx = "村(社区)"\n')
    flagged = [
        n for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in _exempt(tree)
    ]
    assert len(flagged) == 1  # the zh() one is exempt, the plain one is not


def test_messages_joined_at_run_time_are_full_width_too() -> None:
    errors = [
        {"field": "title", "message": "请填写此项"},
        {"field": "due_date", "message": "完成时限不能早于今天"},
    ]
    for text in (summarise(errors), ValidationFailed(errors).detail):
        assert not ASCII_NEXT_TO_CHINESE.search(text), text
