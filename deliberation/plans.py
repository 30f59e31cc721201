"""The annual plan (年度协商计划, issue 27): a township's (or the county's) topics of the
year by quarter, drafted, published as a numbered notice with its PDF, and revised.

A plan series (``plan``: a year and a township, or the county) owns one chain; each
POST makes a new draft version (an older draft is discarded), and publishing a version
renders its notice (``documents``: a document owned by the plan version), numbers it,
and supersedes the version published before, in one unit of work on the plan's chain
(docs/decisions.md "The annual plan").
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta, Struct

from deliberation import chain, documents
from deliberation.changes import locked_plan, plan_change, plan_linked, plan_started
from deliberation.clock import utcnow
from deliberation.database import is_unique_violation
from deliberation.documents.content import QUARTERS
from deliberation.documents.service import (
    Attempt,
    Publishing,
    plan_document,
    stamp_head,
    write_published,
)
from deliberation.errors import Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from deliberation.masking import mask
from deliberation.offerings import offered_keys
from deliberation.permissions import PlanSubject, allowed_plan
from deliberation.pinning import loaded
from deliberation.schemas import DocumentRead, Input, NonBlank
from deliberation.security import Principal
from deliberation.tables import Plan, PlanItem, PlanVersion, Suggestion, Township, Village
from deliberation.topics import valid_id, visible_topic

STATUS_LABELS = {
    "draft": "草稿",
    "published": "现行",
    "superseded": "已被新版本替代",
    "discarded": "已作废",
}
SHOWN = ("published", "superseded")
"""What everyone sees; drafts and discarded drafts are for those who edit the plan."""
CLOSED_SUGGESTIONS = ("declined", "merged")
MAX_ITEMS = 200


# Shapes -------------------------------------------------------------------------------


class PlanItemCreate(Input):
    title: Annotated[str, NonBlank, Meta(max_length=200)]
    quarter: Annotated[int, Meta(ge=1, le=4)]
    workflow: Annotated[str, Meta(min_length=1, max_length=40)]
    lead_unit: Annotated[str, NonBlank, Meta(max_length=100)]
    suggestion_id: int | None = None
    topic_id: int | None = None


class PlanCreate(Input):
    year: Annotated[int, Meta(ge=2000, le=2099)]
    items: Annotated[list[PlanItemCreate], Meta(min_length=1, max_length=MAX_ITEMS)]
    township_id: int | None = None
    """The township whose plan it is; none: the staff member's township, or the
    county's plan for the county's supervisor."""
    note: Annotated[str, Meta(max_length=500)] = ""
    """修订说明: what a revision changes."""


class PlanPublish(Input):
    posting_days: Annotated[int, Meta(ge=1, le=30)] | None = None


class PlanWorkflow(Struct, kw_only=True):
    key: str
    label: str


class PlanItemRead(Struct, kw_only=True):
    id: int
    position: int
    quarter: int
    quarter_label: str
    title: str
    workflow: PlanWorkflow
    lead_unit: str
    suggestion_id: int | None
    suggestion_reference: str | None
    topic_id: int | None
    topic_reference: str | None
    carried_from: int | None
    """The same item in the version this one revises."""


class PlanRead(Struct, kw_only=True):
    id: int
    """The version's id (``/api/v1/plans/{id}``)."""
    plan_id: int
    reference: str
    year: int
    township_id: int | None
    township_name: str
    """Empty for the county's plan."""
    version: int
    status: str
    status_label: str
    note: str
    supersedes_id: int | None
    """The version published before this one."""
    superseded_by_id: int | None
    document: DocumentRead | None
    created_at: datetime
    published_at: datetime | None
    items: list[PlanItemRead]


# Who may do what ----------------------------------------------------------------------


def _may_read(principal: Principal | None, row: dict[str, Any]) -> bool:
    subject = PlanSubject(township_id=row["township"], status=row["status"])
    return bool(allowed_plan(principal, "plan.read", subject))


# Reads --------------------------------------------------------------------------------


async def _version(version_id: int) -> dict[str, Any]:
    if not valid_id(version_id):
        raise NotFound("计划不存在")
    row = (
        await PlanVersion.select(
            *PlanVersion.all_columns(),
            PlanVersion.plan.year.as_alias("year"),
            PlanVersion.plan.township.as_alias("township"),
            PlanVersion.plan.reference.as_alias("reference"),
        )
        .where(PlanVersion.id == version_id)
        .first()
    )
    if row is None:
        raise NotFound("计划不存在")
    return dict(row)


async def _visible(principal: Principal | None, version_id: int) -> dict[str, Any]:
    """A version the caller may read: published or superseded ones are public; a draft
    (or a discarded one) only for those who edit the plan. Else 404."""
    row = await _version(version_id)
    if not _may_read(principal, row):
        raise NotFound("计划不存在")
    return row


async def get_plan(
    principal: Principal | None, version_id: int, publishing: Publishing
) -> PlanRead:
    return (await _reads(principal, [await _visible(principal, version_id)], publishing))[0]


async def list_plans(
    principal: Principal | None,
    publishing: Publishing,
    *,
    year: int | None = None,
    township_id: int | None = None,
) -> list[PlanRead]:
    """Every plan version the caller may read, newest year first, then by township (the
    county last) and version, newest first."""
    query = PlanVersion.select(
        *PlanVersion.all_columns(),
        PlanVersion.plan.year.as_alias("year"),
        PlanVersion.plan.township.as_alias("township"),
        PlanVersion.plan.reference.as_alias("reference"),
    )
    if year is not None:
        query = query.where(PlanVersion.plan.year == year)
    if township_id is not None:
        query = query.where(PlanVersion.plan.township == township_id)
    rows = [
        dict(row)
        for row in await query.order_by(PlanVersion.plan.year, ascending=False).order_by(
            PlanVersion.id, ascending=False
        )
    ]
    rows = [r for r in rows if _may_read(principal, r)]
    return await _reads(principal, rows, publishing)


async def _reads(
    principal: Principal | None, rows: list[dict[str, Any]], publishing: Publishing
) -> list[PlanRead]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    items = await (
        PlanItem.select(
            *PlanItem.all_columns(),
            PlanItem.suggestion.reference.as_alias("suggestion_reference"),
            PlanItem.topic.reference.as_alias("topic_reference"),
        )
        .where(PlanItem.plan_version.is_in(ids))
        .order_by(PlanItem.position)
        .order_by(PlanItem.id)
    )
    by_version: dict[int, list[PlanItemRead]] = {}
    labels = {w.key: w.label for w in loaded()}
    for item in items:
        by_version.setdefault(item["plan_version"], []).append(
            PlanItemRead(
                id=item["id"],
                position=item["position"],
                quarter=item["quarter"],
                quarter_label=QUARTERS[item["quarter"]],
                title=item["title"],
                workflow=PlanWorkflow(
                    key=item["workflow_key"],
                    label=labels.get(item["workflow_key"], item["workflow_key"]),
                ),
                lead_unit=item["lead_unit"],
                suggestion_id=item["suggestion"],
                suggestion_reference=item["suggestion_reference"],
                topic_id=item["topic"],
                topic_reference=item["topic_reference"],
                carried_from=item["carried_from"],
            )
        )
    plans = {r["plan"] for r in rows}
    published = await (
        PlanVersion.select(PlanVersion.id, PlanVersion.plan, PlanVersion.version)
        .where(PlanVersion.plan.is_in(list(plans)), PlanVersion.status.is_in(list(SHOWN)))
        .order_by(PlanVersion.version)
    )
    townships = {
        t["id"]: t["name"]
        for t in await Township.select(Township.id, Township.name).where(
            Township.id.is_in([r["township"] for r in rows if r["township"] is not None] or [0])
        )
    }
    out = []
    for row in rows:
        series = [p for p in published if p["plan"] == row["plan"]]
        before = [p for p in series if p["version"] < row["version"]]
        after = [p for p in series if p["version"] > row["version"]]
        document = None
        if row["document"] is not None:
            document = await documents.get_document(principal, row["document"], publishing)
        out.append(
            PlanRead(
                id=row["id"],
                plan_id=row["plan"],
                reference=row["reference"],
                year=row["year"],
                township_id=row["township"],
                township_name=townships.get(row["township"], ""),
                version=row["version"],
                status=row["status"],
                status_label=STATUS_LABELS[row["status"]],
                note=row["note"],
                supersedes_id=before[-1]["id"] if before and row["status"] in SHOWN else None,
                superseded_by_id=after[0]["id"] if after and row["status"] in SHOWN else None,
                document=document,
                created_at=row["created_at"],
                published_at=row["published_at"],
                items=by_version.get(row["id"], []),
            )
        )
    return out


# Drafts -------------------------------------------------------------------------------


async def _place(principal: Principal, township_id: int | None) -> tuple[int | None, str]:
    """The plan's township (None: the county's) and its name: the one named, else the
    staff member's own, else the county's for someone of no township."""
    if township_id is None:
        township_id = principal.township_id
    if township_id is None:
        return None, ""
    if not valid_id(township_id):
        raise ValidationFailed([{"field": "township_id", "message": "没有这个乡镇"}])
    row = await Township.select(Township.name).where(Township.id == township_id).first()
    if row is None:
        raise ValidationFailed([{"field": "township_id", "message": "没有这个乡镇"}])
    return township_id, row["name"]


async def _offered(township_id: int | None) -> set[str]:
    """The workflows a plan's items may follow: those the township offers (a village
    workflow offered by any of its villages); every loaded one for the county."""
    if township_id is None:
        return {w.key for w in loaded().newest()}
    township = (
        await Township.select(Township.offered_workflows).where(Township.id == township_id).first()
    )
    keys = set(offered_keys(township["offered_workflows"] if township else None, "township"))
    for village in await Village.select(Village.offered_workflows).where(
        Village.township == township_id
    ):
        keys |= set(offered_keys(village["offered_workflows"], "village"))
    return keys


async def _checked_items(
    principal: Principal, township_id: int | None, items: list[PlanItemCreate]
) -> list[dict[str, Any]]:
    """The items as they will be stored, or a 422 naming every field that is wrong."""
    errors: list[dict[str, str]] = []
    offered = await _offered(township_id)
    labels = {w.key: w.label for w in loaded().newest()}
    suggestion_ids = [i.suggestion_id for i in items if i.suggestion_id is not None]
    suggestions = {
        s["id"]: s
        for s in await Suggestion.select(
            Suggestion.id, Suggestion.township, Suggestion.status, Suggestion.topic
        ).where(Suggestion.id.is_in([i for i in suggestion_ids if valid_id(i)] or [0]))
    }
    rows = []
    for n, item in enumerate(items):
        at = f"items[{n}]"
        if item.workflow not in labels:
            choices = "、".join(f"{k}（{v}）" for k, v in labels.items() if k in offered)
            errors.append(
                {"field": f"{at}.workflow", "message": f"没有这个协商流程，可选：{choices}"}
            )
        elif item.workflow not in offered:
            choices = "、".join(f"{k}（{v}）" for k, v in labels.items() if k in offered)
            errors.append(
                {
                    "field": f"{at}.workflow",
                    "message": f"本乡镇没有开设“{labels[item.workflow]}”，可选：{choices or '无'}",
                }
            )
        topic_id = item.topic_id
        township = township_id
        if item.suggestion_id is not None:
            found = suggestions.get(item.suggestion_id)
            if found is None or (township_id is not None and found["township"] != township_id):
                errors.append({"field": f"{at}.suggestion_id", "message": "本乡镇没有这条村民建议"})
            elif found["status"] in CLOSED_SUGGESTIONS:
                word = "已不予采纳" if found["status"] == "declined" else "已合并到其他建议或议题"
                errors.append(
                    {"field": f"{at}.suggestion_id", "message": f"这条村民建议{word}，不能列入计划"}
                )
            else:
                township = found["township"]
                topic_id = topic_id or found["topic"]
        if item.topic_id is not None:
            try:
                topic = await visible_topic(principal, item.topic_id)
            except NotFound:
                errors.append({"field": f"{at}.topic_id", "message": "没有这个议题"})
            else:
                if township_id is not None and topic["township"] != township_id:
                    errors.append({"field": f"{at}.topic_id", "message": "这个议题不属于本乡镇"})
                township = topic["township"]
        rows.append(
            {
                "position": n + 1,
                "quarter": item.quarter,
                "title": _public_title(item.title.strip()),
                "workflow_key": item.workflow,
                "lead_unit": item.lead_unit.strip(),
                "suggestion": item.suggestion_id,
                "topic": topic_id,
                "township": township,
            }
        )
    if errors:
        raise ValidationFailed(errors)
    return rows


def _public_title(title: str) -> str:
    """An item's title as the public reads it: ID and mobile numbers masked (as a
    suggestion's public text, docs/decisions.md)."""
    return mask(title, "title").text


def _carried(item: dict[str, Any], before: list[dict[str, Any]]) -> int | None:
    """The same item in the version revised: by its suggestion, its topic or its title."""
    for old in before:
        if item["suggestion"] is not None and old["suggestion"] == item["suggestion"]:
            return int(old["id"])
    for old in before:
        if item["topic"] is not None and old["topic"] == item["topic"]:
            return int(old["id"])
    for old in before:
        if old["title"] == item["title"]:
            return int(old["id"])
    return None


async def create_plan(principal: Principal, data: PlanCreate, publishing: Publishing) -> PlanRead:
    """A new draft of the year's plan: the township's (or the county's) series is made
    with its first draft if there is none; a draft already there is discarded; after a
    publish, the draft is the next version and its items carry the ones they continue
    (``carried_from``)."""
    allowed_plan(principal, "plan.edit").check()  # the role first (403)
    township_id, name = await _place(principal, data.township_id)
    if not allowed_plan(principal, "plan.edit", PlanSubject(township_id=township_id)):
        # Another township's plan (or the county's) is not this person's to draft: 403
        # (the policy hides another township's drafts, but a new one names no draft).
        raise Forbidden("只能编制本乡镇的协商计划（县级计划由县政协督办人员编制）")
    items = await _checked_items(principal, township_id, data.items)
    for _ in range(2):
        plan_id = await _series_of(data.year, township_id)
        if plan_id is not None:
            version_id = await _redraft(principal, plan_id, data.note, items)
            break
        try:
            version_id = await _first_draft(principal, data, township_id, name, items)
            break
        except Exception as error:
            # Two first drafts at once: the other made the series; draft in it.
            if not is_unique_violation(error):
                raise
    return await get_plan(principal, version_id, publishing)


async def _series_of(year: int, township_id: int | None) -> int | None:
    where = Plan.township.is_null() if township_id is None else Plan.township == township_id
    found = await Plan.select(Plan.id).where(Plan.year == year, where).first()
    return int(found["id"]) if found else None


async def _first_draft(
    principal: Principal,
    data: PlanCreate,
    township_id: int | None,
    name: str,
    items: list[dict[str, Any]],
) -> int:
    """The series and its first draft, with the chain's first event."""
    async with plan_started(principal, township_id) as change:
        made = await Plan.insert(
            Plan(
                year=data.year,
                township=township_id,
                reference=f"JH-{data.year}-{name or '全县'}",
                event_seq=1,
                created_at=utcnow(),
            )
        ).returning(*Plan.all_columns())
        change.owner = dict(made[0])
        plan_id = int(made[0]["id"])
        version = await PlanVersion.insert(
            PlanVersion(
                plan=plan_id,
                version=1,
                status="draft",
                note=data.note.strip(),
                created_by=principal.id,
                created_at=utcnow(),
            )
        ).returning(PlanVersion.id)
        version_id = int(version[0]["id"])
        item_ids = []
        for item in items:
            written = await PlanItem.insert(PlanItem(plan_version=version_id, **item)).returning(
                PlanItem.id
            )
            item_ids.append(int(written[0]["id"]))
        await change.started(
            "plan.drafted",
            "plan",
            plan_id,
            to_state="draft",
            also=(("plan_version", version_id), *(("plan_item", i) for i in item_ids)),
        )
    return version_id


async def _redraft(
    principal: Principal, plan_id: int, note: str, items: list[dict[str, Any]]
) -> int:
    """A new draft of an existing series: the draft there discarded, the next version
    number, the items carried from the version in force."""
    async with plan_change(principal, plan_id, "plan.edit") as change:
        drafts = await PlanVersion.select(PlanVersion.id).where(
            PlanVersion.plan == plan_id, PlanVersion.status == "draft"
        )
        for draft in drafts:
            await PlanVersion.update({PlanVersion.status: "discarded"}).where(
                PlanVersion.id == draft["id"]
            )
            await change.vouched(
                "plan.discarded", "plan_version", draft["id"], to_state="discarded"
            )
        latest = (
            await PlanVersion.select(PlanVersion.version)
            .where(PlanVersion.plan == plan_id)
            .order_by(PlanVersion.version, ascending=False)
            .first()
        )
        current = (
            await PlanVersion.select(PlanVersion.id)
            .where(PlanVersion.plan == plan_id, PlanVersion.status == "published")
            .first()
        )
        before = (
            list(await PlanItem.select().where(PlanItem.plan_version == current["id"]))
            if current
            else []
        )
        number = (latest["version"] if latest else 0) + 1
        version = await PlanVersion.insert(
            PlanVersion(
                plan=plan_id,
                version=number,
                status="draft",
                note=note.strip(),
                created_by=principal.id,
                created_at=utcnow(),
            )
        ).returning(PlanVersion.id)
        version_id = int(version[0]["id"])
        item_ids = []
        for item in items:
            written = await PlanItem.insert(
                PlanItem(plan_version=version_id, carried_from=_carried(item, before), **item)
            ).returning(PlanItem.id)
            item_ids.append(int(written[0]["id"]))
        await change.vouched(
            "plan.drafted",
            "plan_version",
            version_id,
            also=tuple(("plan_item", i) for i in item_ids),
            to_state="draft",
        )
    return version_id


# Publishing ---------------------------------------------------------------------------


async def publish_plan(
    principal: Principal,
    version_id: int,
    posting_days: int | None,
    publishing: Publishing,
    *,
    now: datetime | None = None,
) -> PlanRead:
    """Publish a draft: its notice rendered, numbered (the township's sequence, or the
    county's) and frozen; the version published before, and its notice, superseded; one
    ``plan.published`` event on the plan's chain vouching all of it."""
    allowed_plan(principal, "plan.publish").check()
    row = await _visible(principal, version_id)
    subject = PlanSubject(township_id=row["township"], status=row["status"])
    allowed_plan(principal, "plan.publish", subject).check()
    if row["status"] != "draft":
        raise TransitionNotAllowed(f"只有草稿可以发布：此计划{STATUS_LABELS[row['status']]}")
    now = now or utcnow()

    async def commit(attempt: Attempt) -> None:
        async with plan_change(principal, row["plan"], "plan.publish", status="draft") as change:
            superseded = await write_published(attempt)
            document_id = attempt.row["id"]
            published = (
                await PlanVersion.update(
                    {
                        PlanVersion.status: "published",
                        PlanVersion.document: document_id,
                        PlanVersion.published_by: principal.id,
                        PlanVersion.published_at: attempt.now,
                    }
                )
                .where(PlanVersion.id == version_id, PlanVersion.status == "draft")
                .returning(PlanVersion.id)
            )
            if not published:
                raise TransitionNotAllowed("此计划已被他人发布或作废，请刷新后再试")
            older = (
                await PlanVersion.update({PlanVersion.status: "superseded"})
                .where(PlanVersion.plan == row["plan"], PlanVersion.status == "published")
                .where(PlanVersion.id != version_id)
                .returning(PlanVersion.id)
            )
            items = await PlanItem.select(PlanItem.id).where(PlanItem.plan_version == version_id)
            event = await change.vouched(
                "plan.published",
                "plan_version",
                version_id,
                to_state="published",
                also=(
                    *(("plan_item", i["id"]) for i in items),
                    ("document", document_id),
                    *(("plan_version", v["id"]) for v in older),
                    *(("document", d) for d in superseded),
                ),
                now=attempt.now,
            )
            await stamp_head(attempt, event)

    await plan_document(
        principal,
        version_id,
        row["plan"],
        row["township"],
        posting_days,
        publishing,
        commit=commit,
        now=now,
    )
    return await get_plan(principal, version_id, publishing)


# Items linked to their topics ------------------------------------------------------------


async def link_items(
    principal: Principal, suggestion_id: int, topic_id: int, now: datetime
) -> list[int]:
    """Inside a screening's transaction (the suggestion and the topic locked or just
    opened): the items that name the suggestion and no topic yet, in the published
    version of a plan or in its draft (so a draft published later keeps the link), get
    the topic, with one ``plan.item_linked`` event per plan series naming the topic's and
    the suggestion's heads (docs/plans/issue-27-plan.md §2.3 step 7). Plans are locked
    in id order, after the suggestion and the topic. The items linked."""
    linked: list[int] = []
    for plan_id in await _plans_naming(suggestion_id):
        await locked_plan(plan_id)  # read again under the lock: a publish may have moved on
        ids = await _unlinked_items(suggestion_id, plan_id)
        if not ids:
            continue
        async with plan_linked(principal, plan_id) as change:
            await PlanItem.update({PlanItem.topic: topic_id}).where(PlanItem.id.is_in(ids))
            links = [
                await chain.link(chain.TOPIC, topic_id),
                await chain.link(chain.SUGGESTION, suggestion_id),
            ]
            await change.vouched(
                "plan.item_linked",
                "plan_item",
                ids[0],
                also=tuple(("plan_item", i) for i in ids[1:]),
                data={"links": links},
                to_state=change.state,
                now=now,
            )
        linked += ids
    return linked


LINKED_STATUSES = ("published", "draft")
"""The versions whose items a screening links: the plan in force and the one drafted."""


async def _plans_naming(suggestion_id: int) -> list[int]:
    rows = await PlanItem.select(PlanItem.plan_version.plan.as_alias("plan")).where(
        PlanItem.suggestion == suggestion_id,
        PlanItem.topic.is_null(),
        PlanItem.plan_version.status.is_in(list(LINKED_STATUSES)),
    )
    return sorted({int(r["plan"]) for r in rows})


async def _unlinked_items(suggestion_id: int, plan_id: int) -> list[int]:
    rows = await PlanItem.select(PlanItem.id).where(
        PlanItem.suggestion == suggestion_id,
        PlanItem.topic.is_null(),
        PlanItem.plan_version.status.is_in(list(LINKED_STATUSES)),
        PlanItem.plan_version.plan == plan_id,
    )
    return sorted(int(r["id"]) for r in rows)


__all__ = [
    "PlanCreate",
    "PlanItemCreate",
    "PlanPublish",
    "PlanRead",
    "create_plan",
    "get_plan",
    "link_items",
    "list_plans",
    "publish_plan",
]
