"""The `transitions` machine built from the declaration.

One shared machine with ``model=None``; each call attaches a light context object,
fires, and detaches it. Requirements are checked by the caller beforehand (they
need data loaded from the database); the machine checks that the trigger exists
from the current state and performs the move.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine, MachineError

from workflows.declaration import Workflow
from workflows.registry import WORKFLOW


class TriggerNotAllowed(Exception):
    """The trigger does not exist from the given state."""

    def __init__(self, trigger: str, state: str) -> None:
        super().__init__(f"{trigger} is not allowed from {state}")
        self.trigger = trigger
        self.state = state


def machine_kwargs(workflow: Workflow) -> dict[str, Any]:
    """The keyword arguments of a `transitions.Machine` for this workflow."""
    return {
        "states": [state.name for state in workflow.states],
        "transitions": [
            {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest}
            for t in workflow.transitions
        ],
        "initial": workflow.initial,
        "auto_transitions": False,
        "ignore_invalid_triggers": False,
    }


class _Context:
    """What the machine moves: a plain object, never a Piccolo row."""

    def __init__(self, state: str) -> None:
        self.state = state


class WorkflowMachine:
    """Answers "where does this trigger lead from here" with one shared machine."""

    def __init__(self, workflow: Workflow = WORKFLOW) -> None:
        self.workflow = workflow
        self._machine = Machine(model=None, **machine_kwargs(workflow))

    def fire(self, state: str, trigger: str) -> str:
        """Return the destination of ``trigger`` from ``state`` or raise TriggerNotAllowed."""
        if trigger not in self.workflow.triggers:
            raise TriggerNotAllowed(trigger, state)
        context = _Context(state)
        self._machine.add_model(context, initial=state)
        try:
            context.trigger(trigger)  # type: ignore[attr-defined]
        except MachineError as error:
            raise TriggerNotAllowed(trigger, state) from error
        finally:
            self._machine.remove_model(context)
        return context.state

    def triggers_from(self, state: str) -> list[str]:
        """Triggers that exist from ``state``, in declaration order."""
        return [t.trigger for t in self.workflow.transitions if state in t.sources]


MACHINE = WorkflowMachine()
