"""全县总览: the county supervisor's view of every township, overdue first."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from api.pages.signin import PageController, SignedIn
from deliberation import county
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
