"""Every change to a topic, a suggestion or a plan goes through a unit of work
(``deliberation.changes``): the chain's writers and the outbox's ``record_event`` are
called nowhere else, and a unit of work that appends no event is refused and leaves
nothing behind."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from deliberation.chain import EVENT_KINDS, PLAN_EVENT_KINDS, SUGGESTION_EVENT_KINDS
from deliberation.changes import (
    OUTBOX_OF,
    PLAN_OUTBOX_OF,
    SUGGESTION_OUTBOX_OF,
    ChangeWithoutEvent,
    plan_change,
    suggestion_change,
    suggestion_filed,
    topic_change,
)
from deliberation.clock import utcnow
from deliberation.tables import Plan, PlanVersion, Suggestion, SuggestionSupport, Topic
from tests.deliberation.owned import file_suggestion, start_plan
from tests.world import World, open_topic

ROOT = Path(__file__).resolve().parents[2]
CHAIN_WRITERS = {"append", "vouch", "_append", "_vouch"}
MAY_WRITE_THE_CHAIN = {"deliberation/changes.py", "deliberation/audit.py", "deliberation/chain.py"}
MAY_RECORD_EVENTS = {
    "deliberation/changes.py",
    "deliberation/notifications/outbox.py",
    "deliberation/notifications/reminders.py",  # the clock's events: no topic change
}


def violations(source: str, module: str) -> list[str]:
    """Calls in ``module`` (a path under the root) that write a topic's chain or outbox
    outside the unit of work."""
    found = []
    chain_ok = module in MAY_WRITE_THE_CHAIN or "piccolo_migrations/" in module
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "deliberation.chain":
            for alias in node.names:
                if alias.name in CHAIN_WRITERS and not chain_ok:
                    found.append(f"{module}:{node.lineno} imports chain.{alias.name}")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = func.value if isinstance(func, ast.Attribute) else None
        on_chain = isinstance(owner, ast.Name) and owner.id == "chain"
        if on_chain and name in CHAIN_WRITERS and not chain_ok:
            found.append(f"{module}:{node.lineno} calls chain.{name}")
        if name == "record_event" and module not in MAY_RECORD_EVENTS:
            found.append(f"{module}:{node.lineno} calls record_event")
    return found


def test_no_service_writes_the_chain_or_the_outbox_itself() -> None:
    found = []
    for folder in ("deliberation", "api"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = path.relative_to(ROOT).as_posix()
            found += violations(path.read_text(encoding="utf-8"), module)
    assert found == [], "write through deliberation.changes instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "from deliberation import chain\nasync def f():\n    await chain.vouch('x', 1, 'r', 2)",
        "from deliberation import chain\nasync def f():\n    await chain._append(1, 'x')",
        "from deliberation.chain import _append\n",
        "async def f():\n    await record_event('topic.urged', 1, 2, {})",
        "from deliberation.notifications import outbox\nasync def f():\n"
        "    await outbox.record_event('topic.urged', 1, 2, {})",
    ],
)
def test_the_scan_catches_a_service_writing_around_the_unit_of_work(source: str) -> None:
    assert violations(source, "deliberation/records.py")
    assert not violations(source, "deliberation/changes.py")


def test_every_chain_kind_says_what_webhooks_are_told() -> None:
    assert set(OUTBOX_OF) == set(EVENT_KINDS) - {"chain.revouched"}
    assert set(SUGGESTION_OUTBOX_OF) == set(SUGGESTION_EVENT_KINDS)
    assert set(PLAN_OUTBOX_OF) == set(PLAN_EVENT_KINDS)


async def test_a_change_without_an_event_is_refused_and_leaves_nothing(world: World) -> None:
    topic = await open_topic(world.a)
    staff = world.a["staff"].principal
    with pytest.raises(ChangeWithoutEvent):
        async with topic_change(staff, topic["id"], "record.add", "investigation"):
            await Topic.update({Topic.title: "无痕修改"}).where(Topic.id == topic["id"])
    row = await Topic.select(Topic.title, Topic.event_seq).where(Topic.id == topic["id"]).first()
    assert row == {"title": topic["title"], "event_seq": 1}


async def test_a_suggestion_change_without_an_event_is_refused_and_leaves_nothing(
    world: World,
) -> None:
    suggestion = await file_suggestion(None, world.a.id, world.a.villages[0]["id"])
    representative = world.a["representative"].principal
    with pytest.raises(ChangeWithoutEvent):
        async with suggestion_change(representative, suggestion["id"], "suggestion.support"):
            await SuggestionSupport.insert(
                SuggestionSupport(
                    suggestion=suggestion["id"],
                    kind="account",
                    account=representative.id,
                    standing="representative",
                    created_at=utcnow(),
                )
            )
    supports = await SuggestionSupport.count().where(
        SuggestionSupport.suggestion == suggestion["id"]
    )
    row = await Suggestion.select(Suggestion.event_seq).where(Suggestion.id == suggestion["id"])
    assert (supports, row) == (0, [{"event_seq": 1}])


async def test_a_filing_without_its_event_is_refused_and_leaves_nothing(world: World) -> None:
    reference = "JY-NOEVENT-0001"
    with pytest.raises(ChangeWithoutEvent):
        async with suggestion_filed(None) as change:
            now = utcnow()
            inserted = await Suggestion.insert(
                Suggestion(
                    reference=reference,
                    township=world.a.id,
                    title="无痕",
                    content="无痕",
                    public_title="无痕",
                    public_content="无痕",
                    status="pending",
                    event_seq=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            change.owner = {"id": inserted[0]["id"], **inserted[0]}
    assert not await Suggestion.exists().where(Suggestion.reference == reference)


async def test_a_plan_change_without_an_event_is_refused_and_leaves_nothing(
    world: World,
) -> None:
    staff = world.a["staff"].principal
    plan = await start_plan(staff, world.a.id, 2091, [])
    with pytest.raises(ChangeWithoutEvent):
        async with plan_change(staff, plan["id"], "plan.edit", status="draft"):
            await PlanVersion.update({PlanVersion.note: "无痕"}).where(
                PlanVersion.id == plan["version_id"]
            )
    row = await PlanVersion.select(PlanVersion.note).where(PlanVersion.id == plan["version_id"])
    seq = await Plan.select(Plan.event_seq).where(Plan.id == plan["id"])
    assert (row, seq) == ([{"note": ""}], [{"event_seq": 1}])


TOPIC_DATA = {
    "Topic",
    "Opinion",
    "Investigation",
    "SiteConsultation",
    "Meeting",
    "MeetingAttendee",
    "ResolutionItem",
    "ProgressReport",
    "SatisfactionRating",
    "RecordRevision",
    # A suggestion's and a plan's (issue 27).
    "Suggestion",
    "SuggestionSupport",
    "SuggestionScreening",
    "SuggestionRevision",
    "Plan",
    "PlanVersion",
    "PlanItem",
}
"""The tables that hold a topic's, a suggestion's or a plan's data: written only inside
a unit of work."""
WRITES = {"insert", "update", "delete"}
UNITS = {
    "topic_change",
    "record_change",
    "suggestion_change",
    "suggestion_filed",
    "plan_change",
    "plan_started",
    "plan_linked",
}
OWNER_TABLES = ("TOPIC ", "SUGGESTION ", "PLAN ", "PLAN_VERSION ", "PLAN_ITEM ")
"""Raw ``UPDATE`` of these tables is a write too."""
HELPERS = {
    # Called only from inside a unit of work (or, for refresh_due, the clock's backfill
    # of missing due dates: no change to the topic's data).
    ("deliberation/corrections.py", "keep_revision"),
    ("deliberation/deadlines.py", "refresh_due"),
    ("deliberation/chain.py", "next_seq"),
    # A new topic: no row to lock yet, and nobody sees it before the commit (called by
    # open_topic's transaction, or a screening's unit of work).
    ("deliberation/topics.py", "insert_topic"),
    # The threshold reached: from a support's or a merge's unit of work (its OwnedChange).
    ("deliberation/suggestions/support.py", "must_list"),
}


def writes_outside_units(source: str, module: str) -> list[str]:
    """Writes to a topic's data in ``module`` that are not inside ``async with
    topic_change(…)`` or ``record_change(…)`` (by the code's shape: a table of
    :data:`TOPIC_DATA` written or constructed, or raw SQL that updates ``topic``)."""
    found: list[str] = []

    def unit(item: ast.withitem) -> bool:
        call = item.context_expr
        if not isinstance(call, ast.Call):
            return False
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in UNITS

    def visit(node: ast.AST, function: str, inside: bool) -> None:
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            function = node.name
        if isinstance(node, ast.AsyncWith) and any(unit(i) for i in node.items):
            inside = True
        allowed_here = inside or (module, function) in HELPERS
        if not allowed_here:
            if isinstance(node, ast.Call):
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr in WRITES
                    and isinstance(func.value, ast.Name)
                    and func.value.id in TOPIC_DATA
                ):
                    found.append(f"{module}:{node.lineno} {func.value.id}.{func.attr}")
                if isinstance(func, ast.Name) and func.id in TOPIC_DATA - {"Topic"}:
                    found.append(f"{module}:{node.lineno} {func.id}(…)")
            text = node.value if isinstance(node, ast.Constant) else None
            upper = text.lstrip().upper() if isinstance(text, str) else ""
            for table in OWNER_TABLES:
                if upper.startswith("UPDATE " + table):
                    found.append(f"{module}:{node.lineno} UPDATE {table.strip().lower()}")
        for child in ast.iter_child_nodes(node):
            visit(child, function, inside)

    visit(ast.parse(source), "", False)
    return found


def test_a_topics_data_is_written_only_inside_a_unit_of_work() -> None:
    found = []
    for folder in ("deliberation", "api"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = path.relative_to(ROOT).as_posix()
            if "piccolo_migrations/" in module:
                continue
            found += writes_outside_units(path.read_text(encoding="utf-8"), module)
    assert found == [], "write inside a unit of deliberation.changes:\n" + "\n".join(found)


def test_the_scan_catches_a_write_outside_a_unit_of_work() -> None:
    outside = (
        "async def add(principal, topic_id):\n"
        "    async with write_transaction():\n"
        "        await Opinion.insert(Opinion(topic=topic_id))\n"
        "        await Topic.raw('UPDATE topic SET state = {} WHERE id = {}', 'closed', 1)\n"
        "        await SuggestionSupport.insert(SuggestionSupport(suggestion=1))\n"
        "        await PlanItem.update({PlanItem.topic: 2})\n"
        "        await Suggestion.raw('UPDATE suggestion SET status = {}', 'accepted')\n"
    )
    assert [f.split(" ", 1)[1] for f in writes_outside_units(outside, "deliberation/x.py")] == [
        "Opinion.insert",
        "Opinion(…)",
        "UPDATE topic",
        "SuggestionSupport.insert",
        "SuggestionSupport(…)",
        "PlanItem.update",
        "UPDATE suggestion",
    ]
    inside = outside.replace("write_transaction()", "topic_change(principal, topic_id, 'x')")
    assert writes_outside_units(inside, "deliberation/records.py") == []
