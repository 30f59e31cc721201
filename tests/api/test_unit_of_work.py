"""The stage is decided again on the locked topic when a document's draft is saved:
a topic that moved on while its PDF rendered gets no draft it may no longer have."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from litestar import Litestar

from deliberation.documents.service import create_document, publish_document
from deliberation.errors import DomainError
from deliberation.tables import Document
from deliberation.topics import fire_trigger
from tests.world import World, satisfy, topic_in_state


async def test_a_draft_rendered_while_the_topic_closed_is_not_kept(
    app: Litestar, world: World
) -> None:
    t = world.a
    topic = await topic_in_state(t, "feedback")
    await satisfy(t, topic, "items_completed")
    await satisfy(t, topic, "satisfaction_rated")
    version = (await t["staff"].get(f"/api/v1/topics/{topic['id']}")).json()["version"]
    staff = t["staff"].principal
    real = app.state.publishing

    class ClosingWhileRendering:
        """Renders the draft, and meanwhile someone closes the topic."""

        async def render(self, job: Any) -> bytes:
            await fire_trigger(staff, topic["id"], "close", version, "办结")
            return bytes(await real.renderer.render(job))

    publishing = dataclasses.replace(real, renderer=ClosingWhileRendering())
    with pytest.raises(DomainError) as refused:
        await create_document(staff, topic["id"], "minutes", publishing)
    assert refused.value.status == 409
    assert str(refused.value) == "议题处于“已办结”阶段，不能生成会议纪要"
    assert not await Document.exists().where(
        (Document.topic == topic["id"]) & (Document.kind == "minutes")
    )
    page = (await t["staff"].get(f"/api/v1/topics/{topic['id']}/documents")).json()
    assert [d for d in page if d["kind"] == "minutes"] == []


async def test_a_publish_rendered_while_the_topic_closed_is_refused_and_takes_no_number(
    app: Litestar, world: World
) -> None:
    """Publishing decides again on the locked row too: the minutes, drafted while the
    topic was in 落实反馈, are not posted once someone closed it during the render."""
    t = world.a
    topic = await topic_in_state(t, "feedback")
    await satisfy(t, topic, "items_completed")
    await satisfy(t, topic, "satisfaction_rated")
    staff = t["staff"].principal
    real = app.state.publishing
    draft = await create_document(staff, topic["id"], "minutes", real)
    version = (await t["staff"].get(f"/api/v1/topics/{topic['id']}")).json()["version"]

    class ClosingWhileRendering:
        """Renders the final PDF, and meanwhile someone closes the topic."""

        async def render(self, job: Any) -> bytes:
            await fire_trigger(staff, topic["id"], "close", version, "办结")
            return bytes(await real.renderer.render(job))

    publishing = dataclasses.replace(real, renderer=ClosingWhileRendering())
    with pytest.raises(DomainError) as refused:
        await publish_document(staff, draft.id, None, publishing)
    assert refused.value.status == 409
    assert "已办结" in str(refused.value) and "会议纪要" in str(refused.value)
    row = (
        await Document.select(Document.status, Document.number)
        .where(Document.id == draft.id)
        .first()
    )
    assert row == {"status": "draft", "number": None}
    # Nothing posted: the public board has no minutes of this topic.
    board = (await t["staff"].get(f"/api/v1/topics/{topic['id']}/documents")).json()
    assert [d["status"] for d in board if d["kind"] == "minutes"] == ["draft"]
