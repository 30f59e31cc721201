"""The `transitions` machine of one loaded workflow version: it does the moving.

One machine per ``(key, version)``, built once when the registry loads (building one
costs about a millisecond), with ``auto_transitions=False``. Each transition's
requirements are its **conditions**, evaluated over a snapshot of the topic's facts
(``deliberation.requirements.load_facts``): conditions are synchronous, so the facts are
read from the database beforehand. The machine has one shared *probe* model, bound once;
firing sets the probe's state, facts and comment, triggers and reads the state back, all
synchronously (no ``await`` in between, so one event loop never interleaves two firings;
a lock keeps threads apart too). When the machine refuses, the caller names what is
missing by running the same requirement checks: the machine gates, the checks explain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol, cast

from transitions import EventData, Machine, MachineError

from workflows.declaration import Requirement, Workflow


class TriggerNotAllowed(Exception):
    """The trigger does not exist from the given state."""

    def __init__(self, trigger: str, state: str) -> None:
        super().__init__(f"{trigger} is not allowed from {state}")
        self.trigger = trigger
        self.state = state


class Facts(Protocol):
    """What the conditions read: whether a requirement is met, given the step's comment."""

    def met(self, requirement: Requirement, comment: str) -> bool: ...


class _Everything:
    """Facts under which every requirement is met: the machine's moves alone."""

    def met(self, requirement: Requirement, comment: str) -> bool:
        return True


EVERYTHING: Facts = _Everything()


class _Probe:
    """The machine's one model: a plain object, never a Piccolo row. `transitions`
    binds ``trigger``, ``may_<trigger>``, ``is_<state>`` and ``to_<state>`` on it
    (the loader refuses trigger names that would clash with these)."""

    state: str

    def __init__(self) -> None:
        self.facts: Facts = EVERYTHING
        self.comment = ""


def _condition(requirement: Requirement) -> Callable[[EventData], bool]:
    def met(event: EventData) -> bool:
        probe = cast(_Probe, event.model)
        return bool(probe.facts.met(requirement, probe.comment))

    met.__name__ = f"met_{requirement.name}"
    return met


def machine_kwargs(workflow: Workflow) -> dict[str, Any]:
    """The keyword arguments of a `transitions.Machine` for this workflow, each
    transition gated on its requirements."""
    return {
        "states": [state.name for state in workflow.states],
        "transitions": [
            {
                "trigger": t.trigger,
                "source": list(t.sources),
                "dest": t.dest,
                "conditions": [_condition(r) for r in t.requires],
            }
            for t in workflow.transitions
        ],
        "initial": workflow.initial,
        "auto_transitions": False,
        "ignore_invalid_triggers": False,
        "send_event": True,
    }


class WorkflowMachine:
    """One workflow version's machine and its probe."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self._probe = _Probe()
        self._machine = Machine(model=self._probe, **machine_kwargs(workflow))
        self._lock = threading.Lock()
        self._triggers = frozenset(workflow.triggers)

    def fire(
        self, state: str, trigger: str, facts: Facts = EVERYTHING, comment: str = ""
    ) -> str | None:
        """The destination of ``trigger`` from ``state`` when its conditions hold over
        ``facts``; None when a condition refuses; TriggerNotAllowed when the trigger does
        not leave ``state``."""
        if trigger not in self._triggers:
            raise TriggerNotAllowed(trigger, state)
        probe = self._probe
        with self._lock:
            self._machine.set_state(state, probe)
            probe.facts, probe.comment = facts, comment
            try:
                moved = probe.trigger(trigger)  # type: ignore[attr-defined]
            except MachineError as error:
                raise TriggerNotAllowed(trigger, state) from error
            finally:
                probe.facts, probe.comment = EVERYTHING, ""
            return probe.state if moved else None

    def ready(self, state: str, trigger: str, facts: Facts, comment: str = "") -> bool:
        """``may_<trigger>``: the trigger leaves ``state`` and its conditions hold."""
        if trigger not in self._triggers:
            return False
        probe = self._probe
        with self._lock:
            self._machine.set_state(state, probe)
            probe.facts, probe.comment = facts, comment
            try:
                return bool(getattr(probe, f"may_{trigger}")())
            finally:
                probe.facts, probe.comment = EVERYTHING, ""

    def triggers_from(self, state: str) -> list[str]:
        """Triggers that leave ``state``, in declaration order (``get_triggers``)."""
        return list(self._machine.get_triggers(state))
