"""Which workflow a topic follows: each topic is pinned at opening to ``(key,
version)``, the newest loaded version of the key its opener chose, and follows that
version's declaration for the rest of its life, whatever versions are loaded later
(docs/decisions.md, "Each topic pinned to its workflow version")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deliberation import context
from deliberation.errors import ValidationFailed
from workflows.declaration import State, Workflow
from workflows.registry import REGISTRY, Registry

DEFAULT_KEY = "standard"
"""The workflow a topic follows when its opener names none (api.md "v1.2 additions")."""


def loaded() -> Registry:
    """The workflows this application runs: the shipped ones, or a test's own folder
    (``AppContext.workflows``)."""
    found: Registry | None = context.current().workflows
    return found if found is not None else REGISTRY


def workflow_of(row: Mapping[str, Any]) -> Workflow:
    """The declaration a topic row follows (its pinned version)."""
    return loaded().for_topic(row)


def pin(key: str = DEFAULT_KEY) -> Workflow:
    """The workflow a new topic is pinned to: the newest loaded version of ``key``. An
    unknown key is a 422 naming the field and the keys offered."""
    registry = loaded()
    try:
        return registry.latest(key)
    except KeyError:
        offered = "、".join(f"{w.key}（{w.label}）" for w in registry.newest())
        raise ValidationFailed(
            [{"field": "workflow", "message": f"没有这个工作流程，可选：{offered}"}]
        ) from None


def terminal_states() -> tuple[str, ...]:
    """The states a topic ends in, in any loaded workflow: a topic in one of these is
    finished (not open, never overdue). The union is exact while no state name is
    terminal in one loaded workflow and not in another (docs/decisions.md, "Terminal
    states: the union across loaded workflows")."""
    return tuple(
        dict.fromkeys(s.name for workflow in loaded() for s in workflow.states if s.terminal)
    )


def timed_states() -> tuple[str, ...]:
    """The states with a time limit, in any loaded workflow (the same caveat)."""
    return tuple(
        dict.fromkeys(
            s.name for workflow in loaded() for s in workflow.states if s.time_limit is not None
        )
    )


def state_names() -> tuple[str, ...]:
    """Every state name of every loaded workflow (what a ``state`` filter may name)."""
    return tuple(dict.fromkeys(s for workflow in loaded() for s in workflow.state_names))


def any_state_label(name: str) -> str:
    """A state's label from the loaded workflows, the default one first (for a filter
    over topics of several workflows; the same caveat as :func:`terminal_states`)."""
    return str(any_state(name).label)


@dataclass(frozen=True)
class UnloadedPin:
    """Topics pinned to a ``(key, version)`` no loaded file declares: how many, and the
    references of the first few."""

    key: str
    version: int
    topics: int
    references: tuple[str, ...]

    def describe(self, directory: str = "") -> str:
        """One line for the server's log and ``workflow list``: which topics, which
        version is missing, and how to bring it back."""
        more = "等" if self.topics > len(self.references) else ""
        where = f"{directory.rstrip('/')}/" if directory else "workflows/"
        return (
            f"{self.topics} 个议题（{'、'.join(self.references)}{more}）所用的协商流程 "
            f"{self.key} v{self.version} 未加载：这些议题只能查看、不能办理。请把 "
            f"{where}{self.key}/v{self.version}.toml 放回（或让 DELIBERATION_WORKFLOWS_DIR "
            "指向有它的目录）后重启"
        )


async def unloaded_pins(shown: int = 5) -> list[UnloadedPin]:
    """Every pin of some topic whose workflow version is not loaded (its file removed,
    or another folder served), with the references of its first ``shown`` topics."""
    from deliberation.tables import Topic

    registry = loaded()
    counts = await Topic.raw(
        "SELECT workflow_key, workflow_version, count(*) AS n FROM topic "
        "GROUP BY workflow_key, workflow_version ORDER BY workflow_key, workflow_version"
    )
    found = []
    for row in counts:
        key, version = str(row["workflow_key"]), int(row["workflow_version"])
        if (key, version) in registry.workflows:
            continue
        references = await (
            Topic.select(Topic.reference)
            .where(Topic.workflow_key == key, Topic.workflow_version == version)
            .order_by(Topic.id)
            .limit(shown)
        )
        found.append(
            UnloadedPin(key, version, int(row["n"]), tuple(r["reference"] for r in references))
        )
    return found


__all__ = [
    "DEFAULT_KEY",
    "UnloadedPin",
    "any_state_label",
    "loaded",
    "pin",
    "state_names",
    "terminal_states",
    "timed_states",
    "unloaded_pins",
    "workflow_of",
]


def any_state(name: str) -> State:
    """A state by name from the loaded workflows, the default one first: for lists and
    figures that do not yet read each topic's own workflow (a state name means the
    same in every workflow that has it)."""
    for workflow in sorted(loaded(), key=lambda w: w.key != DEFAULT_KEY):
        try:
            found: State = workflow.state(name)
        except KeyError:
            continue
        return found
    raise KeyError(name)
