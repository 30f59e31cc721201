"""Screening (审核) of a villager's suggestion by its township's office: accept it as a
topic, merge it, or decline it — once, in one unit of work with its chain events.

- **accept**: a topic is opened in the chosen workflow inside the same transaction
  (``topics.insert_topic``), titled with the suggestion's public title. The topic's
  opening names the suggestion and its chain head; the suggestion's ``suggestion.screened``
  names the topic and its opening's hash: the link is on both chains (docs/decisions.md,
  "A suggestion and its topic"). A workflow the screener may not open is refused (403)
  naming who may open it (四议两公开 is opened by the village's cadres).
- **merge** into another suggestion of the township: its supports are carried over (an
  account that supported both counts once) and may make the other one must-list; the
  other gets ``suggestion.merged_in``. Into a topic: the topic's chain gets
  ``suggestion.merged`` with the suggestion's head, and the suggestion's screening names
  the topic's new head.
- **decline**: with a public reason. A suggestion that must be listed may only be
  declined on one of the township's grounds (:mod:`deliberation.suggestions.threshold`),
  quoted in the reason word for word.

A reason is required for merge and decline (422 ``reason``); it is public, so it is
masked like the suggestion's text. The filer and the supporters with accounts are told
through the ``suggestion.screened`` webhook event (their account ids in ``tell``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

from deliberation.masking import mask
from msgspec import Meta, Struct

from deliberation import chain, topics
from deliberation.changes import (
    SuggestionChange,
    locked_suggestion,
    suggestion_change,
    topic_change,
)
from deliberation.clock import utcnow
from deliberation.errors import ConditionFailed, Forbidden, NotFound, ValidationFailed
from deliberation.offerings import check_opening
from deliberation.permissions import Subject, allowed
from deliberation.pinning import pin
from deliberation.schemas import Comment, Id, Input
from deliberation.security import Principal
from deliberation.suggestions import support as _support
from deliberation.suggestions import threshold
from deliberation.tables import Suggestion, SuggestionScreening, SuggestionSupport, Township

Decision = Literal["accept", "merge", "decline"]
DECISION_LABELS = {"accept": "转为议题", "merge": "合并办理", "decline": "不予列入"}


class MergeTarget(Input):
    """Exactly one: the suggestion or the topic it is merged into."""

    suggestion_id: Id | None = None
    topic_id: Id | None = None


class ScreeningCreate(Input):
    decision: Decision
    reason: Comment = ""
    """Public (masked as the suggestion's text is); required for merge and decline. A
    must-list decline quotes one of the township's decline grounds."""
    workflow: Annotated[str, Meta(min_length=1, max_length=40)] | None = None
    """accept: the workflow the topic is opened in (``GET /api/v1/workflows``)."""
    merge_into: MergeTarget | None = None
    """merge: ``{suggestion_id}`` or ``{topic_id}``."""


class ScreeningRead(Struct, kw_only=True):
    suggestion_id: int
    reference: str
    status: str
    decision: Decision
    public_reason: str
    ground: str | None = None
    topic_id: int | None = None
    """accept: the topic opened; merge into a topic: that topic."""
    topic_reference: str | None = None
    merged_into_id: int | None = None
    """merge into a suggestion: that suggestion."""
    merged_into_reference: str | None = None


def _reason_required(data: ScreeningCreate) -> str:
    reason = data.reason.strip()
    if data.decision != "accept" and not reason:
        word = "不予列入" if data.decision == "decline" else "合并"
        raise ValidationFailed([{"field": "reason", "message": f"请写明{word}的理由（将公开）"}])
    return reason


async def screen(principal: Principal, suggestion_id: int, data: ScreeningCreate) -> ScreeningRead:
    """Accept, merge or decline (see the module), in one transaction."""
    now = utcnow()
    reason = _reason_required(data)
    target = data.merge_into
    if data.decision == "merge":
        if target is None or (target.suggestion_id is None) == (target.topic_id is None):
            raise ValidationFailed(
                [{"field": "merge_into", "message": "请选择要合并到的一条建议或一个议题"}]
            )
        if target.suggestion_id == suggestion_id:
            raise ValidationFailed([{"field": "merge_into", "message": "不能合并到这条建议本身"}])
    elif target is not None:
        raise ValidationFailed([{"field": "merge_into", "message": "只有“合并”需要选择合并对象"}])
    if data.decision == "accept" and data.workflow is None:
        raise ValidationFailed([{"field": "workflow", "message": "请选择转为议题所用的协商流程"}])
    if data.decision != "accept" and data.workflow is not None:
        raise ValidationFailed([{"field": "workflow", "message": "只有“转为议题”需要选择协商流程"}])
    public_reason = mask(reason, "reason").text if reason else ""
    into = target.suggestion_id if target is not None else None
    async with suggestion_change(principal, suggestion_id, "suggestion.screen") as change:
        if into is not None and into < suggestion_id:
            # Lock order: suggestions in id order (docs/decisions.md). The lower one was
            # not locked first, so lock it now and re-read the one in hand: nothing else
            # can have screened it meanwhile (it is locked too).
            await locked_suggestion(into)
        suggestion = change.suggestion
        row = SuggestionScreening(
            suggestion=suggestion_id,
            decision=data.decision,
            reason=reason,
            public_reason=public_reason,
            ground=None,
            workflow_key=None,
            workflow_version=None,
            topic=None,
            merged_into=None,
            screened_by=principal.id,
            screened_at=now,
        )
        read = ScreeningRead(
            suggestion_id=suggestion_id,
            reference=suggestion["reference"],
            status="",
            decision=data.decision,
            public_reason=public_reason,
        )
        link: dict[str, Any] = {}
        if data.decision == "accept":
            assert data.workflow is not None
            link = await _accept(principal, change, data.workflow, row, read, now)
        elif data.decision == "decline":
            await _decline(suggestion, reason, row, read)
        elif into is not None:
            link = await _merge_into_suggestion(principal, change, into, row, read, now)
        else:
            assert target is not None and target.topic_id is not None
            link = await _merge_into_topic(principal, change, target.topic_id, row, read, now)
        status = {"accept": "accepted", "merge": "merged", "decline": "declined"}[data.decision]
        inserted = await SuggestionScreening.insert(row)
        await Suggestion.update(
            {
                Suggestion.status: status,
                Suggestion.topic: row.topic,
                Suggestion.merged_into: row.merged_into,
                Suggestion.updated_at: now,
            }
        ).where(Suggestion.id == suggestion_id)
        read.status = status
        await change.vouched(
            "suggestion.screened",
            "suggestion_screening",
            inserted[0]["id"],
            also=(("suggestion", suggestion_id),),
            comment=public_reason,
            from_state=suggestion["status"],
            to_state=status,
            data=link,
            extra={"decision": data.decision, "tell": await _told_accounts(suggestion)},
            now=now,
        )
    return read


async def _decline(
    suggestion: dict[str, Any], reason: str, row: SuggestionScreening, read: ScreeningRead
) -> None:
    """A must-list suggestion only on one of the township's grounds, quoted."""
    if suggestion["status"] != "must_list":
        return
    stored = (
        await Township.select(Township.decline_grounds)
        .where(Township.id == suggestion["township"])
        .first()
    )
    grounds = threshold.decline_grounds(stored["decline_grounds"] if stored else None)
    ground = threshold.ground_of(reason, grounds)
    if ground is None:
        listed = "；".join(f"“{g}”" for g in grounds)
        raise ConditionFailed(
            "这条建议的附议已达规定比例，须列入议题；如不予列入，理由须写明以下依据之一"
            f"（原文照录）：{listed}",
            grounds=grounds,
        )
    row.ground = ground
    read.ground = ground


async def _accept(
    principal: Principal,
    change: SuggestionChange,
    key: str,
    row: SuggestionScreening,
    read: ScreeningRead,
    now: datetime,
) -> dict[str, Any]:
    """Open the topic in ``key``'s newest version, inside this transaction."""
    suggestion = change.suggestion
    workflow = pin(key)
    place = replace(
        Subject.township(suggestion["township"]),
        workflow=workflow,
        village_id=suggestion["village"],
    )
    decision = allowed(principal, "topic.open", place)
    if not decision:
        raise Forbidden(
            f"“{workflow.label}”的议题不能由乡镇协商办公室直接提出：{decision.reason}。"
            "请选择其他流程，或请该村（社区）村干部提出",
            openers=list(workflow.openers),
        )
    await check_opening(principal, workflow, suggestion["village"])
    head = await chain.head_of(chain.SUGGESTION, suggestion["id"])
    source = {"id": suggestion["id"], "reference": suggestion["reference"], "head": head[1]}
    topic = await topics.insert_topic(
        principal,
        workflow,
        title=suggestion["public_title"],
        description=(
            f"{suggestion['public_content']}\n\n（来源：村民建议 {suggestion['reference']}）"
        ),
        village_id=suggestion["village"],
        suggestion=source,
        now=now,
    )
    row.workflow_key, row.workflow_version = workflow.key, workflow.version
    row.topic = topic["id"]
    read.topic_id, read.topic_reference = topic["id"], topic["reference"]
    opened = await chain.head_of(chain.TOPIC, topic["id"])
    return {"topic": {"id": topic["id"], "reference": topic["reference"], "head": opened[1]}}


async def _merge_into_suggestion(
    principal: Principal,
    change: SuggestionChange,
    into: int,
    row: SuggestionScreening,
    read: ScreeningRead,
    now: datetime,
) -> dict[str, Any]:
    """Carry the supports over to ``into`` (an account counts once) and count them
    there; ``into`` gets ``suggestion.merged_in``."""
    suggestion = change.suggestion
    async with suggestion_change(principal, into, "suggestion.screen") as target:
        other = target.suggestion
        if other["township"] != suggestion["township"]:
            raise NotFound("建议不存在")
        already = {
            r["account"]
            for r in await SuggestionSupport.select(SuggestionSupport.account).where(
                SuggestionSupport.suggestion == into,
                SuggestionSupport.account.is_not_null(),
            )
        }
        carried: list[int] = []
        for support in await SuggestionSupport.select().where(
            SuggestionSupport.suggestion == suggestion["id"]
        ):
            copied = _carried(support, suggestion, into, already)
            if copied is None:
                continue
            inserted = await SuggestionSupport.insert(copied)
            carried.append(inserted[0]["id"])
        head = await chain.head_of(chain.SUGGESTION, suggestion["id"])
        await target.vouched(
            "suggestion.merged_in",
            "suggestion",
            into,
            also=tuple(("suggestion_support", i) for i in carried),
            data={
                "from": {
                    "id": suggestion["id"],
                    "reference": suggestion["reference"],
                    "head": head[1],
                }
            },
            now=now,
        )
        await _support.recount(target, now)
        merged = await chain.head_of(chain.SUGGESTION, into)
    row.merged_into = into
    read.merged_into_id, read.merged_into_reference = into, other["reference"]
    return {"merged_into": {"id": into, "reference": other["reference"], "head": merged[1]}}


def _carried(
    support: dict[str, Any], suggestion: dict[str, Any], into: int, already: set[int]
) -> SuggestionSupport | None:
    """One support as it is carried to the other suggestion: an account once; the
    filer without an account as one name on paper."""
    account = support["account"]
    if account is not None:
        if account in already:
            return None
        already.add(account)
    kind, names, count = support["kind"], support["names"], support["count"]
    if kind == "filer":
        kind = "account" if account is not None else "paper"
        if account is None:
            names = json.dumps([suggestion["submitter_name"]], ensure_ascii=False)
            count = 1
    return SuggestionSupport(
        suggestion=into,
        kind=kind,
        account=account,
        standing=support["standing"],
        names=names,
        count=count,
        sheet_note=f"合并自村民建议 {suggestion['reference']}",
        entered_by=support["entered_by"],
        created_at=support["created_at"],
    )


async def _merge_into_topic(
    principal: Principal,
    change: SuggestionChange,
    topic_id: int,
    row: SuggestionScreening,
    read: ScreeningRead,
    now: datetime,
) -> dict[str, Any]:
    """The topic's chain records the merge with the suggestion's head."""
    suggestion = change.suggestion
    head = await chain.head_of(chain.SUGGESTION, suggestion["id"])
    async with topic_change(principal, topic_id, "suggestion.merge") as on_topic:
        topic = on_topic.topic
        if topic["township"] != suggestion["township"]:
            raise NotFound("议题不存在")
        event = await on_topic.appended(
            "suggestion.merged",
            data={
                "suggestion": {
                    "id": suggestion["id"],
                    "reference": suggestion["reference"],
                    "head": head[1],
                }
            },
            now=now,
        )
    row.topic = topic_id
    read.topic_id, read.topic_reference = topic_id, topic["reference"]
    return {"topic": {"id": topic_id, "reference": topic["reference"], "head": event.hash}}


async def _told_accounts(suggestion: dict[str, Any]) -> list[int]:
    """The filer and the supporters with accounts: whom the screening is told to."""
    ids = [suggestion["filed_by"]] if suggestion["filed_by"] is not None else []
    for r in await SuggestionSupport.select(SuggestionSupport.account).where(
        SuggestionSupport.suggestion == suggestion["id"],
        SuggestionSupport.account.is_not_null(),
    ):
        if r["account"] not in ids:
            ids.append(r["account"])
    return ids
