"""微协商's opinion window on the topic page (httpx against the app, page sessions): the
line counting down to its last working day, the last day said as such, then closed,
with the opinion form gone and a stale form's post refused on top (docs/decisions.md
"The window line"). The clock is moved across 国庆节 2026, as in tests/api/test_micro.py;
a page session does not outlive a move of days, so each look signs in again."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from deliberation import context
from deliberation.tables import Opinion, Topic
from tests.api.test_micro import LAST_DAY, NEXT_DAY, OPENED, _soliciting, at
from tests.api.test_sessions_end import page_client
from tests.conftest import browser
from tests.second_workflow import take_out_topics_of
from tests.world import Township, World, fire, new_township, unique
from workflows.declaration import Workflow
from workflows.registry import HERE as SHIPPED
from workflows.registry import REGISTRY, Registry

__all__ = ["at"]  # the clock-moving fixture, used by name

MICRO = REGISTRY.latest("micro")
WINDOW = next(s for s in MICRO.states if s.time_limit and s.time_limit.window)
OPINION = next(r.name for r in MICRO.records if WINDOW.name in r.open_in and r.type == "opinion")
ANSWER = next(r.name for r in MICRO.records if r.part_of == OPINION)
"""An opinion's answer: added to the opinion, it stays open after the window closes."""
LEAVE = next(t for t in MICRO.transitions if WINDOW.name in t.sources and not t.danger)
"""The step out of the window (形成微建议), which waits for it to close."""


async def _page(app: Litestar, t: Township, role: str, tid: int) -> tuple[httpx.AsyncClient, str]:
    client = await page_client(app, t[role].user["username"])
    answer = await client.get(f"/topics/{tid}")
    assert answer.status_code == 200, answer.text[-500:]
    return client, unescape(answer.text)


def _line(page: str) -> str:
    start = page.index('id="opinion-window"')
    return page[start : page.index("</p>", start)]


async def test_the_window_line_counts_down_to_its_last_day_and_the_form_goes_after_it(
    world: World, app: Litestar, at: object
) -> None:
    move = at
    t = await new_township(world, "微协商页面镇")
    move(OPENED)  # type: ignore[operator]
    topic = await _soliciting(t)
    tid = topic["id"]

    # Tuesday 29 September: 30 September, 8 and 9 October are left (国庆节 between).
    move(date(2026, 9, 29))  # type: ignore[operator]
    _, rep_page = await _page(app, t, "representative", tid)
    assert "意见征集至 2026年10月9日（还剩 3 个工作日）" in _line(rep_page)
    assert 'id="opinion-form"' in rep_page
    _, staff_page = await _page(app, t, "staff", tid)
    assert "意见征集至 2026年10月9日（还剩 3 个工作日）" in _line(staff_page)
    # The window replaces the stage's due date (no "期限 … 还剩" beside the state).
    assert "意见征集期限" not in staff_page

    # The last day: said so, and an opinion is still taken from the page.
    move(LAST_DAY)  # type: ignore[operator]
    rep, rep_page = await _page(app, t, "representative", tid)
    assert "今天是意见征集的最后一天" in _line(rep_page)
    saved = await rep.post(
        f"/topics/{tid}/records/{OPINION}",
        data={"stance": "support", "content": "建议换成节能灯。"},
    )
    assert saved.status_code == 303, unescape(saved.text)[-800:]
    assert await Opinion.count().where(Opinion.topic == tid) == 1

    # The day after (a make-up Saturday): closed; the form is not offered any more.
    move(NEXT_DAY)  # type: ignore[operator]
    rep, rep_page = await _page(app, t, "representative", tid)
    assert "意见征集已于2026年10月9日截止" in _line(rep_page)
    assert 'id="opinion-form"' not in rep_page
    assert 'href="#opinion-form"' not in rep_page
    assert "目前没有需要您办理的事项" in rep_page
    # A form left open from the day before is refused on top, as the API refuses it.
    late = await rep.post(
        f"/topics/{tid}/records/{OPINION}", data={"stance": "support", "content": "再补充一条。"}
    )
    assert late.status_code == 409
    refused = unescape(late.text)
    assert 'id="refused"' in refused and "意见征集已于2026年10月9日截止" in refused
    assert await Opinion.count().where(Opinion.topic == tid) == 1
    # Their list no longer asks them for an opinion on it.
    mine = unescape((await rep.get("/me")).text)
    assert topic["title"] in mine
    row = mine[mine.index(topic["title"]) :][:600]
    assert "可以提出意见" not in row and "已逾期" not in row

    # Staff see it closed and take the step out; the line goes with the state.
    staff, staff_page = await _page(app, t, "staff", tid)
    assert "意见征集已于2026年10月9日截止" in _line(staff_page)
    assert f'id="fire-{LEAVE.trigger}-form"' in staff_page
    assert f"/records/{ANSWER}/" in staff_page  # the opinion may still be answered
    moved = await staff.post(
        f"/topics/{tid}/transitions",
        data={"trigger": LEAVE.trigger, "version": str(topic["version"] + 1)},
    )
    assert moved.status_code == 303, unescape(moved.text)[-800:]
    after = unescape((await staff.get(f"/topics/{tid}")).text)
    assert MICRO.state(LEAVE.dest).label in after
    assert 'id="opinion-window"' not in after


PUBLIC_KEY = "micro_public"


@pytest.fixture
async def public_window(tmp_path: Path) -> AsyncIterator[Workflow]:
    """微协商 as a county might copy it with its topics public from 征求意见 on (the
    shipped one is public from 形成微建议), loaded beside the shipped workflows; its
    topics are taken out afterwards."""
    for shipped in SHIPPED.iterdir():
        if shipped.is_dir() and any(shipped.glob("v*.toml")):
            shutil.copytree(shipped, tmp_path / shipped.name)
    text = (SHIPPED / MICRO.key / "v1.toml").read_text(encoding="utf-8")
    text = text.replace(f'key = "{MICRO.key}"', f'key = "{PUBLIC_KEY}"')
    text = text.replace(f'public_from = "{MICRO.public_from}"', f'public_from = "{WINDOW.name}"')
    (tmp_path / PUBLIC_KEY).mkdir()
    (tmp_path / PUBLIC_KEY / "v1.toml").write_text(text, encoding="utf-8")
    here = context.current()
    before = here.workflows
    here.workflows = Registry.load(tmp_path)
    try:
        yield here.workflows.latest(PUBLIC_KEY)
    finally:
        here.workflows = before
        await take_out_topics_of(PUBLIC_KEY)


async def test_the_public_reads_the_window_line_where_the_topic_is_public(
    world: World, app: Litestar, public_window: Workflow
) -> None:
    t = await new_township(world, "公开征集镇")
    opened = await t["liaison"].post(
        "/api/v1/topics",
        {"title": unique("小区路灯"), "description": "路灯坏了。", "workflow": PUBLIC_KEY},
    )
    assert opened.status_code == 201, opened.text
    topic = opened.json()
    start = next(tr.trigger for tr in public_window.transitions if tr.dest == WINDOW.name)
    assert (await fire(t["liaison"], topic, start)).status_code == 200
    anyone, _ = await browser(app)
    public = unescape((await anyone.get(f"/topics/{topic['id']}")).text)
    assert "公开信息" in public
    assert "意见征集至 " in _line(public) and "个工作日" in _line(public)
    assert 'id="opinion-form"' not in public

    last = date.fromisoformat(str(topic["created_at"])[:10]) - timedelta(days=40)
    await Topic.update({Topic.stage_entered_on: last}).where(Topic.id == topic["id"])
    public = unescape((await anyone.get(f"/topics/{topic['id']}")).text)
    assert "意见征集已于" in _line(public) and "截止" in _line(public)


async def test_a_standard_topic_page_has_no_window_line(world: World, app: Litestar) -> None:
    from tests.world import open_topic

    topic = await open_topic(world.a)
    _, page = await _page(app, world.a, "staff", topic["id"])
    assert 'id="opinion-window"' not in page
