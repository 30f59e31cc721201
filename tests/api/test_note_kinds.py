"""A new record kind of an existing type is a workflow-file edit only (issue 26 item 7;
docs/record-kinds.md): a test-only workflow declares ``village_walk`` (入户走访记录), of
type ``note``, a name no code knows, and a step that needs one. With no code change it
is added, listed and corrected through the API, added from the topic page's form,
counted by the ``records`` requirement, vouched on the chain (the audit passes, and an
edit behind the application's back is named) and filed in the archive bag."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from deliberation import audit
from deliberation.clock import china_today
from deliberation.tables import NoteRecord
from tests.api.test_archive import unpack
from tests.api.test_sessions_end import page_client
from tests.second_workflow import loaded_beside_shipped
from tests.world import Township, World, fire, new_township, open_topic
from workflows.declaration import Workflow

KEY = "walks"
KIND = "village_walk"
LABEL = "入户走访记录"
WALKS = f"""
key = "{KEY}"
version = 1
label = "入户走访"
summary = "逐户走访、记录、办结：仅供测试。"
basis = ["测试用规则"]
scope = "township"
openers = ["liaison", "staff"]
initial = "visiting"

[[states]]
name = "visiting"
label = "走访中"
time_limit = {{ label = "完成走访", working_days = 5 }}

[[states]]
name = "visited"
label = "已走访"
terminal = true

[[states]]
name = "dropped"
label = "已放弃"
terminal = true

[[transitions]]
trigger = "finish_walks"
label = "完成走访"
from = ["visiting"]
to = "visited"
roles = ["staff"]
requires = [{{ records = "{KIND}", name = "walk_recorded", label = "至少一条{LABEL}" }}]

[[transitions]]
trigger = "drop_walks"
label = "放弃走访"
from = ["visiting"]
to = "dropped"
roles = ["staff"]
danger = true
requires = [{{ comment = true, name = "reason_given", label = "说明理由" }}]

[[records]]
name = "{KIND}"
type = "note"
label = "{LABEL}"
roles = ["liaison", "staff"]
open_in = ["visiting"]
correct_in = ["visiting"]
read = {{ full = ["liaison", "staff"], others = "summary", public = "summary" }}
"""


@pytest.fixture
async def walks(tmp_path: Path) -> AsyncIterator[Workflow]:
    """``walks`` loaded beside the shipped workflows; its topics taken out afterwards."""
    async with loaded_beside_shipped(tmp_path, KEY, WALKS) as workflow:
        yield workflow


def _note(**extra: Any) -> dict[str, Any]:
    return {
        "kind": KIND,
        "held_on": str(china_today()),
        "place": "三组",
        "participants": "张三（13900001111）",
        "summary": "走访 12 户，9 户赞成硬化",
        **extra,
    }


async def _reasons(topic_id: int) -> list[str]:
    _, problems = await audit.verify_all()
    return [p.reason for p in problems if p.topic_id == topic_id]


async def test_a_note_kind_declared_in_a_file_works_through_the_api(
    world: World, walks: Workflow, tmp_path: Path
) -> None:
    town: Township = await new_township(world, "走访镇")
    topic = await open_topic(town, workflow=KEY)
    tid = topic["id"]
    staff, rep = town["staff"], town["representative"]

    # The step waits for the kind, by the name and label the file gives.
    answer = await fire(staff, topic, "finish_walks")
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "condition_failed"
    assert "walk_recorded" in answer.json()["missing"]

    # Added by the roles the file names; refused to others and for kinds it lacks.
    answer = await rep.post(f"/api/v1/topics/{tid}/notes", _note())
    assert answer.status_code == 403, answer.text
    for kind in ("investigation", "no_such_kind"):
        answer = await staff.post(f"/api/v1/topics/{tid}/notes", _note(kind=kind))
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "validation_error"
        assert answer.json()["errors"][0]["field"] == "kind"
        assert LABEL in answer.json()["errors"][0]["message"]
    answer = await staff.post(f"/api/v1/topics/{tid}/notes", _note())
    assert answer.status_code == 201, answer.text
    note = answer.json()
    assert note["kind"] == KIND and note["kind_label"] == LABEL and note["revision"] == 1

    # Listed as the file's read rule says: in full to the office, without names to others.
    listed = (await staff.get(f"/api/v1/topics/{tid}/notes", params={"kind": KIND})).json()
    assert [n["id"] for n in listed] == [note["id"]]
    assert listed[0]["participants"] == "张三（13900001111）"
    seen = (await rep.get(f"/api/v1/topics/{tid}/notes")).json()
    assert [n["view"] for n in seen] == ["summary"] and seen[0]["participants"] == ""

    # Corrected with a reason; the earlier revision kept.
    answer = await staff.patch(
        f"/api/v1/notes/{note['id']}", {"summary": "走访 12 户，10 户赞成", "reason": "漏记一户"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["revision"] == 2
    revisions = (await staff.get(f"/api/v1/notes/{note['id']}/revisions")).json()
    assert [r["current"] for r in revisions] == [False, True]
    assert revisions[0]["content"]["summary"] == "走访 12 户，9 户赞成硬化"
    assert revisions[0]["reason"] == "漏记一户"

    # Vouched on the chain: the audit passes; an edit behind the app's back is named.
    assert await _reasons(tid) == []
    await NoteRecord.update({NoteRecord.summary: "被改过"}).where(NoteRecord.id == note["id"])
    try:
        found = await _reasons(tid)
        assert any(KIND in r and "summary edited" in r for r in found), found
    finally:
        await NoteRecord.update({NoteRecord.summary: "走访 12 户，10 户赞成"}).where(
            NoteRecord.id == note["id"]
        )
    assert await _reasons(tid) == []

    # Now the step is taken, and the finished topic's bag files the note under its kind.
    answer = await fire(staff, topic, "finish_walks")
    assert answer.status_code == 200, answer.text
    answer = await staff.patch(f"/api/v1/notes/{note['id']}", {"place": "四组", "reason": "改"})
    assert answer.status_code == 409, answer.text  # not correctable once visited
    answer = await staff.get(f"/api/v1/topics/{tid}/archive")
    assert answer.status_code == 200, answer.text
    bag = unpack(answer.content, tmp_path / "bag")
    record = json.loads((bag / "data/record.json").read_text())
    check = json.loads((bag / "data/chain-check.json").read_text())
    assert [n["summary"] for n in record["records"][KIND]] == ["走访 12 户，10 户赞成"]
    assert check["intact"] is True


async def test_a_note_kind_declared_in_a_file_is_added_from_the_topic_page(
    world: World, app: Litestar, walks: Workflow
) -> None:
    town = await new_township(world, "走访页镇")
    topic = await open_topic(town, workflow=KEY)
    tid = topic["id"]
    staff = await page_client(app, town["staff"].user["username"])

    page = unescape((await staff.get(f"/topics/{tid}")).text)
    assert f'id="{KIND}-form"' in page  # under 下一步, where the step waits for it
    assert f"至少一条{LABEL}" in page and f"保存{LABEL}" in page

    # A missing field is said next to it; nothing is saved.
    form = {k: v for k, v in _note().items() if k != "kind"}
    answer = await staff.post(f"/topics/{tid}/records/{KIND}", data={**form, "place": ""})
    assert answer.status_code == 422
    assert await NoteRecord.count().where(NoteRecord.topic == tid) == 0

    answer = await staff.post(f"/topics/{tid}/records/{KIND}", data=form)
    assert answer.status_code == 303, unescape(answer.text)[-1500:]
    page = unescape((await staff.get(answer.headers["location"])).text)
    assert f"{LABEL}已保存。" in page
    assert f'id="{KIND}-records"' in page and "走访 12 户，9 户赞成硬化" in page
    [row] = await NoteRecord.select().where(NoteRecord.topic == tid)
    assert row["kind"] == KIND

    # Corrected from the page, with a reason.
    answer = await staff.post(
        f"/topics/{tid}/corrections/{KIND}/{row['id']}",
        data={**form, "summary": "走访 13 户", "reason": "补记一户"},
    )
    assert answer.status_code == 303, unescape(answer.text)[-1500:]
    page = unescape((await staff.get(answer.headers["location"])).text)
    assert "走访 13 户" in page and "已更正 1 次" in page

    # The step it waited for is now the staff's to take (it ends the topic: confirmed).
    answer = await staff.post(
        f"/topics/{tid}/transitions",
        data={"trigger": "finish_walks", "version": str(topic["version"]), "confirmed": "yes"},
    )
    assert answer.status_code == 303, unescape(answer.text)[-1500:]
    assert "已走访" in unescape((await staff.get(f"/topics/{tid}")).text)
