"""全县总览: the county supervisor's view of every township, overdue first."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from api.pages.signin import PageController, SignedIn
from deliberation import accounts, county, deadlines, topics
from deliberation.errors import NotFound
from deliberation.schemas import CountyRead
from deliberation.statistics import states_of, workflow_versions


def state_choices() -> list[tuple[str, str]]:
    """(state, label) of every loaded workflow's states, each name once, for the state
    filter: the label carries its workflow's name when several are loaded."""
    every = workflow_versions()
    found: dict[str, str] = {}
    for versions in every.values():
        for state in states_of(versions):
            label = f"{versions[0].label}·{state.label}" if len(every) > 1 else state.label
            found.setdefault(state.name, label)
    return list(found.items())


def workflow_columns(view: CountyRead) -> list[dict[str, object]]:
    """Each workflow with topics in any township, with its own states as columns
    (docs/decisions.md "Reports per workflow")."""
    present = {key for line in view.townships for key in line.by_workflow}
    return [
        {
            "key": key,
            "label": versions[0].label,
            "states": [(s.name, s.label) for s in states_of(versions)],
        }
        for key, versions in workflow_versions().items()
        if key in present
    ]


class CountyPageController(PageController):
    path = "/county"

    @get("/", operation_id="county_page")
    async def county(self, principal: SignedIn) -> Template:
        """Each township's topics by state, overdue and urged counts and on-time share;
        then the overdue topics, longest first, each a link to its page (to urge it)."""
        view = await county.county_view(principal)
        return Template("county.html", context={"view": view, "workflows": workflow_columns(view)})

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
        states = state_choices()
        chosen = only if only in dict(states) else None
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
                "states": states,
                "chosen": chosen,
                "page": page,
                "pages": max(1, -(-found.total // PAGE)),
            },
        )


PAGE = 50
