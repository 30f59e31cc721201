"""The declaration, the machine built from it, and the diagram in the README."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from deliberation.requirements import VOCABULARY
from workflows import MACHINE, ROLES, WORKFLOW, TriggerNotAllowed, mermaid

README = Path(__file__).resolve().parents[2] / "README.md"


def test_declaration_is_consistent() -> None:
    names = set(WORKFLOW.state_names)
    assert WORKFLOW.initial in names
    for t in WORKFLOW.transitions:
        assert set(t.sources) <= names and t.dest in names
        assert set(t.roles) <= set(ROLES) and "admin" not in t.roles
        assert all(r.kind in VOCABULARY for r in t.requires)
    for record in WORKFLOW.records:
        assert set(record.open_in) <= names and set(record.roles) <= set(ROLES)
    terminal = {s.name for s in WORKFLOW.states if s.terminal}
    assert terminal == {"closed", "rejected", "withdrawn"}
    assert not any(set(t.sources) & terminal for t in WORKFLOW.transitions)


@pytest.mark.parametrize("transition", WORKFLOW.transitions, ids=WORKFLOW.triggers)
def test_machine_moves_exactly_as_declared(transition) -> None:  # type: ignore[no-untyped-def]
    for state in WORKFLOW.state_names:
        if state in transition.sources:
            assert MACHINE.fire(state, transition.trigger) == transition.dest
        else:
            with pytest.raises(TriggerNotAllowed):
                MACHINE.fire(state, transition.trigger)


def test_machine_keeps_one_probe_model() -> None:
    """Firing attaches nothing: the machine moves its one probe, bound when built."""
    for _ in range(50):
        MACHINE.fire("proposed", "investigate")
    assert MACHINE._machine.models == [MACHINE._probe]


def test_readme_diagram_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert match, "README.md has no ```mermaid block"
    assert match.group(1) == mermaid(), (
        "README diagram is stale: paste the output of GET /api/v1/workflow/diagram"
    )


async def test_workflow_endpoints_describe_the_declaration(client) -> None:  # type: ignore[no-untyped-def]
    body = (await client.get("/api/v1/workflow")).json()
    assert [s["name"] for s in body["states"]] == list(WORKFLOW.state_names)
    assert {s["label"] for s in body["states"]} >= {"已提出", "已办结"}
    by_trigger = {t["trigger"]: t for t in body["transitions"]}
    assert set(by_trigger) == set(WORKFLOW.triggers)
    assert by_trigger["convene_meeting"]["requires"][1]["name"] == "meeting_scheduled"
    assert by_trigger["withdraw"]["opener_only"] is True
    diagram = await client.get("/api/v1/workflow/diagram")
    assert diagram.text == mermaid()
    assert diagram.text.startswith("stateDiagram-v2")


async def test_openapi_document_is_served(client) -> None:  # type: ignore[no-untyped-def]
    spec = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/topics/{topic_id}/transitions" in spec["paths"]
    ops = [op.get("operationId") for path in spec["paths"].values() for op in path.values()]
    assert "fire_transition" in ops and None not in ops


def test_main_path_runs_from_opening_to_closing() -> None:
    path = WORKFLOW.main_path
    assert path[0] == WORKFLOW.initial and path[-1] == "closed"
    assert path == (
        "proposed",
        "investigated",
        "site_consultation",
        "meeting",
        "resolution",
        "feedback",
        "closed",
    )
    for source, dest in itertools.pairwise(path):
        assert any(source in t.sources and t.dest == dest for t in WORKFLOW.transitions)
