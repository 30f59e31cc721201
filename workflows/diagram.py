"""Mermaid ``stateDiagram-v2`` text drawn from the declaration."""

from __future__ import annotations

from workflows.declaration import Workflow
from workflows.registry import WORKFLOW


def mermaid(workflow: Workflow = WORKFLOW) -> str:
    lines = ["stateDiagram-v2"]
    for state in workflow.states:
        lines.append(f"    {state.name}: {state.name} {state.label}")
    lines.append(f"    [*] --> {workflow.initial}")
    for transition in workflow.transitions:
        for source in transition.sources:
            lines.append(f"    {source} --> {transition.dest}: {transition.trigger}")
    for state in workflow.states:
        if state.terminal:
            lines.append(f"    {state.name} --> [*]")
    return "\n".join(lines) + "\n"
