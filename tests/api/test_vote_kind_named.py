"""A vote kind is a file edit whatever its name (docs/record-kinds.md "The vote kind"):
a test-only copy of 四议两公开 names its vote kind ``ballot``; the topic page offers the
vote form for it, takes a vote through it and the quorum reads it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path

import pytest
from litestar import Litestar

from deliberation.clock import china_today
from tests.api.test_sessions_end import page_client
from tests.second_workflow import loaded_beside_shipped
from tests.world import World, new_township
from workflows.declaration import Workflow
from workflows.registry import HERE as SHIPPED

KEY = "ballots"


@pytest.fixture
async def ballots(tmp_path: Path) -> AsyncIterator[Workflow]:
    siyi = (SHIPPED / "siyi" / "v1.toml").read_text(encoding="utf-8")
    assert siyi.count('key = "siyi"') == 1 and 'name = "vote"' in siyi
    text = (
        siyi.replace('key = "siyi"', f'key = "{KEY}"')
        .replace('name = "vote"', 'name = "ballot"')
        .replace('quorum = "vote"', 'quorum = "ballot"')
    )
    async with loaded_beside_shipped(tmp_path, KEY, text) as workflow:
        yield workflow


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
