"""Every change to a topic goes through the unit of work (``deliberation.changes``):
the chain's writers and the outbox's ``record_event`` are called nowhere else, and a
unit of work that appends no event is refused and leaves nothing behind."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from deliberation.chain import EVENT_KINDS
from deliberation.changes import OUTBOX_OF, ChangeWithoutEvent, topic_change
from deliberation.tables import Topic
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


async def test_a_change_without_an_event_is_refused_and_leaves_nothing(world: World) -> None:
    topic = await open_topic(world.a)
    staff = world.a["staff"].principal
    with pytest.raises(ChangeWithoutEvent):
        async with topic_change(staff, topic["id"], "record.add", "investigation"):
            await Topic.update({Topic.title: "无痕修改"}).where(Topic.id == topic["id"])
    row = await Topic.select(Topic.title, Topic.event_seq).where(Topic.id == topic["id"]).first()
    assert row == {"title": topic["title"], "event_seq": 1}
