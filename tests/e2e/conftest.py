"""Browser tests: Playwright (its asyncio API, on the tests' own event loop, so the
test data can be built with the same fixtures as the API tests) driving Debian's
Chromium (``/usr/bin/chromium``). Playwright's own browser download does not work
here; the system Chromium is launched through ``executable_path``. Without
Chromium the browser tests are skipped, and the run says so in one line at the end."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.live import served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
# How long an expectation waits for the page to show it. The suite's shared database holds
# hundreds of townships by the end of a run, and the administrator's places page lists them
# all with their forms: on a loaded 2-CPU machine its reload once took over Playwright's
# default 5 s (two admin walks failed that way). A wait, not a speed assertion: a page that
# shows the right thing sooner passes sooner.
expect.set_options(timeout=15_000)

SKIPPED = "浏览器测试已跳过\uff1a未找到 Chromium\uff08sudo apt-get install chromium\uff09"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAVE_CHROMIUM:
        return
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.skip(reason=SKIPPED))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not HAVE_CHROMIUM:
        terminalreporter.write_line(
            "browser tests SKIPPED: /usr/bin/chromium not found (apt-get install chromium)",
            yellow=True,
            bold=True,
        )


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            await launched.close()


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


async def serious_accessibility_problems(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not AXE.exists():
        pytest.skip(
            "axe-core \u672a\u5b89\u88c5\uff08make test \u4f1a\u7528 npm \u5b89\u88c5\uff09"
        )
    # Evaluated by the test, not added as a <script>: the page's CSP allows no inline
    # script (and must not be loosened for a test).
    await page.evaluate(AXE.read_text() + "\n;undefined")
    result = await page.evaluate("async () => await axe.run(document)")
    return [
        {"rule": v["id"], "impact": v["impact"], "where": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="session")
def live_server(migrated: str) -> Iterator[str]:
    """One served app for every browser test (a start is ~5 s of CPU). It holds nothing
    a test leaves behind that another could see: each test builds its own topics (and
    townships, where it counts them) through tests/world.py, failed sign-ins are counted
    in the database whichever server took them, its clock never moves, and its delivery
    loop is off (tests run deliveries themselves). A test needing other settings serves
    its own (``tests.live.served``), as test_demo.py does."""
    with served(migrated, DELIBERATION_DELIVERY_IN_SERVER="0") as (base, _):
        yield base
