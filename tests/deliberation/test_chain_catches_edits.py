"""Edits made behind the application's back, straight in the database, each reported by
``audit verify`` by name (issue 23): the topic's own facts, a record's place, a deleted
record, an earlier revision, a published PDF's bytes. Each edit is undone afterwards and
the chain is intact again, so the report is the edit's and nothing else's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from deliberation import audit
from deliberation.tables import (
    Document,
    Opinion,
    RecordRevision,
    SatisfactionRating,
    Topic,
)
from tests.cli import run_cli
from tests.world import Township, World, new_township, open_topic


@pytest.fixture(scope="module")
async def town(world: World) -> Township:
    return await new_township(world, "改库镇")


@pytest.fixture(scope="module")
async def feedback_topic(town: Township) -> dict[str, Any]:
    """A topic in feedback with a published notice, an opinion corrected once and a
    不满意 rating."""
    topic = await open_topic(town, village_id=town.villages[0]["id"])
    rep = town["representative"]
    r = await rep.post(
        f"/api/v1/topics/{topic['id']}/opinions",
        {"content": "路灯太少", "stance": "support", "on_behalf_of": "村民王五"},
    )
    assert r.status_code == 201, r.text
    opinion = r.json()
    r = await rep.patch(
        f"/api/v1/opinions/{opinion['id']}", {"content": "路灯太少，晚上看不见", "reason": "补充"}
    )
    assert r.status_code == 200, r.text
    from tests.world import walk

    topic = await walk(town, topic, "feedback")
    r = await rep.post(
        f"/api/v1/topics/{topic['id']}/satisfaction", {"rating": "dissatisfied", "comment": "慢"}
    )
    assert r.status_code == 201, r.text
    return {**topic, "opinion_id": opinion["id"], "rating_id": r.json()["id"]}


async def reasons(topic_id: int) -> list[str]:
    _, problems = await audit.verify_all()
    return [p.reason for p in problems if p.topic_id == topic_id]


@asynccontextmanager
async def edited(undo: Callable[[], Awaitable[Any]]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await undo()


async def _row(table: Any, row_id: int) -> dict[str, Any]:
    row = await table.select().where(table.id == row_id).first()
    assert row is not None
    return dict(row)


@pytest.mark.parametrize(
    ("column", "value", "named"),
    [
        ("title", "被改过的标题", "title edited"),
        ("description", "被改过的描述", "description edited"),
        ("category", "其他", "category edited"),
    ],
)
async def test_an_edited_topic_field_is_named(
    feedback_topic: dict[str, Any], column: str, value: str, named: str
) -> None:
    tid = feedback_topic["id"]
    before = await _row(Topic, tid)
    await Topic.update({getattr(Topic, column): value}).where(Topic.id == tid)
    async with edited(
        lambda: Topic.update({getattr(Topic, column): before[column]}).where(Topic.id == tid)
    ):
        found = await reasons(tid)
        assert found == [f"topic id={tid}: {named} since its latest event"]
    assert await reasons(tid) == []


async def test_a_topic_moved_to_another_township_or_village_is_named(
    world: World, town: Township, feedback_topic: dict[str, Any]
) -> None:
    tid = feedback_topic["id"]
    before = await _row(Topic, tid)
    await Topic.update({Topic.township: world.b.id}).where(Topic.id == tid)
    async with edited(
        lambda: Topic.update({Topic.township: before["township"]}).where(Topic.id == tid)
    ):
        assert f"topic id={tid}: moved to another township" in await reasons(tid)
    await Topic.update({Topic.village: town.villages[1]["id"]}).where(Topic.id == tid)
    async with edited(
        lambda: Topic.update({Topic.village: before["village"]}).where(Topic.id == tid)
    ):
        assert await reasons(tid) == [f"topic id={tid}: moved to another village"]
    assert await reasons(tid) == []


async def test_a_deleted_opinion_or_rating_is_reported_missing(
    feedback_topic: dict[str, Any],
) -> None:
    tid = feedback_topic["id"]
    for table, record, row_id in (
        (Opinion, "opinion", feedback_topic["opinion_id"]),
        (SatisfactionRating, "satisfaction", feedback_topic["rating_id"]),
    ):
        row = await _row(table, row_id)
        await table.delete().where(table.id == row_id)

        async def put_back(table: Any = table, row: dict[str, Any] = row) -> None:
            await table.insert(table(**row))

        async with edited(put_back):
            found = await reasons(tid)
            assert (
                f"{record} id={row_id} is missing (deleted): its latest event vouches for it"
                in found
            )
    assert await reasons(tid) == []


async def test_an_opinion_moved_to_another_topic_is_named(
    town: Township, feedback_topic: dict[str, Any]
) -> None:
    tid, opinion_id = feedback_topic["id"], feedback_topic["opinion_id"]
    other = await open_topic(town)
    await Opinion.update({Opinion.topic: other["id"]}).where(Opinion.id == opinion_id)
    async with edited(lambda: Opinion.update({Opinion.topic: tid}).where(Opinion.id == opinion_id)):
        found = await reasons(other["id"])
        assert (
            f"opinion id={opinion_id} was moved here from topic id={tid}, whose chain vouches it"
            in found
        )
    assert await reasons(tid) == [] and await reasons(other["id"]) == []


@pytest.mark.parametrize("column", ["data", "reason"])
async def test_a_rewritten_earlier_revision_is_named(
    feedback_topic: dict[str, Any], column: str
) -> None:
    tid, opinion_id = feedback_topic["id"], feedback_topic["opinion_id"]
    revision = (
        await RecordRevision.select()
        .where(RecordRevision.record_kind == "opinion", RecordRevision.record_id == opinion_id)
        .first()
    )
    assert revision is not None and revision["revision"] == 1
    rewritten = (
        json.dumps({**json.loads(revision["data"]), "stance": "oppose"})
        if column == "data"
        else "改写的理由"
    )
    await RecordRevision.update({getattr(RecordRevision, column): rewritten}).where(
        RecordRevision.id == revision["id"]
    )
    async with edited(
        lambda: RecordRevision.update({getattr(RecordRevision, column): revision[column]}).where(
            RecordRevision.id == revision["id"]
        )
    ):
        assert await reasons(tid) == [
            f"opinion id={opinion_id}: earlier revision 1 (its content or reason) was edited"
        ]
    # A kept revision deleted is missing.
    await RecordRevision.delete().where(RecordRevision.id == revision["id"])
    async with edited(lambda: RecordRevision.insert(RecordRevision(**revision))):
        assert await reasons(tid) == [f"opinion id={opinion_id}: earlier revision 1 is missing"]
    assert await reasons(tid) == []


async def test_swapped_pdf_bytes_are_caught_though_the_sha256_column_is_kept(
    feedback_topic: dict[str, Any], database_url: str, tmp_path: Path
) -> None:
    tid = feedback_topic["id"]
    document = (
        await Document.select().where(Document.topic == tid, Document.status == "published").first()
    )
    assert document is not None
    forged = bytes(document["pdf"]).replace(b"%%EOF", b"%%EOF\n% forged", 1)
    assert forged != bytes(document["pdf"])
    await Document.update({Document.pdf: forged}).where(Document.id == document["id"])
    async with edited(
        lambda: Document.update({Document.pdf: document["pdf"]}).where(
            Document.id == document["id"]
        )
    ):
        assert await reasons(tid) == [
            f"document id={document['id']}: the stored PDF's bytes were swapped"
        ]
        # The command reports it too, with a saved copy of the heads as well.
        heads = tmp_path / "heads.json"
        heads.write_text(json.dumps(await audit.chain_heads()), encoding="utf-8")
        result = run_cli(database_url, "audit", "verify", "--against", str(heads))
        assert result.returncode == 1
        assert f"document id={document['id']}: the stored PDF's bytes were swapped" in (
            result.stdout
        )
    assert await reasons(tid) == []
