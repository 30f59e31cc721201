"""Which workflows a township offers, from the browser on a 360 px phone (issue 26 item
5; docs/workflows.md, "Which workflows a township offers"): the opener sees each offered
workflow with its one-line summary; the administrator unticks one on the places page,
is told it is saved, and the opener no longer sees it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.api.offered_workflows import TINY_SUMMARY, offerings_folder
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import PHONE, signed_in
from tests.live import served
from tests.world import World, new_township


@pytest.fixture(scope="module")
def offering_server(migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with standard, a second township workflow (小流程) and a village one
    loaded (only standard ships on main)."""
    folder = tmp_path_factory.mktemp("offered-workflows")
    offerings_folder(folder)
    with served(
        migrated, DELIBERATION_DELIVERY_IN_SERVER="0", DELIBERATION_WORKFLOWS_DIR=str(folder)
    ) as (base, _):
        yield base


async def test_an_admin_unticks_a_workflow_and_the_opener_no_longer_sees_it(
    offering_server: str, world: World, browser: Browser
) -> None:
    base = offering_server
    place = await new_township(world, "选流程镇")
    opener = await (await signed_in(browser, base, place["liaison"], viewport=PHONE)).new_page()
    await opener.goto(f"{base}/topics/new")
    choice = opener.locator("#workflow-choice")
    await expect(choice.get_by_label("小流程", exact=True)).to_be_visible()
    await expect(choice).to_contain_text(TINY_SUMMARY)
    await expect(choice.get_by_label("标准协商")).to_be_checked()

    admin = await (await signed_in(browser, base, world.admin, viewport=PHONE)).new_page()
    await admin.goto(f"{base}/admin")
    here = admin.locator(f"#township-{place.id}")
    await here.get_by_text(f"“{place.name}”提供的协商流程").click()
    form = admin.locator(f"#township-{place.id}-workflows")
    await expect(form.get_by_label("标准协商")).to_be_checked()
    await expect(form).to_contain_text(TINY_SUMMARY)
    await form.get_by_label("小流程", exact=True).uncheck()
    await form.get_by_role("button", name="保存协商流程").click()
    await expect(admin.locator("#saved")).to_contain_text("提供的协商流程已保存")
    await expect(admin.locator(f"#township-{place.id}-offers")).to_have_text(
        "提供的协商流程：标准协商"
    )
    width = await admin.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert await serious_accessibility_problems(admin) == []

    await opener.reload()
    await expect(opener.locator("h1")).to_have_text("提出议题")
    await expect(opener.get_by_label("小流程", exact=True)).to_have_count(0)
    await expect(opener.locator("main")).not_to_contain_text(TINY_SUMMARY)
    width = await opener.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert await serious_accessibility_problems(opener) == []
