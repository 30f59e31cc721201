"""The life of a document: draft → published (frozen) → superseded or revoked.

A draft is rendered when staff create it and may be previewed. Publishing renders
the final PDF from the same words (plus its number, posting period and the QR
code of its verification page), as PDF/A-3b, and freezes its bytes and SHA-256:
from then on the stored bytes are served and never rendered again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.columns.combination import WhereRaw

from deliberation import chain, requirements
from deliberation.changes import plan_change, topic_change
from deliberation.clock import china_today, chinese_date, utcnow
from deliberation.context import current
from deliberation.database import bound_engine, is_sqlite, write_transaction
from deliberation.documents import board
from deliberation.documents.content import (
    COUNTY_NUMBER_PREFIX,
    KINDS,
    NOTICES,
    PLAN_KINDS,
    Content,
    Owner,
    PlanOwner,
    TopicOwner,
    document_content,
    document_number,
    owner_of,
    subject_label,
)
from deliberation.documents.render import RenderJob
from deliberation.documents.renderer import Renderer
from deliberation.errors import (
    ConditionFailed,
    Forbidden,
    NotFound,
    TransitionNotAllowed,
    ValidationFailed,
)
from deliberation.paging import Page, Window, keyed, page_of
from deliberation.permissions import (
    ROLE_ONLY,
    Action,
    PlanSubject,
    Subject,
    allowed,
    allowed_plan,
)
from deliberation.pinning import workflow_of
from deliberation.schemas import DocumentPage, DocumentRead
from deliberation.search import normalise
from deliberation.security import Principal
from deliberation.tables import (
    Account,
    Document,
    Plan,
    PlanVersion,
    ProgressReport,
    ResolutionItem,
    Topic,
)
from deliberation.topics import topic_row, valid_id, visible_topic
from deliberation.validation import check_date_range
from deliberation.wording import zh
from deliberation.workdays import working_days

STATUS_LABELS = {
    "draft": "草稿",
    "published": "有效",
    "superseded": "已被新版本替代",
    "revoked": "已撤销",
}
RENDERING = "rendering"
"""A draft whose PDF is being rendered: never served, listed or verified. A server
killed meanwhile leaves one behind; :func:`sweep_unfinished` removes it."""
UNFINISHED_AFTER = timedelta(minutes=10)
DEFAULT_POSTING_DAYS = 5
NUMBER_TRIES = 8
"""Publishes that lost the race for a notice number re-render with the next one."""
STAFF = "staff"


@dataclass(frozen=True)
class Publishing:
    """What the document services need from the running app."""

    renderer: Renderer
    public_url: str
    default_posting_days: int = DEFAULT_POSTING_DAYS
    county_number_prefix: str = COUNTY_NUMBER_PREFIX
    """The county's 机关代字 on its documents' numbers (县政协协商〔2027〕1号)."""

    def number(self, row: dict[str, Any], year: int, number: int) -> str:
        """A document's number: its township's sequence, or the county's."""
        return document_number(row["township_name"], year, number, self.county_number_prefix)

    def pdf_url(self, document_id: int) -> str:
        return f"{self.public_url}/api/v1/documents/{document_id}/pdf"

    def verify_url(self, document_id: int) -> str:
        return f"{self.public_url}/verify/{document_id}"


_COLUMNS = (
    Document.id,
    Document.topic,
    Document.topic.reference.as_alias("topic_reference"),
    Document.township,
    Document.township.name.as_alias("township_name"),
    Document.kind,
    Document.title,
    Document.status,
    Document.number_year,
    Document.number,
    Document.sha256,
    Document.size_bytes,
    Document.created_at,
    Document.published_at,
    Document.posting_starts_on,
    Document.posting_ends_on,
    Document.posting_provisional,
    Document.superseded_by,
    Document.revoked_at,
    Document.revoke_reason,
    Document.chain_seq,
    Document.chain_hash,
    Document.source_seq,
    Document.plan_version,
    Document.plan_version.plan.as_alias("plan_id"),
    Document.plan_version.version.as_alias("plan_version_number"),
    Document.plan_version.plan.year.as_alias("plan_year"),  # type: ignore[union-attr]
)


def _read(row: dict[str, Any], publishing: Publishing, stale: bool = False) -> DocumentRead:
    number = None
    if row["number"] is not None:
        number = publishing.number(row, row["number_year"], row["number"])
    return DocumentRead(
        id=row["id"],
        topic_id=row["topic"],
        topic_reference=row["topic_reference"],
        township_id=row["township"],
        township_name=row["township_name"] or "",
        plan_id=row["plan_id"],
        plan_version=row["plan_version_number"],
        plan_year=row["plan_year"],
        kind=row["kind"],
        kind_label=KINDS[row["kind"]],
        title=row["title"],
        number=number,
        status=row["status"],
        status_label=STATUS_LABELS[row["status"]],
        sha256=row["sha256"],
        size_bytes=row["size_bytes"],
        pdf_url=publishing.pdf_url(row["id"]),
        verify_url=publishing.verify_url(row["id"]),
        created_at=row["created_at"],
        published_at=row["published_at"],
        posting_starts_on=row["posting_starts_on"],
        posting_ends_on=row["posting_ends_on"],
        posting_provisional=row["posting_provisional"],
        superseded_by=row["superseded_by"],
        revoked_at=row["revoked_at"],
        revoke_reason=row["revoke_reason"] or None,
        chain_seq=row["chain_seq"],
        chain_hash=row["chain_hash"],
        source_seq=row["source_seq"],
        stale=stale,
    )


def _may_see_drafts(principal: Principal | None, row: dict[str, Any]) -> bool:
    return bool(allowed(principal, "document.read_draft", Subject.township(row["township"])))


async def _row(principal: Principal | None, document_id: int) -> dict[str, Any]:
    """A document the caller may see: published ones are public; drafts are for the
    staff of their township. Anything else is 404."""
    if not valid_id(document_id):
        raise NotFound("文件不存在")
    row = await Document.select(*_COLUMNS).where(Document.id == document_id).first()
    if row is None or row["status"] == RENDERING:
        raise NotFound("文件不存在")
    if row["status"] == "draft" and not _may_see_drafts(principal, row):
        raise NotFound("文件不存在")
    return dict(row)


async def _own_document(principal: Principal, document_id: int, action: Action) -> dict[str, Any]:
    """A document, if the policy lets the caller ``action`` it (publish, revoke): role
    (403) first, then whether it is theirs to see (404), then the stage. A plan's
    document is the plan's publishers' (the county's supervisor for the county plan):
    published with the plan (``POST /api/v1/plans/{id}/publish``), revoked here."""
    role = allowed(principal, action, ROLE_ONLY)
    if not role and not allowed_plan(principal, "plan.publish"):
        role.check()
    row = await _row(principal, document_id)
    owner = owner_of(row)
    if isinstance(owner, PlanOwner):
        if not allowed_plan(principal, "plan.publish", PlanSubject(township_id=row["township"])):
            # The document is public: someone else's plan is a 403, not a 404.
            raise Forbidden("只能处理本乡镇的协商计划（县级计划由县政协督办人员处理）")
        if action == "document.publish":
            raise TransitionNotAllowed("协商计划随计划一起发布：请发布计划")
        return row
    role.check()
    topic = await topic_row(owner.topic_id)
    allowed(principal, action, Subject.of_topic(topic), row["kind"]).check()
    return row


def _draft_job(content: Content, document_id: int, publishing: Publishing) -> RenderJob:
    verify_url = publishing.verify_url(document_id)
    context = {
        **content.context,
        "number_text": zh("草稿(发布时编号)") if content.kind in NOTICES else zh("(草稿)"),
        "posting_text": zh("公示期:自发布之日起计算,发布时确定。"),
        "draft": True,
    }
    return RenderJob(
        template=content.template,
        context=context,
        qr_text=f"{verify_url}?draft=1",
        verify_label=zh(
            "草稿 · 尚未发布,不具效力 · {subject}\n核验:{url}",
            subject=subject_label(content),
            url=verify_url,
        ),
        title=content.title,
        author=content.issuer,
    )


def _content_json(content: Content) -> str:
    return json.dumps(dataclasses.asdict(content), ensure_ascii=False)


def _content_from(raw: str) -> Content:
    return Content(**json.loads(raw))


async def create_document(
    principal: Principal,
    topic_id: int,
    kind: str,
    publishing: Publishing,
    *,
    now: datetime | None = None,
) -> DocumentRead:
    """Render a draft from the record as it is now. The row exists while rendering but
    is never served (``rendering``); it becomes a draft, with its PDF and its event on
    the chain, in one transaction, or is removed: a kill at any point leaves either
    nothing visible or a complete draft."""
    if kind not in KINDS or kind in PLAN_KINDS:
        raise ValidationFailed([{"field": "kind", "message": "没有这种文件"}])
    allowed(principal, "document.draft", ROLE_ONLY).check()
    topic = await topic_row(topic_id)
    allowed(principal, "document.draft", Subject.of_topic(topic), kind).check()
    now = now or utcnow()
    owner = TopicOwner(topic_id)
    source_seq = await _chain_position(owner)
    content = await document_content(kind, owner, china_today(now))
    await _made_from(topic, kind)
    await sweep_unfinished(now)
    async with write_transaction():
        inserted = await Document.insert(
            Document(
                topic=topic_id,
                township=topic["township"],
                kind=kind,
                title=content.title,
                status=RENDERING,
                content=_content_json(content),
                search_text=normalise(content.text),
                pdf=b"",
                sha256="",
                size_bytes=0,
                created_by=principal.id,
                created_at=now,
                revoke_reason="",
                source_seq=source_seq,
            )
        ).returning(Document.id)
    document_id = inserted[0]["id"]
    try:
        pdf = await publishing.renderer.render(_draft_job(content, document_id, publishing))
        # Decided again on the locked topic: the stage may have moved on while rendering.
        async with topic_change(principal, topic_id, "document.draft", kind) as change:
            await Document.update(
                {
                    Document.status: "draft",
                    Document.pdf: pdf,
                    Document.sha256: hashlib.sha256(pdf).hexdigest(),
                    Document.size_bytes: len(pdf),
                }
            ).where(Document.id == document_id, Document.status == RENDERING)
            await change.vouched("document.drafted", "document", document_id)
    except BaseException:
        # Never leave a half-made draft behind.
        await Document.delete().where(Document.id == document_id, Document.status == RENDERING)
        raise
    return _read(await _row(principal, document_id), publishing)


async def plan_document(
    principal: Principal,
    plan_version_id: int,
    plan_id: int,
    township_id: int | None,
    posting_days: int | None,
    publishing: Publishing,
    *,
    commit: Commit,
    now: datetime | None = None,
) -> int:
    """Make and publish a plan version's notice (``annual_plan``) in one go: a plan has
    no draft PDF (its draft is the version itself). The row exists while rendering but
    is never served; it is published by ``commit`` (with its event on the plan's chain, or
    removed."""
    now = now or utcnow()
    await sweep_unfinished(now)
    async with write_transaction():
        inserted = await Document.insert(
            Document(
                topic=None,
                plan_version=plan_version_id,
                township=township_id,
                kind="annual_plan",
                title="",
                status=RENDERING,
                content="{}",
                search_text="",
                pdf=b"",
                sha256="",
                size_bytes=0,
                created_by=principal.id,
                created_at=now,
                revoke_reason="",
            )
        ).returning(Document.id)
    document_id = int(inserted[0]["id"])
    try:
        row = await Document.select(*_COLUMNS).where(Document.id == document_id).first()
        assert row is not None
        await publish_owned(principal, dict(row), posting_days, publishing, now=now, commit=commit)
    except BaseException:
        await Document.delete().where(Document.id == document_id, Document.status == RENDERING)
        raise
    return document_id


async def _made_from(topic: dict[str, Any], kind: str) -> None:
    """The record a document is made from (its declared ``requires``), met or 422
    ``condition_failed`` naming it and its rule (docs/workflows.md ``[[documents]]``)."""
    workflow = workflow_of(topic)
    requires = workflow.document(kind).requires
    if requires is None:
        return
    refusal = await requirements.document_refusal(topic, workflow, requires)
    if refusal is not None:
        detail = "、".join(part for part in (refusal.label, refusal.detail) if part)
        raise ConditionFailed(
            f"生成{workflow.document(kind).label}需要：{detail}", missing=[refusal.name]
        )


async def _chain_position(owner: Owner) -> int:
    """How many events the owner's chain holds (the topic's, or the plan series')."""
    if isinstance(owner, PlanOwner):
        plan = await Plan.select(Plan.event_seq).where(Plan.id == owner.plan_id).first()
        return int(plan["event_seq"]) if plan else 0
    row = await Topic.select(Topic.event_seq).where(Topic.id == owner.topic_id).first()
    return int(row["event_seq"]) if row else 0


def _printed(content: Content) -> dict[str, Any]:
    """What of a document's words depends on the record: all but the date it is issued
    on, which publishing sets (a meeting's minutes keep the meeting's date)."""
    words = dataclasses.asdict(content)
    if content.kind != "minutes":
        words["context"] = {k: v for k, v in content.context.items() if k != "date_text"}
    return words


async def _current_content(kind: str, owner: Owner, today: date) -> Content | None:
    """What the document would say if drafted now (None: it could not be drafted now,
    e.g. its results were all withdrawn)."""
    try:
        return await document_content(kind, owner, today)
    except ConditionFailed:
        return None


async def _stale_drafts(rows: list[dict[str, Any]]) -> set[int]:
    """The drafts among ``rows`` whose record has changed what they print since."""
    drafts = [r for r in rows if r["status"] == "draft"]
    if not drafts:
        return set()
    today = china_today()
    stored = {
        r["id"]: _content_from(r["content"])
        for r in await Document.select(Document.id, Document.content).where(
            Document.id.is_in([d["id"] for d in drafts])
        )
    }
    now_by_kind: dict[tuple[Owner, str], Content | None] = {}
    stale = set()
    for draft in drafts:
        key = (owner_of(draft), draft["kind"])
        if key not in now_by_kind:
            now_by_kind[key] = await _current_content(draft["kind"], key[0], today)
        current = now_by_kind[key]
        if current is None or _printed(current) != _printed(stored[draft["id"]]):
            stale.add(draft["id"])
    return stale


async def sweep_unfinished(now: datetime | None = None) -> int:
    """Remove drafts whose rendering never finished (their server was killed)."""
    cutoff = (now or utcnow()) - UNFINISHED_AFTER
    removed = (
        await Document.delete()
        .where(Document.status == RENDERING, Document.created_at < cutoff)
        .returning(Document.id)
    )
    return len(removed)


async def _peek_number(township_id: int | None, year: int) -> int:
    """The number the next published notice of the township and year would take. It
    is only taken by the publish that commits with it (:func:`_take_number`). The
    county's documents (no township) have their own sequence."""
    if township_id is None:
        await Document.raw(
            "INSERT INTO county_document_counter (year, last_number) VALUES ({}, 0) "
            "ON CONFLICT (year) DO NOTHING",
            year,
        )
        rows = await Document.raw(
            "SELECT last_number FROM county_document_counter WHERE year = {}", year
        )
        return int(rows[0]["last_number"]) + 1
    await Document.raw(
        "INSERT INTO document_counter (township, year, last_number) VALUES ({}, {}, 0) "
        "ON CONFLICT (township, year) DO NOTHING",
        township_id,
        year,
    )
    rows = await Document.raw(
        "SELECT last_number FROM document_counter WHERE township = {} AND year = {}",
        township_id,
        year,
    )
    return int(rows[0]["last_number"]) + 1


async def _take_number(township_id: int | None, year: int, number: int) -> bool:
    """Take ``number`` inside the publishing transaction, if nobody took it first (the
    row lock makes a concurrent publish wait, then find the counter moved)."""
    if township_id is None:
        rows = await Document.raw(
            "UPDATE county_document_counter SET last_number = {} "
            "WHERE year = {} AND last_number = {} RETURNING last_number",
            number,
            year,
            number - 1,
        )
        return bool(rows)
    rows = await Document.raw(
        "UPDATE document_counter SET last_number = {} "
        "WHERE township = {} AND year = {} AND last_number = {} RETURNING last_number",
        number,
        township_id,
        year,
        number - 1,
    )
    return bool(rows)


class _NumberTaken(Exception):
    """Another publish took the number this PDF was rendered with."""


PROVISIONAL_NOTE = zh("(暂定:该年节假日安排尚未公布)")


def posting_period(start: date, end: date, provisional: bool) -> str:
    """``2026年11月27日至2026年12月4日``, marked 暂定 when a year's holidays are not known."""
    note = PROVISIONAL_NOTE if provisional else ""
    return f"{chinese_date(start)}至{chinese_date(end)}{note}"


def posting_text(start: date, end: date, days: int, provisional: bool) -> str:
    return zh(
        "公示期:{period}({days}个工作日)。",
        period=posting_period(start, end, provisional),
        days=str(days),
    )


@dataclass(frozen=True)
class PublishPreview:
    """What publishing a draft now would give it, to show before anyone confirms: the
    notice number (the next one free; another publish may still take it first) and
    the posting period."""

    title: str
    kind: str
    number_text: str | None
    posting: str
    """``2026年12月2日至2026年12月9日（5个工作日）``."""
    stale: bool = False
    """The record changed since the draft: publishing renders it again from the record."""


async def publish_preview(
    principal: Principal, document_id: int, posting_days: int | None, publishing: Publishing
) -> PublishPreview:
    row = await _own_document(principal, document_id, "document.publish")
    if row["status"] != "draft":
        raise TransitionNotAllowed(zh("只有草稿可以发布:此文件") + STATUS_LABELS[row["status"]])
    await _publishable_content(row)
    stale = bool(await _stale_drafts([row]))
    today = china_today()
    days = posting_days or publishing.default_posting_days
    deadline = (await working_days()).add(today, days)
    number_text = None
    if row["kind"] in NOTICES:
        number = await _peek_number(row["township"], today.year)
        number_text = publishing.number(row, today.year, number)
    posting = zh(
        "{period}({days}个工作日)",
        period=posting_period(today, deadline.day, deadline.provisional),
        days=str(days),
    )
    return PublishPreview(row["title"], row["kind"], number_text, posting, stale)


async def publish_document(
    principal: Principal,
    document_id: int,
    posting_days: int | None,
    publishing: Publishing,
    *,
    now: datetime | None = None,
) -> DocumentRead:
    """Render the final PDF from the record as it is now and publish it in one
    transaction with its notice number and its event on the chain.

    A draft made before a later change to what it prints (a result corrected, progress
    reported, a rating given) is not published as it was: the words are read again and
    the PDF rendered from them, and the transaction checks, with the topic locked, that
    nothing changed meanwhile (else it renders again). Publishes of one township take
    turns in this process (:func:`_turn`), so each takes the next number without
    re-rendering; a publish in another process that took the number first makes this one
    render again with the next, so numbers run 1, 2, 3 … per township and year without
    holes."""
    row = await _own_document(principal, document_id, "document.publish")
    if row["status"] != "draft":
        raise TransitionNotAllowed(zh("只有草稿可以发布:此文件") + STATUS_LABELS[row["status"]])
    await publish_owned(principal, row, posting_days, publishing, now=now)
    return _read(await _row(principal, document_id), publishing)


@dataclass(frozen=True)
class Attempt:
    """One try at publishing a document: its words and PDF as rendered, with the number
    it was rendered with. Committed inside the owner's unit of work by
    :func:`write_published` then :func:`stamp_head`; a number taken meanwhile or a
    changed record raises, and the next try renders again."""

    principal: Principal
    row: dict[str, Any]
    content: Content
    pdf: bytes
    number: int | None
    today: date
    deadline: Any
    now: datetime
    publishing: Publishing


Commit = Callable[[Attempt], Awaitable[None]]
"""Commits an attempt in the owner's unit of work (a plan's: ``plans.publish_plan``)."""


async def publish_owned(
    principal: Principal,
    row: dict[str, Any],
    posting_days: int | None,
    publishing: Publishing,
    *,
    now: datetime | None = None,
    commit: Commit | None = None,
) -> None:
    """Publish the document ``row`` (a draft, or a plan's document still ``rendering``):
    number, render and commit, again with the next number if another publish took it.
    ``commit`` publishes it in its owner's unit of work (a plan's, with
    ``plan.published``); by default, the topic's, with ``document.published``."""
    now = now or utcnow()
    today = china_today(now)
    days = posting_days or publishing.default_posting_days
    deadline = (await working_days()).add(today, days)
    async with _turn(row["township"]):
        for _ in range(NUMBER_TRIES):
            content = await _publishable_content(row, today)
            number = None
            if content.kind in NOTICES:
                number = await _peek_number(row["township"], today.year)
            pdf = await publishing.renderer.render(
                _final_job(content, row["id"], publishing, today, deadline, days, row, number)
            )
            attempt = Attempt(
                principal, row, content, pdf, number, today, deadline, now, publishing
            )
            try:
                await (commit or _commit_topic_document)(attempt)
            except (_NumberTaken, _RecordChanged):
                continue
            return
    raise TransitionNotAllowed("同时发布的文件较多，编号未能取得，请稍后再试")


def _turn(township_id: int | None) -> asyncio.Lock:
    """The township's (or the county's) publishing turn in this application: a number
    is peeked, rendered into the PDF and taken by one publish at a time."""
    turns: dict[int | None, asyncio.Lock] = current().kept("documents.turns", dict)
    return turns.setdefault(township_id, asyncio.Lock())


async def _publishable_content(row: dict[str, Any], today: date | None = None) -> Content:
    """The document's words from the record as it is now; refused when there is
    nothing to publish (a feedback report before any progress was reported)."""
    content = await document_content(row["kind"], owner_of(row), today or china_today())
    if row["kind"] == "feedback_report" and not await _any_progress(row["topic"]):
        raise ConditionFailed(
            "还没有任何事项报告落实进展，落实情况通报无可通报，不能发布：请先报告进展",
            missing=["progress"],
        )
    return content


async def _any_progress(topic_id: int) -> bool:
    items = ResolutionItem.select(ResolutionItem.id).where(ResolutionItem.topic == topic_id)
    return await ProgressReport.exists().where(ProgressReport.item.is_in(items))


class _RecordChanged(Exception):
    """The record changed what the document prints while it was being rendered."""


def _final_job(
    content: Content,
    document_id: int,
    publishing: Publishing,
    today: date,
    deadline: Any,
    days: int,
    row: dict[str, Any],
    number: int | None,
) -> RenderJob:
    context = {
        **content.context,
        "posting_text": posting_text(today, deadline.day, days, deadline.provisional),
        "number_text": "",
        "draft": False,
    }
    if content.kind != "minutes":
        context["date_text"] = chinese_date(today)
    if number is not None:
        context["number_text"] = publishing.number(row, today.year, number)
    verify_url = publishing.verify_url(document_id)
    return RenderJob(
        template=content.template,
        context=context,
        qr_text=verify_url,
        verify_label=zh(
            "扫码核验真伪 · {subject}\n{url}",
            subject=subject_label(content),
            url=verify_url,
        ),
        title=content.title,
        author=content.issuer,
        pdf_a=True,
    )


def _owner_change(
    principal: Principal, owner: Owner, action: Action, kind: str
) -> AbstractAsyncContextManager[Any]:
    """The owner's unit of work: the topic's, or the plan series' (publishing a plan's
    document is publishing the plan)."""
    if isinstance(owner, PlanOwner):
        status = "draft" if action == "document.publish" else None
        return plan_change(principal, owner.plan_id, "plan.publish", status=status)
    return topic_change(principal, owner.topic_id, action, kind)


def _same_owner(owner: Owner) -> Any:
    """The documents a new one of the same kind supersedes: the topic's, or those of
    every version of the plan (v2's notice replaces v1's)."""
    if isinstance(owner, PlanOwner):
        versions = PlanVersion.select(PlanVersion.id).where(PlanVersion.plan == owner.plan_id)
        return Document.plan_version.is_in(versions)
    return Document.topic == owner.topic_id


async def _chain_head(owner: Owner) -> tuple[int, str]:
    if isinstance(owner, PlanOwner):
        return await chain.head(owner.plan_id, chain.PLAN)
    return await chain.head(owner.topic_id)


async def write_published(attempt: Attempt) -> list[int]:
    """Inside the owner's unit of work (its row locked, the policy decided on it): check
    that the record still prints what was rendered, take the number, supersede the
    owner's earlier document of the kind and publish this one. The ids superseded."""
    row, content, now, today = attempt.row, attempt.content, attempt.now, attempt.today
    document_id, owner, number = row["id"], owner_of(row), attempt.number
    current = await _current_content(content.kind, owner, today)
    if current is None or _printed(current) != _printed(content):
        raise _RecordChanged()
    if number is not None and not await _take_number(row["township"], today.year, number):
        raise _NumberTaken()
    superseded = (
        await Document.update(
            {
                Document.status: "superseded",
                Document.superseded_by: document_id,
                Document.superseded_at: now,
            }
        )
        .where(_same_owner(owner), Document.kind == row["kind"], Document.status == "published")
        .returning(Document.id)
    )
    pdf = attempt.pdf
    updated = (
        await Document.update(
            {
                Document.status: "published",
                Document.title: content.title,
                Document.content: _content_json(content),
                Document.search_text: normalise(content.text),
                Document.source_seq: await _chain_position(owner),
                Document.pdf: pdf,
                Document.sha256: hashlib.sha256(pdf).hexdigest(),
                Document.size_bytes: len(pdf),
                Document.number_year: today.year if number is not None else None,
                Document.number: number,
                Document.published_at: now,
                Document.published_by: attempt.principal.id,
                Document.posting_starts_on: today,
                Document.posting_ends_on: attempt.deadline.day,
                Document.posting_provisional: attempt.deadline.provisional,
            }
        )
        .where(Document.id == document_id, Document.status == row["status"])
        .returning(Document.id)
    )
    if not updated:
        raise TransitionNotAllowed("此文件已被他人发布或处理，请刷新后再试")
    return [r["id"] for r in superseded]


async def stamp_head(attempt: Attempt, event: chain.Event) -> None:
    """After the publishing event, in the same unit: the chain head the document was
    issued at, for its verification page."""
    owner = owner_of(attempt.row)
    seq, head_hash = await _chain_head(owner)
    assert seq == event.seq
    await Document.update({Document.chain_seq: seq, Document.chain_hash: head_hash}).where(
        Document.id == attempt.row["id"]
    )
    await board.changed()


async def _commit_topic_document(attempt: Attempt) -> None:
    """A topic's document: publishes of one topic's documents take turns on the topic's
    lock, and the policy decides again on the locked row (the stage may have moved on
    while rendering)."""
    row, publishing, number = attempt.row, attempt.publishing, attempt.number
    document_id = row["id"]
    async with topic_change(
        attempt.principal, row["topic"], "document.publish", row["kind"]
    ) as change:
        superseded = await write_published(attempt)
        event = await change.vouched(
            "document.published",
            "document",
            document_id,
            also=tuple(("document", d) for d in superseded),
            now=attempt.now,
            # What the webhooks are told besides the topic (outbox "document.published").
            extra={
                "document_id": document_id,
                "kind": row["kind"],
                "kind_label": KINDS[row["kind"]],
                "document_title": attempt.content.title,
                "number": publishing.number(row, attempt.today.year, number)
                if number is not None
                else None,
                "verify_url": publishing.verify_url(document_id),
                "pdf_url": publishing.pdf_url(document_id),
                "posting_ends_on": attempt.deadline.day.isoformat(),
            },
        )
        await stamp_head(attempt, event)


async def revocable(principal: Principal, document_id: int, publishing: Publishing) -> DocumentRead:
    """The document, if this person may revoke it now (to ask them before they do)."""
    return _read(await _revocable_row(principal, document_id), publishing)


async def _revocable_row(principal: Principal, document_id: int) -> dict[str, Any]:
    row = await _own_document(principal, document_id, "document.revoke")
    if row["status"] not in ("published", "superseded"):
        status = STATUS_LABELS[row["status"]]
        raise TransitionNotAllowed(zh("只有已发布的文件可以撤销:此文件") + status)
    return row


async def revoke_document(
    principal: Principal,
    document_id: int,
    reason: str,
    publishing: Publishing,
    *,
    now: datetime | None = None,
) -> DocumentRead:
    row = await _revocable_row(principal, document_id)
    owner = owner_of(row)
    async with _owner_change(principal, owner, "document.revoke", row["kind"]) as change:
        updated = (
            await Document.update(
                {
                    Document.status: "revoked",
                    Document.revoked_at: now or utcnow(),
                    Document.revoked_by: principal.id,
                    Document.revoke_reason: reason.strip(),
                }
            )
            .where(Document.id == document_id, Document.status.is_in(["published", "superseded"]))
            .returning(Document.id)
        )
        if not updated:
            raise TransitionNotAllowed("此文件已被他人撤销，请刷新后再试")
        await board.changed()
        await change.vouched("document.revoked", "document", document_id, comment=reason.strip())
    return _read(await _row(principal, document_id), publishing)


async def get_document(
    principal: Principal | None, document_id: int, publishing: Publishing
) -> DocumentRead:
    row = await _row(principal, document_id)
    return _read(row, publishing, row["id"] in await _stale_drafts([row]))


async def topic_documents(
    principal: Principal, topic_id: int, publishing: Publishing
) -> list[DocumentRead]:
    topic = await visible_topic(principal, topic_id)
    query = Document.select(*_COLUMNS).where(
        Document.topic == topic_id, Document.status != RENDERING
    )
    if not allowed(principal, "document.read_draft", Subject.of_topic(topic)):
        query = query.where(Document.status != "draft")
    rows = [dict(row) for row in await query.order_by(Document.id)]
    stale = await _stale_drafts(rows)
    return [_read(row, publishing, row["id"] in stale) for row in rows]


async def page_topic_documents(
    principal: Principal, topic_id: int, publishing: Publishing, window: Window
) -> Page[DocumentRead]:
    """A page of ``topic_documents``, by id (docs/decisions.md, "Paged lists")."""
    topic = await visible_topic(principal, topic_id)
    query = Document.select(*_COLUMNS).where(
        Document.topic == topic_id, Document.status != RENDERING
    )
    if not allowed(principal, "document.read_draft", Subject.of_topic(topic)):
        query = query.where(Document.status != "draft")
    rows = [dict(row) for row in await keyed(query, Document.id, window)]
    page = page_of(rows, window, lambda row: int(row["id"]))
    stale = await _stale_drafts(page.items)
    return page.map(lambda items: [_read(row, publishing, row["id"] in stale) for row in items])


async def public_topic_documents(topic_id: int, publishing: Publishing) -> list[DocumentRead]:
    """A topic's documents anyone may see: everything but drafts."""
    rows = await (
        Document.select(*_COLUMNS)
        .where(Document.topic == topic_id, Document.status.not_in(["draft", RENDERING]))
        .order_by(Document.id)
    )
    return [_read(dict(row), publishing) for row in rows]


async def every_public_document(publishing: Publishing) -> list[DocumentRead]:
    """Every document anyone may see, of every topic, oldest first (open data)."""
    rows = await (
        Document.select(*_COLUMNS)
        .where(Document.status.not_in(["draft", RENDERING]))
        .order_by(Document.id)
    )
    return [_read(dict(row), publishing) for row in rows]


@dataclass(frozen=True)
class StoredPdf:
    content: bytes
    sha256: str
    status: str
    title: str


class _PublishedPdfs:
    """Published PDFs never change: keep the most recent ones in memory (bounded)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[int, tuple[bytes, str, str]] = OrderedDict()
        self._size = 0

    def get(self, document_id: int) -> tuple[bytes, str, str] | None:
        item = self._items.get(document_id)
        if item is not None:
            self._items.move_to_end(document_id)
        return item

    def put(self, document_id: int, content: bytes, sha256: str, title: str) -> None:
        if document_id in self._items or len(content) > self.max_bytes // 4:
            return
        self._items[document_id] = (content, sha256, title)
        self._size += len(content)
        while self._size > self.max_bytes:
            _, (old, _, _) = self._items.popitem(last=False)
            self._size -= len(old)


def _published_pdfs() -> _PublishedPdfs:
    """This application's published PDFs kept in memory."""
    return current().kept("documents.published_pdfs", _PublishedPdfs)


async def document_pdf(principal: Principal | None, document_id: int) -> StoredPdf:
    """The stored bytes: public once published (any later status too), staff-only as a draft."""
    if not valid_id(document_id):
        raise NotFound("文件不存在")
    cached = _published_pdfs().get(document_id)
    if cached is not None:
        content, sha256, title = cached
        return StoredPdf(content, sha256, "published", title)
    row = (
        await Document.select(
            Document.township, Document.status, Document.pdf, Document.sha256, Document.title
        )
        .where(Document.id == document_id)
        .first()
    )
    if row is None or row["status"] == RENDERING:
        raise NotFound("文件不存在")
    if row["status"] == "draft" and not _may_see_drafts(principal, row):
        raise NotFound("文件不存在")
    content = bytes(row["pdf"])
    if row["status"] != "draft":
        _published_pdfs().put(document_id, content, row["sha256"], row["title"])
    return StoredPdf(content, row["sha256"], row["status"], row["title"])


async def public_notices(
    publishing: Publishing,
    *,
    q: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 20,
    offset: int = 0,
) -> DocumentPage:
    """Published documents, newest first; ``q`` matches any substring of the text.

    Answered from memory while the board is unchanged (``deliberation.documents.board``)."""
    check_date_range(date_from, date_to)
    needle = normalise(q.strip()) if q and q.strip() else None
    key = (needle, date_from, date_to, limit, offset)
    found = await board.pages.get(
        key, lambda: _board_page(needle, date_from, date_to, limit, offset)
    )
    return DocumentPage(items=[_read(row, publishing) for row in found.rows], total=found.total)


async def _board_page(
    needle: str | None, date_from: date | None, date_to: date | None, limit: int, offset: int
) -> board.BoardPage:
    conditions: list[Any] = [Document.status == "published"]
    if needle:
        function = "instr" if is_sqlite(bound_engine()) else "strpos"
        conditions.append(WhereRaw(f"{function}(document.search_text, {{}}) > 0", needle))
    if date_from is not None:
        conditions.append(Document.posting_starts_on >= date_from)
    if date_to is not None:
        conditions.append(Document.posting_starts_on <= date_to)
    # The page's ids first, without joins, so SQLite walks the published_at index
    # instead of sorting every published row; then those rows with their joins.
    ids = [
        row["id"]
        for row in await Document.select(Document.id)
        .where(*conditions)
        .order_by(Document.published_at, ascending=False)
        .order_by(Document.id, ascending=False)
        .limit(limit)
        .offset(offset)
    ]
    rows = (
        {
            row["id"]: dict(row)
            for row in await Document.select(*_COLUMNS).where(Document.id.is_in(ids))
        }
        if ids
        else {}
    )
    total = await Document.count().where(*conditions)
    return board.BoardPage(rows=[rows[i] for i in ids], total=total)


@dataclass(frozen=True)
class Verification:
    """What ``/verify/{id}`` shows: a published (or later) document, or only that it
    is a draft (a draft's details are not public)."""

    document: DocumentRead | None
    draft: bool


async def verification(document_id: int, publishing: Publishing) -> Verification:
    if not valid_id(document_id):
        raise NotFound("文件不存在")
    row = await Document.select(*_COLUMNS).where(Document.id == document_id).first()
    if row is None or row["status"] == RENDERING:
        raise NotFound("文件不存在")
    if row["status"] == "draft":
        return Verification(None, draft=True)
    return Verification(_read(dict(row), publishing), draft=False)


async def staff_of_topic(reference: str, username: str | None) -> tuple[Principal, int]:
    """For the CLI: the topic with ``reference`` and a staff account of its township
    (``username``, or the first active one) to act as."""
    topic = await Topic.select(Topic.id, Topic.township).where(Topic.reference == reference).first()
    if topic is None:
        raise NotFound(f"没有编号为 {reference} 的议题")
    query = Account.select().where(
        Account.role == STAFF,
        Account.township == topic["township"],
        Account.active == True,  # noqa: E712
    )
    if username:
        query = query.where(Account.username == username)
    account = await query.order_by(Account.id).first()
    if account is None:
        who = f"用户 {username}" if username else "工作人员账号"
        raise NotFound(f"议题所在乡镇没有可用的{who}")
    principal = Principal(
        id=account["id"],
        username=account["username"],
        role=account["role"],
        township_id=account["township"],
        village_id=account["village"],
    )
    return principal, topic["id"]
