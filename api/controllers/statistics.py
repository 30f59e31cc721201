"""The year's figures of consultation work (public: public topics only) and the
consultation ledger (台账) as a workbook."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from api.auth import CurrentPrincipal, provide_optional_principal
from api.controllers.accounts import XLSX, download
from deliberation import ledger, statistics
from deliberation.clock import china_today
from deliberation.security import Principal


@get(
    "/api/v1/statistics",
    operation_id="statistics",
    tags=["statistics"],
    opt={"exclude_from_auth": True},
    dependencies={"caller": Provide(provide_optional_principal)},
)
async def year_figures(
    caller: NamedDependency[Principal | None],
    township_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
) -> statistics.StatisticsRead:
    """Per township (one, or all) and year (this year unless given): topics by state,
    each timed stage's on-time share and median working days, opinions by adoption,
    satisfaction by rating, resolution items done on time; the township's office and
    the county also get each liaison's participation and the figures of topics not
    yet public. Anyone else gets the figures of public topics only. Each township's own
    annual plan and the county's (``county_plan``) are counted against delivery by
    quarter, from their latest published version, the same for every caller."""
    return await statistics.figures(
        caller, year=year or china_today().year, township_id=township_id
    )


@get("/api/v1/ledger.xlsx", operation_id="ledger", tags=["statistics"], media_type=XLSX)
async def ledger_workbook(
    principal: CurrentPrincipal,
    township_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
) -> Response[bytes]:
    """The consultation ledger (协商议事台账) of the year's topics, one row per topic and
    a sheet of their agreed items: the township's staff for their own township, the
    county supervisor for one township or (no ``township_id``) every township."""
    chosen = year or china_today().year
    made = await ledger.ledger_xlsx(principal, year=chosen, township_id=township_id)
    return download(made.body, XLSX, made.filename, made.ascii_filename)
