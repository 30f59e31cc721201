"""统计: the year's figures of each township, as charts with their tables (public; the
township's office and the county see every topic and each liaison's participation)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get
from litestar.params import QueryParameter
from litestar.response import Template

from api.controllers.accounts import XLSX, download
from api.pages import charts
from api.pages.signin import PageController, SignedIn, Visitor
from deliberation import accounts, ledger, statistics
from deliberation.clock import china_today
from deliberation.permissions import Subject, allowed
from deliberation.wording import ADOPTION_LABELS, RATING_LABELS
from workflows import WORKFLOW


def _charts(figures: statistics.TownshipFigures) -> dict[str, Any]:
    states = [s for s in WORKFLOW.states if figures.by_state.get(s.name)]
    timed = [s for s in figures.stages if s.finished]
    return {
        "by_state": charts.bars(
            [s.label for s in states], [figures.by_state[s.name] for s in states]
        )
        if states
        else None,
        "on_time": charts.bars(
            [s.label for s in timed],
            [round(100 * (s.on_time_share or 0)) for s in timed],
            percent=True,
        )
        if timed
        else None,
        "adoption": charts.bars(
            [ADOPTION_LABELS[k] for k in figures.opinions_by_adoption],
            list(figures.opinions_by_adoption.values()),
        )
        if any(figures.opinions_by_adoption.values())
        else None,
        "ratings": charts.bars(
            [RATING_LABELS[k] for k in figures.satisfaction_by_rating],
            list(figures.satisfaction_by_rating.values()),
        )
        if any(figures.satisfaction_by_rating.values())
        else None,
    }


class StatisticsPageController(PageController):
    path = "/statistics"

    @get("/", operation_id="statistics_page")
    async def page(
        self,
        visitor: Visitor,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        township: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Template:
        """The year's figures, one township (or every township) at a time."""
        this_year = china_today().year
        chosen_year = year or this_year
        townships = await accounts.list_townships()
        found = await statistics.figures(visitor, year=chosen_year, township_id=township)
        return Template(
            "statistics.html",
            context={
                "found": found,
                # Charts for every township together, or for the one asked for.
                "charts": _charts(found.total or found.townships[0]),
                "townships": townships,
                "township": township,
                "years": list(range(this_year, this_year - 5, -1)),
                # The ledger of what is shown: the office's own township, the county's any.
                "ledger": visitor is not None
                and allowed(
                    visitor,
                    "ledger.export",
                    Subject(township_id=township or visitor.township_id),
                ).allowed,
                "year": chosen_year,
                "states": [(s.name, s.label) for s in WORKFLOW.states],
                "adoption_labels": ADOPTION_LABELS,
                "rating_labels": RATING_LABELS,
            },
        )

    @get("/ledger.xlsx", operation_id="ledger_download", media_type=XLSX)
    async def ledger(
        self,
        principal: SignedIn,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        township: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Response[bytes]:
        """导出台账: the same workbook as ``GET /api/v1/ledger.xlsx``, for a signed-in page."""
        chosen = year or china_today().year
        body = await ledger.ledger_xlsx(principal, year=chosen, township_id=township)
        return download(body, XLSX, f"ledger-{chosen}.xlsx")
