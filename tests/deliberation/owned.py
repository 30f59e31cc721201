"""Suggestions and plans made for the spine's tests through its units of work
(``deliberation.changes``), the way the filing, support, screening and plan services
write them: the chain, its records and the links are real; the services' own rules
(limits, masking, the threshold, numbering) are theirs and not exercised here."""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from deliberation import chain
from deliberation.changes import plan_started, suggestion_change, suggestion_filed
from deliberation.clock import utcnow
from deliberation.security import Principal
from deliberation.tables import (
    Plan,
    PlanItem,
    PlanVersion,
    Suggestion,
    SuggestionScreening,
    SuggestionSupport,
)
from deliberation.topics import insert_topic
from workflows import WORKFLOW

_numbers = itertools.count(1)
_run = secrets.token_hex(2).upper()


def _reference(prefix: str) -> str:
    return f"{prefix}-T{_run}-{next(_numbers):04d}"


async def file_suggestion(
    principal: Principal | None,
    township_id: int,
    village_id: int | None,
    *,
    title: str = "村口路灯不亮",
    content: str = "晚上出行不便，联系电话 13800138000",
) -> dict[str, Any]:
    """A pending suggestion and its ``suggestion.filed`` event (and the filer's own
    support when signed in)."""
    now = utcnow()
    async with suggestion_filed(principal) as change:
        inserted = await Suggestion.insert(
            Suggestion(
                reference=_reference("JY"),
                township=township_id,
                village=village_id,
                title=title,
                content=content,
                public_title=title,
                public_content=content.replace("13800138000", "138****8000"),
                submitter_name="" if principal else "王小明",
                submitter_phone="" if principal else "13800138000",
                filed_by=principal.id if principal else None,
                status="pending",
                event_seq=1,
                created_at=now,
                updated_at=now,
            )
        )
        suggestion_id = inserted[0]["id"]
        change.owner = await _suggestion(suggestion_id)
        await change.started(
            "suggestion.filed",
            "suggestion",
            suggestion_id,
            to_state="pending",
            told={"filed_by_role": principal.role if principal else "villager"},
        )
        if principal is not None:
            support = await SuggestionSupport.insert(
                SuggestionSupport(
                    suggestion=suggestion_id,
                    kind="filer",
                    account=principal.id,
                    standing=principal.role,
                    created_at=now,
                )
            )
            await change.vouched("support.added", "suggestion_support", support[0]["id"])
    return await _suggestion(suggestion_id)


async def _suggestion(suggestion_id: int) -> dict[str, Any]:
    row = await Suggestion.select().where(Suggestion.id == suggestion_id).first()
    assert row is not None
    return dict(row)


async def support(principal: Principal, suggestion_id: int) -> int:
    """A member's support (``support.added``); the support's id."""
    async with suggestion_change(principal, suggestion_id, "suggestion.support") as change:
        inserted = await SuggestionSupport.insert(
            SuggestionSupport(
                suggestion=suggestion_id,
                kind="account",
                account=principal.id,
                standing=principal.role,
                created_at=utcnow(),
            )
        )
        support_id = int(inserted[0]["id"])
        await change.vouched("support.added", "suggestion_support", support_id)
    return support_id


async def accept(staff: Principal, suggestion_id: int) -> dict[str, Any]:
    """Accept a suggestion into a new standard topic, both chains naming each other
    (plan §2.3): the topic's opening carries the suggestion's head, the screening the
    topic's. Returns the topic row (id, reference)."""
    now = utcnow()
    async with suggestion_change(staff, suggestion_id, "suggestion.screen") as change:
        row = change.owner
        topic = await insert_topic(
            staff,
            WORKFLOW,
            title=row["public_title"],
            description=f"{row['public_content']}（来源：村民建议 {row['reference']}）",
            category="",
            village_id=row["village"],
            now=now,
            links=[await chain.link(chain.SUGGESTION, suggestion_id)],
        )
        screening = await SuggestionScreening.insert(
            SuggestionScreening(
                suggestion=suggestion_id,
                decision="accept",
                reason="同意列入",
                public_reason="同意列入",
                workflow_key=WORKFLOW.key,
                workflow_version=WORKFLOW.version,
                topic=topic["id"],
                screened_by=staff.id,
                screened_at=now,
            )
        )
        await Suggestion.update(
            {
                Suggestion.status: "accepted",
                Suggestion.topic: topic["id"],
                Suggestion.updated_at: now,
            }
        ).where(Suggestion.id == suggestion_id)
        await change.vouched(
            "suggestion.screened",
            "suggestion_screening",
            screening[0]["id"],
            also=(("suggestion", suggestion_id),),
            to_state="accepted",
            data={"links": [await chain.link(chain.TOPIC, topic["id"])]},
            told={"decision": "accept", "topic_id": topic["id"]},
        )
    return topic


async def start_plan(
    principal: Principal, township_id: int | None, year: int, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """A plan series with its first draft and items (``plan.drafted``)."""
    now = utcnow()
    async with plan_started(principal, township_id) as change:
        plan = await Plan.insert(
            Plan(
                year=year,
                township=township_id,
                reference=_reference(f"JH-{year}"),
                event_seq=1,
                created_at=now,
            )
        )
        plan_id = plan[0]["id"]
        change.owner = dict(await Plan.select().where(Plan.id == plan_id).first() or {})
        version = await PlanVersion.insert(
            PlanVersion(
                plan=plan_id, version=1, status="draft", created_by=principal.id, created_at=now
            )
        )
        version_id = version[0]["id"]
        item_ids = []
        for position, item in enumerate(items, start=1):
            inserted = await PlanItem.insert(
                PlanItem(plan_version=version_id, position=position, **item)
            )
            item_ids.append(inserted[0]["id"])
        await change.started(
            "plan.drafted",
            "plan",
            plan_id,
            to_state="draft",
            also=(("plan_version", version_id), *(("plan_item", i) for i in item_ids)),
        )
    return {"id": plan_id, "version_id": version_id, "item_ids": item_ids}
