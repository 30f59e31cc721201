"""What a newcomer does after ``make run``: sign in with the demo accounts the terminal
printed and carry a topic through every state in the browser."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from deliberation.wording import ADOPTION_LABELS
from tests.demo import DemoBuild, demo_copy
from tests.e2e.pages import sign_in
from tests.e2e.test_whole_life import carry_through_every_state
from tests.live import served

ACCOUNT_LINE = re.compile(r"^\s*(\w+)\s+用户名 (\S+)\s+密码 (\S+)\s+(.+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, demo_build: DemoBuild
) -> Iterator[tuple[str, dict[str, tuple[str, str, str]]]]:
    """A served demo database, and the accounts as printed: role → (user, password, name)."""
    folder: Path = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{demo_copy(demo_build, folder)}"  # the browser changes it
    accounts: dict[str, tuple[str, str, str]] = {}
    for role, username, password, name in ACCOUNT_LINE.findall(demo_build.printed):
        accounts.setdefault(role, (username, password, name.strip()))  # 黄金埠镇's first
    assert set(accounts) >= {"liaison", "representative", "staff"}, demo_build.printed
    with served(url, DELIBERATION_DELIVERY_IN_SERVER="0") as (base, _):
        yield base, accounts


async def test_the_printed_demo_accounts_carry_a_topic_through_every_state(
    demo: tuple[str, dict[str, tuple[str, str, str]]], browser: Browser
) -> None:
    base, accounts = demo
    await carry_through_every_state(
        browser,
        base,
        {role: (user, password) for role, (user, password, _) in accounts.items()},
        village="金山村",
        representative_name=accounts["representative"][2],
    )


async def test_each_demo_account_finds_its_work(
    demo: tuple[str, dict[str, tuple[str, str, str]]], browser: Browser
) -> None:
    base, accounts = demo
    expected = {"liaison": "待您办理", "representative": "可以提出意见", "staff": "待您办理"}
    for role, waiting in expected.items():
        user, password, name = accounts[role]
        context = await sign_in(browser, base, user, password)
        page = await context.new_page()
        await page.goto(f"{base}/me")
        await expect(page.get_by_role("heading", level=1)).to_contain_text(name)
        await expect(page.locator("#my-topics li", has_text=waiting).first).to_be_visible()
        await context.close()
    # The county's supervisor finds the overdue topic of the second township to urge.
    user, password, _ = accounts["supervisor"]
    context = await sign_in(browser, base, user, password)
    page = await context.new_page()
    await page.goto(f"{base}/")
    await expect(page).to_have_url(f"{base}/county")
    late = page.locator("#overdue li", has_text="港口村码头护栏修复")
    await expect(late).to_contain_text("港口镇")
    await late.get_by_role("link").click()
    await expect(page.locator("#urge-form")).to_be_visible()
    await context.close()


async def test_the_demo_topic_page_reads_each_answer_once(
    demo: tuple[str, dict[str, tuple[str, str, str]]], browser: Browser, demo_build: DemoBuild
) -> None:
    """答复：已采纳 · 纳入实施方案…, not 答复：已采纳 · 已采纳，纳入实施方案… (issue 25)."""
    base, accounts = demo
    with closing(sqlite3.connect(demo_build.database)) as db:
        (topic_id,) = db.execute(
            "SELECT id FROM topic WHERE title = '镇区路灯补装与维护'"
        ).fetchone()
    user, password, _ = accounts["staff"]
    context = await sign_in(browser, base, user, password)
    page = await context.new_page()
    await page.goto(f"{base}/topics/{topic_id}")
    answers = await page.locator("#opinions .answer, .answer").all_inner_texts()
    answers = [a for a in answers if a.startswith("答复")]
    assert answers
    for answer in answers:
        said = [label for label in ADOPTION_LABELS.values() if label in answer]
        assert len(said) == 1 and answer.count(said[0]) == 1, answer
        assert answer.count("采纳") == 1, answer
    await context.close()


async def test_the_demo_shows_a_topic_of_each_other_workflow(
    demo: tuple[str, dict[str, tuple[str, str, str]]], browser: Browser, demo_build: DemoBuild
) -> None:
    """The village cadre finds the 四议两公开 and 村民说事 topics in their list, with the
    votes and the items on their pages; staff see the 微协商 topic's two opinions."""
    from deliberation import demo as seeded

    base, accounts = demo
    with closing(sqlite3.connect(demo_build.database)) as db:
        ids = {
            title: topic_id
            for title, topic_id in db.execute("SELECT title, id FROM topic").fetchall()
        }
    micro, siyi, shuoshi = seeded.workflow_demos()
    user, password, _ = accounts["village_cadre"]
    context = await sign_in(browser, base, user, password)
    page = await context.new_page()
    await page.goto(f"{base}/me")
    for _, title, _ in (siyi, shuoshi):
        await expect(page.locator("#my-topics li", has_text=title)).to_have_count(1)
    workflow, title, state = siyi
    await page.goto(f"{base}/topics/{ids[title]}")
    await expect(page.locator("main")).to_contain_text(workflow.state(state).label)
    await expect(page.locator("#votes tbody tr")).to_have_count(2)
    workflow, title, state = shuoshi
    await page.goto(f"{base}/topics/{ids[title]}")
    await expect(page.locator("main")).to_contain_text(workflow.state(state).label)
    await expect(page.locator("#items li")).to_have_count(2)
    await context.close()

    user, password, _ = accounts["staff"]
    context = await sign_in(browser, base, user, password)
    page = await context.new_page()
    workflow, title, state = micro
    await page.goto(f"{base}/topics/{ids[title]}")
    await expect(page.locator("main")).to_contain_text(workflow.state(state).label)
    await expect(page.locator("#opinions > li")).to_have_count(2)
    await context.close()
