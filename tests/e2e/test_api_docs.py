"""The API explorers work offline (issue 13, item 10): Swagger UI at /schema and ReDoc at
/schema/redoc load only from this server, with every other address blocked; the site
has an icon."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.async_api import Browser, Route, expect


async def test_the_api_docs_render_with_the_network_blocked(
    live_server: str, browser: Browser
) -> None:
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    here = urlsplit(live_server).netloc
    elsewhere: list[str] = []

    async def only_here(route: Route) -> None:
        if urlsplit(route.request.url).netloc == here or route.request.url.startswith(
            ("data:", "blob:")
        ):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_here)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(f"{live_server}/schema")
    # Swagger UI drew the operations of our API.
    await expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)
    assert await page.locator(".swagger-ui .opblock").count() > 20
    await page.goto(f"{live_server}/schema/redoc")
    await expect(page.locator("redoc .api-content, .redoc-wrap").first).to_be_visible(
        timeout=20_000
    )
    await expect(page.get_by_text("/api/v1/topics").first).to_be_attached()
    assert elsewhere == [], elsewhere
    # ReDoc's "powered by" badge points at its CDN: the page's policy stops it before any
    # request; nothing else is refused.
    refused = [p for p in problems if "Content Security Policy" in p]
    assert all("cdn.redoc.ly/redoc/logo" in p for p in refused), refused
    icon = await page.request.get(f"{live_server}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"
    assert (await icon.body())[:4] == b"\x00\x00\x01\x00"  # an ICO file
    await context.close()
