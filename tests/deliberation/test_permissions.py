"""The permission policy on its own: the rules of product.md §9, and the generated
table in docs/permissions.md kept current."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliberation.errors import Forbidden, NotFound, StageClosed, TransitionNotAllowed
from deliberation.history import shown_data
from deliberation.permissions import (
    ACTIONS,
    POLICY,
    RELATIONS,
    Subject,
    allowed,
    concrete_actions,
    event_view,
    permissions_markdown,
    relation,
)
from deliberation.security import Principal
from workflows import WORKFLOW

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"

LIAISON = Principal(1, "liaison", "liaison", 1, None)
STAFF = Principal(2, "staff", "staff", 1, None)
REP = Principal(3, "rep", "representative", 1, 10)
REP_ELSEWHERE = Principal(5, "rep2", "representative", 1, 11)
OTHER_STAFF = Principal(6, "staff-b", "staff", 2, None)
ADMIN = Principal(7, "admin", "admin", None, None)
SUPERVISOR = Principal(8, "duban", "supervisor", None, None)


def topic(state: str, author_id: int | None = None) -> Subject:
    return Subject(township_id=1, village_id=10, state=state, opened_by=1, author_id=author_id)


def test_docs_permissions_is_generated_from_the_policy() -> None:
    assert DOC.read_text(encoding="utf-8") == permissions_markdown(), (
        "docs/permissions.md is stale: python -m deliberation.permissions > docs/permissions.md"
    )


def test_every_action_is_answered_and_listed() -> None:
    listed = {action for action, _, _ in concrete_actions()}
    assert listed == set(ACTIONS)
    for action in ACTIONS:
        assert hasattr(POLICY, "_" + action.replace(".", "_")), action


def test_relations() -> None:
    assert relation(None, topic("proposed")) == "public"
    assert relation(STAFF, topic("proposed")) == "own_township"
    assert relation(REP, topic("proposed")) == "own_village"
    assert relation(REP_ELSEWHERE, topic("proposed")) == "other_village"
    assert relation(OTHER_STAFF, topic("proposed")) == "other_township"
    assert relation(ADMIN, topic("proposed")) == "other_township"
    assert relation(SUPERVISOR, topic("proposed")) == "county"
    township_wide = Subject(township_id=1, village_id=None, state="proposed")
    assert relation(REP_ELSEWHERE, township_wide) == "own_village"
    assert set(RELATIONS) == {
        "own_township",
        "own_village",
        "other_village",
        "other_township",
        "county",
        "public",
    }


def test_opinions_are_seen_by_their_author_and_the_office_only() -> None:
    mine = topic("meeting", author_id=REP.id)
    assert allowed(REP, "record.read", mine, "opinion").view == "full"
    assert allowed(LIAISON, "record.read", mine, "opinion").view == "full"
    assert allowed(STAFF, "record.read", mine, "opinion").view == "full"
    # Another representative (another village, or the same) sees counts, not the text.
    assert allowed(REP_ELSEWHERE, "record.read", mine, "opinion").view == "counts"
    someone_elses = topic("meeting", author_id=99)
    assert allowed(REP, "record.read", someone_elses, "opinion").view == "counts"
    # From `resolution` on: the answers without names, for them and for the public.
    public = topic("resolution", author_id=REP.id)
    assert allowed(REP_ELSEWHERE, "record.read", public, "opinion").view == "anonymous"
    assert allowed(None, "record.read", public, "opinion").view == "anonymous"
    assert allowed(OTHER_STAFF, "record.read", public, "opinion").view == "anonymous"
    # Before it, the public and other townships do not see the topic at all.
    hidden = allowed(None, "record.read", topic("meeting"), "opinion")
    assert not hidden and hidden.error is NotFound


@pytest.mark.parametrize("kind", ["investigation", "site_consultation"])
def test_records_naming_private_people_are_summaries_outside_the_office(kind: str) -> None:
    assert allowed(LIAISON, "record.read", topic("meeting"), kind).view == "full"
    assert allowed(REP, "record.read", topic("meeting"), kind).view == "summary"
    assert allowed(None, "record.read", topic("closed"), kind).view == "summary"


def test_drafts_are_the_township_staffs_only() -> None:
    assert allowed(STAFF, "document.read_draft", topic("resolution"))
    for who in (LIAISON, REP, OTHER_STAFF, SUPERVISOR, ADMIN, None):
        decision = allowed(who, "document.read_draft", topic("resolution"))
        assert not decision and decision.error is NotFound


def test_document_kinds_by_state() -> None:
    for state in WORKFLOW.state_names:
        for document in WORKFLOW.documents:
            decision = allowed(STAFF, "document.draft", topic(state), document.name)
            assert bool(decision) == (state in document.states), (state, document.name)
            if not decision:
                assert decision.error is StageClosed and decision.status == 409


def test_refusals_say_why_and_how() -> None:
    decision = allowed(REP, "topic.fire", topic("proposed"), "investigate")
    assert decision.error is Forbidden and "不能执行“完成调研”" in decision.reason
    decision = allowed(LIAISON, "topic.fire", topic("meeting"), "investigate")
    assert decision.error is TransitionNotAllowed and "会议协商" in decision.reason
    decision = allowed(OTHER_STAFF, "topic.fire", topic("proposed"), "investigate")
    assert decision.error is NotFound and decision.status == 404
    not_opener = Principal(8, "liaison2", "liaison", 1, None)
    decision = allowed(not_opener, "topic.fire", topic("proposed"), "withdraw")
    assert decision.error is Forbidden and "提出该议题的人" in decision.reason
    with pytest.raises(Forbidden):
        allowed(REP, "record.add", topic("proposed"), "investigation").check()


def test_a_representative_adds_only_to_their_own_villages_topics() -> None:
    assert allowed(REP, "record.add", topic("proposed"), "opinion")
    refused = allowed(REP_ELSEWHERE, "record.add", topic("proposed"), "opinion")
    assert refused.error is Forbidden and "其他村" in refused.reason
    closed = allowed(REP, "record.add", topic("resolution"), "opinion")
    assert closed.error is StageClosed


def test_corrections_are_for_those_who_add_the_record() -> None:
    assert allowed(REP, "record.correct", topic("meeting", author_id=REP.id), "opinion")
    other = allowed(REP, "record.correct", topic("meeting", author_id=99), "opinion")
    assert other.error is Forbidden
    assert allowed(LIAISON, "record.correct", topic("meeting"), "investigation")
    assert not allowed(REP, "record.correct", topic("meeting"), "investigation")
    late = allowed(LIAISON, "record.correct", topic("closed"), "investigation")
    assert late.error is StageClosed


def test_the_county_reads_as_the_office_takes_no_part_and_urges_only_late_topics() -> None:
    early = topic("proposed")  # not public: other townships do not see it at all
    assert allowed(SUPERVISOR, "topic.read", early).view == "full"
    assert not allowed(OTHER_STAFF, "topic.read", early)
    for kind in ("opinion", "investigation", "site_consultation"):
        assert allowed(SUPERVISOR, "record.read", early, kind).view == "full", kind
    assert allowed(SUPERVISOR, "record.add", early, "opinion").error is Forbidden
    assert allowed(SUPERVISOR, "topic.fire", early, "reject").error is Forbidden
    assert allowed(SUPERVISOR, "topic.urge", early).error is TransitionNotAllowed
    late = Subject(township_id=1, village_id=10, state="proposed", opened_by=1, overdue=True)
    assert allowed(SUPERVISOR, "topic.urge", late)
    for who in (STAFF, LIAISON, REP, ADMIN, None):
        assert allowed(who, "topic.urge", late).error is Forbidden
    closed = Subject(township_id=1, state="closed", overdue=True)
    assert "不需要督办" in allowed(SUPERVISOR, "topic.urge", closed).reason
    assert allowed(SUPERVISOR, "county.read") and not allowed(STAFF, "county.read")


PLACED_ADMIN = Principal(9, "admin1", "admin", 1, None)
"""An administrator whose account names township 1 (as the demo's does)."""


def test_an_administrator_placed_in_a_township_is_of_none() -> None:
    assert relation(PLACED_ADMIN, topic("proposed")) == "other_township"
    assert not allowed(PLACED_ADMIN, "topic.read", topic("proposed"))
    assert allowed(PLACED_ADMIN, "topic.read", topic("resolution")).view == "public"
    assert not allowed(PLACED_ADMIN, "topic.list", Subject.township(1))
    assert not allowed(PLACED_ADMIN, "event.read", topic("meeting"))
    assert allowed(PLACED_ADMIN, "account.manage")


def test_an_events_view_is_its_records_view() -> None:
    at = topic("meeting", author_id=REP.id)
    # An opinion: the office and its author in full, the other representatives counts.
    assert event_view(STAFF, at, "record.corrected", "opinion") == "full"
    assert event_view(REP, at, "record.corrected", "opinion") == "full"
    assert event_view(REP_ELSEWHERE, at, "record.corrected", "opinion") == "counts"
    assert event_view(REP, at, "record.corrected", "investigation") == "summary"
    assert event_view(REP, at, "record.corrected", "minutes") == "full"
    assert event_view(REP, at, "opinion.answered", "opinion") == "full"
    assert event_view(SUPERVISOR, at, "record.corrected", "investigation") == "full"
    # A draft exists for the township's staff only.
    assert event_view(STAFF, at, "document.drafted", "document") == "full"
    assert event_view(LIAISON, at, "document.drafted", "document") == "none"
    assert event_view(REP, at, "document.published", "document") == "full"
    # The public: the moves by role, records as the public reads them, nothing hidden.
    public = topic("feedback", author_id=REP.id)
    assert event_view(None, public, "transition") == "public"
    assert event_view(None, public, "record.corrected", "opinion") == "anonymous"
    assert event_view(None, public, "record.corrected", "investigation") == "summary"
    assert event_view(None, public, "record.corrected", "meeting") == "none"
    assert event_view(None, public, "satisfaction.rated", "satisfaction") == "counts"
    assert event_view(None, public, "document.drafted", "document") == "none"
    assert event_view(None, topic("meeting"), "transition") == "none"
    assert event_view(OTHER_STAFF, public, "record.corrected", "resolution_item") == "full"


def test_an_event_below_full_keeps_its_record_only() -> None:
    data = {"record": "opinion", "id": 4, "revision": 2, "digest": "d", "changed": {}}
    assert shown_data("full", data) == data
    assert shown_data("anonymous", data) == {"record": "opinion", "id": 4, "revision": 2}
    assert shown_data("summary", data) == {"record": "opinion", "id": 4, "revision": 2}
    assert shown_data("counts", data) == {"record": "opinion"}
    assert shown_data("public", {}) == {}


def test_scopes_are_the_policys() -> None:
    """Which rows each list shows, per role (no role is checked outside the policy)."""
    from deliberation.permissions import SCOPES, scope

    assert scope(LIAISON, "my.list").opened_by == LIAISON.id
    assert scope(REP, "my.list").village_id == 10
    assert scope(REP, "my.list").spoke_on == REP.id
    assert scope(REP, "my.list").waits_on == "records"  # a representative takes no steps
    assert scope(STAFF, "my.list").waits_on == "triggers"
    assert not scope(SUPERVISOR, "my.list") and not scope(ADMIN, "my.list")
    assert scope(SUPERVISOR, "topic.list").everywhere
    assert scope(OTHER_STAFF, "topic.list").covers(2) and not scope(
        OTHER_STAFF, "topic.list"
    ).covers(1)
    with pytest.raises(Forbidden):
        scope(ADMIN, "topic.list").check()
    assert scope(ADMIN, "webhook.list").everywhere
    with pytest.raises(Forbidden):
        scope(LIAISON, "webhook.list").check()
    # Full figures: the township's office and the county; the liaison table: staff, county.
    assert scope(LIAISON, "statistics.full").covers(1)
    assert not scope(LIAISON, "statistics.liaisons")
    assert not scope(REP, "statistics.full") and not scope(None, "statistics.full")
    assert scope(SUPERVISOR, "statistics.liaisons").covers(2)
    assert scope(ADMIN, "township.list").everywhere and scope(REP, "township.list").covers(1)
    assert scope(STAFF, "ledger.export").township_id == 1
    with pytest.raises(Forbidden):
        scope(LIAISON, "ledger.export").check()
    for what in SCOPES:  # the public is scoped to nothing, and never refused with a 500
        if what == "suggestion.list":  # but reads every screened suggestion (issue 27)
            assert scope(None, what).everywhere and scope(None, what).screened_only
            continue
        assert not scope(None, what)


CADRE = Principal(9, "cadre", "village_cadre", 1, 10)
CADRE_ELSEWHERE = Principal(10, "cadre2", "village_cadre", 1, 11)


def test_a_village_cadre_reads_as_a_representative_and_takes_no_part() -> None:
    """村干部 (issue 26): a role of one village; in the standard workflow it reads what a
    representative reads and takes no step and adds no record."""
    assert relation(CADRE, topic("proposed")) == "own_village"
    assert relation(CADRE_ELSEWHERE, topic("proposed")) == "other_village"
    for state in WORKFLOW.state_names:
        subject = topic(state)
        assert (
            allowed(CADRE, "topic.read", subject).view == allowed(REP, "topic.read", subject).view
        )
        for record in WORKFLOW.records:
            assert not allowed(CADRE, "record.add", subject, record.name)
            if record.read is not None:
                mine = allowed(CADRE, "record.read", subject, record.name).view
                assert mine == allowed(REP_ELSEWHERE, "record.read", subject, record.name).view
        for transition in WORKFLOW.transitions:
            assert not allowed(CADRE, "topic.fire", subject, transition.trigger)
    assert not allowed(CADRE, "topic.open", Subject(township_id=1))
    table = DOC.read_text(encoding="utf-8")
    header = next(line for line in table.splitlines() if line.startswith("| action |"))
    for rel in ("own_village", "other_village", "other_township"):
        assert f"村干部 `village_cadre` · {rel}" in header


def test_the_table_has_a_section_per_loaded_workflow_each_by_its_own_policy(
    tmp_path: Path,
) -> None:
    """Each loaded workflow version gets its own table: its steps and records as rows,
    each cell the states of that workflow in which its policy allows the action. A
    second workflow (``pilot``) shows its own names; standard's section is as shipped."""
    from deliberation.permissions import PERSONAS, _persona, policy_for, relations_of
    from tests.second_workflow import registry_with_pilot
    from workflows.registry import REGISTRY

    shipped = DOC.read_text(encoding="utf-8")
    for workflow in REGISTRY:
        assert f"## {workflow.label} (`{workflow.key}` v{workflow.version})" in shipped

    registry = registry_with_pilot(tmp_path)
    pilot = registry.latest("pilot")
    table = permissions_markdown(registry)
    sections = table.split("\n## ")
    titles = [s.split("\n", 1)[0] for s in sections[1:]]
    assert (
        titles
        == ["标准协商 (`standard` v1)", *titles[1:-2], "试点议事 (`pilot` v1)", titles[-1]][
            : len(titles)
        ]
        or "试点议事 (`pilot` v1)" in titles
    )
    assert "试点议事 (`pilot` v1)" in titles and titles[-1] == "Scopes (every workflow)"
    standard_section = next(s for s in sections if s.startswith("标准协商 (`standard` v1)"))
    assert standard_section in shipped  # loading another workflow changes nothing of it

    section = next(s for s in sections if s.startswith("试点议事 (`pilot` v1)"))
    rows = {
        line.split(" | ")[0][2:]: line.strip("| ").split(" | ")[1:]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| action")
    }
    columns = [(role, rel) for role in PERSONAS for rel in relations_of(role)]
    assert "进入集中商议 fire `weigh`" in rows and "添加走访记录 add `jotting`" in rows
    assert not any("`investigate`" in description for description in rows)
    policy = policy_for(pilot)
    staff_column = columns.index(("staff", "own_township"))
    # The staff may move a gathering topic on, and in no other state: the cell says so
    # in pilot's state names, as the policy answers.
    assert rows["进入集中商议 fire `weigh`"][staff_column] == "gathering"
    principal, subject = _persona("staff", "own_township")
    for state in pilot.state_names:
        at = Subject(township_id=subject.township_id, state=state, opened_by=1, workflow=pilot)
        assert bool(policy.allowed(principal, "topic.fire", at, "weigh")) == (state == "gathering")
    liaison_column = columns.index(("liaison", "own_township"))
    assert rows["添加走访记录 add `jotting`"][liaison_column] == "gathering, weighing"
