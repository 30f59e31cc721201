"""全县总览: the county supervisor's view of every township, overdue first."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from api.pages.signin import PageController, SignedIn
from deliberation import accounts, county, deadlines, topics
from deliberation.errors import NotFound
from workflows import WORKFLOW

STATE_COLUMNS = [(s.name, s.label) for s in WORKFLOW.states]


class CountyPageController(PageController):
    path = "/county"

    @get("/", operation_id="county_page")
    async def county(self, principal: SignedIn) -> Template:
        """Each township's topics by state, overdue and urged counts and on-time share;
        then the overdue topics, longest first, each a link to its page (to urge it)."""
        view = await county.county_view(principal)
        return Template("county.html", context={"view": view, "states": STATE_COLUMNS})

    @get("/townships/{township_id:int}", operation_id="county_township_page")
    async def township(
        self,
        principal: SignedIn,
        township_id: FromPath[int],
        only: Annotated[str | None, QueryParameter(name="state", max_length=30)] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        """One township's topics, newest first, by state (the county reads them all)."""
        names = {t.id: t.name for t in await accounts.list_townships(principal)}
        if township_id not in names:
            raise NotFound("乡镇不存在")
        chosen = only if only in dict(STATE_COLUMNS) else None
        found = await topics.list_topics(
            principal,
            township_id=township_id,
            state=chosen,
            limit=PAGE,
            offset=(page - 1) * PAGE,
        )
        return Template(
            "county_township.html",
            context={
                "township": {"id": township_id, "name": names[township_id]},
                "found": found,
                "left": await deadlines.stage_times_left(
                    (t.id, t.state, t.due_on) for t in found.items
                ),
                "states": STATE_COLUMNS,
                "chosen": chosen,
                "page": page,
                "pages": max(1, -(-found.total // PAGE)),
            },
        )


PAGE = 50
