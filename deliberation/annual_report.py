"""The annual report (年度协商议事工作情况, issue 15 item 5): the year's figures and
charts as a PDF in the documents' style, for a township's or the county's annual
summary of consultation work. Who may have it is who may have the ledger (the
township's staff for their township, the county supervisor for any or all)."""

from __future__ import annotations

from typing import Any

from deliberation import charts, statistics
from deliberation.clock import china_today, chinese_date
from deliberation.documents.content import COUNTY_ISSUER, issuer_name
from deliberation.documents.render import RenderJob
from deliberation.documents.renderer import Renderer
from deliberation.ledger import export_scope
from deliberation.numbers import percent
from deliberation.security import Principal
from deliberation.wording import ADOPTION_LABELS, RATING_LABELS

COMMAND_LINE = Principal(0, "command-line", "supervisor", None, None)
"""Who the command line reports as: the county, which sees every topic."""


def _share(part: int, whole: int) -> str:
    return percent(part, whole)


def _stage_row(stage: statistics.StageFigures) -> dict[str, Any]:
    return {
        "label": stage.label,
        "finished": stage.finished,
        "on_time": stage.on_time,
        "share": _share(stage.on_time, stage.finished),
        "median": "—" if stage.median_working_days is None else f"{stage.median_working_days:g}",
    }


QUARTER_NAMES = ("第一季度", "第二季度", "第三季度", "第四季度")


def _plan_rows(plan: statistics.PlanFigures | None) -> dict[str, Any] | None:
    """The 年度协商计划执行情况 table: one row per quarter, then the totals."""
    if plan is None:
        return None
    rows = [
        (
            QUARTER_NAMES[q.quarter - 1] if 1 <= q.quarter <= 4 else f"第{q.quarter}季度",
            q.planned,
            q.opened,
            q.opened_on_time,
            q.closed,
        )
        for q in plan.quarters
    ]
    t = plan.totals
    return {
        "version": plan.version,
        "totals": t,
        "rows": [*rows, ("合计", t.planned, t.opened, t.opened_on_time, t.closed)],
        "share": _share(t.opened_on_time, t.planned),
    }


async def report_pdf(
    principal: Principal,
    *,
    year: int,
    township_id: int | None,
    renderer: Renderer,
    public_url: str,
) -> bytes:
    """The report of one township (a staff member's own by default), or of every
    township together for the county."""
    township_id = await export_scope(principal, township_id)
    found = await statistics.figures(principal, year=year, township_id=township_id)
    return await renderer.render(report_job(found, township_id, public_url))


def report_job(
    found: statistics.StatisticsRead, township_id: int | None, public_url: str
) -> RenderJob:
    figures = found.total if found.total is not None else found.townships[0]
    place = "全县" if township_id is None else figures.township_name
    issuer = COUNTY_ISSUER if township_id is None else issuer_name(figures.township_name)
    title = f"{place}{found.year}年“好商量”协商议事工作情况"
    items = figures.items
    answered = sum(v for k, v in figures.opinions_by_adoption.items() if k != "unanswered")
    rated = sum(figures.satisfaction_by_rating.values())
    link = f"{public_url.rstrip('/')}/statistics?year={found.year}"
    if township_id is not None:
        link += f"&township={township_id}"
    context: dict[str, Any] = {
        "issuer": issuer,
        "number_text": "",
        "place": place,
        "year": found.year,
        "f": figures,
        "charts": charts.of_figures(figures, printed=True),
        # One table of stages per workflow, in its own words (docs/decisions.md,
        # "Reports per workflow").
        "workflows": [
            {
                "key": w.key,
                "label": w.label,
                "topics": w.topics,
                "completed": w.topics_completed,
                "states": [(s.label, s.topics) for s in w.states],
                "stages": [_stage_row(s) for s in w.stages],
            }
            for w in figures.workflows.values()
        ],
        "finished": figures.topics_completed,
        "stages": [_stage_row(s) for s in figures.stages],
        "adoptions": [
            (ADOPTION_LABELS[k], v, _share(v, sum(figures.opinions_by_adoption.values())))
            for k, v in figures.opinions_by_adoption.items()
        ],
        "answered": answered,
        "adopted": figures.opinions_by_adoption.get("adopted", 0)
        + figures.opinions_by_adoption.get("partly_adopted", 0),
        "ratings": [
            (RATING_LABELS[k], v, _share(v, rated))
            for k, v in figures.satisfaction_by_rating.items()
        ],
        "rated": rated,
        "satisfied": figures.satisfaction_by_rating.get("satisfied", 0)
        + figures.satisfaction_by_rating.get("basically_satisfied", 0),
        "items": items,
        "items_share": _share(items.completed_on_time, items.completed),
        "townships": found.townships if township_id is None else [],
        "liaisons": figures.liaisons or [],
        "public_only": found.public_only,
        # The year's annual plan against delivery: the township's own, or the county's.
        "plan": _plan_rows(figures.plan if township_id is not None else found.county_plan),
        "date_text": chinese_date(china_today()),
        "place_names": [place],
    }
    return RenderJob(
        template="annual_report.html",
        context=context,
        qr_text=link,
        verify_label="扫码查看\n在线统计",
        title=title,
        author=issuer,
    )
