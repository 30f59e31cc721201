"""Server-rendered pages (Simplified Chinese, phone first): the public notice board
and the topic page."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.plugins.htmx import ClientRedirect, HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template

from api.controllers.session import page_principal
from api.dependencies import CurrentPublishing
from api.errors import STATUS_OF_CODE, page_error
from api.forms import MISSING, MISSING_CHOICE, FormData, parse_form, to_login
from deliberation import accounts, documents, permissions, records, topics
from deliberation.documents import KINDS, Publishing
from deliberation.errors import DomainError, NotFound, ValidationFailed
from deliberation.overview import Overview, may_add, on_topic, topic_overview
from deliberation.permissions import Subject
from deliberation.schemas import (
    DocumentCreate,
    DocumentPublish,
    DocumentRevoke,
    InvestigationCreate,
    InvestigationPatch,
    MeetingCreate,
    MeetingPatch,
    MinutesPatch,
    MinutesUpdate,
    OpinionAnswer,
    OpinionCreate,
    OpinionPatch,
    OpinionRead,
    ProgressCreate,
    ResolutionItemCreate,
    ResolutionItemPatch,
    SatisfactionCreate,
    SiteConsultationCreate,
    SiteConsultationPatch,
    TopicCreate,
)
from deliberation.security import Principal
from deliberation.topics import visible_topic

PAGE_SIZE = 20


def _parse_date(raw: str | None) -> tuple[date | None, str | None]:
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, raw


class NoticeBoardController(Controller):
    """公开栏: published documents, newest first, keyword and date-range search."""

    path = "/notices"
    tags = ["pages"]
    opt = {"exclude_from_auth": True, "page": True}
    include_in_schema = False

    @get("/", operation_id="notice_board")
    async def board(
        self,
        publishing: CurrentPublishing,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        date_from: Annotated[str | None, QueryParameter(name="from", max_length=10)] = None,
        date_to: Annotated[str | None, QueryParameter(name="to", max_length=10)] = None,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    ) -> Template:
        start, bad_from = _parse_date(date_from)
        end, bad_to = _parse_date(date_to)
        errors = {}
        if bad_from:
            errors["from"] = "日期格式应为 年-月-日\uff0c例如 2026-01-05"
        if bad_to:
            errors["to"] = "日期格式应为 年-月-日\uff0c例如 2026-01-05"
        found = await documents.public_notices(
            publishing,
            q=q,
            date_from=start,
            date_to=end,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        context: dict[str, Any] = {
            "q": q or "",
            "date_from": date_from or "",
            "date_to": date_to or "",
            "errors": errors,
            "notices": found.items,
            "total": found.total,
            "page": page,
            "pages": max(1, -(-found.total // PAGE_SIZE)),
        }
        return Template("notices.html", context=context, status_code=200)


async def _new_topic_form(
    principal: Principal, values: dict[str, Any], problems: dict[str, str], status: int = 200
) -> Template:
    allowed = bool(permissions.allowed(principal, "topic.open"))
    villages = await accounts.list_villages(principal) if allowed else []
    return Template(
        "new_topic.html",
        context={
            "allowed": allowed,
            "villages": villages,
            "values": values,
            "problems": problems,
        },
        status_code=status if allowed else 403,
    )


CHINA_OFFSET = "+08:00"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")


def _meeting_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A ``datetime-local`` field (``2026-12-01T09:30``, some browsers add seconds) has
    no zone: the meeting is in China time."""
    given = dict(data)
    when = str(given.get("scheduled_at") or "")
    if _LOCAL_TIME.fullmatch(when):
        seconds = "" if when.count(":") == 2 else ":00"
        given["scheduled_at"] = f"{when}{seconds}{CHINA_OFFSET}"
    return given


ROSTER_ROWS = 3
"""Empty roster rows the minutes form offers beyond the people already on it."""


def roster_rows(data: dict[str, Any]) -> list[dict[str, str]]:
    """The roster editor's rows as posted (name, unit, attendance per row)."""
    names = _as_list(data.get("attendee_name"))
    units = _as_list(data.get("attendee_unit"))
    kinds = _as_list(data.get("attendee_attendance"))
    rows = []
    for i, name in enumerate(names):
        rows.append(
            {
                "name": name,
                "unit": units[i] if i < len(units) else "",
                "attendance": kinds[i] if i < len(kinds) else "present",
            }
        )
    return rows


def _roster(posted: dict[str, Any]) -> dict[str, Any]:
    """The roster as it was posted back: the named rows, the empty rows again, and more
    empty rows when "再加一行" was pressed without JavaScript."""
    rows = roster_rows(posted)
    named = [row for row in rows if row["name"].strip()]
    spare = len(rows) - len(named) + (ROSTER_ROWS if posted.get("more_rows") else 0)
    return {"roster": named, "roster_spare": spare, "roster_default": ROSTER_ROWS}


def _minutes_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The roster rows with a name become the minutes' attendees; empty rows are spare."""
    given = {k: v for k, v in data.items() if not k.startswith("attendee_")}
    attendees = [
        {k: v for k, v in row.items() if v} for row in roster_rows(data) if row["name"].strip()
    ]
    if attendees:  # none is a missing field, named with the others
        given["attendees"] = attendees
    return given


def _progress_fields(data: dict[str, Any]) -> dict[str, Any]:
    given = dict(data)
    given["completed"] = str(given.get("completed") or "") == "true"
    return given


@dataclass(frozen=True)
class PageForm:
    """A record form on the topic page: the API's input shape, the service call that
    saves it, and how the posted fields become that shape."""

    shape: type[Any]
    save: Callable[..., Awaitable[Any]]
    fields: Callable[[dict[str, Any]], dict[str, Any]] = dict
    missing: dict[str, str] = field(default_factory=dict)
    """Plainer words than "请填写此项" for a field left empty."""


RECORD_FORMS: dict[str, PageForm] = {
    "opinion": PageForm(OpinionCreate, records.add_opinion),
    "investigation": PageForm(InvestigationCreate, records.add_investigation),
    "site_consultation": PageForm(SiteConsultationCreate, records.add_site_consultation),
    "meeting": PageForm(
        MeetingCreate,
        records.schedule_meeting,
        _meeting_fields,
        {"scheduled_at": "请选择会议的日期和时间"},
    ),
    "resolution_item": PageForm(ResolutionItemCreate, records.add_resolution_item),
    "satisfaction": PageForm(SatisfactionCreate, records.rate_satisfaction),
}
"""Forms that add a record to the topic (to whom: the workflow's record kinds)."""

RECORD_ACTION_FORMS: dict[str, PageForm] = {
    "opinion_answer": PageForm(OpinionAnswer, records.answer_opinion),
    "minutes": PageForm(
        MinutesUpdate,
        records.record_minutes,
        _minutes_fields,
        {"attendees": "请至少填写一位参会人员的姓名"},
    ),
    "progress": PageForm(ProgressCreate, records.add_progress, _progress_fields),
}
"""Forms on one record of the topic: answer an opinion, a meeting's minutes, an item's
progress. The record's id follows the kind in the form's address."""


def _correction_forms(publishing: Publishing) -> dict[str, PageForm]:
    """Corrections (更正) of a record, with the reason; the record's id follows the kind."""
    return {
        "opinion": PageForm(OpinionPatch, records.correct_opinion),
        "investigation": PageForm(InvestigationPatch, records.correct_investigation),
        "site_consultation": PageForm(SiteConsultationPatch, records.correct_site_consultation),
        "meeting": PageForm(MeetingPatch, records.correct_meeting, _meeting_fields),
        "minutes": PageForm(
            MinutesPatch,
            lambda who, mid, values: records.correct_minutes(who, mid, values, publishing),
            _minutes_fields,
            {"attendees": "请至少填写一位参会人员的姓名"},
        ),
        "resolution_item": PageForm(ResolutionItemPatch, records.correct_resolution_item),
    }


SAVED: dict[str, str] = {
    "opinion": "您的意见已提交\uff0c答复后会显示在下方。",
    "investigation": "调研记录已保存。",
    "site_consultation": "现场协商记录已保存。",
    "meeting": "会议已安排。",
    "resolution_item": "协商成果已添加。",
    "satisfaction": "您的评价已提交\uff0c谢谢\uff01",
    "opinion_answer": "答复已保存。",
    "minutes": "会议纪要已保存。",
    "progress": "落实进展已保存。",
    "document": "草稿已生成\uff0c请预览后发布。",
    "publish": "文件已发布\uff0c已出现在公开栏。",
    "revoke": "文件已撤销\uff0c核验页会显示撤销原因。",
    "correct_opinion": "更正已保存\uff0c原来的内容作为历史版本保留。",
    "correct_investigation": "更正已保存\uff0c原来的记录作为历史版本保留。",
    "correct_site_consultation": "更正已保存\uff0c原来的记录作为历史版本保留。",
    "correct_meeting": "会议信息已更正\uff0c原来的信息作为历史版本保留。",
    "correct_minutes": "会议纪要已更正\uff0c原来的纪要作为历史版本保留。"
    "如纪要已经印发\uff0c印发的文件不会改变\uff1a已生成新的会议纪要草稿\uff0c"
    "请预览后发布\uff0c发布后替代原件。",
    "correct_resolution_item": "协商成果已更正\uff0c原来的内容作为历史版本保留。",
}
"""What the page says after a form was saved (``?saved=<kind>``)."""


DOCUMENT_ACTIONS = ("publish", "revoke")


def _document_forms(publishing: Publishing) -> dict[str, PageForm]:
    """Staff's document forms: make a draft of a kind, publish a draft, revoke."""
    return {
        "document": PageForm(
            DocumentCreate,
            lambda who, tid, values: documents.create_document(who, tid, values.kind, publishing),
        ),
        "publish": PageForm(
            DocumentPublish,
            lambda who, did, values: documents.publish_document(
                who, did, values.posting_days, publishing
            ),
        ),
        "revoke": PageForm(
            DocumentRevoke,
            lambda who, did, values: documents.revoke_document(who, did, values.reason, publishing),
        ),
    }


async def _records_for(principal: Principal | None, view: Overview) -> dict[str, Any]:
    """The topic's records, each as much as the policy lets this person see
    (docs/permissions.md): the page adds no rule of its own."""
    topic = view.topic
    opinions = await records.opinions_seen(principal, topic)
    meetings = (
        []
        if view.public or principal is None
        else await records.list_meetings(principal, topic["id"])
    )
    investigations = await records.investigations_seen(principal, topic)
    site_consultations = await records.site_consultations_seen(principal, topic)
    mine: list[tuple[str, int, int | None]] = [
        *(("opinion", o.id, o.author_id) for o in opinions),
        *(("investigation", r.id, None) for r in investigations),
        *(("site_consultation", r.id, None) for r in site_consultations),
        *(("meeting", m.id, None) for m in meetings),
        *(("minutes", m.id, None) for m in meetings if m.minutes_recorded),
        *(("resolution_item", i.id, None) for i in view.items),
    ]
    correctable = {
        f"{kind}-{record_id}"
        for kind, record_id, author in mine
        if permissions.allowed(principal, "record.correct", Subject.of_topic(topic, author), kind)
    }
    return {
        "correctable": correctable,
        "minutes_published": any(
            d.kind == "minutes" and d.status == "published" for d in view.documents
        ),
        "opinions": opinions,
        "tallies": await records.tallies(principal, topic),
        "meetings": meetings,
        "investigations": investigations,
        "site_consultations": site_consultations,
    }


def _not_found(
    message: str, template: type[Template] = Template, status: int = 404, **extra: Any
) -> Template:
    title, advice = page_error(status)
    return template(
        template_name="error.html",
        context={"title": title, "message": message, "advice": advice},
        status_code=status,
        **extra,
    )


ELSEWHERE = "该记录不属于这个议题"


async def render_topic_page(
    request: Request[Any, Any, Any],
    publishing: Publishing,
    topic_id: int,
    error: str | None = None,
    status_code: int = 200,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    problems: dict[str, str] | None = None,
) -> Template:
    """The topic page; after a refused form, with the person's input kept and the
    problem next to the field of the form named ``form`` (``kind`` or ``kind-id``)."""
    principal = await page_principal(request)
    try:
        view = await topic_overview(principal, topic_id, publishing)
    except NotFound as missing:
        if error is not None and status_code >= 400:
            # Refused, on a topic the person cannot see either: the refusal as it was
            # (the API says the same), on an error page.
            return _not_found(error, status=status_code)
        return _not_found(missing.detail)
    kinds = [*RECORD_FORMS, *RECORD_ACTION_FORMS]
    posted = values or {}
    return Template(
        "topic.html",
        context={
            "view": view,
            "back": f"/topics/{view.topic['id']}",
            "error": error,
            "signed_in": principal is not None,
            "viewer_role": principal.role if principal else None,
            "forms": {
                kind: not view.public and may_add(principal, view.topic, kind) for kind in kinds
            },
            "staff": not view.public
            and bool(
                permissions.allowed(principal, "document.read_draft", Subject.of_topic(view.topic))
            ),
            "document_kinds": KINDS,
            **await _records_for(principal, view),
            "form": form,
            "values": posted,
            **_roster(posted if form and form.startswith(("minutes-", "correct_minutes-")) else {}),
            "problems": problems or {},
            "saved": None if form else SAVED.get(request.query_params.get("saved", "")),
        },
        status_code=status_code,
    )


async def _save(
    request: Request[Any, Any, Any],
    publishing: Publishing,
    topic_id: int,
    form: str,
    page_form: PageForm,
    data: dict[str, Any],
    target: int,
    record: str | None = None,
) -> Redirect | Template:
    """Save one page form through its service call, or show the page again with the
    input kept and the problem next to the field. ``record`` names the kind of record
    ``target`` is when it is not the topic itself: it must belong to the topic."""
    principal = await page_principal(request)
    if principal is None:
        return to_login(f"/topics/{topic_id}")
    if data.get("more_rows"):
        # Without JavaScript, "再加一行" on a roster posts its form: it comes back as it
        # was, with more empty rows.
        return await render_topic_page(request, publishing, topic_id, None, 200, form, data, {})
    if record is not None and not await on_topic(record, target, topic_id):
        return _not_found(ELSEWHERE)
    values, problems = parse_form(page_form.fields(data), page_form.shape)
    problems = {
        k: page_form.missing.get(k, v) if v in (MISSING, MISSING_CHOICE) else v
        for k, v in problems.items()
    }
    if values is None:
        return await render_topic_page(
            request, publishing, topic_id, None, 422, form, data, problems
        )
    try:
        await page_form.save(principal, target, values)
    except ValidationFailed as refused:
        found = {e["field"]: e["message"] for e in refused.errors}
        return await render_topic_page(request, publishing, topic_id, None, 422, form, data, found)
    except DomainError as refused:
        status = STATUS_OF_CODE.get(refused.code, 400)
        # Refused for who they are (403) or what they may see (404): said at the top of
        # the page, since the form may not even be offered to them.
        on_top = refused.detail if status in (403, 404) else None
        return await render_topic_page(
            request, publishing, topic_id, on_top, status, form, data, {"form": refused.detail}
        )
    kind = form.split("-")[0]
    return Redirect(f"/topics/{topic_id}?saved={kind}#saved", status_code=303)


async def _answer_in_place(
    request: HTMXRequest,
    topic_id: int,
    opinion_id: int,
    data: dict[str, Any],
) -> Template | ClientRedirect:
    """htmx: answer an opinion and send back just that opinion, answered (or with the
    problem next to the field), instead of the whole page."""
    principal = await page_principal(request)
    if principal is None:
        return ClientRedirect(f"/login?next=/topics/{topic_id}")
    if not await on_topic("opinion_answer", opinion_id, topic_id):
        # Shown in place of the page (not inside the opinion's box).
        return _not_found(ELSEWHERE, HTMXTemplate, re_target="body", re_swap="innerHTML")
    form = f"opinion_answer-{opinion_id}"
    values, problems = parse_form(data, OpinionAnswer)
    status = 422
    answered: OpinionRead | None = None
    if values is not None:
        try:
            answered = await records.answer_opinion(principal, opinion_id, values)
            status = 200
        except DomainError as refused:
            status = STATUS_OF_CODE.get(refused.code, 400)
            problems = {"form": refused.detail}
    if status == 404:
        return _not_found(
            problems.get("form", ELSEWHERE), HTMXTemplate, re_target="body", re_swap="innerHTML"
        )
    # The fragment needs the topic row only (its id, its state for the form), not the
    # whole overview with the timeline and documents.
    topic = await visible_topic(principal, topic_id)
    if answered is None:
        answered = next(
            o for o in await records.list_opinions(principal, topic_id) if o.id == opinion_id
        )
    return HTMXTemplate(
        template_name="opinion_item.html",
        context={
            "o": answered,
            "view": {"topic": topic},
            "forms": {"opinion_answer": may_add(principal, topic, "opinion_answer")},
            "correctable": set(),
            "form": None if status == 200 else form,
            "values": data,
            "problems": problems,
        },
        status_code=status,
    )


class TopicPageController(Controller):
    """A topic's page: the step indicator, the timeline, the records, results and
    documents; its township's people add records and fire the triggers the workflow
    allows them, staff publish the documents."""

    path = "/topics"
    tags = ["pages"]
    opt = {"exclude_from_auth": True, "page": True}
    include_in_schema = False
    request_class = HTMXRequest

    @get("/new", operation_id="new_topic_page")
    async def new_topic(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        principal = await page_principal(request)
        if principal is None:
            return to_login("/topics/new")
        return await _new_topic_form(principal, {}, {})

    @post("/new", operation_id="new_topic_submit", status_code=303)
    async def new_topic_submit(
        self,
        request: Request[Any, Any, Any],
        data: FormData,
    ) -> Template | Redirect:
        principal = await page_principal(request)
        if principal is None:
            return to_login("/topics/new")
        values, problems = parse_form(data, TopicCreate)
        if values is None:
            return await _new_topic_form(principal, data, problems, 422)
        try:
            opened = await topics.open_topic(principal, values)
        except ValidationFailed as refused:
            found = {e["field"]: e["message"] for e in refused.errors}
            return await _new_topic_form(principal, data, found, 422)
        except DomainError as refused:
            return await _new_topic_form(principal, data, {"form": refused.detail}, 403)
        return Redirect(f"/topics/{opened.id}", status_code=303)

    @get("/{topic_id:int}", operation_id="topic_page")
    async def page(
        self,
        request: Request[Any, Any, Any],
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
    ) -> Template:
        return await render_topic_page(request, publishing, topic_id)

    @post("/{topic_id:int}/records/{kind:str}", operation_id="topic_page_record", status_code=303)
    async def add_record(
        self,
        request: Request[Any, Any, Any],
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        kind: FromPath[str],
        data: FormData,
    ) -> Redirect | Template:
        if kind not in RECORD_FORMS:
            return await render_topic_page(request, publishing, -1)
        return await _save(request, publishing, topic_id, kind, RECORD_FORMS[kind], data, topic_id)

    @post(
        "/{topic_id:int}/records/{kind:str}/{record_id:int}",
        operation_id="topic_page_record_action",
        status_code=303,
    )
    async def record_action(
        self,
        request: HTMXRequest,
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        kind: FromPath[str],
        record_id: FromPath[int],
        data: FormData,
    ) -> Redirect | Template | ClientRedirect:
        if kind not in RECORD_ACTION_FORMS:
            return await render_topic_page(request, publishing, -1)
        if kind == "opinion_answer" and request.htmx:
            return await _answer_in_place(request, topic_id, record_id, data)
        return await _save(
            request,
            publishing,
            topic_id,
            f"{kind}-{record_id}",
            RECORD_ACTION_FORMS[kind],
            data,
            record_id,
            kind,
        )

    @post(
        "/{topic_id:int}/corrections/{kind:str}/{record_id:int}",
        operation_id="topic_page_correction",
        status_code=303,
    )
    async def correction(
        self,
        request: Request[Any, Any, Any],
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        kind: FromPath[str],
        record_id: FromPath[int],
        data: FormData,
    ) -> Redirect | Template:
        """更正 a record: its fields as corrected, and the reason."""
        forms = _correction_forms(publishing)
        if kind not in forms:
            return _not_found("没有这种记录")
        return await _save(
            request,
            publishing,
            topic_id,
            f"correct_{kind}-{record_id}",
            forms[kind],
            data,
            record_id,
            "meeting" if kind == "minutes" else kind,
        )

    @get("/{topic_id:int}/roster-row", operation_id="topic_page_roster_row")
    async def roster_row(
        self,
        topic_id: FromPath[int],
        n: Annotated[int, QueryParameter(ge=1, le=200)],
        meeting: Annotated[int, QueryParameter(ge=1)],
        correct: Annotated[int, QueryParameter(ge=0, le=1)] = 0,
    ) -> HTMXTemplate:
        """One more empty roster row (htmx appends it to the minutes form, or to the
        form correcting them), and the button again, asking for the row after it."""
        prefix = "correct_minutes" if correct else "minutes"
        return HTMXTemplate(
            template_name="roster_row_more.html",
            context={
                "n": n,
                "row": {},
                "f": f"{prefix}-{meeting}",
                "topic_id": topic_id,
                "meeting_id": meeting,
                "correcting": bool(correct),
                "next_n": n + 1,
                "oob": True,
            },
        )

    @post("/{topic_id:int}/transitions", operation_id="topic_page_fire", status_code=303)
    async def fire(
        self,
        request: Request[Any, Any, Any],
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        data: FormData,
    ) -> Redirect | Template:
        principal = await page_principal(request)
        if principal is None:
            return to_login(f"/topics/{topic_id}")
        try:
            version = int(str(data.get("version") or "0"))
        except ValueError:
            version = 0
        try:
            await topics.fire_trigger(
                principal,
                topic_id,
                str(data.get("trigger") or ""),
                version,
                str(data.get("comment") or "")[:2000],
            )
        except DomainError as refused:
            status = STATUS_OF_CODE.get(refused.code, 400)
            return await render_topic_page(request, publishing, topic_id, refused.detail, status)
        return Redirect(f"/topics/{topic_id}", status_code=303)

    @post("/{topic_id:int}/documents", operation_id="topic_page_new_document", status_code=303)
    async def new_document(
        self,
        request: Request[Any, Any, Any],
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        data: FormData,
    ) -> Redirect | Template:
        """Staff make a draft (rendered from the records as they are now) to preview."""
        form = _document_forms(publishing)["document"]
        return await _save(request, publishing, topic_id, "document", form, data, topic_id)

    @post(
        "/{topic_id:int}/documents/{document_id:int}/{action:str}",
        operation_id="topic_page_document_action",
        status_code=303,
    )
    async def document_action(
        self,
        request: Request[Any, Any, Any],
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        document_id: FromPath[int],
        action: FromPath[str],
        data: FormData,
    ) -> Redirect | Template:
        """Publish a draft (with a posting period) or revoke a published document."""
        if action not in DOCUMENT_ACTIONS:
            return _not_found("没有这个操作")
        return await _save(
            request,
            publishing,
            topic_id,
            f"{action}-{document_id}",
            _document_forms(publishing)[action],
            data,
            document_id,
            "document",
        )

    @get(
        "/{topic_id:int}/documents/{document_id:int}/preview",
        operation_id="topic_page_preview",
    )
    async def preview(
        self, request: Request[Any, Any, Any], topic_id: FromPath[int], document_id: FromPath[int]
    ) -> Response[bytes] | Redirect | Template:
        """A draft's PDF for its township's staff (signed in on the pages), never cached."""
        principal = await page_principal(request)
        if principal is None:
            return to_login(f"/topics/{topic_id}")
        if not await on_topic("document", document_id, topic_id):
            return _not_found(ELSEWHERE)
        pdf = await documents.document_pdf(principal, document_id)
        return Response(
            pdf.content, media_type="application/pdf", headers={"Cache-Control": "no-store"}
        )
