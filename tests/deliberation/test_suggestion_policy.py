"""Who may see or do what with a villager's suggestion and an annual plan (plan §3 and
the lead's answers: pending text, masked, to the village's own representatives and the
township's liaisons only; docs/permissions.md "Suggestions and plans")."""

from __future__ import annotations

import pytest

from deliberation.errors import Forbidden, NotFound, StageClosed, SuggestionScreened
from deliberation.permissions import (
    PlanSubject,
    SuggestionSubject,
    allowed_plan,
    allowed_suggestion,
    permissions_markdown,
    plan_scope,
    suggestion_cell,
    suggestion_scope,
)
from deliberation.scoping import suggestion_conditions
from deliberation.security import Principal
from deliberation.tables import Suggestion
from tests.deliberation.owned import accept, file_suggestion
from tests.world import World

STAFF = Principal(2, "staff", "staff", 1, None)
OTHER_STAFF = Principal(12, "staff2", "staff", 2, None)
LIAISON = Principal(1, "liaison", "liaison", 1, None)
REP = Principal(3, "rep", "representative", 1, 10)
REP_ELSEWHERE = Principal(13, "rep2", "representative", 1, 11)
CADRE = Principal(6, "cadre", "village_cadre", 1, 10)
SUPERVISOR = Principal(5, "duban", "supervisor", None, None)
ADMIN = Principal(4, "admin", "admin", 1, None)


def pending(status: str = "pending", filed_by: int | None = None) -> SuggestionSubject:
    return SuggestionSubject(township_id=1, village_id=10, status=status, filed_by=filed_by)


def view(principal: Principal | None, subject: SuggestionSubject) -> str:
    decision = allowed_suggestion(principal, "suggestion.read", subject)
    return decision.view if decision else f"{decision.status}"


def test_a_pending_suggestion_is_seen_by_the_office_and_its_village_only() -> None:
    subject = pending()
    assert view(STAFF, subject) == "full"
    assert view(LIAISON, subject) == "masked"
    assert view(REP, subject) == "masked"
    assert view(CADRE, subject) == "masked"
    assert view(SUPERVISOR, subject) == "masked"
    # Nobody else learns it exists.
    for outsider in (None, REP_ELSEWHERE, OTHER_STAFF, ADMIN):
        assert view(outsider, subject) == "404"
    # Its filer sees their own; once screened everyone reads the public text.
    assert view(REP_ELSEWHERE, pending(filed_by=REP_ELSEWHERE.id)) == "own"
    for status in ("accepted", "merged", "declined"):
        assert view(None, pending(status)) == "public"
        assert view(REP_ELSEWHERE, pending(status)) == "public"
        assert view(STAFF, pending(status)) == "full"


def test_supports_come_from_the_villages_representatives_and_the_townships_liaisons() -> None:
    assert allowed_suggestion(REP, "suggestion.support", pending())
    assert allowed_suggestion(LIAISON, "suggestion.support", pending("must_list"))
    township_wide = SuggestionSubject(township_id=1, village_id=None, status="pending")
    assert allowed_suggestion(REP_ELSEWHERE, "suggestion.support", township_wide)
    assert allowed_suggestion(REP_ELSEWHERE, "suggestion.support", pending()).error is NotFound
    for role in (STAFF, CADRE, SUPERVISOR, ADMIN):
        assert allowed_suggestion(role, "suggestion.support", pending()).error is Forbidden
    with pytest.raises(SuggestionScreened):
        allowed_suggestion(REP, "suggestion.support", pending("accepted")).check()
    # Paper sheets: the village's representative or the office.
    assert allowed_suggestion(STAFF, "suggestion.enter_supports", pending())
    assert allowed_suggestion(REP, "suggestion.enter_supports", pending())
    assert not allowed_suggestion(LIAISON, "suggestion.enter_supports", pending())


def test_only_the_townships_office_screens_and_corrects() -> None:
    assert allowed_suggestion(STAFF, "suggestion.screen", pending("must_list"))
    assert allowed_suggestion(STAFF, "suggestion.screen", pending("declined")).status == 409
    assert allowed_suggestion(STAFF, "suggestion.correct", pending("declined"))
    assert allowed_suggestion(OTHER_STAFF, "suggestion.screen", pending()).error is NotFound
    assert allowed_suggestion(LIAISON, "suggestion.screen", pending()).error is Forbidden
    assert allowed_suggestion(None, "suggestion.screen", pending()).error is NotFound


def test_who_files_where() -> None:
    village = SuggestionSubject.place(1, 10)
    assert allowed_suggestion(None, "suggestion.file", village)
    assert allowed_suggestion(REP, "suggestion.file", village)
    assert not allowed_suggestion(REP_ELSEWHERE, "suggestion.file", village)
    assert not allowed_suggestion(REP, "suggestion.file", SuggestionSubject.place(1, None))
    assert allowed_suggestion(LIAISON, "suggestion.file", SuggestionSubject.place(1, None))
    assert allowed_suggestion(STAFF, "suggestion.file", village)
    assert not allowed_suggestion(OTHER_STAFF, "suggestion.file", village)
    assert allowed_suggestion(ADMIN, "suggestion.file", village).error is Forbidden
    assert allowed_suggestion(SUPERVISOR, "suggestion.file", village).error is Forbidden
    assert allowed_suggestion(ADMIN, "suggestion.settings")
    assert not allowed_suggestion(STAFF, "suggestion.settings")


def test_plans_are_public_once_published_and_drafted_by_their_office() -> None:
    draft, published = PlanSubject(1, "draft"), PlanSubject(1, "published")
    assert allowed_plan(None, "plan.read", published).view == "public"
    assert allowed_plan(None, "plan.read", draft).error is NotFound
    assert allowed_plan(OTHER_STAFF, "plan.read", draft).error is NotFound
    assert allowed_plan(STAFF, "plan.edit", draft)
    assert allowed_plan(STAFF, "plan.publish", published).error is StageClosed
    assert allowed_plan(LIAISON, "plan.edit", draft).error is Forbidden
    county = PlanSubject(None, "draft")
    assert allowed_plan(SUPERVISOR, "plan.publish", county)
    assert allowed_plan(STAFF, "plan.edit", county).error is NotFound
    assert allowed_plan(SUPERVISOR, "plan.edit", draft).error is NotFound


def test_list_scopes() -> None:
    assert suggestion_scope(None).screened_only and suggestion_scope(None).everywhere
    assert suggestion_scope(ADMIN).screened_only
    assert suggestion_scope(STAFF).township_id == 1 and not suggestion_scope(STAFF).screened_only
    assert suggestion_scope(REP).village_id == 10
    assert suggestion_scope(SUPERVISOR).everywhere
    assert not suggestion_scope(SUPERVISOR).screened_only
    assert plan_scope(STAFF).township_id == 1
    assert plan_scope(SUPERVISOR).county_plan
    assert not plan_scope(None) and not plan_scope(LIAISON)


def test_the_generated_table_says_what_the_policy_answers() -> None:
    table = permissions_markdown()
    assert "## Suggestions and plans (every workflow)" in table
    row = next(line for line in table.splitlines() if line.startswith("| 查看建议 read"))
    cells = [c.strip() for c in row.strip("|").split("|")][1:]
    # The village's own representative (third column) reads the pending text masked;
    # the public (last column) only a screened one's.
    assert cells[2] == suggestion_cell("representative", "own_village", "suggestion.read")
    assert cells[2] == "masked: pending, must_list; public: accepted, merged, declined"
    assert cells[-1] == "public: accepted, merged, declined"


async def test_the_list_scopes_select_the_suggestions_each_person_is_shown(world: World) -> None:
    a = world.a
    staff = a["staff"].principal
    mine = await file_suggestion(None, a.id, a.villages[0]["id"], title="本村建议")
    other = await file_suggestion(None, a.id, a.villages[1]["id"], title="邻村建议")
    wide = await file_suggestion(a["liaison"].principal, a.id, None, title="全镇建议")
    screened = await file_suggestion(None, a.id, a.villages[1]["id"], title="已审核建议")
    await accept(staff, screened["id"])
    ours = {mine["id"], other["id"], wide["id"], screened["id"]}

    async def shown(principal: Principal | None) -> set[int]:
        conditions = suggestion_conditions(suggestion_scope(principal))
        rows = await Suggestion.select(Suggestion.id).where(*conditions)
        return {r["id"] for r in rows} & ours

    assert await shown(staff) == ours
    assert await shown(a["liaison"].principal) == ours
    assert await shown(a["representative"].principal) == {mine["id"], wide["id"]}
    assert await shown(None) == {screened["id"]}
    assert await shown(world.b["staff"].principal) == set()
    assert await shown(world.supervisor.principal) == ours
