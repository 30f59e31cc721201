"""A topic's page: the step indicator, the timeline, the records, results and
documents; its township's people add records and take the steps the workflow allows
them, staff publish the documents. Every rule is the domain's: the page asks the same
services and the same permission policy as the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template

from api.controllers.accounts import download
from api.dependencies import CurrentPublishing
from api.errors import STATUS_OF_CODE, page_error
from api.forms import MISSING, MISSING_CHOICE, FormData, parse_form
from api.pages.signin import PageController, SignedIn, Visitor
from api.pages.topic_forms import (
    DOCUMENT_ACTIONS,
    DOCUMENT_FORMS,
    FIRE_FORM,
    LIMITS,
    RECORD_ACTION_FORMS,
    URGE_FORM,
    PageForm,
    correction_form,
    limits_for,
    record_form,
    roster,
    saved_message,
)
from api.rendering import page_builds, rendered
from deliberation import (
    archive,
    documents,
    permissions,
    records,
    shuoshi_day,
    tallies,
    topic_opinions,
)
from deliberation.documents import KINDS, Publishing
from deliberation.documents.service import PublishPreview
from deliberation.errors import DomainError, NotFound, StageClosed, ValidationFailed
from deliberation.overview import (
    Overview,
    draftable_kinds,
    may_add,
    on_topic,
    timeline_page,
    topic_overview,
)
from deliberation.permissions import Subject
from deliberation.pinning import loaded, workflow_of
from deliberation.record_types import TYPES, storage_for
from deliberation.schemas import DocumentPublish, DocumentRevoke, OpinionAnswer, OpinionRead
from deliberation.security import Principal
from deliberation.topics import topic_row, visible_topic
from deliberation.wording import RATING_LABELS, STANCE_LABELS
from workflows import Transition, Workflow


async def _records_for(
    principal: Principal | None, view: Overview, opinions_before: int | None, show: str
) -> dict[str, Any]:
    """The topic's records, each as much as the policy lets this person see
    (docs/permissions.md): the page adds no rule of its own. Opinions a page at a time
    (docs/decisions.md "The topic page shows 50")."""
    topic = view.topic
    page = await topic_opinions.opinions_page(principal, topic, opinions_before, show)
    opinions = page.opinions
    has_meetings = any(r.type == "meeting" for r in workflow_of(topic).records)
    meetings = (
        []
        if view.public or principal is None or not has_meetings
        else await records.list_meetings(principal, topic["id"])
    )
    investigations = await records.investigations_seen(principal, topic)
    site_consultations = await records.site_consultations_seen(principal, topic)
    notes = await records.notes_seen(principal, topic)
    mine: list[tuple[str, int, int | None]] = [
        *((n.kind, n.id, None) for n in notes),
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
    votes = await records.votes_seen(principal, topic)
    vote_kind = records.vote_kind(workflow_of(topic))
    if vote_kind is not None:
        correctable |= {
            f"vote-{v.id}"
            for v in votes
            if permissions.allowed(principal, "record.correct", Subject.of_topic(topic), v.kind)
        }
    ratings = await records.ratings_seen(principal, topic)
    return {
        "correctable": correctable,
        # The person's own rating (shown to them, to change while feedback is open),
        # and the others they may see in full (the office sees all, with names).
        "my_rating": next(
            (r for r in ratings if principal and r.representative_id == principal.id), None
        ),
        "ratings": [r for r in ratings if not principal or r.representative_id != principal.id],
        "minutes_published": any(
            d.kind == "minutes" and d.status == "published" for d in view.documents
        ),
        "opinions": opinions,
        "opinion_more": page.more,
        "opinion_show": page.show,
        "opinions_before": opinions_before,
        "opinion_tallies": await tallies.topic_tallies(topic["id"]),
        "meetings": meetings,
        "investigations": investigations,
        "site_consultations": site_consultations,
        "note_sections": [
            {"kind": k.name, "label": k.label, "records": [n for n in notes if n.kind == k.name]}
            for k in records.note_kinds(workflow_of(topic))
        ],
        "votes": votes,
        "vote_kind": vote_kind.name if vote_kind else None,
        "vote_bodies": records.vote_bodies(workflow_of(topic), vote_kind.name) if vote_kind else (),
        "quorum_rules": quorum_rules(topic),
    }


def quorum_rules(topic: dict[str, Any]) -> list[dict[str, str]]:
    """The quorum rules of the steps leaving the topic's state, in words, for the vote
    form (read from the declaration: docs/workflows.md "Requirements")."""
    workflow = workflow_of(topic)
    kind = records.vote_kind(workflow)
    found = []
    for transition in workflow.transitions:
        if topic["state"] not in transition.sources:
            continue
        for r in (leaf for need in transition.requires for leaf in need.leaves):
            if r.kind != "quorum" or kind is None or r.param("quorum") != kind.name:
                continue
            words = _quorum_words(r.param("attendance", ""), r.param("approval", ""))
            if r.param("notice_days"):
                words += f"，提前{r.param('notice_days')}天通知"
            found.append(
                {
                    "step": transition.label,
                    "body": str(r.param("body")),
                    "rule": words,
                    "basis": r.basis,
                    "outcome": "否决" if r.param("outcome") == "rejected" else "通过",
                }
            )
    return found


def _quorum_words(attendance: str, approval: str) -> str:
    """``>= 2/3 roster`` and ``> 1/2 present`` → 实到不少于应到的2/3，同意多于实到的1/2."""

    def one(rule: str, what: str) -> str:
        op, share, base = rule.split()
        of = "应到" if base == "roster" else "实到"
        return f"{what}{'不少于' if op == '>=' else '多于'}{of}的{share}"

    return "，".join(part for part in (one(attendance, "实到"), one(approval, "同意")) if part)


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

MAX_ID = 2**31 - 1
"""Ids and seqs are 32-bit integers on PostgreSQL: a cursor past them is refused (400)."""

Show = Literal["unanswered", "support", "oppose", "suggestion"]


@dataclass(frozen=True)
class PageLists:
    """Where the page's long lists start: opinions older than ``opinions_before``
    (narrowed to ``show``), the timeline before the event ``events_before``."""

    opinions_before: int | None = None
    show: str = ""
    events_before: int | None = None


def placed_under_next(workflow: Workflow) -> set[str]:
    """Record forms the next step can ask for in its place: the kinds whose type says so
    (minutes and the notice are placed by their own rules)."""
    return {
        r.name
        for r in workflow.records
        if (found := TYPES.get(r.type)) is not None and found.under_next
    }


def record_specs(workflow: Workflow) -> dict[str, dict[str, Any]]:
    """Each of the workflow's record kinds with a form of fields (its type's): the
    fields, the button and the form's id, for the page's one form macro."""
    specs = {}
    for r in workflow.records:
        storage = storage_for(r.name, r.type)
        if storage is not None and storage.form:
            specs[r.name] = {
                "fields": storage.form,
                "button": storage.button.format(label=r.label),
                "id": storage.form_id or r.name,
                "label": r.label,
            }
    return specs


def _work_plan(
    view: Overview, forms: dict[str, bool], meetings: list[Any], drafts: dict[str, str]
) -> dict[str, Any]:
    """The page arranged by what to do next: each step forward with what it still
    needs (a form placed under it the first time a need appears), the steps that end
    the topic apart, and which forms are therefore not repeated in their sections."""
    forward = [step for step in view.steps_next if not step.danger]
    minutes_meeting = next((m for m in meetings if not m.minutes_recorded), None)
    notice_draft = next(
        (d for d in view.documents if d.kind == "resolution_notice" and d.status == "draft"),
        None,
    )
    placed = placed_under_next(workflow_of(view.topic))
    offered = {
        **{kind: forms.get(kind, False) for kind in placed},
        # With no meeting waiting for its minutes, the meeting's form in their place
        # (村民说事's 议事: the step needs the 议事会纪要, nothing asked for the 议事会).
        "minutes": forms.get("minutes", False)
        and (minutes_meeting is not None or forms.get("meeting", False)),
        # Only to those who may draft it (村民说事's cadre takes the step, staff draft).
        "resolution_notice": "resolution_notice" in drafts,
    }
    under_next: set[str] = set()
    plan = []
    for step in forward:
        rows = []
        for need in step.missing:
            # Someone else's step offers only the records this person adds and the
            # documents they draft.
            here = (
                offered.get(need.met_by, False)
                and need.met_by not in under_next
                and (step.mine or need.met_by in placed or need.met_by in drafts)
            )
            if here:
                under_next.add(need.met_by)
                if need.met_by == "minutes" and minutes_meeting is None:
                    under_next.add("meeting")
            rows.append((need, here))
        # Someone else's step is shown only where this person can help it along.
        if step.mine or any(here for _, here in rows):
            plan.append((step, rows))
    return {
        "plan": plan,
        "danger_steps": [step for step in view.steps_next if step.danger],
        "under_next": under_next,
        "wanted": {need.met_by for step, _ in plan for need in step.missing},
        "minutes_meeting": minutes_meeting,
        "notice_draft": notice_draft,
    }


async def render_topic_page(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    publishing: Publishing,
    topic_id: int,
    error: str | None = None,
    status_code: int = 200,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    problems: dict[str, str] | None = None,
    *,
    lists: PageLists | None = None,
) -> Template:
    """The topic page; after a refused form, with the person's input kept and the
    problem next to the field of the form named ``form`` (``kind`` or ``kind-id``).
    ``lists``: where its opinions and timeline start (the plain 更多 links)."""
    lists = lists or PageLists()
    try:
        view = await topic_overview(principal, topic_id, publishing, lists.events_before)
    except NotFound as missing:
        if error is not None and status_code >= 400:
            # Refused, on a topic the person cannot see either: the refusal as it was
            # (the API says the same), on an error page.
            return _not_found(error, status=status_code)
        return _not_found(missing.detail)
    workflow = workflow_of(view.topic)
    kinds = [r.name for r in workflow.records]
    forms = {kind: not view.public and may_add(principal, view.topic, kind) for kind in kinds}
    seen = await _records_for(principal, view, lists.opinions_before, lists.show)
    posted = values or {}
    if view.window and view.window.closed:
        # A closed opinion window takes no more of its records, though the topic is still
        # in its state: the page does not offer what the API refuses (docs/decisions.md
        # "The window line").
        forms.update(dict.fromkeys(view.window.closes & forms.keys(), False))
    drafts = {} if view.public else draftable_kinds(principal, view.topic)
    plan = _work_plan(view, forms, seen["meetings"], drafts)
    workflow = workflow_of(view.topic)
    labels = {
        **{k.name: k.label for k in workflow.records},
        **{k.name: k.label for k in workflow.documents},
    }
    # 村民说事: the village's next 说事日, where villagers and their representative read
    # the topic (docs/decisions.md "The 说事日 on the pages").
    next_day = (
        await shuoshi_day.next_day_of(view.topic["village"]) if workflow.shuoshi_day else None
    )
    return Template(
        "topic.html",
        context={
            "view": view,
            "back": f"/topics/{view.topic['id']}",
            "error": error,
            "signed_in": principal is not None,
            "forms": forms,
            **plan,
            "staff": not view.public
            and bool(
                permissions.allowed(principal, "document.read_draft", Subject.of_topic(view.topic))
            ),
            "may_urge": bool(
                permissions.allowed(principal, "topic.urge", Subject.of_topic(view.topic))
            ),
            "may_archive": bool(
                permissions.allowed(principal, "topic.archive", Subject.of_topic(view.topic))
            ),
            # Those who take no steps but add records (a representative): their part first.
            "representative": not view.public
            and permissions.scope(principal, "my.list").waits_on == "records",
            "document_kinds": drafts,
            "kind_labels": KINDS,
            # What the next step waits for that this person adds (their part, first).
            "labels": labels,
            "my_part": "、".join(labels[k] for k in sorted(plan["under_next"]) if k in labels),
            "rating_labels": RATING_LABELS,
            "stance_labels": STANCE_LABELS,
            "opinion_filters": forms.get("opinion_answer", False),
            "events_before": lists.events_before,
            "limits": limits_for(kinds),
            "record_specs": record_specs(workflow),
            **seen,
            "form": form,
            "values": posted,
            **roster(posted if form and form.startswith(("minutes-", "correct_minutes-")) else {}),
            "problems": problems or {},
            "saved": None if form else saved_message(request.query_params.get("saved", "")),
            "shuoshi_next": shuoshi_day.day_words(next_day) if next_day else None,
        },
        status_code=status_code,
    )


async def _save(
    request: Request[Any, Any, Any],
    principal: Principal,
    publishing: Publishing,
    topic_id: int,
    form: str,
    page_form: PageForm,
    data: dict[str, Any],
    target: int,
    record: str | None = None,
    then: str = "",
) -> Redirect | Template:
    """Save one page form through its service call, or show the page again with the
    input kept and the problem next to the field. ``record`` names the kind of record
    ``target`` is when it is not the topic itself: it must belong to the topic."""
    again = (request, principal, publishing, topic_id)
    if data.get("more_rows"):
        # Without JavaScript, "再加一行" on a roster posts its form: it comes back as it
        # was, with more empty rows.
        return await render_topic_page(*again, None, 200, form, data, {})
    if record is not None and not await on_topic(record, target, topic_id):
        return _not_found(ELSEWHERE)
    values, problems = parse_form(page_form.fields(data), page_form.shape)
    problems = {
        k: page_form.missing.get(k, v) if v in (MISSING, MISSING_CHOICE) else v
        for k, v in problems.items()
    }
    if values is None:
        return await render_topic_page(*again, None, 422, form, data, problems)
    try:
        if page_form.publishing:
            await page_form.save(principal, target, values, publishing)
        else:
            await page_form.save(principal, target, values)
    except ValidationFailed as refused:
        found = {e["field"]: e["message"] for e in refused.errors}
        return await render_topic_page(*again, None, 422, form, data, found)
    except DomainError as refused:
        status = STATUS_OF_CODE.get(refused.code, 400)
        # Refused for who they are (403) or what they may see (404), a form whose
        # refusals belong on top (a step: the topic moved meanwhile, something is
        # missing) or a window that closed since the form was shown: said at the top of
        # the page, the form may not be offered any more.
        if status in (403, 404) or page_form.refused_on_top or isinstance(refused, StageClosed):
            return await _refused(*again, refused, form, data)
        return await render_topic_page(*again, None, status, form, data, {"form": refused.detail})
    kind = form.split("-")[0]
    return Redirect(then or f"/topics/{topic_id}?saved={kind}#saved", status_code=303)


async def _refused(
    request: Request[Any, Any, Any],
    principal: Principal,
    publishing: Publishing,
    topic_id: int,
    refused: DomainError,
    form: str | None = None,
    data: dict[str, Any] | None = None,
) -> Template:
    """A refusal said at the top of the topic page, with the status the API answers
    (on an error page when the topic itself cannot be seen)."""
    status = STATUS_OF_CODE.get(refused.code, 400)
    return await render_topic_page(
        request, principal, publishing, topic_id, refused.detail, status, form, data, {}
    )


async def _answer_in_place(
    principal: Principal,
    topic_id: int,
    opinion_id: int,
    data: dict[str, Any],
) -> Template:
    """htmx: answer an opinion and send back just that opinion, answered (or with the
    problem next to the field), instead of the whole page."""
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
        answered = await topic_opinions.one_opinion(principal, topic, opinion_id)
        if answered is None:
            return _not_found(ELSEWHERE, HTMXTemplate, re_target="body", re_swap="innerHTML")
    return HTMXTemplate(
        template_name="opinion_item.html",
        context={
            "o": answered,
            "view": {"topic": topic},
            "forms": {"opinion_answer": may_add(principal, topic, "opinion_answer")},
            "stance_labels": STANCE_LABELS,
            "correctable": set(),
            "limits": LIMITS,
            "form": None if status == 200 else form,
            "values": data,
            "problems": problems,
        },
        status_code=status,
    )


NO_SUCH_FORM = "没有这种记录"


@dataclass(frozen=True)
class Ask:
    """A confirmation step (``confirm.html``): what will happen, asked before it does."""

    title: str
    confirm: str
    action: str
    consequences: tuple[str, ...]
    danger: bool = True
    facts: tuple[tuple[str, str], ...] = ()
    hidden: tuple[tuple[str, str], ...] = ()
    fields: tuple[dict[str, Any], ...] = ()


def _confirm(
    topic: dict[str, Any],
    form: str,
    ask: Ask,
    data: dict[str, Any],
    problems: dict[str, str] | None = None,
) -> Template:
    values = {f["name"]: str(data.get(f["name"]) or "") for f in ask.fields}
    return Template(
        "confirm.html",
        context={
            "topic": topic,
            "ask": ask,
            "form": form,
            "values": values,
            "problems": problems or {},
            "limits": LIMITS,
            "back": f"/topics/{topic['id']}",
        },
        status_code=422 if problems else 200,
    )


def _step_ask(topic_id: int, transition: Transition, data: dict[str, Any]) -> Ask:
    return Ask(
        title=f"确认{transition.label}",
        confirm=f"确认{transition.label}",
        action=f"/topics/{topic_id}/transitions",
        consequences=(
            f"“{transition.label}”后\uff0c这个议题就此结束\uff0c不再办理\uff0c也不能恢复。",
            *(
                ()
                if transition.danger
                else ("办结后不能再报告落实进展或评价满意度\uff1b落实情况通报仍可生成和发布。",)
            ),
            "说明会记入办理经过。",
        ),
        danger=transition.danger,
        hidden=(("trigger", transition.trigger), ("version", str(data.get("version") or ""))),
        fields=(
            {
                "name": "comment",
                "label": "说明理由（必填）" if transition.needs_reason else "说明（可选）",
                "rows": 3,
            },
        ),
    )


def _confirmed(data: dict[str, Any]) -> bool:
    return str(data.get("confirmed") or "") == "yes"


def _publish_ask(topic_id: int, document_id: int, preview: PublishPreview, days: int | None) -> Ask:
    label = KINDS[preview.kind]
    facts = [("文件", preview.title)]
    if preview.number_text:
        facts.append(("文号", preview.number_text))
    facts.append(("公示期", preview.posting))
    return Ask(
        title=f"确认发布{label}",
        confirm=f"确认发布{label}",
        action=f"/topics/{topic_id}/documents/{document_id}/publish",
        consequences=(
            *(
                (
                    "此草稿已过时\uff1a生成草稿后记录已有更改\uff0c"
                    "发布时将按当前记录重新生成\uff0c内容与草稿预览不同。",
                )
                if preview.stale
                else ()
            ),
            "发布后\uff0c文件出现在公开栏\uff0c任何人都可以下载和核验。",
            "发布的文件不能修改\uff1b如有错误\uff0c只能撤销后重新生成、发布。",
        ),
        danger=False,
        facts=tuple(facts),
        hidden=(("posting_days", str(days or "")),),
    )


async def _revoke_ask(
    principal: Principal, topic_id: int, document_id: int, publishing: Publishing
) -> Ask:
    document = await documents.revocable(principal, document_id, publishing)
    return Ask(
        title="确认撤销文件",
        confirm="确认撤销",
        action=f"/topics/{topic_id}/documents/{document_id}/revoke",
        consequences=(
            "撤销后\uff0c公开栏不再显示这份文件\uff1b核验页会写明已撤销和撤销原因。",
            "撤销不能恢复。",
        ),
        facts=(("文件", document.title), ("文号", document.number or "无")),
        fields=({"name": "reason", "label": "撤销原因（必填，将在核验页公开）", "rows": 2},),
    )


def _ends_topic(workflow: Workflow, trigger: str) -> Transition | None:
    """The step ``trigger`` of ``workflow`` if it ends a topic for good (不予立项, 撤回, 否决,
    and 办结 too: none can be undone): such steps are asked before they are taken."""
    for transition in workflow.transitions:
        if transition.trigger == trigger and workflow.state(transition.dest).terminal:
            return transition
    return None


class TopicPageController(PageController):
    """A topic's page and its forms. Reading is for anyone the policy lets see the
    topic (``visitor``); every form needs someone signed in (``principal``)."""

    path = "/topics"
    request_class = HTMXRequest

    @get("/{topic_id:int}", operation_id="topic_page")
    async def page(
        self,
        request: Request[Any, Any, Any],
        visitor: Visitor,
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        opinions_before: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        show: FromQuery[Show | None] = None,
        events_before: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
    ) -> Response[bytes]:
        lists = PageLists(opinions_before, show or "", events_before)
        async with page_builds(request):
            page = await render_topic_page(request, visitor, publishing, topic_id, lists=lists)
            return await rendered(request, page)

    @get("/{topic_id:int}/opinions", operation_id="topic_page_opinions")
    async def opinions(
        self,
        request: HTMXRequest,
        visitor: Visitor,
        topic_id: FromPath[int],
        before: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        show: FromQuery[Show | None] = None,
        whole: Annotated[int, QueryParameter(ge=0, le=1)] = 0,
    ) -> HTMXTemplate | Redirect:
        """htmx: the next 50 opinions (更多意见) in place of the button, or the whole list
        under another filter; without htmx, the page that shows the same."""
        if not request.htmx:
            query = urlencode({k: v for k, v in (("opinions_before", before), ("show", show)) if v})
            return Redirect(f"/topics/{topic_id}?{query}#opinions-title", status_code=303)
        shown = await topic_opinions.page_for(visitor, topic_id, before, show or "")
        return HTMXTemplate(
            template_name="_opinion_list.html" if whole else "_opinion_more.html",
            context={
                "view": {"topic": shown.topic},
                "opinions": shown.page.opinions,
                "opinion_more": shown.page.more,
                "opinion_show": shown.page.show,
                "opinions_before": before,
                "opinion_tallies": shown.tallies,
                "opinion_filters": shown.may_answer,
                "forms": {"opinion_answer": shown.may_answer},
                "stance_labels": STANCE_LABELS,
                "correctable": shown.correctable,
                "limits": LIMITS,
                "form": None,
                "values": {},
                "problems": {},
            },
        )

    @get("/{topic_id:int}/timeline", operation_id="topic_page_timeline")
    async def timeline(
        self,
        request: HTMXRequest,
        visitor: Visitor,
        topic_id: FromPath[int],
        before: Annotated[int, QueryParameter(ge=1, le=MAX_ID)],
    ) -> HTMXTemplate | Redirect:
        """htmx: the next 50 events of the timeline (更多办理经过) in place of the button;
        without htmx, the page that shows the same."""
        if not request.htmx:
            return Redirect(
                f"/topics/{topic_id}?events_before={before}#timeline-title", status_code=303
            )
        happened, more = await timeline_page(visitor, topic_id, before)
        return HTMXTemplate(
            template_name="_timeline_more.html",
            context={"timeline": happened, "timeline_more": more, "topic_id": topic_id},
        )

    @post("/{topic_id:int}/records/{kind:str}", operation_id="topic_page_record", status_code=303)
    async def add_record(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        kind: FromPath[str],
        data: FormData,
    ) -> Redirect | Template:
        page_form = record_form(kind)
        if page_form is None:
            return _not_found(NO_SUCH_FORM)
        return await _save(
            request, principal, publishing, topic_id, kind, page_form, data, topic_id
        )

    @post(
        "/{topic_id:int}/records/{kind:str}/{record_id:int}",
        operation_id="topic_page_record_action",
        status_code=303,
    )
    async def record_action(
        self,
        request: HTMXRequest,
        principal: SignedIn,
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        kind: FromPath[str],
        record_id: FromPath[int],
        data: FormData,
    ) -> Redirect | Template:
        if kind not in RECORD_ACTION_FORMS:
            return _not_found(NO_SUCH_FORM)
        if kind == "opinion_answer" and request.htmx:
            return await _answer_in_place(principal, topic_id, record_id, data)
        # Answering in batches without script: back to the same filter (未答复, a stance).
        show = request.query_params.get("show", "")
        then = (
            f"/topics/{topic_id}?show={show}&saved={kind}#saved"
            if kind == "opinion_answer" and show in topic_opinions.FILTERS
            else ""
        )
        return await _save(
            request,
            principal,
            publishing,
            topic_id,
            f"{kind}-{record_id}",
            RECORD_ACTION_FORMS[kind],
            data,
            record_id,
            kind,
            then=then,
        )

    @post(
        "/{topic_id:int}/corrections/{kind:str}/{record_id:int}",
        operation_id="topic_page_correction",
        status_code=303,
    )
    async def correction(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        kind: FromPath[str],
        record_id: FromPath[int],
        data: FormData,
    ) -> Redirect | Template:
        """更正 a record: its fields as corrected, and the reason."""
        page_form = correction_form(kind)
        if page_form is None:
            return _not_found(NO_SUCH_FORM)
        return await _save(
            request,
            principal,
            publishing,
            topic_id,
            f"correct_{kind}-{record_id}",
            page_form,
            data,
            record_id,
            kind,
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
                "limits": LIMITS,
            },
        )

    @post("/{topic_id:int}/transitions", operation_id="topic_page_fire", status_code=303)
    async def fire(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        data: FormData,
    ) -> Redirect | Template:
        """A step of the workflow; its comment is kept to the API's limit (a longer one
        is refused next to the field, never cut). A step that ends the topic for good
        asks first."""
        trigger = str(data.get("trigger") or "")
        form = f"fire-{trigger}" if trigger.isidentifier() else "fire"
        if any(_ends_topic(w, trigger) for w in loaded()):
            # Asked only of those who may take the step now; the others are told why.
            try:
                # The same order as the API, by the topic's own workflow: the role (403),
                # the topic (404), the state.
                row = await topic_row(topic_id)
                permissions.allowed(principal, "topic.fire", Subject.of_topic(row), trigger).check()
                topic = await visible_topic(principal, topic_id)
            except DomainError as refused:
                return await _refused(request, principal, publishing, topic_id, refused)
            transition = _ends_topic(workflow_of(topic), trigger)
        else:
            transition = None
        if transition is not None:
            ask = _step_ask(topic_id, transition, data)
            if not _confirmed(data):
                return _confirm(topic, form, ask, data)
            if transition.needs_reason and not str(data.get("comment") or "").strip():
                problem = {"comment": f"请说明{transition.label}的理由"}
                return _confirm(topic, form, ask, data, problem)
        return await _save(
            request,
            principal,
            publishing,
            topic_id,
            form,
            FIRE_FORM,
            {k: v for k, v in data.items() if k != "confirmed"},
            topic_id,
            then=f"/topics/{topic_id}",
        )

    @post("/{topic_id:int}/urge", operation_id="topic_page_urge", status_code=303)
    async def urge(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        data: FormData,
    ) -> Redirect | Template:
        """督办 (the county supervisor, on an overdue topic)."""
        return await _save(
            request, principal, publishing, topic_id, "urge", URGE_FORM, data, topic_id
        )

    @post("/{topic_id:int}/documents", operation_id="topic_page_new_document", status_code=303)
    async def new_document(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        data: FormData,
    ) -> Redirect | Template:
        """Staff make a draft (rendered from the records as they are now) to preview."""
        form = DOCUMENT_FORMS["document"]
        return await _save(
            request, principal, publishing, topic_id, "document", form, data, topic_id
        )

    @post(
        "/{topic_id:int}/documents/{document_id:int}/{action:str}",
        operation_id="topic_page_document_action",
        status_code=303,
    )
    async def document_action(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        document_id: FromPath[int],
        action: FromPath[str],
        data: FormData,
    ) -> Redirect | Template:
        """Publish a draft (with a posting period) or revoke a published document; both
        ask first, publishing with the number and posting period it will get."""
        if action not in DOCUMENT_ACTIONS:
            return _not_found("没有这个操作")
        form = f"{action}-{document_id}"
        if not await on_topic("document", document_id, topic_id):
            return _not_found(ELSEWHERE)
        posted = {k: v for k, v in data.items() if k != "confirmed"}
        again = (request, principal, publishing, topic_id)
        if action == "publish" and not _confirmed(data):
            values, problems = parse_form(posted, DocumentPublish)
            if values is None:
                return await render_topic_page(*again, None, 422, form, data, problems)
            try:
                preview = await documents.publish_preview(
                    principal, document_id, values.posting_days, publishing
                )
            except DomainError as refused:
                return await _refused(*again, refused, form, data)
            ask = _publish_ask(topic_id, document_id, preview, values.posting_days)
            return _confirm(await visible_topic(principal, topic_id), form, ask, data)
        if action == "revoke":
            try:
                ask = await _revoke_ask(principal, topic_id, document_id, publishing)
            except DomainError as refused:
                return await _refused(*again, refused, form, data)
            if not _confirmed(data):
                return _confirm(await visible_topic(principal, topic_id), form, ask, data)
            reason, missing = parse_form(posted, DocumentRevoke)
            if reason is None:
                topic = await visible_topic(principal, topic_id)
                return _confirm(topic, form, ask, data, missing)
        # On the topic already (checked above): saved as it is.
        return await _save(*again, form, DOCUMENT_FORMS[action], posted, document_id)

    @get("/{topic_id:int}/archive.zip", operation_id="topic_page_archive")
    async def archive(
        self, request: Request[Any, Any, Any], principal: SignedIn, topic_id: FromPath[int]
    ) -> Response[bytes]:
        """归档下载: the same bag as ``GET /api/v1/topics/{id}/archive``, for the pages."""
        bag = await archive.topic_bag(principal, topic_id, request.app.state.settings.archive())
        return download(bag.content, "application/zip", f"{bag.name}.zip")

    @get(
        "/{topic_id:int}/documents/{document_id:int}/preview",
        operation_id="topic_page_preview",
    )
    async def preview(
        self, principal: SignedIn, topic_id: FromPath[int], document_id: FromPath[int]
    ) -> Response[bytes] | Template:
        """A draft's PDF for its township's staff (signed in on the pages), never cached."""
        if not await on_topic("document", document_id, topic_id):
            return _not_found(ELSEWHERE)
        pdf = await documents.document_pdf(principal, document_id)
        return Response(
            pdf.content, media_type="application/pdf", headers={"Cache-Control": "no-store"}
        )
