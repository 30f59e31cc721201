"""The public chain names only what the public may read (issue 29, item 5): the public
heads list the topics readable from 决议 on, and one root over every chain's head at
``root_as_of`` commits to the hidden ones; ``audit verify --against`` on a saved public
copy still catches an event of a hidden topic removed or changed (re-hashed with the
key, so the chain alone looks intact), after the chains have grown since the copy."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from deliberation import audit
from deliberation.chain import Event, chain_hash
from deliberation.database import write_transaction
from deliberation.tables import Topic, TopicEvent
from tests.cli import run_cli
from tests.world import Township, World, fire, new_township, open_topic, topic_in_state

HIDDEN_SOON = 600
"""Seconds the clock moves on after the topics are made, so that their events are
stamped before the root's ``root_as_of`` (five to six minutes before the answer)."""


@pytest.fixture(scope="module")
async def town(world: World) -> Township:
    return await new_township(world, "公链镇")


async def _events(topic_id: int) -> list[dict[str, Any]]:
    return [
        dict(e)
        for e in await TopicEvent.select()
        .where(TopicEvent.topic == topic_id)
        .order_by(TopicEvent.seq)
    ]


@asynccontextmanager
async def _cut_last_event(topic_id: int) -> AsyncIterator[dict[str, Any]]:
    """The topic's newest event (a transition) deleted and the topic rolled back to
    before it, consistently: the chain alone shows nothing. Put back afterwards."""
    events = await _events(topic_id)
    last = events[-1]
    assert last["kind"] == "transition"
    async with write_transaction():
        await TopicEvent.delete().where(TopicEvent.id == last["id"])
        await Topic.update(
            {
                Topic.event_seq: Topic.event_seq - 1,
                Topic.version: Topic.version - 1,
                Topic.state: last["from_state"],
            }
        ).where(Topic.id == topic_id)
    try:
        yield last
    finally:
        async with write_transaction():
            await TopicEvent.insert(TopicEvent(**{k: v for k, v in last.items() if k != "id"}))
            await Topic.update(
                {
                    Topic.event_seq: Topic.event_seq + 1,
                    Topic.version: Topic.version + 1,
                    Topic.state: last["to_state"],
                }
            ).where(Topic.id == topic_id)


@asynccontextmanager
async def _rewritten_comment(topic_id: int) -> AsyncIterator[None]:
    """The newest event's comment changed and its hash computed again with the key (as
    someone holding the key would): the chain alone shows nothing."""
    last = (await _events(topic_id))[-1]
    forged = {**last, "comment": "改过的理由"}
    new_hash = chain_hash(last["prev_hash"], Event.of_row(topic_id, forged).content())
    await TopicEvent.update(
        {TopicEvent.comment: forged["comment"], TopicEvent.hash: new_hash}
    ).where(TopicEvent.id == last["id"])
    try:
        yield
    finally:
        await TopicEvent.update(
            {TopicEvent.comment: last["comment"], TopicEvent.hash: last["hash"]}
        ).where(TopicEvent.id == last["id"])


async def _problems(topic_id: int) -> list[str]:
    _, problems = await audit.verify_all()
    return [p.describe() for p in problems if p.topic_id == topic_id]


async def test_the_public_heads_name_only_topics_the_public_may_read(
    world: World, town: Township
) -> None:
    hidden = await open_topic(town)  # 已提出: its township's only
    investigated = await topic_in_state(town, "investigated")
    public = await topic_in_state(town, "resolution")  # from 决议 on: anyone's

    async def heads(headers: dict[str, str]) -> dict[str, Any]:
        response = await world.client.get("/api/v1/public/chain-heads", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert body["digest"] == audit.heads_digest(body["heads"])
        assert body["root"] == await audit.root_at(body["root_as_of"])
        assert body["root_as_of"] < body["as_of"]
        return body

    anyone = await heads({})
    named = {h["topic_reference"] for h in anyone["heads"]}
    assert public["reference"] in named and anyone["full"] is False
    mine = next(h for h in anyone["heads"] if h["topic_reference"] == public["reference"])
    assert mine["seq"] == len(await _events(public["id"]))
    text = json.dumps(anyone)
    for secret in (hidden, investigated):
        assert secret["reference"] not in text  # not named anywhere in the answer
    # Another township's representative is the public here.
    theirs = await heads(world.b["representative"].headers)
    assert hidden["reference"] not in {h["topic_reference"] for h in theirs["heads"]}
    # The township's staff and the county, signed in: every topic, and the same root.
    for who in (town["staff"], world.supervisor):
        everything = await heads(who.headers)
        listed = {h["topic_reference"] for h in everything["heads"]}
        assert {hidden["reference"], investigated["reference"], public["reference"]} <= listed
        assert everything["full"] is True
        if everything["root_as_of"] == anyone["root_as_of"]:
            assert everything["root"] == anyone["root"]


async def test_the_root_changes_when_a_hidden_chain_is_edited_or_cut(
    town: Township, move_clock: Callable[[float], None]
) -> None:
    hidden = await topic_in_state(town, "investigated")
    move_clock(HIDDEN_SOON)
    as_of = (await audit.chain_heads())["root_as_of"]
    before = await audit.root_at(as_of)
    leaves = await audit.leaves_at(datetime.fromisoformat(as_of))
    assert ("topic", hidden["reference"]) in {(x["chain"], x["reference"]) for x in leaves}
    async with _rewritten_comment(hidden["id"]):
        assert await _problems(hidden["id"]) == []  # the chain alone looks intact …
        assert await audit.root_at(as_of) != before  # … the root does not
    async with _cut_last_event(hidden["id"]):
        assert await _problems(hidden["id"]) == []
        assert await audit.root_at(as_of) != before
    assert await audit.root_at(as_of) == before


async def test_a_saved_public_copy_catches_hidden_and_public_edits_after_the_chains_grew(
    world: World,
    town: Township,
    database_url: str,
    tmp_path: Path,
    move_clock: Callable[[float], None],
) -> None:
    hidden = await topic_in_state(town, "investigated")
    public = await topic_in_state(town, "resolution")
    move_clock(HIDDEN_SOON)
    response = await world.client.get("/api/v1/public/chain-heads")
    saved = response.json()
    assert hidden["reference"] not in response.text
    copy = tmp_path / "heads.json"
    copy.write_text(json.dumps(saved), encoding="utf-8")
    # The chains grow after the copy: a new topic, a step on another hidden one.
    grown = await open_topic(town)
    r = await fire(town["staff"], grown, "reject", comment="不予立项")
    assert r.status_code == 200, r.text
    other = await open_topic(town)
    assert other["reference"] not in response.text

    def verify() -> Any:
        return run_cli(database_url, "audit", "verify", "--against", str(copy), cwd=tmp_path)

    result = verify()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"及 {saved['root_as_of']} 时全部审计链的根一致" in result.stdout
    root_differs = f"MISSING the root over every chain at {saved['root_as_of']} differs"

    # A hidden topic's event changed and re-hashed: only the root shows it.
    async with _rewritten_comment(hidden["id"]):
        result = verify()
        assert result.returncode == 1, result.stdout
        assert root_differs in result.stdout and "BROKEN" not in result.stdout
    # A hidden topic's newest event removed, the topic rolled back: the same.
    async with _cut_last_event(hidden["id"]):
        result = verify()
        assert result.returncode == 1, result.stdout
        assert root_differs in result.stdout and "BROKEN" not in result.stdout
    # A public topic's newest event removed: named in the copy.
    async with _cut_last_event(public["id"]) as last:
        result = verify()
        assert result.returncode == 1, result.stdout
        assert f"MISSING {public['reference']}: event seq={last['seq']} is gone" in result.stdout
    assert verify().returncode == 0

    # The copy's root altered: the copy no longer verifies.
    copy.write_text(json.dumps({**saved, "root": "0" * 64}), encoding="utf-8")
    result = verify()
    assert result.returncode == 1 and root_differs in result.stdout
    copy.write_text(json.dumps({**saved, "root_as_of": "昨天"}), encoding="utf-8")
    assert "root or root_as_of is not readable" in verify().stdout


async def test_a_copy_saved_before_the_root_still_verifies(
    world: World, town: Township, database_url: str, tmp_path: Path
) -> None:
    await topic_in_state(town, "resolution")
    saved = (await world.client.get("/api/v1/public/chain-heads")).json()
    before_29 = {k: v for k, v in saved.items() if k not in ("root", "root_as_of")}
    before_27 = {k: saved[k] for k in ("as_of", "heads", "digest")}
    for shape in (before_29, before_27):
        assert await audit.check_against(shape) == []
        copy = tmp_path / "old.json"
        copy.write_text(json.dumps(shape), encoding="utf-8")
        result = run_cli(database_url, "audit", "verify", "--against", str(copy), cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "全部审计链的根" not in result.stdout
