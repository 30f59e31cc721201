"""The annual plan (issue 27) through the API: a draft, its published notice read back
(title, number, a table row per item, the QR code of its verify page), a revision that
supersedes it, the county's own numbers, numbers without holes beside topic notices,
who may do what, and the refusals."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

import pdfplumber

from deliberation.audit import verify_all
from deliberation.clock import china_today
from deliberation.documents.content import number_prefix
from deliberation.tables import PlanItem, Suggestion
from tests.api.test_documents import _qr_texts, create, pdf_of, text_of
from tests.deliberation.owned import file_suggestion
from tests.world import Actor, Township, World, new_township, open_topic, topic_in_state

HEADER = ["序号", "季度", "议题", "协商流程", "牵头单位", "来源"]
QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")
WORKFLOW_LABELS = {"standard": "标准协商", "micro": "微协商"}


def items(n: int = 3, **first: Any) -> list[dict[str, Any]]:
    made = [
        {
            "title": f"金山村第{k + 1}组道路硬化",
            "quarter": 1 + k % 4,
            "workflow": "standard" if k % 2 == 0 else "micro",
            "lead_unit": "镇村建办" if k % 2 == 0 else "镇水利站",
        }
        for k in range(n)
    ]
    made[0].update(first)
    return made


async def draft(actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    r = await actor.post("/api/v1/plans", body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def publish(actor: Actor, plan_id: int) -> dict[str, Any]:
    r = await actor.post(f"/api/v1/plans/{plan_id}/publish", {})
    assert r.status_code == 200, r.text
    return dict(r.json())


def rows_of(pdf: bytes) -> list[list[str]]:
    """The attachment's table rows, page after page; every page's table starts with
    the header (it repeats)."""
    rows = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            for table in page.extract_tables():
                cells = [["".join((c or "").split()) for c in row] for row in table]
                assert cells[0] == HEADER
                rows += cells[1:]
    return rows


def expected_rows(sent: list[dict[str, Any]], sources: list[str]) -> list[list[str]]:
    return [
        [
            str(n),
            QUARTERS[item["quarter"] - 1],
            item["title"],
            WORKFLOW_LABELS[item["workflow"]],
            item["lead_unit"],
            source,
        ]
        for n, (item, source) in enumerate(zip(sent, sources, strict=True), start=1)
    ]


async def test_the_plan_pdf_reads_back_with_its_title_number_items_and_qr(
    world: World, tmp_path: Any
) -> None:
    t = await new_township(world, "计划镇")
    staff = t["staff"]
    topic = await open_topic(t)
    sent = items(24)
    sent[3]["topic_id"] = topic["id"]
    plan = await draft(staff, {"year": 2027, "items": sent})
    assert plan["status"] == "draft" and plan["version"] == 1 and plan["document"] is None
    assert [i["title"] for i in plan["items"]] == [i["title"] for i in sent]
    # A draft is the office's: the public does not see it.
    assert (await world.client.get(f"/api/v1/plans/{plan['id']}")).status_code == 404
    listed = (await world.client.get("/api/v1/plans", params={"township_id": t.id})).json()
    assert listed == []

    published = await publish(staff, plan["id"])
    assert published["status"] == "published"
    document = published["document"]
    year = china_today().year
    assert document["number"] == f"{number_prefix(t.name)}〔{year}〕1号"
    assert document["kind"] == "annual_plan" and document["kind_label"] == "协商计划"
    assert document["topic_id"] is None and document["topic_reference"] is None
    assert (document["plan_id"], document["plan_version"], document["plan_year"]) == (
        plan["plan_id"],
        1,
        2027,
    )
    pdf = await pdf_of(world.admin, document)
    text = text_of(pdf)
    assert "关于印发2027年度“好商量”协商计划的通知" in text
    assert document["number"] in text
    assert f"{t.name}“好商量”协商议事会" in text
    assert "协商计划 2027年度（第1版）" in text
    assert rows_of(pdf) == expected_rows(sent, ["直接列入"] * len(sent))
    # Every page carries the QR code of the verify page.
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        pages = len(doc.pages)
    assert pages >= 3, "24 items run the attachment over two pages"
    assert _qr_texts(pdf, tmp_path) == [document["verify_url"]] * pages
    assert document["verify_url"].endswith(f"/verify/{document['id']}")

    # Published: public, and on the notice board.
    public = (await world.client.get(f"/api/v1/plans/{plan['id']}")).json()
    assert public["status"] == "published" and len(public["items"]) == 24
    page = await world.client.get(f"/verify/{document['id']}")
    assert page.status_code == 200
    assert "协商计划" in page.text and f"2027年度 {t.name} 第1版" in page.text
    notices = (await world.client.get("/api/v1/public/notices", params={"limit": 100})).json()
    assert document["id"] in {d["id"] for d in notices["items"]}
    # Published once: again is a 409.
    again = await staff.post(f"/api/v1/plans/{plan['id']}/publish", {})
    assert again.status_code == 409 and "草稿" in again.json()["detail"]


async def test_a_revised_plan_supersedes_the_first_on_its_verify_page(world: World) -> None:
    t = await new_township(world, "修订镇")
    staff = t["staff"]
    first = await publish(staff, (await draft(staff, {"year": 2027, "items": items(2)}))["id"])
    # A draft that is replaced before it is published is discarded.
    dropped = await draft(staff, {"year": 2027, "items": items(1)})
    sent = items(3)
    second = await draft(staff, {"year": 2027, "items": sent, "note": "增列第三季度道路硬化议题"})
    assert second["version"] == 3 and second["status"] == "draft"
    gone = (await staff.get(f"/api/v1/plans/{dropped['id']}")).json()
    assert gone["status"] == "discarded"
    # The items kept from the first version say so.
    assert [i["carried_from"] for i in second["items"]] == [
        first["items"][0]["id"],
        first["items"][1]["id"],
        None,
    ]
    second = await publish(staff, second["id"])
    assert second["supersedes_id"] == first["id"]
    old = (await world.client.get(f"/api/v1/plans/{first['id']}")).json()
    assert old["status"] == "superseded" and old["superseded_by_id"] == second["id"]
    assert old["document"]["status"] == "superseded"
    assert old["document"]["superseded_by"] == second["document"]["id"]

    page = await world.client.get(f"/verify/{first['document']['id']}")
    assert "已被新版本替代" in page.text
    assert f'href="/verify/{second["document"]["id"]}"' in page.text
    text = text_of(await pdf_of(staff, second["document"]))
    assert "本计划为第3版，自发布之日起替代第2版。修订说明：增列第三季度道路硬化议题。" in text
    assert "协商计划 2027年度（第3版）" in text
    numbers = [first["document"]["number"], second["document"]["number"]]
    assert [int(re.findall(r"〔\d{4}〕(\d+)号", n)[0]) for n in numbers] == [1, 2]


async def test_the_county_plan_takes_the_county_numbers(world: World) -> None:
    year = china_today().year
    plan = await draft(world.supervisor, {"year": 2031, "items": items(2)})
    assert plan["township_id"] is None
    published = await publish(world.supervisor, plan["id"])
    assert published["document"]["number"] == f"县政协协商〔{year}〕1号"
    assert published["document"]["township_id"] is None
    text = text_of(await pdf_of(world.admin, published["document"]))
    assert "县政协“好商量”协商议事工作办公室" in text and f"县政协协商〔{year}〕1号" in text
    page = await world.client.get(f"/verify/{published['document']['id']}")
    assert "2031年度 全县 第1版" in page.text
    # The county's supervisor may revoke the county plan's notice; a township's staff not.
    document_id = published["document"]["id"]
    r = await world.a["staff"].post(f"/api/v1/documents/{document_id}/revoke", {"reason": "x"})
    assert r.status_code == 403, r.text
    r = await world.supervisor.post(
        f"/api/v1/documents/{document_id}/revoke", {"reason": "计划有误，重新印发"}
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    page = await world.client.get(f"/verify/{document_id}")
    assert "已撤销" in page.text and "计划有误，重新印发" in page.text
    # A township's staff may not draft the county's plan, nor another township's.
    r = await world.a["staff"].post(
        "/api/v1/plans", {"year": 2031, "items": items(1), "township_id": world.b.id}
    )
    assert r.status_code == 403, r.text


async def test_a_plan_and_topic_notices_published_together_leave_no_hole(world: World) -> None:
    t = await new_township(world, "并发计划镇")
    staff = t["staff"]
    topics = [await topic_in_state(t, "resolution") for _ in range(3)]
    notices = [await create(staff, topic["id"], "resolution_notice") for topic in topics]
    plans = [await draft(staff, {"year": 2027 + n, "items": items(2)}) for n in range(2)]
    answers = await asyncio.gather(
        *(staff.post(f"/api/v1/documents/{d['id']}/publish", {}) for d in notices),
        *(staff.post(f"/api/v1/plans/{p['id']}/publish", {}) for p in plans),
    )
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    numbers = [a.json()["number"] for a in answers[:3]]
    numbers += [a.json()["document"]["number"] for a in answers[3:]]
    assert sorted(int(re.findall(r"〔\d{4}〕(\d+)号", n)[0]) for n in numbers) == [1, 2, 3, 4, 5]


async def _refused(actor: Actor, body: dict[str, Any], status: int = 422) -> dict[str, Any]:
    r = await actor.post("/api/v1/plans", body)
    assert r.status_code == status, r.text
    return dict(r.json())


async def test_bad_items_are_refused_naming_the_field_and_nothing_is_written(
    world: World,
) -> None:
    t: Township = await new_township(world, "校验镇")
    staff = t["staff"]
    for wrong, field in (
        ({"quarter": 5}, "items[0].quarter"),
        ({"quarter": 0}, "items[0].quarter"),
        ({"lead_unit": "  "}, "items[0].lead_unit"),
        ({"workflow": "nonesuch"}, "items[0].workflow"),
        ({"topic_id": 999_999}, "items[0].topic_id"),
        ({"suggestion_id": 999_999}, "items[0].suggestion_id"),
    ):
        problem = await _refused(staff, {"year": 2027, "items": items(2, **wrong)})
        assert problem["code"] == "validation_error"
        assert field in [e["field"] for e in problem["errors"]], (wrong, problem)
    # Another township's topic is not one of this plan's.
    other = await open_topic(world.b)
    problem = await _refused(staff, {"year": 2027, "items": items(1, topic_id=other["id"])})
    assert "items[0].topic_id" in [e["field"] for e in problem["errors"]]
    await _refused(staff, {"year": 2027, "items": []})
    await _refused(staff, {"year": 2027, "items": items(1), "extra": 1})
    assert (await staff.get("/api/v1/plans", params={"township_id": t.id})).json() == []
    # Roles: a liaison or a representative may not draft; nobody publishes what is not there.
    await _refused(t["liaison"], {"year": 2027, "items": items(1)}, 403)
    await _refused(t["representative"], {"year": 2027, "items": items(1)}, 403)
    r = await staff.post("/api/v1/plans/999999/publish", {})
    assert r.status_code == 404
    # Another township's staff neither see nor publish a draft.
    mine = await draft(staff, {"year": 2027, "items": items(1)})
    assert (await world.b["staff"].get(f"/api/v1/plans/{mine['id']}")).status_code == 404
    r = await world.b["staff"].post(f"/api/v1/plans/{mine['id']}/publish", {})
    assert r.status_code in (403, 404)


async def test_audit_verify_catches_an_edited_lead_unit(world: World) -> None:
    t = await new_township(world, "审计镇")
    staff = t["staff"]
    plan = await publish(staff, (await draft(staff, {"year": 2027, "items": items(2)}))["id"])
    _, before = await verify_all()
    assert not [p for p in before if plan["reference"] in repr(p)]
    item = plan["items"][1]
    await PlanItem.update({PlanItem.lead_unit: "镇财政所"}).where(PlanItem.id == item["id"])
    try:
        _, problems = await verify_all()
        mine = [p for p in problems if p not in before]
        assert mine, "an edited lead unit of a published plan goes unnoticed"
        assert any("plan_item" in repr(p) or plan["reference"] in repr(p) for p in mine), mine
    finally:
        await PlanItem.update({PlanItem.lead_unit: item["lead_unit"]}).where(
            PlanItem.id == item["id"]
        )
    _, after = await verify_all()
    assert [p for p in after if p not in before] == []


async def test_items_name_open_suggestions_of_the_township_and_titles_are_masked(
    world: World,
) -> None:
    t = await new_township(world, "建议镇")
    staff = t["staff"]
    mine = await file_suggestion(None, t.id, t.villages[0]["id"])
    theirs = await file_suggestion(None, world.b.id, world.b.villages[0]["id"])
    declined = await file_suggestion(None, t.id, t.villages[1]["id"])
    # (The screening's own unit of work is another increment's; only the status matters,
    # and it is put back so that the chain still verifies for the other tests.)
    await Suggestion.update({Suggestion.status: "declined"}).where(Suggestion.id == declined["id"])
    try:
        for wrong in (theirs, declined):
            problem = await _refused(
                staff, {"year": 2027, "items": items(1, suggestion_id=wrong["id"])}
            )
            assert [e["field"] for e in problem["errors"]] == ["items[0].suggestion_id"]
    finally:
        await Suggestion.update({Suggestion.status: "pending"}).where(
            Suggestion.id == declined["id"]
        )
    plan = await draft(
        staff,
        {
            "year": 2027,
            "items": items(2, suggestion_id=mine["id"], title="村口路灯维修（联系人13800138000）"),
        },
    )
    first = plan["items"][0]
    assert first["title"] == "村口路灯维修（联系人138****8000）"
    assert (first["suggestion_id"], first["suggestion_reference"]) == (
        mine["id"],
        mine["reference"],
    )
    published = await publish(staff, plan["id"])
    text = text_of(await pdf_of(staff, published["document"]))
    assert "13800138000" not in text and "138****8000" in text
    assert mine["reference"] in text and "直接列入" in text
