"""Tests that need the documents' own faces (what ``make fonts`` installs) are marked
``needs_faces``. Without the faces the documents still print, in the pip fallback fonts,
but those tests check the faces themselves or a layout measured in them: they are
skipped, with the command that installs what is missing, and the run says so at the end.

CI installs the faces, so there they must never be skipped: ``.ci/run`` sets
``DELIBERATION_REQUIRE_FONTS=1``, and each such test then fails instead, with the same
command. (A pytest plugin, loaded by ``tests/conftest.py``.)"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import pytest

from deliberation.documents import fonts

REQUIRE_ENV = "DELIBERATION_REQUIRE_FONTS"
MARKER = "needs_faces"


@cache
def missing_faces() -> str:
    """What is missing and how to install it; "" when every face is there."""
    missing = fonts.missing_files()
    if not missing:
        return ""
    names = "、".join(sorted({f.name for f in missing}))
    return f"缺少公文字体 {names}，安装命令：{fonts.install_command(missing)}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: needs the documents' faces (make fonts); skipped without them"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker(MARKER) is None or not missing_faces():
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1: {missing_faces()}", pytrace=False)
    pytest.skip(missing_faces())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if missing_faces() and missing_faces() in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} document-face tests SKIPPED: {missing_faces()}",
            yellow=True,
            bold=True,
        )
