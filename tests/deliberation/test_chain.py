"""Every change on the keyed chain, and the attacks the chain must catch."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from deliberation import audit, chain
from deliberation.audit import verify_all
from deliberation.chain import GENESIS, Event, chain_hash
from deliberation.database import write_transaction
from deliberation.tables import Opinion, Topic, TopicEvent
from tests.cli import run_cli
from tests.deliberation import legacy_db
from tests.world import Township, World, days_from_today, new_township, open_topic, topic_in_state
from tests.world import today as world_today


async def events_of(topic_id: int) -> list[dict[str, Any]]:
    return list(
        await TopicEvent.select().where(TopicEvent.topic == topic_id).order_by(TopicEvent.seq)
    )


async def problems_of(topic_id: int) -> list[audit.ChainProblem]:
    _, problems = await verify_all()
    return [p for p in problems if p.topic_id == topic_id]


@pytest.fixture(scope="module")
async def town(world: World) -> Township:
    return await new_township(world, "链镇")


async def test_each_write_appends_exactly_one_event_of_its_kind(town: Township) -> None:
    staff, rep = town["staff"], town["representative"]
    topic = await open_topic(town, village_id=town.villages[0]["id"])
    tid = topic["id"]

    async def one(kind: str, record: str | None, call: Any) -> dict[str, Any]:
        count = len(await events_of(tid))
        result = await call
        assert result.status_code in (200, 201), result.text
        after = await events_of(tid)
        assert len(after) == count + 1, [e["kind"] for e in after[count:]]
        assert after[-1]["kind"] == kind
        if record:
            assert json.loads(after[-1]["data"])["record"] == record
        return dict(result.json())

    opinion = await one(
        "record.created",
        "opinion",
        rep.post(f"/api/v1/topics/{tid}/opinions", {"content": "支持", "stance": "support"}),
    )
    await one(
        "record.corrected",
        "opinion",
        rep.client.patch(
            f"/api/v1/opinions/{opinion['id']}",
            json={"content": "支持,并建议加装路灯", "reason": "补充"},
            headers=rep.headers,
        ),
    )
    await one(
        "opinion.answered",
        "opinion",
        staff.post(
            f"/api/v1/opinions/{opinion['id']}/answer", {"adoption": "adopted", "reason": "好"}
        ),
    )
    await one(
        "opinion.answered",
        "opinion",
        staff.post(
            f"/api/v1/opinions/{opinion['id']}/answer",
            {"adoption": "partly_adopted", "reason": "部分"},
        ),
    )
    today = str(world_today())
    yesterday = str(world_today() - timedelta(days=1))
    investigation = await one(
        "record.created",
        "investigation",
        staff.post(
            f"/api/v1/topics/{tid}/investigations",
            {"visited_on": today, "place": "三组", "participants": "甲", "findings": "属实"},
        ),
    )
    await one(
        "record.corrected",
        "investigation",
        staff.client.patch(
            f"/api/v1/investigations/{investigation['id']}",
            json={"findings": "属实,涉及12户", "reason": "补充户数"},
            headers=staff.headers,
        ),
    )

    async def move(trigger: str, comment: str = "") -> None:
        current = (await staff.get(f"/api/v1/topics/{tid}")).json()
        await one(
            "transition",
            None,
            staff.post(
                f"/api/v1/topics/{tid}/transitions",
                {"trigger": trigger, "version": current["version"], "comment": comment},
            ),
        )

    await move("investigate")
    await move("begin_site_consultation")
    await one(
        "record.created",
        "site_consultation",
        staff.post(
            f"/api/v1/topics/{tid}/site-consultations",
            {"held_on": today, "place": "村委会", "participants": "乙", "summary": "同意"},
        ),
    )
    meeting = await one(
        "record.created",
        "meeting",
        staff.post(
            f"/api/v1/topics/{tid}/meetings",
            {"scheduled_at": f"{yesterday}T09:00:00+08:00", "place": "会议室", "host": "陈主任"},
        ),
    )
    await move("convene_meeting")
    roster = [{"name": "陈国强", "unit": "政协", "attendance": "present"}]
    await one(
        "record.created",
        "minutes",
        staff.put(
            f"/api/v1/meetings/{meeting['id']}/minutes",
            {"summary": "充分协商", "decisions": "修路灯", "attendees": roster},
        ),
    )
    item = await one(
        "record.created",
        "resolution_item",
        staff.post(
            f"/api/v1/topics/{tid}/resolution-items",
            {"content": "修路灯", "responsible_unit": "村委会", "due_date": days_from_today(90)},
        ),
    )
    await move("adopt_resolution")
    draft = await one(
        "document.drafted",
        "document",
        staff.post(f"/api/v1/topics/{tid}/documents", {"kind": "resolution_notice"}),
    )
    await one(
        "document.published",
        "document",
        staff.post(f"/api/v1/documents/{draft['id']}/publish", {}),
    )
    await move("start_feedback")
    await one(
        "record.created",
        "progress",
        staff.post(
            f"/api/v1/resolution-items/{item['id']}/progress",
            {"note": "已完工", "percent": 100, "completed": True},
        ),
    )
    for rating in ("dissatisfied", "satisfied"):  # rating again keeps the earlier one
        await one(
            "satisfaction.rated",
            "satisfaction",
            rep.post(f"/api/v1/topics/{tid}/satisfaction", {"rating": rating}),
        )
    await one(
        "document.revoked",
        "document",
        staff.post(f"/api/v1/documents/{draft['id']}/revoke", {"reason": "公示有误"}),
    )
    await move("close")
    # The whole life, corrections included, verifies.
    assert await problems_of(tid) == []
    kinds = [e["kind"] for e in await events_of(tid)]
    assert kinds.count("transition") == 6 and kinds[0] == "topic.opened"
    # Both answers are kept: the earlier one is a revision of the opinion.
    revisions = (await staff.get(f"/api/v1/opinions/{opinion['id']}/revisions")).json()
    assert [r["content"]["adoption"] for r in revisions] == [None, "adopted", "partly_adopted"]
    assert revisions[0]["content"]["content"] == "支持"


async def test_a_failure_inside_a_write_leaves_neither_record_nor_event(
    town: Township, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = await open_topic(town, village_id=town.villages[0]["id"])
    count = len(await events_of(topic["id"]))

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(chain, "_append", broken)
    r = await town["representative"].post(
        f"/api/v1/topics/{topic['id']}/opinions", {"content": "半截", "stance": "support"}
    )
    assert r.status_code == 500
    monkeypatch.undo()
    assert len(await events_of(topic["id"])) == count
    assert not await Opinion.exists().where(Opinion.topic == topic["id"])
    row = await Topic.select(Topic.event_seq).where(Topic.id == topic["id"]).first()
    assert row is not None and row["event_seq"] == count
    assert await problems_of(topic["id"]) == []


async def test_an_event_rewritten_with_plain_hashes_is_caught(town: Township) -> None:
    """The first release's chain could be rewritten by recomputing SHA-256 hashes."""
    topic = await topic_in_state(town, "investigated")
    events = await events_of(topic["id"])
    saved = [dict(e) for e in events]
    prev = GENESIS
    try:
        for event in events:
            if event["seq"] == 2:
                event["comment"] = "改过的说明"
            content = Event.of_row(topic["id"], event).content()
            forged = hashlib.sha256(f"{prev}\n{content}".encode()).hexdigest()
            await TopicEvent.update(
                {
                    TopicEvent.comment: event["comment"],
                    TopicEvent.prev_hash: prev,
                    TopicEvent.hash: forged,
                }
            ).where(TopicEvent.id == event["id"])
            prev = forged
        found = await problems_of(topic["id"])
        assert len(found) == 1 and found[0].seq == 1 and "hash" in found[0].reason
        # Forged with the wrong key: caught just the same.
        prev = GENESIS
        for event in events:
            forged = chain_hash(
                prev, Event.of_row(topic["id"], event).content(), b"guessed-key-0000"
            )
            await TopicEvent.update({TopicEvent.prev_hash: prev, TopicEvent.hash: forged}).where(
                TopicEvent.id == event["id"]
            )
            prev = forged
        assert len(await problems_of(topic["id"])) == 1
    finally:
        for event in saved:
            await TopicEvent.update(
                {
                    TopicEvent.comment: event["comment"],
                    TopicEvent.prev_hash: event["prev_hash"],
                    TopicEvent.hash: event["hash"],
                }
            ).where(TopicEvent.id == event["id"])
    assert await problems_of(topic["id"]) == []


async def test_an_edited_record_row_no_longer_matches_its_event(town: Township) -> None:
    topic = await open_topic(town, village_id=town.villages[0]["id"])
    r = await town["representative"].post(
        f"/api/v1/topics/{topic['id']}/opinions", {"content": "原话", "stance": "oppose"}
    )
    opinion_id = r.json()["id"]
    await Opinion.update({Opinion.stance: "support"}).where(Opinion.id == opinion_id)
    try:
        found = await problems_of(topic["id"])
        assert len(found) == 1 and f"opinion id={opinion_id}" in found[0].reason
        assert "stance edited" in found[0].reason
    finally:
        await Opinion.update({Opinion.stance: "oppose"}).where(Opinion.id == opinion_id)
    assert await problems_of(topic["id"]) == []
    # A record slipped in behind the application's back is not on the chain.
    smuggled = await Opinion.insert(
        Opinion(
            topic=topic["id"],
            author=town["representative"].user["id"],
            content="塞进来的",
            stance="support",
            on_behalf_of="",
            answer_reason="",
            created_at=chain.utcnow(),
        )
    )
    try:
        found = await problems_of(topic["id"])
        assert len(found) == 1 and "not on the chain" in found[0].reason
    finally:
        await Opinion.delete().where(Opinion.id == smuggled[0]["id"])


async def test_a_truncated_history_is_caught_against_saved_heads(
    town: Township, database_url: str, tmp_path: Path
) -> None:
    """Delete the newest event and roll the topic's counters and state back: the chain
    itself is consistent again, but a saved copy of the heads names what is gone. The
    topic is not public yet (调研): the staff's copy names it, the public's does not
    (issue 29; tests/deliberation/test_public_chain.py has the public copy's root)."""
    topic = await topic_in_state(town, "investigated")
    public = await town.actors["staff"].client.get("/api/v1/public/chain-heads")
    assert public.status_code == 200 and public.json()["full"] is False
    assert topic["reference"] not in {h["topic_reference"] for h in public.json()["heads"]}
    heads = await town.actors["staff"].get("/api/v1/public/chain-heads")
    assert heads.status_code == 200
    saved = heads.json()
    assert saved["full"] is True
    assert saved["digest"] == audit.heads_digest(saved["heads"])
    mine = next(h for h in saved["heads"] if h["topic_reference"] == topic["reference"])
    copy = tmp_path / "heads.json"
    copy.write_text(json.dumps(saved), encoding="utf-8")
    assert run_cli(database_url, "audit", "verify", "--against", str(copy)).returncode == 0

    events = await events_of(topic["id"])
    last = events[-1]
    assert last["seq"] == mine["seq"] and last["kind"] == "transition"
    async with write_transaction():
        await TopicEvent.delete().where(TopicEvent.id == last["id"])
        await Topic.update(
            {
                Topic.event_seq: Topic.event_seq - 1,
                Topic.version: Topic.version - 1,
                Topic.state: last["from_state"],
            }
        ).where(Topic.id == topic["id"])
    try:
        assert await problems_of(topic["id"]) == []  # consistent on its own …
        result = run_cli(database_url, "audit", "verify", "--against", str(copy))
        assert result.returncode == 1, result.stdout  # … but not against the saved heads
        assert f"MISSING {topic['reference']}: event seq={last['seq']} is gone" in result.stdout
    finally:
        async with write_transaction():
            await TopicEvent.insert(TopicEvent(**{k: v for k, v in last.items() if k != "id"}))
            await Topic.update(
                {
                    Topic.event_seq: Topic.event_seq + 1,
                    Topic.version: Topic.version + 1,
                    Topic.state: last["to_state"],
                }
            ).where(Topic.id == topic["id"])
    assert run_cli(database_url, "audit", "verify", "--against", str(copy)).returncode == 0
    # A copy someone altered does not vouch for anything.
    saved["heads"][0]["hash"] = "0" * 64
    copy.write_text(json.dumps(saved), encoding="utf-8")
    result = run_cli(database_url, "audit", "verify", "--against", str(copy))
    assert result.returncode == 1 and "altered" in result.stdout


def test_legacy_hash_is_the_first_releases() -> None:
    """The old rule, spelled out: SHA-256 over the previous hash and eight fields."""
    from datetime import UTC, datetime

    moment = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    event = {
        "seq": 1,
        "trigger": "open",
        "from_state": None,
        "to_state": "proposed",
        "actor": 3,
        "comment": "",
        "created_at": moment,
    }
    # The first release's canonical_content, written out as it was.
    content = json.dumps(
        {
            "topic_id": 7,
            "seq": 1,
            "trigger": "open",
            "from_state": None,
            "to_state": "proposed",
            "actor_id": 3,
            "comment": "",
            "created_at": "2026-11-01T08:00:00.000000+00:00",
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert (
        audit.legacy_hash(GENESIS, 7, event)
        == hashlib.sha256(f"{GENESIS}\n{content}".encode()).hexdigest()
    )


@pytest.mark.parametrize("tamper", [False, True], ids=["intact", "tampered"])
def test_a_first_release_database_is_rekeyed_by_migrate(tmp_path: Path, tamper: bool) -> None:
    """Chains hashed the old way (plain SHA-256) are checked with the old rule, then
    re-hashed with the key, and the old records are vouched for; a chain edited under
    the old rule is refused rather than blessed with the key."""
    result = legacy_db.built(str(tmp_path / "old.sqlite3"), tamper)
    if tamper:
        assert result["migrated"] is False
        assert "HSL-2026-0001" in result["error"] and "第 2 条事件" in result["error"]
        return
    assert result["migrated"] is True and "re-keyed 2 chain events" in result["report"]
    assert result["checked"] == 1 and result["problems"] == []
    assert result["events"] == [
        [1, "topic.opened", ""],
        [2, "transition", "旧说明"],
        [3, "record.created", audit.BACKFILL_NOTE],
        # Then the topic's own facts and every record under the current scheme.
        [4, "chain.revouched", audit.REVOUCH_NOTE],
    ]
    assert "re-vouched 1 topics" in result["report"]
    assert result["rekeyed_again"] == 0
    assert result["other_key"] == "refused"
