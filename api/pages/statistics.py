"""统计: the year's figures of each township, as charts with their tables (public; the
township's office and the county see every topic and each liaison's participation)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get
from litestar.params import QueryParameter
from litestar.response import Template

from api.controllers.accounts import XLSX, download
from api.dependencies import CurrentPublishing
from api.pages.signin import PageController, SignedIn, Visitor
from deliberation import accounts, annual_report, charts, ledger, statistics
from deliberation.clock import china_today
from deliberation.permissions import Subject, allowed
from deliberation.wording import ADOPTION_LABELS, RATING_LABELS


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
        # The township's office sees its own topics in full and others' public ones only:
        # each figure then says which it is.
        full_for = {
            f.township_id
            for f in found.townships
            if statistics.sees_everything(visitor, f.township_id)
        }
        return Template(
            "statistics.html",
            context={
                "found": found,
                "full_for": full_for,
                "mixed": bool(full_for) and len(full_for) < len(found.townships),
                # Charts for every township together, or for the one asked for.
                "charts": charts.of_figures(found.total or found.townships[0]),
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
        made = await ledger.ledger_xlsx(principal, year=chosen, township_id=township)
        return download(made.body, XLSX, made.filename, made.ascii_filename)

    @get("/report.pdf", operation_id="annual_report_download")
    async def report(
        self,
        principal: SignedIn,
        publishing: CurrentPublishing,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        township: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Response[bytes]:
        """年度报告: the year's figures and charts as a PDF in the documents' style."""
        chosen = year or china_today().year
        pdf = await annual_report.report_pdf(
            principal,
            year=chosen,
            township_id=township,
            renderer=publishing.renderer,
            public_url=publishing.public_url,
        )
        return download(pdf, "application/pdf", f"report-{chosen}.pdf")
