"""A vote kind is a file edit whatever its name (docs/record-kinds.md "The vote kind"):
a test-only copy of 四议两公开 names its vote kind ``ballot``; the topic page offers the
vote form for it, takes a vote through it and the quorum reads it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path

import pytest
from litestar import Litestar

from deliberation import context
from deliberation.clock import china_today
from deliberation.tables import Topic, Vote
from tests.api.test_sessions_end import page_client
from tests.second_workflow import take_out_topics_of
from tests.world import World, new_township
from workflows.declaration import Workflow
from workflows.registry import HERE as SHIPPED
from workflows.registry import Registry

KEY = "ballots"


@pytest.fixture
async def ballots(tmp_path: Path) -> AsyncIterator[Workflow]:
    for shipped in SHIPPED.iterdir():
        if shipped.is_dir() and any(shipped.glob("v*.toml")):
            shutil.copytree(shipped, tmp_path / shipped.name)
    siyi = (SHIPPED / "siyi" / "v1.toml").read_text(encoding="utf-8")
    assert siyi.count('key = "siyi"') == 1 and 'name = "vote"' in siyi
    text = (
        siyi.replace('key = "siyi"', f'key = "{KEY}"')
        .replace('name = "vote"', 'name = "ballot"')
        .replace('quorum = "vote"', 'quorum = "ballot"')
    )
    (tmp_path / KEY).mkdir()
    (tmp_path / KEY / "v1.toml").write_text(text, encoding="utf-8")
    here = context.current()
    before = here.workflows
    registry = Registry.load(tmp_path)
    here.workflows = registry
    try:
        yield registry.latest(KEY)
    finally:
        here.workflows = before
        ids = [r["id"] for r in await Topic.select(Topic.id).where(Topic.workflow_key == KEY)]
        if ids:
            await Vote.delete().where(Vote.topic.is_in(ids))
        await take_out_topics_of(KEY)


async def test_a_vote_kind_of_another_name_is_offered_taken_and_counted_from_the_page(
    world: World, app: Litestar, ballots: Workflow
) -> None:
    town = await new_township(world, "表决镇")
    cadre_api = town["village_cadre"]
    opened = await cadre_api.post(
        "/api/v1/topics",
        {
            "title": "村集体厂房出租（表决另名）",
            "description": "拟利用村集体闲置厂房发展来料加工。",
            "village_id": town.villages[0]["id"],
            "workflow": KEY,
        },
    )
    assert opened.status_code == 201, opened.text
    topic = opened.json()
    tid = topic["id"]
    first = next(t for t in ballots.transitions if ballots.initial in t.sources and not t.danger)
    rule = next(r for r in first.requires if r.kind == "quorum")
    assert rule.param("quorum") == "ballot"
    body = rule.param("body")

    cadre = await page_client(app, cadre_api.user["username"])
    page = unescape((await cadre.get(f"/topics/{tid}")).text)
    assert 'id="vote-form"' in page
    assert f'action="/topics/{tid}/records/ballot"' in page

    answer = await cadre.post(
        f"/topics/{tid}/records/ballot",
        data={
            "body": body,
            "held_on": str(china_today()),
            "roster_size": "7",
            "present": "7",
            "for": "6",
            "against": "1",
            "abstain": "0",
            "method": "无记名投票",
            "presided_by": "王书记",
        },
    )
    assert answer.status_code == 303, unescape(answer.text)[-1500:]
    page = unescape((await cadre.get(f"/topics/{tid}")).text)
    assert 'id="votes"' in page and "无记名投票" in page
    listed = await cadre_api.get(f"/api/v1/topics/{tid}/votes")
    assert [v["kind"] for v in listed.json()] == ["ballot"]

    answer = await cadre.post(
        f"/topics/{tid}/transitions", data={"trigger": first.trigger, "version": "1"}
    )
    assert answer.status_code == 303, unescape(answer.text)[-1500:]
    moved = await cadre_api.get(f"/api/v1/topics/{tid}")
    assert moved.json()["state"] == first.dest
