"""Villagers' suggestions of one township written straight into the tables (issue 27),
for the reports' tests (ledger, open data): every status, supports of every standing,
screenings with their office-only and public reasons, one topic public and one not.
The villagers' own words, names, phones and ID numbers are kept in ``SECRETS``: no
report may show any of them."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from deliberation.clock import china_today, utcnow
from deliberation.tables import Suggestion, SuggestionScreening, SuggestionSupport
from tests.world import Township, open_topic, topic_in_state, unique

PHONE = "19957328461"
ID_NUMBER = "36042119900101123X"
SECRETS = (
    PHONE,
    "199 5732 8461",
    ID_NUMBER,
    "雒晓明",
    "欧阳蓉蓉",
    "赵六六",
    "钱七七",
    "原话",
)
"""The villagers' own words (原话 marks every raw title and text), names and numbers."""

MADE_SUGGESTIONS: list[int] = []
MADE_PLANS: list[int] = []
MADE_TOPICS: list[int] = []
"""What the reports' tests wrote straight into the tables, off every chain: taken out
after each test (``take_out_made``), or the next whole-database ``audit verify`` in the
same database would find them unvouched."""


async def take_out_made() -> None:
    """Delete the suggestions and plans written straight into the tables, with what hangs
    on them."""
    from deliberation.tables import Plan as PlanRow
    from deliberation.tables import (
        PlanEvent,
        PlanItem,
        PlanVersion,
        SuggestionEvent,
        SuggestionReminderSent,
        SuggestionRevision,
    )

    if MADE_PLANS:
        versions = [
            r["id"]
            for r in await PlanVersion.select(PlanVersion.id).where(
                PlanVersion.plan.is_in(MADE_PLANS)
            )
        ]
        if versions:
            await PlanItem.delete().where(PlanItem.plan_version.is_in(versions))
            await PlanVersion.delete().where(PlanVersion.id.is_in(versions))
        await PlanEvent.delete().where(PlanEvent.plan.is_in(MADE_PLANS))
        await PlanRow.delete().where(PlanRow.id.is_in(MADE_PLANS))
        MADE_PLANS.clear()
    if MADE_SUGGESTIONS:
        ids = list(MADE_SUGGESTIONS)
        await PlanItem.update({PlanItem.suggestion: None}).where(PlanItem.suggestion.is_in(ids))
        for table in (
            SuggestionSupport,
            SuggestionScreening,
            SuggestionRevision,
            SuggestionEvent,
            SuggestionReminderSent,
        ):
            await table.delete().where(table.suggestion.is_in(ids))  # type: ignore[attr-defined]
        await Suggestion.update({Suggestion.merged_into: None}).where(Suggestion.id.is_in(ids))
        await Suggestion.delete().where(Suggestion.id.is_in(ids))
        MADE_SUGGESTIONS.clear()
    if MADE_TOPICS:
        from deliberation.tables import Topic

        await PlanItem.update({PlanItem.topic: None}).where(PlanItem.topic.is_in(MADE_TOPICS))
        await Suggestion.update({Suggestion.topic: None}).where(Suggestion.topic.is_in(MADE_TOPICS))
        await Topic.delete().where(Topic.id.is_in(MADE_TOPICS))
        MADE_TOPICS.clear()


async def _suggestion(t: Township, **row: Any) -> dict[str, Any]:
    now = utcnow() - timedelta(days=row.pop("days_ago", 3))
    values: dict[str, Any] = {
        "reference": unique("JY"),
        "township": t.id,
        "village": t.villages[0]["id"],
        "content": f"原话：雒晓明 {PHONE} 身份证 {ID_NUMBER}",
        "public_content": "村民反映路灯不亮（号码已隐去）",
        "submitter_phone": PHONE,
        "phone_digest": "d" * 64,
        "created_at": now,
        "updated_at": now,
        **row,
    }
    values.setdefault("title", "原话：" + values["public_title"] + " 199 5732 8461")
    [made] = await Suggestion.insert(Suggestion(**values)).returning(Suggestion.id)
    MADE_SUGGESTIONS.append(made["id"])
    return {**values, "id": made["id"]}


async def _support(suggestion: int, standing: str, **row: Any) -> None:
    await SuggestionSupport.insert(
        SuggestionSupport(
            suggestion=suggestion,
            kind=row.pop("kind", "account"),
            standing=standing,
            created_at=utcnow(),
            **row,
        )
    )


async def _screen(
    suggestion: dict[str, Any], by: int, decision: str, reason: str, public: str, **row: Any
) -> None:
    await SuggestionScreening.insert(
        SuggestionScreening(
            suggestion=suggestion["id"],
            decision=decision,
            reason=reason,
            public_reason=public,
            screened_by=by,
            screened_at=utcnow() - timedelta(days=1),
            **row,
        )
    )


async def seed(t: Township) -> dict[str, dict[str, Any]]:
    """Six suggestions of ``t``: accepted into a public topic (``public``) and into one
    not yet public (``hidden``), declined, merged, must-list and pending."""
    staff = t["staff"].user["id"]
    reps = [t["representative"].user["id"], t["representative2"].user["id"]]
    public_topic = await topic_in_state(t, "resolution")
    hidden_topic = await open_topic(t)
    found: dict[str, dict[str, Any]] = {}
    found["public"] = await _suggestion(
        t,
        public_title="路灯不亮请维修",
        submitter_name="雒晓明",
        status="accepted",
        topic=public_topic["id"],
        must_list_at=utcnow() - timedelta(days=2),
        must_list_rule="representatives",
        screening_due_on=china_today() + timedelta(days=12),
        days_ago=5,
    )
    found["public"]["topic_reference"] = public_topic["reference"]
    found["public"]["topic_id"] = public_topic["id"]
    await _support(found["public"]["id"], "villager", kind="filer")
    for rep in reps:
        await _support(found["public"]["id"], "representative", account=rep)
    await _support(found["public"]["id"], "liaison", account=t["liaison"].user["id"])
    await _support(
        found["public"]["id"],
        "villager",
        kind="paper",
        names=json.dumps(["赵六六", "钱七七"], ensure_ascii=False),
        headcount=2,
        entered_by=staff,
    )
    await _screen(found["public"], staff, "accept", f"原话 {PHONE} 属实", "情况属实，转为议题")
    found["hidden"] = await _suggestion(
        t,
        public_title="河道清淤",
        submitter_name="欧阳蓉蓉",
        status="accepted",
        topic=hidden_topic["id"],
        village=None,
    )
    found["hidden"]["topic_reference"] = hidden_topic["reference"]
    await _screen(found["hidden"], staff, "accept", "同意", "转为议题")
    found["declined"] = await _suggestion(
        t,
        public_title="修建私人围墙",
        filed_by=t["representative"].user["id"],
        status="declined",
    )
    await _support(found["declined"]["id"], "representative", account=reps[0], kind="filer")
    await _screen(
        found["declined"],
        staff,
        "decline",
        "原话 雒晓明家的私事",
        "不属于本村（社区）公共事务、仅涉及个人诉求",
    )
    found["merged"] = await _suggestion(
        t,
        public_title="路灯坏了",
        submitter_name="雒晓明",
        status="merged",
        merged_into=found["public"]["id"],
    )
    await _screen(found["merged"], staff, "merge", "同一事项", "与同村建议合并办理")
    found["must_list"] = await _suggestion(
        t,
        public_title="村口增设垃圾桶",
        filed_by=t["liaison"].user["id"],
        status="must_list",
        must_list_at=utcnow() - timedelta(days=1),
        must_list_rule="representatives",
        screening_due_on=china_today() + timedelta(days=14),
    )
    found["pending"] = await _suggestion(
        t, public_title="尚未审核的建议", submitter_name="赵六六", status="pending"
    )
    return found


def as_datetime(day: date | None) -> datetime | None:
    """A date as openpyxl reads a date cell back."""
    return None if day is None else datetime(day.year, day.month, day.day)
