"""The year's figures of consultation work (public: public topics only)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from api.auth import provide_optional_principal
from deliberation import statistics
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
    yet public. Anyone else gets the figures of public topics only."""
    return await statistics.figures(
        caller, year=year or china_today().year, township_id=township_id
    )
