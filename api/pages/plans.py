"""The annual plan (年度协商计划) on the pages: the published plans for everyone, each
with its items by quarter and how each was delivered (未启动 / 已立项 / 已办结), the
PDF and its verify page; the editor for the township's office and the county's
supervisor (rows added like a roster's), and publishing. Every rule is
``deliberation.plans``' and the policy's (docs/decisions.md, "Suggestions on the
pages")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from api.dependencies import CurrentPublishing
from api.errors import STATUS_OF_CODE
from api.forms import FormData
from api.pages.signin import PageController, SignedIn, Visitor
from deliberation import plans
from deliberation.clock import china_today
from deliberation.errors import DomainError, Forbidden, NotFound, ValidationFailed
from deliberation.permissions import Subject, allowed
from deliberation.pinning import loaded
from deliberation.plans import PlanCreate, PlanRead
from deliberation.security import Principal
from deliberation.statistics import is_completed
from deliberation.tables import Suggestion
from deliberation.topics import topic_row

EDITORS = ("staff", "supervisor")
"""Who drafts and publishes a plan: a township's office, the county's supervisor."""
ROWS = 3
"""Empty rows of a new plan."""
QUARTERS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


@dataclass(frozen=True)
class Delivery:
    """How a plan item was delivered: 未启动, 已立项 HSL-… (linked if the visitor reads
    the topic), 已办结."""

    label: str
    topic_id: int | None = None
    reference: str = ""
    linked: bool = False


async def _delivery(visitor: Principal | None, plan: PlanRead) -> dict[int, Delivery]:
    topics: dict[int, int] = {i.id: i.topic_id for i in plan.items if i.topic_id}
    waiting = [i for i in plan.items if not i.topic_id and i.suggestion_id]
    if waiting:
        rows = await Suggestion.select(Suggestion.id, Suggestion.topic).where(
            Suggestion.id.is_in([i.suggestion_id for i in waiting])
        )
        became = {r["id"]: r["topic"] for r in rows if r["topic"]}
        topics |= {i.id: became[i.suggestion_id] for i in waiting if i.suggestion_id in became}
    found: dict[int, Delivery] = {}
    for item in plan.items:
        topic_id = topics.get(item.id)
        if topic_id is None:
            found[item.id] = Delivery("未启动")
            continue
        try:
            row = await topic_row(topic_id)
        except NotFound:
            found[item.id] = Delivery("未启动")
            continue
        found[item.id] = Delivery(
            "已办结" if is_completed(row) else "已立项",
            topic_id,
            row["reference"],
            bool(allowed(visitor, "topic.read", Subject.of_topic(row))),
        )
    return found


def _may_edit(principal: Principal | None) -> bool:
    return principal is not None and principal.role in EDITORS


def _rows_of(data: dict[str, Any]) -> list[dict[str, str]]:
    """The editor's rows as posted (parallel lists), empty ones left out."""

    def column(name: str) -> list[str]:
        value = data.get(name)
        values = value if isinstance(value, list) else [] if value is None else [value]
        return [str(v).strip() for v in values]

    titles, quarters = column("item_title"), column("item_quarter")
    workflows, units = column("item_workflow"), column("item_lead_unit")
    sources = column("item_suggestion")
    rows = []
    for n, title in enumerate(titles):
        row = {
            "title": title,
            "quarter": quarters[n] if n < len(quarters) else "",
            "workflow": workflows[n] if n < len(workflows) else "",
            "lead_unit": units[n] if n < len(units) else "",
            "suggestion": sources[n] if n < len(sources) else "",
        }
        if row["title"] or row["lead_unit"] or row["suggestion"]:
            rows.append(row)
    return rows


async def _items(rows: list[dict[str, str]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The API's items from the rows; a suggestion named by its reference (JY-…)."""
    items: list[dict[str, Any]] = []
    problems: dict[str, str] = {}
    for n, row in enumerate(rows, start=1):
        item: dict[str, Any] = {
            "title": row["title"],
            "quarter": int(row["quarter"]) if row["quarter"].isdigit() else 0,
            "workflow": row["workflow"],
            "lead_unit": row["lead_unit"],
        }
        if row["suggestion"]:
            found = (
                await Suggestion.select(Suggestion.id)
                .where(Suggestion.reference == row["suggestion"].upper())
                .first()
            )
            if found is None:
                problems[f"row-{n}"] = f"第 {n} 行：没有编号为 {row['suggestion']} 的建议"
            else:
                item["suggestion_id"] = found["id"]
        items.append(item)
    return items, problems


def _shape_problem(wrong: msgspec.ValidationError) -> str:
    """A row the API's shape refuses, named by its row (``$.items[2]`` → 第 3 项)."""
    text = str(wrong)
    at = text.find("$.items[")
    if at >= 0:
        n = int(text[at + 8 : text.index("]", at)]) + 1
        if "quarter" in text:
            return f"第 {n} 项：请选择季度"
        return f"第 {n} 项：请填写议题和牵头单位"
    return "表单内容有误，请检查后重新提交"


async def _editor(
    principal: Principal,
    year: int,
    rows: list[dict[str, str]],
    problems: dict[str, str],
    note: str = "",
    status: int = 200,
) -> Template:
    workflows = [(w.key, w.label) for w in loaded().newest()]
    return Template(
        "plan_new.html",
        context={
            "year": year,
            "rows": rows or [{} for _ in range(ROWS)],
            "problems": problems,
            "note": note,
            "workflows": workflows,
            "quarters": QUARTERS,
            "county": principal.township_id is None,
            "back": f"/plans/new?year={year}",
        },
        status_code=status,
    )


class PlanPageController(PageController):
    path = "/plans"

    @get("/", operation_id="plans_page")
    async def plans_list(self, visitor: Visitor, publishing: CurrentPublishing) -> Template:
        """Every published plan (and its earlier versions); drafts too for their editors."""
        found = await plans.list_plans(visitor, publishing)
        return Template(
            "plan_list.html",
            context={
                "plans": found,
                "may_edit": _may_edit(visitor),
                "year": china_today().year + 1,
            },
        )

    @get("/row", operation_id="plan_row_part")
    async def row(
        self,
        principal: SignedIn,
        n: Annotated[int, QueryParameter(ge=1, le=plans.MAX_ITEMS)] = 1,
    ) -> Template:
        """One more empty row (htmx appends it to the editor)."""
        return Template(
            "plan_row.html",
            context={
                "n": n,
                "row": {},
                "workflows": [(w.key, w.label) for w in loaded().newest()],
                "quarters": QUARTERS,
                "next_row": n + 1,
            },
        )

    @get("/new", operation_id="plan_new_page")
    async def new(
        self,
        principal: SignedIn,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2099)] = None,
    ) -> Template:
        if not _may_edit(principal):
            raise Forbidden("只有乡镇协商办公室的工作人员或县政协督办可以编制协商计划")
        return await _editor(principal, year or china_today().year + 1, [], {})

    @post("/new", operation_id="plan_new_submit", status_code=303)
    async def new_submit(
        self, principal: SignedIn, publishing: CurrentPublishing, data: FormData
    ) -> Template | Redirect:
        """Save a draft (an older draft of the year is discarded), or add a row."""
        if not _may_edit(principal):
            raise Forbidden("只有乡镇协商办公室的工作人员或县政协督办可以编制协商计划")
        year_text = str(data.get("year") or "")
        year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else 0
        rows = _rows_of(data)
        note = str(data.get("note") or "").strip()
        if data.get("more"):  # without script, 再加一行 posts the form: one more row
            return await _editor(principal, year, [*rows, {}], {}, note)
        items, problems = await _items(rows)
        if not items:
            problems["form"] = "请至少填写一项计划议题"
        if problems:
            return await _editor(principal, year, rows, problems, note, 422)
        try:
            shape = msgspec.convert({"year": year, "items": items, "note": note}, PlanCreate)
        except msgspec.ValidationError as wrong:
            return await _editor(principal, year, rows, {"form": _shape_problem(wrong)}, note, 422)
        try:
            draft = await plans.create_plan(principal, shape, publishing)
        except ValidationFailed as refused:
            found = {"form": "；".join(e["message"] for e in refused.errors)}
            return await _editor(principal, year, rows, found, note, 422)
        except DomainError as refused:
            status = STATUS_OF_CODE.get(refused.code, 400)
            return await _editor(principal, year, rows, {"form": refused.detail}, note, status)
        return Redirect(f"/plans/{draft.id}", status_code=303)

    @get("/{plan_id:int}", operation_id="plan_page")
    async def plan(
        self, visitor: Visitor, publishing: CurrentPublishing, plan_id: FromPath[int]
    ) -> Template:
        """One version: its items by quarter, with delivery; the PDF and verify links."""
        found = await plans.get_plan(visitor, plan_id, publishing)
        return await _plan_page(visitor, found)

    @post("/{plan_id:int}/publish", operation_id="plan_publish_submit", status_code=303)
    async def publish(
        self, principal: SignedIn, publishing: CurrentPublishing, plan_id: FromPath[int]
    ) -> Template | Redirect:
        try:
            await plans.publish_plan(principal, plan_id, None, publishing)
        except DomainError as refused:
            if isinstance(refused, NotFound):
                raise
            found = await plans.get_plan(principal, plan_id, publishing)
            status = STATUS_OF_CODE.get(refused.code, 400)
            return await _plan_page(principal, found, refused.detail, status)
        return Redirect(f"/plans/{plan_id}", status_code=303)


async def _plan_page(
    visitor: Principal | None, plan: PlanRead, error: str = "", status: int = 200
) -> Template:
    by_quarter = {q: [i for i in plan.items if i.quarter == q] for q in QUARTERS}
    return Template(
        "plan_page.html",
        context={
            "plan": plan,
            "by_quarter": by_quarter,
            "quarters": QUARTERS,
            "delivery": await _delivery(visitor, plan),
            "may_publish": _may_edit(visitor) and plan.status == "draft",
            "error": error,
            "back": f"/plans/{plan.id}",
        },
        status_code=status,
    )
