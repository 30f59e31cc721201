"""Issue 25: the password form has a 显示密码 switch (shown by the page's script) that
shows what was typed, in every field of the form, and hides it again."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.pages import signed_in
from tests.world import World


async def test_show_password_reveals_and_hides_the_fields(
    live_server: str, world: World, browser: Browser
) -> None:
    context = await signed_in(browser, live_server, world.a["representative"])
    page = await context.new_page()
    await page.goto(f"{live_server}/me/password")
    fields = [
        page.locator(f"#{name}")
        for name in ("current_password", "new_password", "confirm_password")
    ]
    for field in fields:
        await expect(field).to_have_attribute("type", "password")
    toggle = page.get_by_label("显示密码")
    await expect(toggle).to_be_visible()
    await toggle.check()
    for field in fields:
        await expect(field).to_have_attribute("type", "text")
    await toggle.uncheck()
    for field in fields:
        await expect(field).to_have_attribute("type", "password")
    await context.close()
