"""Villagers' suggestions (议题建议) on the pages: the public form (no account needed),
the public list and each suggestion's timeline; representatives support (附议) and
enter paper sheets; the township's office corrects the masked text and screens (审核).
Every rule is the services' (``deliberation.suggestions``) and the policy's: these
handlers turn forms into their calls and their answers into pages
(docs/decisions.md, "Suggestions on the pages")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from api.errors import STATUS_OF_CODE
from api.forms import FormData, max_lengths, parse_form
from api.middleware import client_of
from api.pages.signin import PageController, SignedIn, Visitor
from deliberation import accounts, offerings
from deliberation.clock import china_date, china_today
from deliberation.deadlines import TimeLeft, time_left
from deliberation.errors import DomainError, Forbidden, NotFound, RateLimited, ValidationFailed
from deliberation.ledger import FILER_LABELS
from deliberation.permissions import SUGGESTION_STATUS_LABELS, Subject, allowed, allowed_suggestion
from deliberation.pinning import workflow_of
from deliberation.security import Principal
from deliberation.suggestions import filing, read, screening, similar, support, threshold
from deliberation.suggestions.schemas import SuggestionCreate, SuggestionPatch, SuggestionRead
from deliberation.suggestions.screening import ScreeningCreate
from deliberation.suggestions.support import SupportCreate
from deliberation.tables import (
    Suggestion,
    SuggestionEvent,
    SuggestionScreening,
    SuggestionSupport,
    Topic,
    Township,
    Village,
)
from deliberation.topics import topic_row

PER_PAGE = 20
MINE = 30
"""Of the suggestions a person filed, and of those they supported, the latest on /me."""
TABS = {"pending": "待附议", "must_list": "须列入", "screened": "已审核"}
"""A member's tabs on /suggestions (the public sees the screened ones only)."""
SCREENED = ("accepted", "merged", "declined")
REFERENCE = re.compile(r"^JY-\d{4}-\d{4,6}$")

EVENT_LABELS = {
    "suggestion.filed": "提出建议",
    "support.added": "附议",
    "suggestion.must_list": "附议达到法定人数，须列入议题",
    "suggestion.corrected": "更正公开文本",
    "suggestion.screened": "审核",
    "suggestion.merged_in": "并入其他建议",
}
WHO_ON_TIMELINE = {
    **FILER_LABELS,
    "staff": "乡镇协商办公室",
    "supervisor": "县政协督办",
    "admin": "系统管理员",
}
"""The actor of a timeline event as everyone reads it: a role, never a name (as a
topic's public timeline, docs/decisions.md). No account: the villager who filed (and
their own support); a rule met (须列入) is nobody's doing."""
BY_THE_VILLAGER = ("suggestion.filed", "support.added")


def who_did(kind: str, role: str | None) -> str:
    if role:
        return WHO_ON_TIMELINE.get(role, "")
    return "村民" if kind in BY_THE_VILLAGER else ""


async def _actor_roles(suggestion_id: int) -> dict[int, str | None]:
    """Each event's actor's role (by ``seq``): the role only, never who."""
    rows = await SuggestionEvent.select(
        SuggestionEvent.seq, SuggestionEvent.actor.role.as_alias("role")
    ).where(SuggestionEvent.suggestion == suggestion_id)
    return {r["seq"]: r["role"] for r in rows}


DONE = {
    "supported": "已附议。",
    "paper": "签名表已录入。",
    "corrected": "公开文本已更正。",
    "screened": "审核结果已保存。",
}


def _problems(refused: ValidationFailed) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in refused.errors:
        found[error["field"]] = "；".join(
            filter(None, (found.get(error["field"]), error["message"]))
        )
    return found


# The public form ---------------------------------------------------------------------


async def _places() -> list[dict[str, Any]]:
    """Every township with its villages (the form's grouped select): the public files
    for any village."""
    villages = await accounts.list_villages(None)
    return [
        {"id": t.id, "name": t.name, "villages": [v for v in villages if v.township_id == t.id]}
        for t in await accounts.list_townships(None)
    ]


async def _new_form(
    visitor: Principal | None,
    values: dict[str, Any],
    problems: dict[str, str],
    status: int = 200,
    fixed: int | None = None,
) -> Template:
    places = await _places()
    fixed_village = next((v for t in places for v in t["villages"] if v.id == fixed), None)
    return Template(
        "suggestion_new.html",
        context={
            "places": places,
            "fixed": fixed_village,
            "fixed_township": next(
                (
                    t["name"]
                    for t in places
                    if fixed_village and t["id"] == fixed_village.township_id
                ),
                "",
            ),
            "values": values,
            "problems": problems,
            "limits": max_lengths(SuggestionCreate),
            "anonymous": visitor is None,
            "on_behalf": visitor is not None and visitor.role == "staff",
            # After a refused post, the header's links come back to the form.
            "back": f"/suggestions/new?village={fixed}" if fixed else "/suggestions/new",
        },
        status_code=status,
    )


# What a suggestion's page shows ------------------------------------------------------


@dataclass(frozen=True)
class Marked:
    """A piece of the office's original text: masked (``mark``) or as typed."""

    text: str
    mark: bool
    shown: str = ""


def marked(text: str, masks: list[Any], field: str) -> list[Marked]:
    """The original with each masked span marked (the office sees what the public does
    not)."""
    spans = sorted((m.start, m.end, m.shown) for m in masks if m.field == field)
    parts: list[Marked] = []
    at = 0
    for start, end, shown in spans:
        if start < at:
            continue
        if start > at:
            parts.append(Marked(text[at:start], False))
        parts.append(Marked(text[start:end], True, shown))
        at = end
    if at < len(text):
        parts.append(Marked(text[at:], False))
    return parts


async def _screenings(ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each screened suggestion's public reason and outcome (what the list shows)."""
    if not ids:
        return {}
    rows = await SuggestionScreening.select(
        SuggestionScreening.suggestion,
        SuggestionScreening.decision,
        SuggestionScreening.public_reason,
        SuggestionScreening.topic,
        SuggestionScreening.merged_into,
        SuggestionScreening.screened_at,
    ).where(SuggestionScreening.suggestion.is_in(ids))
    return {r["suggestion"]: r for r in rows}


async def topic_links(topic_ids: set[int], visitor: Principal | None) -> dict[int, dict[str, Any]]:
    """The topics suggestions became: reference, and whether this visitor may follow
    the link (the public only once the topic is public: docs/decisions.md)."""
    found: dict[int, dict[str, Any]] = {}
    for topic_id in sorted(topic_ids):
        try:
            row = await topic_row(topic_id)
        except NotFound:
            continue
        found[topic_id] = {
            "reference": row["reference"],
            "linked": bool(allowed(visitor, "topic.read", Subject.of_topic(row))),
            "state_label": workflow_of(row).state(row["state"]).label,
        }
    return found


async def _village_names(ids: set[int | None]) -> dict[int, str]:
    """The names of the villages listed (a township-wide suggestion has none: 全镇)."""
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    rows = await Village.select(Village.id, Village.name).where(Village.id.is_in(wanted))
    return {r["id"]: r["name"] for r in rows}


async def _references(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Suggestion.select(Suggestion.id, Suggestion.reference).where(
        Suggestion.id.is_in(sorted(ids))
    )
    return {r["id"]: r["reference"] for r in rows}


async def _row(suggestion_id: int) -> dict[str, Any]:
    """The suggestion's public columns (its place, status and filer), for the tally and
    the policy, once the caller was found to read it."""
    row = (
        await Suggestion.select(*read.PUBLIC_COLUMNS).where(Suggestion.id == suggestion_id).first()
    )
    if row is None:
        raise NotFound(read.NOT_FOUND)
    return dict(row)


async def _township_grounds(township_id: int) -> list[str]:
    row = await Township.select(Township.decline_grounds).where(Township.id == township_id).first()
    return threshold.decline_grounds(row["decline_grounds"] if row else None)


async def _page_context(visitor: Principal | None, suggestion_id: int) -> dict[str, Any]:
    suggestion = await read.get_suggestion(visitor, suggestion_id)
    events = await read.list_events(visitor, suggestion_id)
    roles = await _actor_roles(suggestion_id)
    row = await _row(suggestion_id)
    subject = read.subject_of(row)
    may = (
        {
            action: bool(allowed_suggestion(visitor, action, subject))
            for action in (
                "suggestion.support",
                "suggestion.enter_supports",
                "suggestion.screen",
                "suggestion.correct",
            )
        }
        if visitor is not None
        else {}
    )
    tally = await support.tally_of(row)
    rules = await support.settings_of(row)
    screened = (await _screenings([suggestion_id])).get(suggestion_id)
    topics = await topic_links(
        {t for t in (suggestion.topic_id, screened and screened["topic"]) if t}, visitor
    )
    merged_into = (
        (await _references({screened["merged_into"]})).get(screened["merged_into"])
        if screened and screened["merged_into"]
        else None
    )
    office = suggestion.view == "office"
    workflows = await offerings.offered_to(visitor) if office and visitor is not None else []
    return {
        "s": suggestion,
        "events": [
            {
                "when": e.created_at,
                "what": EVENT_LABELS.get(e.kind, e.kind),
                "to_label": SUGGESTION_STATUS_LABELS.get(e.to_state, e.to_state),
                "who": who_did(e.kind, roles.get(e.seq)),
                "comment": e.comment,
            }
            for e in events
        ],
        "may": may,
        "tally": tally,
        "needed": threshold.still_needed(tally, rules),
        "rules": rules,
        "required": threshold.needed(rules.representatives, rules.representatives_divisor),
        "screened": screened,
        "topics": topics,
        "merged_into": merged_into,
        "village": (await _village_names({suggestion.village_id})).get(
            suggestion.village_id or 0, "全镇"
        ),
        "office": office,
        "marked_title": marked(suggestion.original.title, suggestion.masks or [], "title")
        if office and suggestion.original
        else [],
        "marked_content": marked(suggestion.original.content, suggestion.masks or [], "content")
        if office and suggestion.original
        else [],
        "workflows": workflows,
        "grounds": await _township_grounds(suggestion.township_id) if office else [],
        "decision_labels": screening.DECISION_LABELS,
        "patch_limits": max_lengths(SuggestionPatch),
    }


async def _suggestion_page(
    visitor: Principal | None,
    suggestion_id: int,
    *,
    done: str | None = None,
    problems: dict[str, str] | None = None,
    form: str = "",
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    context = await _page_context(visitor, suggestion_id)
    context.update(
        {
            "done": DONE.get(done or ""),
            "problems": problems or {},
            "form": form,
            "values": values or {},
            "back": f"/suggestions/{suggestion_id}",
        }
    )
    return Template("suggestion_page.html", context=context, status_code=status)


def _refused_status(refused: DomainError) -> int:
    return STATUS_OF_CODE.get(refused.code, 400)


async def _target_of(text: str) -> dict[str, int] | None:
    """The merge target a reference names: a suggestion (JY-…) or a topic (HSL-…)."""
    text = text.strip().upper()
    if not text:
        return None
    if text.startswith("JY-"):
        row = await Suggestion.select(Suggestion.id).where(Suggestion.reference == text).first()
        return {"suggestion_id": row["id"]} if row else {}
    row = await Topic.select(Topic.id).where(Topic.reference == text).first()
    return {"topic_id": row["id"]} if row else {}


# The person's own (on /me) -------------------------------------------------------------


@dataclass(frozen=True)
class MySuggestion:
    """One line of 我的建议: a suggestion the person filed or supported."""

    s: SuggestionRead
    filed: bool
    progress: str
    """已达 1/3, 已达 2/3 (of the supports that oblige), 须列入, or the screening's result."""
    on: date | None
    """The date beside it: when it must be listed by, or was screened."""


def progress_of(
    s: SuggestionRead, tally: threshold.Tally | None, rules: threshold.Settings | None
) -> str:
    """已达 1/3 or 2/3 of the representatives one fifth requires, 须列入, or the result."""
    if s.status in SCREENED:
        return f"审核结果：{s.status_label}"
    if s.status == "must_list":
        return "须列入"
    if tally is None or rules is None:
        return ""
    wanted = threshold.needed(rules.representatives, rules.representatives_divisor)
    if not wanted:
        return ""
    if tally.representatives * 3 >= wanted * 2:
        return "已达 2/3"
    if tally.representatives * 3 >= wanted:
        return "已达 1/3"
    return ""


async def my_suggestions(principal: Principal) -> list[MySuggestion]:
    """The suggestions this person filed or supported, latest changed first, as far as
    they may still read them."""
    filed = (await read.list_suggestions(principal, mine=True, limit=MINE)).items
    seen = {s.id for s in filed}
    supported_ids = [
        r["suggestion"]
        for r in await SuggestionSupport.select(SuggestionSupport.suggestion)
        .where(SuggestionSupport.account == principal.id)
        .order_by(SuggestionSupport.id, ascending=False)
        .limit(MINE)
        if r["suggestion"] not in seen
    ]
    supported: list[SuggestionRead] = []
    for suggestion_id in dict.fromkeys(supported_ids):
        try:
            supported.append(await read.get_suggestion(principal, suggestion_id))
        except NotFound:
            continue
    screened = await _screenings([s.id for s in filed + supported])
    found: list[MySuggestion] = []
    rosters: dict[tuple[int, int | None], threshold.Settings] = {}
    for s, own in [*((s, True) for s in filed), *((s, False) for s in supported)]:
        tally = rules = None
        if s.status == "pending":  # how far it got: only while it waits for supports
            row = await _row(s.id)
            tally = await support.tally_of(row)
            place = (s.township_id, s.village_id)
            if place not in rosters:
                rosters[place] = await support.settings_of(row)
            rules = rosters[place]
        done = screened.get(s.id)
        on = (
            china_date(done["screened_at"])
            if done
            else s.screening_due_on
            if s.status == "must_list"
            else None
        )
        found.append(MySuggestion(s, own, progress_of(s, tally, rules), on))
    found.sort(key=lambda m: (m.s.updated_at, m.s.id), reverse=True)
    return found


# The lists ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    s: SuggestionRead
    left: TimeLeft | None


class SuggestionPageController(PageController):
    path = "/suggestions"

    @get("/new", operation_id="suggestion_new_page")
    async def new(
        self,
        visitor: Visitor,
        village: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Template:
        """The public form: anyone, with or without an account; a village's poster
        (``?village=``) fixes the village."""
        values = {"village_id": str(village)} if village else {}
        return await _new_form(visitor, values, {}, fixed=village)

    @post("/new", operation_id="suggestion_new_submit", status_code=303)
    async def new_submit(
        self, request: Request[Any, Any, Any], visitor: Visitor, data: FormData
    ) -> Template | Redirect:
        fields = {k: v for k, v in data.items() if k != "fixed"}
        fixed = int(data["fixed"]) if str(data.get("fixed") or "").isdigit() else None
        if visitor is not None and visitor.role != "staff":
            fields.pop("submitter_name", None)
            fields.pop("submitter_phone", None)
        values, problems = parse_form(fields, SuggestionCreate)
        if values is None:
            return await _new_form(visitor, data, problems, 422, fixed)
        try:
            created = await filing.file_suggestion(
                visitor, values, client_of(request), request.app.state.suggestion_limits
            )
        except ValidationFailed as refused:
            return await _new_form(visitor, data, _problems(refused), 422, fixed)
        except RateLimited as refused:
            page = await _new_form(visitor, data, {"form": refused.detail}, 429, fixed)
            page.headers["Retry-After"] = str(refused.retry_after)
            return page
        except DomainError as refused:
            return await _new_form(
                visitor, data, {"form": refused.detail}, _refused_status(refused), fixed
            )
        return Redirect(f"/suggestions/filed?reference={created.reference}", status_code=303)

    @get("/filed", operation_id="suggestion_filed_page")
    async def filed(
        self,
        visitor: Visitor,
        reference: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        """After filing: the reference and what happens next (the filer may not read
        the text: nothing but the reference is shown)."""
        if not REFERENCE.match(reference):
            raise NotFound("建议不存在")
        return Template(
            "suggestion_filed.html",
            context={"reference": reference, "anonymous": visitor is None},
        )

    @get("/similar", operation_id="suggestion_similar_part")
    async def similar_part(
        self,
        visitor: Visitor,
        title: Annotated[str, QueryParameter(max_length=200)] = "",
        village_id: Annotated[str, QueryParameter(max_length=12)] = "",
    ) -> Template:
        """Under the title as it is typed (htmx): suggestions and topics like it."""
        village = int(village_id) if village_id.isdigit() and len(village_id) < 11 else None
        found = await similar.similar(visitor, title, village)
        return Template("suggestion_similar.html", context={"found": found})

    @get("/", operation_id="suggestions_page")
    async def suggestions(
        self,
        visitor: Visitor,
        tab: Annotated[str | None, QueryParameter(max_length=12)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        """The public: screened suggestions; members of a township get tabs for those
        waiting for supports and those that must be listed."""
        member = visitor is not None and visitor.township_id is not None
        tab = tab if member and tab in TABS else "screened" if not member else tab or "pending"
        q = (q or "").strip() or None
        township = visitor.township_id if member and visitor is not None else None
        offset = (page - 1) * PER_PAGE
        if tab == "screened":
            # What the public reads (screened ones only), of the member's own township.
            answer = await read.list_suggestions(
                None, township_id=township, q=q, limit=PER_PAGE, offset=offset
            )
        else:
            answer = await read.list_suggestions(
                visitor, status=tab, q=q, limit=PER_PAGE, offset=offset
            )
        items, total = answer.items, answer.total
        screenings = await _screenings([s.id for s in items])
        topics = await topic_links({s.topic_id for s in items if s.topic_id}, visitor)
        merged = await _references(
            {r["merged_into"] for r in screenings.values() if r["merged_into"]}
        )
        return Template(
            "suggestion_list.html",
            context={
                "items": items,
                "total": total,
                "page": page,
                "pages": max(1, -(-total // PER_PAGE)),
                "tab": tab,
                "tabs": TABS if member else {},
                "q": q or "",
                "screenings": screenings,
                "topics": topics,
                "merged": merged,
                "villages": await _village_names({s.village_id for s in items}),
                "office": visitor is not None and visitor.role == "staff",
            },
        )

    @get("/office", operation_id="suggestions_office_page")
    async def office(self, principal: SignedIn) -> Template:
        """The office's queue: must-list suggestions by their screening due date, then
        those waiting for supports, oldest first."""
        if principal.role != "staff":
            raise Forbidden("只有乡镇协商办公室的工作人员可以审核村民建议")
        today = china_today()
        must = (await read.list_suggestions(principal, status="must_list", limit=100)).items
        must.sort(key=lambda s: (s.screening_due_on or date.max, s.id))
        pending = (await read.list_suggestions(principal, status="pending", limit=100)).items
        pending.sort(key=lambda s: (s.created_at, s.id))
        return Template(
            "suggestion_office.html",
            context={
                "must": [
                    QueueItem(
                        s, time_left(s.screening_due_on, today) if s.screening_due_on else None
                    )
                    for s in must
                ],
                "pending": [QueueItem(s, None) for s in pending],
                "villages": await _village_names({s.village_id for s in must + pending}),
                "today": today,
            },
        )

    @get("/{suggestion_id:int}", operation_id="suggestion_page")
    async def suggestion(
        self,
        visitor: Visitor,
        suggestion_id: FromPath[int],
        done: Annotated[str | None, QueryParameter(max_length=12)] = None,
    ) -> Template:
        """A suggestion as far as the visitor may read it, with its timeline; the forms
        its people may use."""
        return await _suggestion_page(visitor, suggestion_id, done=done)

    async def _after(
        self,
        principal: Principal,
        suggestion_id: int,
        form: str,
        data: dict[str, Any],
        call: Any,
        done: str,
    ) -> Template | Redirect:
        try:
            await call()
        except ValidationFailed as refused:
            return await _suggestion_page(
                principal,
                suggestion_id,
                problems=_problems(refused),
                form=form,
                values=data,
                status=422,
            )
        except DomainError as refused:
            if isinstance(refused, NotFound):
                raise
            return await _suggestion_page(
                principal,
                suggestion_id,
                problems={"form": refused.detail},
                form=form,
                values=data,
                status=_refused_status(refused),
            )
        return Redirect(f"/suggestions/{suggestion_id}?done={done}", status_code=303)

    @post("/{suggestion_id:int}/support", operation_id="suggestion_support_submit", status_code=303)
    async def support_submit(
        self, principal: SignedIn, suggestion_id: FromPath[int], data: FormData
    ) -> Template | Redirect:
        """附议 with one's own account."""
        return await self._after(
            principal,
            suggestion_id,
            "support",
            data,
            lambda: support.support(principal, suggestion_id, SupportCreate()),
            "supported",
        )

    @post("/{suggestion_id:int}/paper", operation_id="suggestion_paper_submit", status_code=303)
    async def paper_submit(
        self, principal: SignedIn, suggestion_id: FromPath[int], data: FormData
    ) -> Template | Redirect:
        """A paper sheet's names, one a line."""
        names = [n.strip() for n in str(data.get("names") or "").splitlines() if n.strip()]
        if not names:
            return await _suggestion_page(
                principal,
                suggestion_id,
                problems={"names": "请填写签名表上的姓名，每行一个"},
                form="paper",
                values=data,
                status=422,
            )
        try:
            paper = msgspec.convert(
                {"on_behalf_of": names, "sheet_note": str(data.get("sheet_note") or "")},
                SupportCreate,
            )
        except msgspec.ValidationError:  # a name too long, too many names, a long note
            return await _suggestion_page(
                principal,
                suggestion_id,
                problems={"names": "姓名过长或人数过多（每张签名表分开录入），或说明过长"},
                form="paper",
                values=data,
                status=422,
            )
        return await self._after(
            principal,
            suggestion_id,
            "paper",
            data,
            lambda: support.support(principal, suggestion_id, paper),
            "paper",
        )

    @post("/{suggestion_id:int}/correct", operation_id="suggestion_correct_submit", status_code=303)
    async def correct_submit(
        self, principal: SignedIn, suggestion_id: FromPath[int], data: FormData
    ) -> Template | Redirect:
        """The office corrects the public text, with a reason."""
        patch, problems = parse_form(data, SuggestionPatch)
        if patch is None:
            return await _suggestion_page(
                principal, suggestion_id, problems=problems, form="correct", values=data, status=422
            )
        return await self._after(
            principal,
            suggestion_id,
            "correct",
            data,
            lambda: filing.correct_suggestion(principal, suggestion_id, patch),
            "corrected",
        )

    @post("/{suggestion_id:int}/screen", operation_id="suggestion_screen_submit", status_code=303)
    async def screen_submit(
        self, principal: SignedIn, suggestion_id: FromPath[int], data: FormData
    ) -> Template | Redirect:
        """审核: accept into a workflow, merge, or decline (a ground fills the reason)."""
        decision = str(data.get("decision") or "")
        reason = str(data.get("reason") or "").strip()
        ground = str(data.get("ground") or "").strip()
        if decision == "decline" and ground and ground not in reason:
            reason = f"{ground}。{reason}" if reason else ground
        fields: dict[str, Any] = {"decision": decision, "reason": reason}
        if decision == "accept":
            fields["workflow"] = data.get("workflow") or ""
        problems: dict[str, str] = {}
        if decision == "merge":
            target = await _target_of(str(data.get("merge_into") or ""))
            if not target:
                problems["merge_into"] = (
                    "请填写要合并到的建议编号（JY-…）或议题编号"
                    if target is None
                    else "没有这个编号的建议或议题"
                )
            else:
                fields["merge_into"] = target
        shape, found = parse_form(fields, ScreeningCreate) if not problems else (None, {})
        problems.update(found)
        if shape is None:
            return await _suggestion_page(
                principal, suggestion_id, problems=problems, form="screen", values=data, status=422
            )
        return await self._after(
            principal,
            suggestion_id,
            "screen",
            data,
            lambda: screening.screen(principal, suggestion_id, shape),
            "screened",
        )
