"""The pages as people see them, as PNG pictures beside this file: ``make screenshots``.

The demo township is seeded into a throw-away SQLite database and served by
``deliberation serve``; Debian's Chromium (through Playwright) signs in with the demo
accounts and takes:

- ``front-door-phone.png``: ``/`` for a visitor on a phone (360 px);
- ``staff-topic-desk.png``: a staff member's topic page at a desk (1280 px), on the
  demo topic waiting for its meeting's minutes: 下一步 first, the history beside it;
- ``representative-large-phone.png``: a representative on a phone in large-text mode
  (适老化), on the topic whose results they rated.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from playwright.async_api import Page, async_playwright  # noqa: E402

from deliberation.demo import ACCOUNTS  # noqa: E402
from tests.e2e.conftest import CHROMIUM  # noqa: E402
from tests.live import serving  # noqa: E402

PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 900}
STAFF_TOPIC = "金山村饮用水水质提升"  # in `meeting`: the minutes are what it waits for
RATED_TOPIC = "金山村高标准农田灌溉渠修复"  # closed, rated by 金山村's representatives


def password_of(role: str) -> tuple[str, str]:
    account = next(a for a in ACCOUNTS if a.role == role)
    return account.username, account.password


async def sign_in(page: Page, base: str, role: str) -> None:
    username, password = password_of(role)
    await page.goto(f"{base}/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{base}/me")


async def open_topic(page: Page, base: str, title: str) -> None:
    await page.goto(f"{base}/me?tab=done" if title == RATED_TOPIC else f"{base}/me?tab=open")
    await page.get_by_role("link", name=title).click()
    await page.wait_for_load_state("networkidle")


async def take(base: str) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            visitor = await browser.new_page(viewport=PHONE, locale="zh-CN")
            await visitor.goto(f"{base}/")
            await visitor.screenshot(path=HERE / "front-door-phone.png", full_page=True)

            staff = await browser.new_page(viewport=DESK, locale="zh-CN")
            await sign_in(staff, base, "staff")
            await open_topic(staff, base, STAFF_TOPIC)
            await staff.screenshot(path=HERE / "staff-topic-desk.png", full_page=False)

            rep = await browser.new_page(viewport=PHONE, locale="zh-CN")
            await sign_in(rep, base, "representative")
            await rep.goto(f"{base}/text-size?size=large&next=/me")
            await open_topic(rep, base, RATED_TOPIC)
            await rep.locator("#satisfaction-title").scroll_into_view_if_needed()
            await rep.screenshot(path=HERE / "representative-large-phone.png", full_page=False)
        finally:
            await browser.close()


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{work}/demo.db"
        # One var folder for seeding and serving: the audit key the demo's chain was
        # made with is the one the server checks at start.
        var = f"{work}/var"
        env = {**os.environ, "DELIBERATION_DATABASE_URL": url, "DELIBERATION_VAR_DIR": var}
        for command in (["migrate"], ["demo"]):
            subprocess.run(
                [sys.executable, "-m", "api.cli", *command],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        with serving(url, DELIBERATION_VAR_DIR=var) as server:
            asyncio.run(take(server.base))
    for name in ("front-door-phone", "staff-topic-desk", "representative-large-phone"):
        print(HERE / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
