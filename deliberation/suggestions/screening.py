"""Screening (审核) of a villager's suggestion by its township's office: accept it as a
topic, merge it, or decline it — once, in one unit of work with its chain events.

- **accept**: a topic is opened in the chosen workflow inside the same transaction
  (``topics.insert_topic``), titled with the suggestion's public title. The topic's
  opening names the suggestion and its chain head; the suggestion's
  ``suggestion.screened`` names the topic and its opening's hash: the link is on both
  chains (docs/decisions.md, "Suggestions: the threshold, the deadline and the
  screening"). An item of a plan that names the suggestion gets the topic
  (``plan.item_linked`` on the plan's chain, :func:`deliberation.plans.link_items`). A
  workflow the screener may not open is refused (403) naming who may
  open it (四议两公开 is opened by the village's cadres).
- **merge** into another suggestion of the township: its supports are carried over (an
  account that supported both counts once) and may make the other one must-list; the
  other gets ``suggestion.merged_in``. Into a topic: the topic's chain gets
  ``suggestion.merged`` with the suggestion's head, and the suggestion's screening names
  the topic's new head; a plan's item naming the suggestion gets the topic, as on accept.
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

from msgspec import Meta, Struct

from deliberation import chain, plans, topics
from deliberation.changes import (
    OwnedChange,
    locked_suggestion,
    suggestion_change,
    topic_change,
)
from deliberation.clock import utcnow
from deliberation.database import write_transaction
from deliberation.errors import (
    ConditionFailed,
    Forbidden,
    NotFound,
    SuggestionScreened,
    ValidationFailed,
)
from deliberation.masking import mask
from deliberation.permissions import (
    OPEN_STATUSES,
    SUGGESTION_STATUS_LABELS,
    Subject,
    allowed,
    allowed_suggestion,
)
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
    status: Literal["accepted", "merged", "declined"]
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
    # Who may never screen hears that first (403), before any problem with the input.
    allowed_suggestion(principal, "suggestion.screen").check()
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
    into = target.suggestion_id if target is not None else None
    async with write_transaction():
        if into is not None and into < suggestion_id:
            # Lock order: suggestions in id order, then a topic (docs/decisions.md).
            await locked_suggestion(into)
        async with suggestion_change(principal, suggestion_id, "suggestion.screen") as change:
            suggestion = change.owner
            # Public: masked as the suggestion's own text is (its filer's name too).
            filer = suggestion["submitter_name"] or None
            public_reason = mask(reason, "reason", filer).text if reason else ""
            row, read, link = await _decide(principal, change, data, reason, public_reason, now)
            inserted = await SuggestionScreening.insert(SuggestionScreening(**row))
            await Suggestion.update(
                {
                    Suggestion.status: read.status,
                    Suggestion.topic: row["topic"],
                    Suggestion.merged_into: row["merged_into"],
                    Suggestion.updated_at: now,
                }
            ).where(Suggestion.id == suggestion_id)
            await change.vouched(
                "suggestion.screened",
                "suggestion_screening",
                inserted[0]["id"],
                also=(("suggestion", suggestion_id),),
                comment=public_reason,
                data={"links": [link]} if link is not None else None,
                from_state=suggestion["status"],
                to_state=read.status,
                now=now,
                told={
                    "decision": data.decision,
                    "decision_label": DECISION_LABELS[data.decision],
                    "public_reason": public_reason,
                    "topic_id": read.topic_id,
                    "topic_reference": read.topic_reference,
                    "merged_into_id": read.merged_into_id,
                    "merged_into_reference": read.merged_into_reference,
                    "tell": await _told_accounts(suggestion),
                },
            )
            if read.topic_id is not None:
                # An item of a plan naming the suggestion now names its topic (last in
                # the lock order: suggestion → topic → plan).
                await plans.link_items(principal, suggestion_id, read.topic_id, now)
    return read


async def _decide(
    principal: Principal,
    change: OwnedChange,
    data: ScreeningCreate,
    reason: str,
    public_reason: str,
    now: datetime,
) -> tuple[dict[str, Any], ScreeningRead, dict[str, Any] | None]:
    """The screening's row, its answer and the link to the other chain (None for a
    decline), after doing what the decision does elsewhere (opening the topic,
    carrying the supports, the topic's merge event)."""
    suggestion = change.owner
    row: dict[str, Any] = {
        "suggestion": suggestion["id"],
        "decision": data.decision,
        "reason": reason,
        "public_reason": public_reason,
        "ground": "",
        "workflow_key": None,
        "workflow_version": None,
        "topic": None,
        "merged_into": None,
        "screened_by": principal.id,
        "screened_at": now,
    }
    read = ScreeningRead(
        suggestion_id=suggestion["id"],
        reference=suggestion["reference"],
        status=STATUS_OF[data.decision],
        decision=data.decision,
        public_reason=public_reason,
    )
    target = data.merge_into
    if data.decision == "accept":
        assert data.workflow is not None
        return row, read, await _accept(principal, change, data.workflow, row, read, now)
    if data.decision == "decline":
        await _decline(suggestion, reason, row, read)
        return row, read, None
    assert target is not None
    if target.suggestion_id is not None:
        into = target.suggestion_id
        return row, read, await _merge_into_suggestion(principal, change, into, row, read, now)
    assert target.topic_id is not None
    return row, read, await _merge_into_topic(principal, change, target.topic_id, row, read, now)


STATUS_OF: dict[str, Literal["accepted", "merged", "declined"]] = {
    "accept": "accepted",
    "merge": "merged",
    "decline": "declined",
}


async def _decline(
    suggestion: dict[str, Any], reason: str, row: dict[str, Any], read: ScreeningRead
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
    row["ground"] = read.ground = ground


async def _accept(
    principal: Principal,
    change: OwnedChange,
    key: str,
    row: dict[str, Any],
    read: ScreeningRead,
    now: datetime,
) -> dict[str, Any]:
    """Open the topic in ``key``'s newest version, inside this transaction; the link
    to it (its opening) for the screening's event."""
    suggestion = change.owner
    workflow = pin(key)
    place = replace(
        Subject.township(suggestion["township"]),
        workflow=workflow,
        village_id=suggestion["village"],
    )
    decision = allowed(principal, "topic.open", place)
    if not decision:
        raise Forbidden(
            f"“{workflow.label}”的议题不能由乡镇协商办公室提出：{decision.reason}。"
            "请选择其他流程，或请该村（社区）村干部提出",
            openers=list(workflow.openers),
        )
    source = await chain.link(chain.SUGGESTION, suggestion["id"])
    topic = await topics.insert_topic(
        principal,
        workflow,
        title=suggestion["public_title"],
        description=(
            f"{suggestion['public_content']}\n\n（来源：村民建议 {suggestion['reference']}）"
        ),
        village_id=suggestion["village"],
        links=[source],
        now=now,
    )
    row.update(workflow_key=workflow.key, workflow_version=workflow.version, topic=topic["id"])
    read.topic_id, read.topic_reference = topic["id"], topic["reference"]
    return await chain.link(chain.TOPIC, topic["id"])


async def _merge_into_suggestion(
    principal: Principal,
    change: OwnedChange,
    into: int,
    row: dict[str, Any],
    read: ScreeningRead,
    now: datetime,
) -> dict[str, Any]:
    """Carry the supports over to ``into`` (an account counts once) and count them
    there; ``into`` gets ``suggestion.merged_in``. The link to it for the screening."""
    suggestion = change.owner
    first = await locked_suggestion(into)  # in id order: the lower one is locked already
    if first["township"] == suggestion["township"] and first["status"] not in OPEN_STATUSES:
        raise SuggestionScreened(
            f"要合并到的建议{first['reference']}已审核（"
            f"{SUGGESTION_STATUS_LABELS.get(first['status'], first['status'])}），"
            "不能再合并进来；它已列入议题的，请合并到该议题",
        )
    async with suggestion_change(principal, into, "suggestion.screen") as target:
        other = target.owner
        if other["township"] != suggestion["township"]:
            raise NotFound("建议不存在")
        already = {
            r["account"]
            for r in await SuggestionSupport.select(SuggestionSupport.account).where(
                SuggestionSupport.suggestion == into,
                SuggestionSupport.account.is_not_null(),
            )
        }
        supports = await SuggestionSupport.select().where(
            SuggestionSupport.suggestion == suggestion["id"]
        )
        if suggestion["filed_by"] is None and not any(r["kind"] == "filer" for r in supports):
            # The villager who filed without an account, counted as one (support.tally_of).
            supports.append(
                {
                    "kind": "filer",
                    "account": None,
                    "standing": "villager",
                    "names": "[]",
                    "headcount": 1,
                    "entered_by": suggestion["entered_by"],
                    "created_at": suggestion["created_at"],
                }
            )
        carried: list[int] = []
        for support in supports:
            copied = _carried(support, suggestion, into, already)
            if copied is not None:
                inserted = await SuggestionSupport.insert(SuggestionSupport(**copied))
                carried.append(inserted[0]["id"])
        source = await chain.link(chain.SUGGESTION, suggestion["id"])
        await target.vouched(
            "suggestion.merged_in",
            "suggestion",
            into,
            also=tuple(("suggestion_support", i) for i in carried),
            data={"links": [source], "carried": len(carried)},
            now=now,
        )
        link = await chain.link(chain.SUGGESTION, into)
        await _support.recount(target, now)
    row["merged_into"] = into
    read.merged_into_id, read.merged_into_reference = into, other["reference"]
    return link


def _carried(
    support: dict[str, Any], suggestion: dict[str, Any], into: int, already: set[int]
) -> dict[str, Any] | None:
    """One support as it is carried to the other suggestion: an account once; the
    filer without an account as one name on paper."""
    account = support["account"]
    if account is not None:
        if account in already:
            return None
        already.add(account)
    kind, names, count = support["kind"], support["names"], support["headcount"]
    if kind == "filer":
        kind = "account" if account is not None else "paper"
        if account is None:
            names = json.dumps([suggestion["submitter_name"]], ensure_ascii=False)
            count = 1
    return dict(
        suggestion=into,
        kind=kind,
        account=account,
        standing=support["standing"],
        names=names,
        headcount=count,
        sheet_note=f"合并自村民建议 {suggestion['reference']}",
        entered_by=support["entered_by"],
        created_at=support["created_at"],
    )


async def _merge_into_topic(
    principal: Principal,
    change: OwnedChange,
    topic_id: int,
    row: dict[str, Any],
    read: ScreeningRead,
    now: datetime,
) -> dict[str, Any]:
    """The topic's chain records the merge with the suggestion's head (a topic of the
    same township the office sees, else 404); the link to it for the screening."""
    suggestion = change.owner
    source = await chain.link(chain.SUGGESTION, suggestion["id"])
    async with topic_change(principal, topic_id, "topic.read") as on_topic:
        topic = on_topic.topic
        if topic["township"] != suggestion["township"]:
            raise NotFound("议题不存在")
        await on_topic.appended("suggestion.merged", data={"links": [source]}, now=now)
    row["topic"] = topic_id
    read.topic_id, read.topic_reference = topic_id, topic["reference"]
    return await chain.link(chain.TOPIC, topic_id)


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
