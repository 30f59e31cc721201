"""The requirement vocabulary (deliberation/requirements.py), each entry met and refused,
and the machine gating on the same checks that explain its refusals."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from deliberation import clock
from deliberation.clock import CHINA
from deliberation.context import AppContext, entered
from deliberation.machines import refused
from deliberation.requirements import Facts, Vote, check, refusals
from deliberation.workdays import WorkingDays
from workflows import WORKFLOW, Requirement, TriggerNotAllowed, WorkflowMachine
from workflows.loader import load

TINY = load(Path(__file__).with_name("valid_tiny.toml"))
TODAY = date(2026, 3, 2)


def req(workflow_trigger: str, kind: str, workflow=WORKFLOW) -> Requirement:  # type: ignore[no-untyped-def]
    return next(r for r in workflow.transition(workflow_trigger).requires if r.kind == kind)


def facts(**kwargs) -> Facts:  # type: ignore[no-untyped-def]
    return Facts(today=kwargs.pop("today", TODAY), calendar=WorkingDays(), **kwargs)


# Each entry of the vocabulary -----------------------------------------------------------


def test_records_counts_the_kind_and_the_latest_meetings_minutes() -> None:
    investigation = req("investigate", "records")
    assert check(investigation, facts()).label == "至少一条调研记录"  # type: ignore[union-attr]
    assert check(investigation, facts(records={"investigation": 1})) is None
    minutes = WORKFLOW.transition("adopt_resolution").requires[0]
    assert minutes.name == "minutes_recorded"
    assert check(minutes, facts(records={"minutes@latest": 0})) is not None
    assert check(minutes, facts(records={"minutes@latest": 1})) is None
    twice = Requirement(
        "two", "两条记录", kind="records", params=(("at_least", 2), ("records", "note"))
    )
    assert check(twice, facts(records={"note": 1})) is not None
    assert check(twice, facts(records={"note": 2})) is None


def test_document_published() -> None:
    notice = req("start_feedback", "document_published")
    refusal = check(notice, facts(published=frozenset({"minutes"})))
    assert refusal is not None and refusal.name == "resolution_notice_published"
    assert check(notice, facts(published=frozenset({"resolution_notice"}))) is None


def test_items_completed_needs_items_and_none_open() -> None:
    items = req("close", "items_completed")
    assert check(items, facts()) is not None
    assert check(items, facts(items={"resolution_item": (3, 1)})) is not None
    assert check(items, facts(items={"resolution_item": (3, 0)})) is None


def test_ratings_and_comment() -> None:
    rated = req("close", "ratings")
    assert check(rated, facts(records={"satisfaction": 0})).label == "至少一条满意度评价"  # type: ignore[union-attr]
    assert check(rated, facts(records={"satisfaction": 1})) is None
    reason = req("reject", "comment")
    assert check(reason, facts(), "  ").name == "comment_given"  # type: ignore[union-attr]
    assert check(reason, facts(), "重复提出") is None


def test_min_wait_refuses_before_day_seven_and_allows_on_it() -> None:
    wait = req("finish", "min_wait", TINY)
    entered_on = date(2027, 3, 1)
    with entered(AppContext()):
        for day, allowed in ((date(2027, 3, 7), False), (date(2027, 3, 8), True)):
            noon = datetime.combine(day, time(12), tzinfo=CHINA).astimezone(UTC)
            with clock.set_to(noon):
                refusal = check(wait, facts(today=clock.china_today(), entered_on=entered_on))
            assert (refusal is None) is allowed
    refusal = check(wait, facts(today=date(2027, 3, 7), entered_on=entered_on))
    assert refusal is not None
    assert refusal.first_day == date(2027, 3, 8)
    assert "最早可于2027年3月8日执行" in refusal.detail


def test_window_closed_counts_working_days_across_a_weekend_and_national_day() -> None:
    # Entered Tuesday 2026-09-29; 5 working days: 09-30, (10-01..10-07 National Day,
    # a weekend inside), 10-08, 10-09, 10-10 (make-up Saturday), (Sunday), 10-12.
    window = req("decide", "window_closed", TINY)
    entered_on = date(2026, 9, 29)
    open_on = facts(today=date(2026, 10, 12), entered_on=entered_on, window_days=5)
    refusal = check(window, open_on)
    assert refusal is not None
    assert refusal.detail == "意见征集期至2026年10月12日，最早可于2026年10月13日执行"
    closed = facts(today=date(2026, 10, 13), entered_on=entered_on, window_days=5)
    assert check(window, closed) is None
    # A naive count of calendar days would have closed it on 10-05, in the holiday.
    assert check(window, facts(today=date(2026, 10, 8), entered_on=entered_on, window_days=5))


QUORUM_VOTE = "村民代表会议"


def test_quorum_below_two_thirds_present_refuses_with_the_rule_and_its_basis() -> None:
    quorum = req("finish", "quorum", TINY)
    vote = Vote(QUORUM_VOTE, roster=27, present=15, approve=15, held_on=TODAY)
    refusal = check(quorum, facts(votes={QUORUM_VOTE: vote}))
    assert refusal is not None
    assert refusal.detail == (
        "村民代表会议须有三分之二以上组成人员参加（村委会组织法第二十六条）：应到 27 人，实到 15 人"
    )
    assert refusal.basis == "村委会组织法第二十六条"
    # 18 of 27 is exactly two thirds: enough.
    enough = Vote(QUORUM_VOTE, roster=27, present=18, approve=10, held_on=TODAY)
    assert check(quorum, facts(votes={QUORUM_VOTE: enough})) is None


def test_quorum_with_too_few_for_refuses_with_the_rule_and_its_basis() -> None:
    quorum = req("finish", "quorum", TINY)
    vote = Vote(QUORUM_VOTE, roster=27, present=20, approve=10, held_on=TODAY)
    refusal = check(quorum, facts(votes={QUORUM_VOTE: vote}))
    assert refusal is not None
    assert refusal.detail == (
        "村民代表会议表决须经到会人员过半数同意（村委会组织法第二十六条）：实到 20 人，同意 10 人"
    )
    assert check(quorum, facts()).detail == "本阶段尚无村民代表会议的表决记录"  # type: ignore[union-attr]


def test_a_refused_step_names_what_is_missing_then_the_rules() -> None:
    finish = TINY.transition("finish")
    vote = Vote(QUORUM_VOTE, roster=27, present=15, approve=15, held_on=TODAY)
    state = facts(entered_on=date(2026, 2, 27), votes={QUORUM_VOTE: vote}, records={"note": 1})
    error = refused(finish, refusals(finish, state))
    assert error.extra["missing"] == ["vote_carried", "min_wait_7"]
    assert error.detail == (
        "不能执行“办结”，缺少：村民代表会议表决通过、进入本阶段满7日。"
        "村民代表会议须有三分之二以上组成人员参加（村委会组织法第二十六条）：应到 27 人，实到 15 人；"
        "进入本阶段满7日，最早可于2026年3月6日执行"
    )
    # The standard workflow's message is today's, word for word.
    close = WORKFLOW.transition("close")
    assert refused(close, refusals(close, facts())).detail == (
        "不能执行“办结”，缺少：每项协商成果均已报告办结、至少一条满意度评价"
    )


# The machine and the checks agree ----------------------------------------------------------


def _variants(workflow) -> list[Facts]:  # type: ignore[no-untyped-def]
    """Facts meeting none, all, and all but one of the workflow's requirements."""
    everything = facts(
        entered_on=date(2026, 1, 5),
        records={
            "investigation": 1,
            "site_consultation": 1,
            "meeting": 1,
            "minutes@latest": 1,
            "resolution_item": 1,
            "satisfaction": 1,
            "note": 1,
        },
        items={"resolution_item": (2, 0)},
        published=frozenset({"resolution_notice"}),
        votes={QUORUM_VOTE: Vote(QUORUM_VOTE, 27, 20, 15, TODAY)},
        window_days=5,
    )
    variants = [facts(), everything]
    for key in everything.records:
        variants.append(Facts(**{**vars(everything), "records": {**everything.records, key: 0}}))
    variants.append(Facts(**{**vars(everything), "items": {"resolution_item": (2, 1)}}))
    variants.append(Facts(**{**vars(everything), "published": frozenset()}))
    variants.append(Facts(**{**vars(everything), "votes": {}}))
    variants.append(Facts(**{**vars(everything), "entered_on": TODAY}))
    return variants


@pytest.mark.parametrize("workflow", [WORKFLOW, TINY], ids=["standard", "tiny"])
def test_the_machine_and_the_checks_agree_for_every_trigger_and_state(workflow) -> None:  # type: ignore[no-untyped-def]
    machine = WorkflowMachine(workflow)
    for transition, state, state_facts, comment in itertools.product(
        workflow.transitions, workflow.state_names, _variants(workflow), ("", "理由")
    ):
        if state not in transition.sources:
            with pytest.raises(TriggerNotAllowed):
                machine.fire(state, transition.trigger, state_facts, comment)
            assert not machine.ready(state, transition.trigger, state_facts, comment)
            continue
        missing = refusals(transition, state_facts, comment)
        moved = machine.fire(state, transition.trigger, state_facts, comment)
        assert moved == (None if missing else transition.dest)
        assert machine.ready(state, transition.trigger, state_facts, comment) is not missing
        assert transition.trigger in machine.triggers_from(state)


def test_quorum_for_a_rejection_needs_a_valid_meeting_that_did_not_carry() -> None:
    carried = req("finish", "quorum", TINY)
    rejected = replace(
        carried, params=tuple(sorted({**dict(carried.params), "outcome": "rejected"}.items()))
    )
    did_not_carry = Vote(QUORUM_VOTE, roster=27, present=20, approve=10, held_on=TODAY)
    assert check(rejected, facts(votes={QUORUM_VOTE: did_not_carry})) is None
    carried_vote = Vote(QUORUM_VOTE, roster=27, present=20, approve=11, held_on=TODAY)
    refusal = check(rejected, facts(votes={QUORUM_VOTE: carried_vote}))
    assert refusal is not None
    assert refusal.detail == (
        "村民代表会议表决已获到会人员过半数同意（村委会组织法第二十六条）：实到 20 人，同意 11 人，未被否决"
    )
    too_few = Vote(QUORUM_VOTE, roster=27, present=17, approve=0, held_on=TODAY)
    assert check(rejected, facts(votes={QUORUM_VOTE: too_few})) is not None


# any_of: a 村民代表会议 or a 村民会议 resolves (workflows/siyi/v1.toml) ------------------


def _resolution() -> tuple[Requirement, dict[str, Requirement]]:
    """The siyi 决议 step's ``any_of`` and its alternatives by body."""
    from workflows import REGISTRY

    siyi = REGISTRY.latest("siyi")
    source = siyi.main_path[3]
    step = next(t for t in siyi.transitions if source in t.sources and t.dest != "vetoed")
    need = next(r for r in step.requires if r.kind == "any_of")
    return need, {str(a.param("body")): a for a in need.alternatives}


def test_any_of_a_villagers_assembly_needs_half_the_adults_and_ten_days_notice() -> None:
    need, by_body = _resolution()
    assembly = next(
        b for b, a in by_body.items() if a.param("unit", "人") == "人" and a.param("notice_days")
    )
    rule = by_body[assembly]
    held = TODAY
    thin = Vote(assembly, 1000, 480, 470, held, held - timedelta(days=30))
    refusal = check(need, facts(votes={assembly: thin}))
    assert refusal is not None and refusal.name == need.name
    assert (
        f"{assembly}须有本村十八周岁以上村民过半数参加（{rule.basis}）：应到 1000 人，实到 480 人"
        in refusal.detail
    )
    assert "尚无" not in refusal.detail  # the other bodies' absence is noise here
    late = Vote(assembly, 1000, 510, 300, held, held - timedelta(days=5))
    refusal = check(need, facts(votes={assembly: late}))
    assert refusal is not None and "应当提前十天通知" in refusal.detail
    assert rule.basis in refusal.detail
    unsaid = Vote(assembly, 1000, 510, 300, held)
    assert "未填写通知日期" in check(need, facts(votes={assembly: unsaid})).detail  # type: ignore[union-attr]
    assert (
        check(
            need, facts(votes={assembly: replace(late, notice_given_on=held - timedelta(days=10))})
        )
        is None
    )
    # Too few for: not carried, though well attended and announced.
    few = Vote(assembly, 1000, 600, 300, held, held - timedelta(days=12))
    assert "同意 300 人" in check(need, facts(votes={assembly: few})).detail  # type: ignore[union-attr]


def test_any_of_households_count_in_households_and_none_says_each_body() -> None:
    need, by_body = _resolution()
    households = next(b for b, a in by_body.items() if a.param("unit") == "户")
    notice = TODAY - timedelta(days=10)
    refusal = check(need, facts(votes={households: Vote(households, 300, 190, 150, TODAY, notice)}))
    assert refusal is not None and "应到 300 户，实到 190 户" in refusal.detail
    assert (
        check(need, facts(votes={households: Vote(households, 300, 200, 150, TODAY, notice)}))
        is None
    )
    nothing = check(need, facts())
    assert nothing is not None
    for body in by_body:
        assert f"本阶段尚无{body}的表决记录" in nothing.detail
