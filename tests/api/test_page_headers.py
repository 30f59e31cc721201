"""Page headers (issue 11): a CSP that allows scripts and styles only from this site
and no framing, the other protective headers, and a CSRF token bound to the session."""

from __future__ import annotations

import re
from pathlib import Path

from litestar import Litestar

from tests.api.test_sessions_end import page_client
from tests.conftest import browser
from tests.world import World, new_township

PAGES = Path(__file__).resolve().parents[2] / "templates" / "pages"


async def test_every_answer_carries_the_protective_headers(world: World) -> None:
    for path in ("/notices", "/login", "/api/v1/workflow", "/no-such-page"):
        answer = await world.client.get(path, headers={"accept": "text/html"})
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
    # The API explorers load only our own files (their start-up code is inline).
    for path in ("/schema/swagger", "/schema/redoc"):
        explorer = await world.client.get(path)
        csp = explorer.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "https:" not in csp and "*" not in csp, path


def test_no_page_has_inline_script_style_or_evaluated_code() -> None:
    """What the CSP forbids must not be on a page: it would silently stop working."""
    for template in PAGES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert "<style" not in text and " style=" not in text, template.name
        assert "js:" not in text and "hx-on" not in text, template.name


async def test_the_style_sheet_is_served_with_its_version(world: World) -> None:
    page = await world.client.get("/login")
    href = re.search(r'href="(/static/site\.css\?v=[0-9a-f]{12})"', page.text)
    assert href, page.text[:500]
    sheet = await world.client.get(href.group(1))
    assert sheet.status_code == 200 and "large-text" in sheet.text


async def test_the_roster_button_brings_the_next_one_without_script(
    world: World, app: Litestar
) -> None:
    t = await new_township(world, "名单镇")
    browser = await page_client(app, t["staff"].user["username"])
    answer = await browser.get("/topics/1/roster-row?meeting=5&n=4", headers={"hx-request": "true"})
    assert answer.status_code == 200
    assert 'id="minutes-5-name-4"' in answer.text
    assert 'hx-swap-oob="true"' in answer.text and "n=5" in answer.text


async def test_the_csrf_token_is_bound_to_the_session(world: World, app: Litestar) -> None:
    t = await new_township(world, "令牌镇")
    victim = await page_client(app, t["staff"].user["username"])
    own = victim.cookies.get("csrftoken") or ""
    form = {"current_password": "wrong-password-1", "new_password": "another-pass-2026"}
    # Its own token passes the check (and the form then says what is wrong: 422).
    mine = await victim.post("/me/password", data={**form, "_csrf_token": own})
    assert mine.status_code == 422, mine.text
    # A valid token of another browser (planted in the cookie, as a neighbouring
    # site could) passes Litestar's double-submit check but not the session's.
    _, planted = await browser(app)
    victim.cookies.delete("csrftoken")
    victim.cookies.set("csrftoken", planted)
    refused = await victim.post(
        "/me/password",
        data={**form, "_csrf_token": planted},
        headers={"x-csrftoken": planted, "accept": "text/html"},
    )
    assert refused.status_code == 403, refused.text
    assert "页面已过期" in refused.text


async def test_signing_in_gives_a_new_csrf_token(world: World, app: Litestar) -> None:
    t = await new_township(world, "换令镇")
    client, before = await browser(app)
    answer = await client.post(
        "/login",
        data={"username": t["liaison"].user["username"], "password": "correct-horse-battery"},
        headers={"x-csrftoken": before},
    )
    assert answer.status_code == 303
    given = [c for c in answer.headers.get_list("set-cookie") if c.startswith("csrftoken=")]
    assert given and before not in given[0]
