"""Every workflow file under ``workflows/``, loaded and validated at start.

Files live at ``workflows/<key>/v<version>.toml``; the path must agree with the file's
own ``key`` and ``version``. The whole directory loads or nothing does: a mistake in
any file raises :class:`RegistryInvalid` with every mistake of every file, so the
server does not start on a half-loaded set of workflows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflows.declaration import DocumentKind, RecordKind, State, Transition, Workflow
from workflows.loader import Mistake, WorkflowInvalid, load
from workflows.machine import WorkflowMachine

HERE = Path(__file__).resolve().parent
FILE = re.compile(r"v([1-9][0-9]*)\.toml\Z")


class RegistryInvalid(Exception):
    """One or more workflow files have mistakes; ``invalid`` lists each file's."""

    def __init__(self, invalid: list[WorkflowInvalid]) -> None:
        lines = [f"{error.source}: {mistake}" for error in invalid for mistake in error.mistakes]
        super().__init__("工作流程文件有误：\n" + "\n".join(lines))
        self.invalid = invalid


def _record_types_kept(registry: Registry, directory: Path) -> list[WorkflowInvalid]:
    """A record kind keeps its type across the versions of a workflow: the audit chain
    carries its name forever, so the name must keep meaning the same thing."""
    invalid: list[WorkflowInvalid] = []
    first: dict[tuple[str, str], tuple[int, str]] = {}
    for (key, version), workflow in sorted(registry.workflows.items()):
        mistakes = []
        for index, record in enumerate(workflow.records):
            seen = first.setdefault((key, record.name), (version, record.type))
            if seen[1] != record.type:
                mistakes.append(
                    Mistake(
                        f"records[{index}] ({record.name}).type",
                        f'记录种类 "{record.name}" 在第 {seen[0]} 版的类型是 "{seen[1]}"，'
                        "同名记录种类不能改变类型（另起新名）",
                    )
                )
        if mistakes:
            invalid.append(WorkflowInvalid(str(directory / key / f"v{version}.toml"), mistakes))
    return invalid


class WorkflowNotLoaded(LookupError):
    """A topic is pinned to a version no file under ``workflows/`` declares (removed
    after topics were opened in it: a version stays as long as its topics do)."""

    def __init__(self, key: str, version: int) -> None:
        super().__init__(unloaded_message(key, version))
        self.key = key
        self.version = version


def unloaded_message(key: str, version: int) -> str:
    """What a topic pinned to a workflow that is not loaded says, on its page and in
    every refusal (docs/decisions.md, "A workflow removed from the folder")."""
    return f"该议题所用的协商流程（{key} 第{version}版）未加载，暂不能办理"


@dataclass(frozen=True, slots=True)
class Unloaded(Workflow):
    """The stand-in for a pinned ``(key, version)`` whose file is not loaded: no steps,
    no records, no documents, no public states. Any state, step, record or document
    named by a topic's history is known by its bare name (a state neither terminal nor
    timed, a record no one reads). The reports, lists and pages read it like any
    declaration and so never fail on such a topic; the policy refuses every write on it
    (409 ``workflow_not_loaded``; docs/decisions.md, "A workflow removed from the
    folder")."""

    def state(self, name: str) -> State:
        return State(name, name)

    def transition(self, trigger: str) -> Transition:
        return Transition(trigger, trigger, (), "", ())

    def record(self, name: str) -> RecordKind:
        return RecordKind(name, name, (), ())

    def document(self, name: str) -> DocumentKind:
        return DocumentKind(name, name, (), ())

    @property
    def unavailable(self) -> str:
        return unloaded_message(self.key, self.version)


def unloaded(key: str, version: int) -> Unloaded:
    return Unloaded(
        initial="",
        states=(),
        transitions=(),
        records=(),
        key=key,
        version=version,
        label=f"{key} 第{version}版（未加载）",
    )


@dataclass
class Registry:
    """The loaded workflows by ``(key, version)``, each with its machine (built once
    here, never per request)."""

    workflows: dict[tuple[str, int], Workflow] = field(default_factory=dict)
    machines: dict[tuple[str, int], WorkflowMachine] = field(default_factory=dict)
    stand_ins: dict[tuple[str, int], Unloaded] = field(default_factory=dict)
    """The stand-ins of pins no loaded file declares, made when first asked for."""
    directory: Path = HERE
    """The folder the files were read from."""

    @classmethod
    def load(cls, directory: Path = HERE) -> Registry:
        registry = cls(directory=directory)
        invalid: list[WorkflowInvalid] = []
        for path in sorted(directory.glob("*/*.toml")):
            try:
                workflow = load(path)
            except WorkflowInvalid as error:
                invalid.append(error)
                continue
            where = FILE.match(path.name)
            expected = (path.parent.name, int(where.group(1)) if where else 0)
            if (workflow.key, workflow.version) != expected:
                mistake = Mistake(
                    "key/version",
                    f"文件应位于 workflows/{workflow.key}/v{workflow.version}.toml，"
                    "与其中的 key 和 version 一致",
                )
                invalid.append(WorkflowInvalid(str(path), [mistake]))
                continue
            registry.workflows[expected] = workflow
        invalid.extend(_record_types_kept(registry, directory))
        if invalid:
            raise RegistryInvalid(invalid)
        for loaded, workflow in registry.workflows.items():
            registry.machines[loaded] = WorkflowMachine(workflow)
        return registry

    def get(self, key: str, version: int) -> Workflow:
        return self.workflows[(key, version)]

    def machine(self, workflow: Workflow) -> WorkflowMachine:
        """The machine of a loaded workflow version (a stand-in has none: the policy
        refuses every step on it before a machine is asked)."""
        if isinstance(workflow, Unloaded):
            raise WorkflowNotLoaded(workflow.key, workflow.version)
        return self.machines[(workflow.key, workflow.version)]

    def latest(self, key: str) -> Workflow:
        versions = [v for (k, v) in self.workflows if k == key]
        if not versions:
            raise KeyError(key)
        return self.workflows[(key, max(versions))]

    def for_topic(self, row: Mapping[str, Any]) -> Workflow:
        """The declaration a topic follows: the ``(workflow_key, workflow_version)`` it
        was pinned to when opened (a row read without those columns is standard v1, as
        every topic from before the pin is). A pin no loaded file declares gives its
        :class:`Unloaded` stand-in (one per pin, so it is the same object each time)."""
        key = str(row.get("workflow_key") or "standard")
        version = int(row.get("workflow_version") or 1)
        found = self.workflows.get((key, version))
        if found is None:
            found = self.stand_ins.get((key, version))
            if found is None:
                found = self.stand_ins[(key, version)] = unloaded(key, version)
        return found

    def newest(self) -> list[Workflow]:
        """The newest version of each workflow, in file order (what a topic opened now
        may be pinned to)."""
        return [self.latest(key) for key in self.keys()]

    def keys(self) -> list[str]:
        """Each workflow's key once, in file order."""
        return list(dict.fromkeys(k for (k, _) in self.workflows))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.workflows.values())


REGISTRY = Registry.load(Path(os.environ.get("DELIBERATION_WORKFLOWS_DIR") or HERE))
"""The workflows shipped under ``workflows/`` (or the folder named by
``DELIBERATION_WORKFLOWS_DIR``: a served test's own set, docs/workflows.md), loaded once
at import."""

WORKFLOW = REGISTRY.get("standard", 1)
"""The standard workflow, version 1: what every topic follows until topics are pinned
to a workflow of their own."""
