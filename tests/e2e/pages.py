"""What the browser tests share: viewports and signing in through the login page."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, BrowserContext, expect

from tests.world import PASSWORD, Actor

PHONE = {"width": 360, "height": 740}
OFFICE = {"width": 1280, "height": 900}


async def sign_in(
    browser: Browser,
    live_server: str,
    username: str,
    password: str = PASSWORD,
    *,
    viewport: dict[str, int] | None = None,
    javascript: bool = True,
) -> BrowserContext:
    """A browser of its own (phone-sized unless told), signed in on the login page."""
    context = await browser.new_context(
        viewport=viewport or PHONE, locale="zh-CN", java_script_enabled=javascript
    )
    page = await context.new_page()
    await page.goto(f"{live_server}/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{live_server}/me")
    await page.close()
    return context


async def signed_in(
    browser: Browser, live_server: str, actor: Actor, **options: Any
) -> BrowserContext:
    return await sign_in(browser, live_server, actor.user["username"], **options)
