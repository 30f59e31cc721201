"""A workflow file (TOML, docs/workflows.md) read and validated into the declaration.

``load(path)`` returns a :class:`~workflows.declaration.Workflow` or raises
:class:`WorkflowInvalid` with *every* mistake found, each named by its place in the
file's own terms (``transitions[3] (adopt_resolution).roles``) and said in Chinese for
the people who write these files. Nothing is half-loaded: one mistake, no workflow.
It reads with the standard library (``tomllib``) and imports nothing of ours but the
declaration.
"""

from __future__ import annotations

import re
import tomllib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from workflows.declaration import (
    RECORD_TYPES,
    REQUIREMENT_KINDS,
    ROLES,
    VIEWS,
    DocumentKind,
    ReadRule,
    RecordKind,
    Requirement,
    State,
    TimeLimit,
    Transition,
    Workflow,
)

Doc = dict[str, Any]
"""A table of the parsed file, or the values read so far."""
Parsed = tuple[dict[str, Any], str, str, str]
"""A requirement as its vocabulary entry reads it: parameters, what meets it, its
default name and label."""

NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
"""Keys, state, trigger and record names: lower-case ASCII, digits and underscores."""

RESERVED_TRIGGERS = frozenset({"trigger", "may_trigger", "state", "facts", "comment", "machine"})
RESERVED_PREFIXES = ("may_", "is_", "to_")
"""A `transitions` model gets ``trigger``, ``may_trigger``, ``state``, ``is_<state>``,
``to_<state>`` and ``may_<trigger>``; the engine's probe model carries ``facts`` and
``comment``. A trigger named like these is silently skipped by the library (it logs a
warning and binds nothing), so the file is refused instead."""

QUORUM_RULE = re.compile(r"\s*(>=|>)\s*(\d+)\s*/\s*(\d+)\s+(roster|present)\s*\Z")
"""``>= 2/3 roster``: at least (or more than) a share of the body's members (roster) or
of those present."""

COUNTED_FROM = ("entered", "meeting", "items")
SCOPES = ("township", "village")
WAIT_UNITS = ("days", "working_days")


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a table, how it is read (``kind``), and the declaration's field it
    fills (``attr``, default the key). ``kind``: ``name``, ``text``, ``flag``,
    ``roles``, ``states`` (names of the file's states), ``choice``, ``whole``,
    ``table`` (a nested table of the section named by the key), ``read`` (what
    ``reader`` makes of it: requirements) or ``check`` (no key: ``reader`` checks what
    was read so far, at that point of the order)."""

    key: str
    kind: str
    attr: str = ""
    required: bool = True
    choices: tuple[str, ...] = ()
    default: Any = None
    least: int = 0
    admin: bool = True
    """``roles``: whether the system administrator may be named."""
    reader: str = ""
    """``read`` and ``check``: the :class:`_Reader` method doing it."""


@dataclass(frozen=True, slots=True)
class Section:
    """A kind of table of a file: what it becomes, the key naming each element (an
    array of tables) or the shape a nested table must have, and its fields in the
    order they are read (the order mistakes are listed in)."""

    makes: Callable[..., Any]
    fields: tuple[Field, ...]
    named_by: str = ""
    shape: str = ""


SECTIONS: dict[str, Section] = {
    "states": Section(
        State,
        (
            Field("time_limit", "table"),
            Field("name", "name"),
            Field("label", "text"),
            Field("terminal", "flag"),
        ),
        named_by="name",
    ),
    "time_limit": Section(
        TimeLimit,
        (
            Field("from", "choice", "counted_from", choices=COUNTED_FROM, default="entered"),
            Field("working_days", "whole", least=0, default=0),
            Field("", "check", reader="check_working_days"),
            Field("label", "text"),
            Field("window", "flag"),
        ),
        shape="{ label = …, working_days = … }",
    ),
    "transitions": Section(
        Transition,
        (
            Field("trigger", "name"),
            Field("", "check", reader="check_trigger"),
            Field("from", "states", "sources"),
            Field("to", "text", "dest"),
            Field("", "check", reader="check_edges"),
            Field("requires", "read", reader="transition_requires"),
            Field("label", "text"),
            Field("roles", "roles", admin=False),
            Field("opener_only", "flag"),
            Field("danger", "flag"),
            Field("basis", "text", required=False),
        ),
        named_by="trigger",
    ),
    "records": Section(
        RecordKind,
        (
            Field("part_of", "text", required=False),
            Field("", "check", reader="check_part_of"),
            Field("open_in", "states"),
            Field("", "check", reader="check_open_in"),
            Field("name", "name"),
            Field("label", "text"),
            Field("roles", "roles"),
            Field("read", "table"),
            Field("correct_in", "states", required=False),
            Field("author_only", "flag"),
            Field("type", "choice", choices=RECORD_TYPES, default="note"),
            Field("", "check", reader="check_type_given"),
        ),
        named_by="name",
    ),
    "read": Section(
        ReadRule,
        (
            Field("full", "roles"),
            Field("author_full", "flag"),
            Field("others", "choice", choices=VIEWS, default="full"),
            Field("public", "choice", choices=VIEWS, default="none"),
        ),
        shape="{ full = …, others = …, public = … }",
    ),
    "documents": Section(
        DocumentKind,
        (
            Field("requires", "read", reader="document_requires"),
            Field("name", "name"),
            Field("label", "text"),
            Field("roles", "roles"),
            Field("states", "states"),
            Field("template", "text", required=False),
        ),
        named_by="name",
    ),
}
"""Every table of a file but the header and the requirements, as data: one generic
reader (:meth:`_Reader.element`) reads each by its fields."""

KEYS: dict[str, tuple[str, ...]] = {
    "workflow": (
        "key", "version", "label", "summary", "basis", "scope", "openers", "initial",
        "public_from", "shuoshi_day", "sets", "states", "transitions", "records", "documents",
    ),
    **{
        name: tuple(f.key for f in section.fields if f.kind != "check")
        for name, section in SECTIONS.items()
    },
    "records_requirement": ("at_least", "of"),
    "ratings_requirement": ("at_least",),
    "min_wait_requirement": ("unit", "from"),
    "quorum_requirement": (
        "body", "attendance", "approval", "outcome", "members", "unit", "notice_days",
    ),
    "any_requirement": ("name", "label", "basis"),
}  # fmt: skip
"""The keys each table of a file may have (docs/workflows.md describes each)."""


def _requirement_keys(kind: str) -> tuple[str, ...]:
    return (kind, *KEYS.get(f"{kind}_requirement", ()), *KEYS["any_requirement"])


@dataclass(frozen=True, slots=True)
class Mistake:
    """One mistake: where (in the file's terms) and what (in Chinese)."""

    place: str
    message: str
    line: int = 0
    """The line the place starts on (its table's header, or its key), when found."""

    def __str__(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message


class WorkflowInvalid(Exception):
    """A workflow file with mistakes; ``mistakes`` lists them all."""

    def __init__(self, source: str, mistakes: list[Mistake]) -> None:
        super().__init__(f"{source}: " + "; ".join(str(m) for m in mistakes))
        self.source = source
        self.mistakes = mistakes


def load(path: Path | str) -> Workflow:
    """The workflow in ``path``, or WorkflowInvalid with every mistake."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise WorkflowInvalid(str(path), [Mistake("", f"无法读取文件：{error.strerror}")]) from None
    except UnicodeDecodeError:
        raise WorkflowInvalid(str(path), [Mistake("", "文件不是 UTF-8 编码")]) from None
    return loads(text, str(path))


def loads(text: str, source: str = "<text>") -> Workflow:
    """The workflow written in ``text`` (TOML), or WorkflowInvalid."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise WorkflowInvalid(source, [Mistake("", f"TOML 语法错误：{error}")]) from None
    try:
        return validate(data, source)
    except WorkflowInvalid as error:
        error.mistakes = [
            Mistake(m.place, m.message, _line_of(text, m.place)) for m in error.mistakes
        ]
        raise


def validate(data: dict[str, Any], source: str = "<data>") -> Workflow:
    """The workflow described by ``data`` (a parsed file), or WorkflowInvalid."""
    return _Reader(source).workflow(data)


ELEMENT = re.compile(r"([a-z_]+)\[(\d+)\]")
TOP_KEY = re.compile(r"[a-z_]+")


def _line_of(text: str, place: str) -> int:
    """The line a place starts on, found in the raw text (``tomllib`` keeps no lines):
    the ``[[section]]`` header of the n-th element, or a top-level ``key =``; 0 if not
    found (an inline table, a key under an inline table)."""
    lines = text.splitlines()
    element = ELEMENT.match(place)
    if element:
        header = f"[[{element.group(1)}]]"
        starts = [n for n, line in enumerate(lines, 1) if line.strip() == header]
        index = int(element.group(2))
        return starts[index] if index < len(starts) else 0
    key = TOP_KEY.match(place)
    if key and (place == key.group() or place[key.end()] == "."):
        pattern = re.compile(rf"\s*{re.escape(key.group())}\s*=|\s*\[{re.escape(key.group())}\]")
        for number, line in enumerate(lines, 1):
            if pattern.match(line):
                return number
    return 0


def _labels(items: list[dict[str, Any]]) -> dict[str, str]:
    """Document kinds by name, with their labels (for requirements naming them)."""
    return {
        item["name"]: str(item.get("label") or item["name"])
        for item in items
        if isinstance(item.get("name"), str)
    }


def _quote(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


class _Reader:
    """Turns the parsed TOML into the declaration, noting every mistake on the way.

    Each reading method returns a usable value even after a mistake (a default), so that
    one pass finds them all; ``workflow`` raises at the end if any was noted."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.mistakes: list[Mistake] = []
        self.sets: dict[str, list[str]] = {}
        self.broken_edges = False
        """A step's ``from`` or ``to`` is wrong: the graph checks would only echo it."""

    def note(self, place: str, message: str) -> None:
        self.mistakes.append(Mistake(place, message))

    # Plain values -----------------------------------------------------------------------

    def keys(self, table: dict[str, Any], place: str, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for key in table:
            if key not in allowed:
                where = f"{place}.{key}" if place else key
                self.note(where, f"未知字段 {_quote(key)}")

    def text(self, table: dict[str, Any], key: str, place: str, *, required: bool = True) -> str:
        where = f"{place}.{key}" if place else key
        if key not in table:
            if required:
                self.note(where, "缺少此项")
            return ""
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            self.note(where, "应为非空文字")
            return ""
        return value

    def name(self, table: dict[str, Any], key: str, place: str) -> str:
        value = self.text(table, key, place)
        if value and not NAME.match(value):
            where = f"{place}.{key}" if place else key
            self.note(where, f"名称 {_quote(value)} 只能由小写字母、数字和下划线组成，并以字母开头")
        return value

    def flag(self, table: dict[str, Any], key: str, place: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            self.note(f"{place}.{key}", "应为 true 或 false")
            return False
        return value

    def whole(
        self, table: dict[str, Any], key: str, place: str, *, least: int, default: int
    ) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            self.note(f"{place}.{key}" if place else key, f"应为不小于 {least} 的整数")
            return default
        return value

    def choice(
        self, table: dict[str, Any], key: str, place: str, choices: Iterable[str], default: str
    ) -> str:
        choices = tuple(choices)
        value = table.get(key, default)
        if value not in choices:
            options = "、".join(choices)
            self.note(
                f"{place}.{key}" if place else key, f"{_quote(value)} 不在可选值（{options}）之中"
            )
            return default
        return str(value)

    def names(
        self,
        table: dict[str, Any],
        key: str,
        place: str,
        *,
        known: Iterable[str],
        unknown: str,
        required: bool = True,
    ) -> tuple[str, ...]:
        """A list of names (or ``"@set"``), each one of ``known``."""
        where = f"{place}.{key}" if place else key
        if key not in table:
            if required:
                self.note(where, "缺少此项")
            return ()
        value = table[key]
        if isinstance(value, str) and value.startswith("@"):
            if value[1:] not in self.sets:
                self.note(where, f"未定义的集合 {_quote(value)}（在 [sets] 中定义）")
                return ()
            value = self.sets[value[1:]]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.note(where, '应为名称列表（或 "@集合名"）')
            return ()
        known = set(known)
        seen: list[str] = []
        for item in value:
            if item not in known:
                self.note(where, f"{unknown} {_quote(item)}")
            elif item in seen:
                self.note(where, f"重复的 {_quote(item)}")
            else:
                seen.append(item)
        return tuple(seen)

    def roles(
        self,
        table: dict[str, Any],
        key: str,
        place: str,
        *,
        required: bool = True,
        admin: bool = True,
    ) -> tuple[str, ...]:
        """Roles; ``admin=False`` where the system administrator takes no part (steps,
        openers: they run the system, not the consultation)."""
        roles = self.names(table, key, place, known=ROLES, unknown="未知角色", required=required)
        if not admin and "admin" in roles:
            where = f"{place}.{key}" if place else key
            self.note(where, "系统管理员（admin）不参与议题流程，不能担任此角色")
        return roles

    def tables(self, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.note(key, f"应为表数组（[[{key}]]）")
            return []
        return value

    # The workflow -----------------------------------------------------------------------

    def workflow(self, data: dict[str, Any]) -> Workflow:
        self.keys(data, "", KEYS["workflow"])
        self.read_sets(data.get("sets", {}))
        key = self.name(data, "key", "")
        version = self.whole(data, "version", "", least=1, default=1)
        if "version" not in data:
            self.note("version", "缺少此项")
        label = self.text(data, "label", "")
        summary = self.text(data, "summary", "", required=False)
        basis = self.basis_list(data)
        scope = self.choice(data, "scope", "", SCOPES, "township")

        states_data = self.tables(data, "states")
        states: list[State] = self.elements(states_data, "states", {})
        if not states_data:
            self.note("states", "至少需要一个状态")
        state_names = [s.name for s in states]
        initial = self.text(data, "initial", "")
        if initial and initial not in state_names:
            self.note("initial", f"未知状态 {_quote(initial)}")
        openers = self.roles(data, "openers", "", admin=False)

        records_data = self.tables(data, "records")
        context: dict[str, Any] = {
            "states": state_names,
            "record_names": [item.get("name") for item in records_data],
        }
        records: list[RecordKind] = self.elements(records_data, "records", context)
        documents_data = self.tables(data, "documents")
        requirements: dict[str, tuple[str, Requirement]] = {}
        context.update(
            kinds={r.name: r for r in records},
            documents=_labels(documents_data),
            requirements=requirements,
            windows={s.name for s in states if s.time_limit is not None and s.time_limit.window},
        )
        transitions: list[Transition] = self.elements(
            self.tables(data, "transitions"), "transitions", context
        )
        documents: list[DocumentKind] = self.elements(documents_data, "documents", context)

        public_from = self.text(data, "public_from", "", required=False)
        shuoshi_day = self.flag(data, "shuoshi_day", "")
        if shuoshi_day and scope != "village":
            self.note("shuoshi_day", '只有村级流程（scope = "village"）才能按村的说事日')
        workflow = Workflow(
            initial=initial,
            states=tuple(states),
            transitions=tuple(transitions),
            records=tuple(records),
            documents=tuple(documents),
            public_from=public_from,
            key=key,
            version=version,
            label=label,
            summary=summary,
            basis=basis,
            scope=scope,  # type: ignore[arg-type]
            openers=openers,
            shuoshi_day=shuoshi_day,
        )
        if initial in state_names and not self.broken_edges:
            self.check_graph(workflow)
            if public_from and public_from not in workflow.main_path:
                self.note(
                    "public_from",
                    f"{_quote(public_from)} 不在主流程（{' → '.join(workflow.main_path)}）上",
                )
        if self.mistakes:
            raise WorkflowInvalid(self.source, self.mistakes)
        return workflow

    def read_sets(self, sets: Any) -> None:
        if not isinstance(sets, dict):
            self.note("sets", "应为表（[sets]）")
            return
        for name, values in sets.items():
            if not NAME.match(name):
                self.note(f"sets.{name}", "集合名只能由小写字母、数字和下划线组成")
            elif not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                self.note(f"sets.{name}", "应为名称列表")
            else:
                self.sets[name] = values

    def basis_list(self, data: dict[str, Any]) -> tuple[str, ...]:
        value = data.get("basis", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.note("basis", "应为文字列表")
            return ()
        return tuple(value)

    def unique(
        self, items: list[dict[str, Any]], section: str, key: str
    ) -> Callable[[int, dict[str, Any]], str]:
        """The place of each element (``states[2] (meeting)``), noting duplicate names."""
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            value = item.get(key)
            if isinstance(value, str):
                if value in seen:
                    self.note(
                        f"{section}[{index}] ({value}).{key}",
                        f"名称 {_quote(value)} 与 {section}[{seen[value]}] 重复",
                    )
                else:
                    seen[value] = index

        def place(index: int, item: dict[str, Any]) -> str:
            value = item.get(key)
            return (
                f"{section}[{index}] ({value})" if isinstance(value, str) else f"{section}[{index}]"
            )

        return place

    # The tables, by their fields (SECTIONS) -------------------------------------------

    def elements(
        self, items: list[dict[str, Any]], section: str, context: dict[str, Any]
    ) -> list[Any]:
        """Each element of an array of tables (``[[states]]``), read by its fields."""
        place_of = self.unique(items, section, SECTIONS[section].named_by)
        return [
            SECTIONS[section].makes(**self.fields(item, place_of(index, item), section, context))
            for index, item in enumerate(items)
        ]

    def table(self, value: Any, place: str, section: str, context: dict[str, Any]) -> Any:
        """A nested table (``time_limit``, ``read``), read by its fields; None if it is
        not a table."""
        if not isinstance(value, dict):
            self.note(place, f"应为表（{SECTIONS[section].shape}）")
            return None
        return SECTIONS[section].makes(**self.fields(value, place, section, context))

    def fields(
        self, table: dict[str, Any], place: str, section: str, context: dict[str, Any]
    ) -> dict[str, Any]:
        """The declaration's fields of one table, each read in its section's order;
        unknown keys noted first."""
        self.keys(table, place, KEYS[section])
        values: dict[str, Any] = {}
        for spec in SECTIONS[section].fields:
            value = self.field(table, place, spec, values, context)
            if spec.kind != "check":
                values[spec.attr or spec.key] = value
        return {k: v for k, v in values.items() if not k.startswith("_")}

    def field(self, table: Doc, place: str, spec: Field, values: Doc, context: Doc) -> Any:
        key, kind = spec.key, spec.kind
        if kind == "name":
            return self.name(table, key, place)
        if kind == "text":
            return self.text(table, key, place, required=spec.required)
        if kind == "flag":
            return self.flag(table, key, place)
        if kind == "roles":
            return self.roles(table, key, place, required=spec.required, admin=spec.admin)
        if kind == "states":
            known = context["states"]
            return self.names(
                table, key, place, known=known, unknown="未知状态", required=spec.required
            )
        if kind == "choice":
            return self.choice(table, key, place, spec.choices, spec.default)
        if kind == "whole":
            return self.whole(table, key, place, least=spec.least, default=spec.default)
        if kind == "table":
            if key not in table:
                return None
            return self.table(table[key], f"{place}.{key}", key, context)
        return getattr(self, spec.reader)(table, place, values, context)

    # What a field's kind cannot say: requirements, checks across fields ----------------

    def check_working_days(self, table: Doc, place: str, values: Doc, context: Doc) -> None:
        if values["counted_from"] != "items" and values["working_days"] == 0:
            self.note(f"{place}.working_days", '除 from = "items" 外，应为正整数')

    def check_trigger(self, table: Doc, place: str, values: Doc, context: Doc) -> None:
        trigger = values["trigger"]
        if trigger and (trigger in RESERVED_TRIGGERS or trigger.startswith(RESERVED_PREFIXES)):
            self.note(
                f"{place}.trigger",
                f"触发名 {_quote(trigger)} 与流程引擎的保留名冲突"
                f"（不可为 {'、'.join(sorted(RESERVED_TRIGGERS))}，"
                f"也不可以 {'、'.join(RESERVED_PREFIXES)} 开头）",
            )
        values["_before"] = len(self.mistakes)  # for check_edges

    def check_edges(self, table: Doc, place: str, values: Doc, context: Doc) -> None:
        dest = values["dest"]
        if dest and dest not in context["states"]:
            self.note(f"{place}.to", f"未知状态 {_quote(dest)}")
        if len(self.mistakes) > values["_before"]:
            self.broken_edges = True

    def transition_requires(
        self, table: Doc, place: str, values: Doc, context: Doc
    ) -> tuple[Requirement, ...]:
        requires: list[Requirement] = []
        raw = table.get("requires", [])
        if not isinstance(raw, list):
            self.note(f"{place}.requires", "应为条件列表")
            raw = []
        for number, item in enumerate(raw):
            where = f"{place}.requires[{number}]"
            requirement = self.read_requirement(item, where, context)
            if requirement is None:
                continue
            if requirement.kind == "window_closed":
                for source in values["sources"]:
                    if source not in context["windows"]:
                        self.note(
                            where,
                            f"状态 {_quote(source)} 的时限未设 window = true，"
                            "不能要求 window_closed",
                        )
            requires.append(requirement)
        return tuple(requires)

    def document_requires(
        self, table: Doc, place: str, values: Doc, context: Doc
    ) -> Requirement | None:
        if "requires" not in table:
            return None
        return self.read_requirement(table["requires"], f"{place}.requires", context)

    def check_part_of(self, table: Doc, place: str, values: Doc, context: Doc) -> None:
        part_of = values["part_of"]
        if part_of and (part_of not in context["record_names"] or part_of == table.get("name")):
            self.note(f"{place}.part_of", f"未知记录种类 {_quote(part_of)}")

    def check_open_in(self, table: Doc, place: str, values: Doc, context: Doc) -> None:
        if "open_in" in table and not values["open_in"]:
            self.note(f"{place}.open_in", "没有任何状态可以添加此记录")

    def check_type_given(self, table: Doc, place: str, values: Doc, context: Doc) -> None:
        if "type" not in table:
            self.note(f"{place}.type", "缺少此项")

    # Requirements -----------------------------------------------------------------------

    def read_requirement(self, table: Any, place: str, context: Doc) -> Requirement | None:
        """One entry of the vocabulary, its parameters checked; the same name must mean
        the same rule wherever it appears (the API and the pages know it by name)."""
        if not isinstance(table, dict):
            self.note(place, '应为内联表（如 { records = "minutes" }）')
            return None
        used = [k for k in REQUIREMENT_KINDS if k in table]
        if len(used) != 1:
            vocabulary = "、".join(REQUIREMENT_KINDS)
            self.note(place, f"应恰有一个条件类型（{vocabulary}），实有 {len(used)} 个")
            self.keys(table, place, (*REQUIREMENT_KINDS, *KEYS["any_requirement"]))
            return None
        kind = used[0]
        self.keys(table, place, _requirement_keys(kind))
        alternatives: tuple[Requirement, ...] = ()
        parsed: Parsed | None
        if kind == "any_of":
            alternatives = self.req_any_of(table, place, context)
            if not alternatives:
                return None
            met_bys = {a.met_by for a in alternatives}
            parsed = (
                {},
                alternatives[0].met_by if len(met_bys) == 1 else "",
                "_or_".join(a.name for a in alternatives),
                "或".join(a.label for a in alternatives),
            )
        else:
            parsed = getattr(self, f"req_{kind}")(table, place, context)
        if parsed is None:
            return None
        params, met_by, default_name, default_label = parsed
        name = self.text(table, "name", place, required=False) or default_name
        if name and not NAME.match(name):
            self.note(f"{place}.name", f"名称 {_quote(name)} 只能由小写字母、数字和下划线组成")
        requirement = Requirement(
            name,
            self.text(table, "label", place, required=False) or default_label,
            met_by,
            kind=kind,
            params=tuple(sorted(params.items())),
            basis=self.text(table, "basis", place, required=False),
            alternatives=alternatives,
        )
        requirements = context["requirements"]
        if name in requirements:
            first_place, first = requirements[name]
            if first != requirement:
                self.note(place, f"条件名 {_quote(name)} 已在 {first_place} 用于不同的条件")
        else:
            requirements[name] = (place, requirement)
        return requirement

    def kind_of(
        self, table: Doc, key: str, place: str, context: Doc, *types: str
    ) -> RecordKind | None:
        value, kinds = table[key], context["kinds"]
        if not isinstance(value, str) or value not in kinds:
            self.note(f"{place}.{key}", f"本流程没有记录种类 {_quote(value)}")
            return None
        record: RecordKind = kinds[value]
        if types and record.type not in types:
            self.note(
                f"{place}.{key}",
                f"记录种类 {_quote(value)} 的类型是 {_quote(record.type)}，"
                f"{key} 需要 {'或'.join(types)} 类型",
            )
            return None
        return record

    def req_records(self, table: Doc, place: str, context: Doc) -> Parsed | None:
        record = self.kind_of(table, "records", place, context)
        at_least = self.whole(table, "at_least", place, least=1, default=1)
        of = self.choice(table, "of", place, ("any", "latest"), "any")
        if record is None:
            return None
        params: dict[str, Any] = {"records": record.name}
        if at_least != 1:
            params["at_least"] = at_least
        if of != "any":
            params["of"] = of
        return params, record.name, f"{record.name}_recorded", f"至少一条{record.label}"

    def req_document_published(self, table: Doc, place: str, context: Doc) -> Parsed | None:
        value, documents = table["document_published"], context["documents"]
        if not isinstance(value, str) or value not in documents:
            self.note(f"{place}.document_published", f"本流程没有公文种类 {_quote(value)}")
            return None
        return (
            {"document_published": value},
            value,
            f"{value}_published",
            f"已发布的{documents[value]}",
        )

    def req_items_completed(self, table: Doc, place: str, context: Doc) -> Parsed | None:
        item = self.kind_of(table, "items_completed", place, context, "item")
        if item is None:
            return None
        progress = next(
            (
                k.name
                for k in context["kinds"].values()
                if k.part_of == item.name and k.type == "progress"
            ),
            None,
        )
        if progress is None:
            self.note(
                f"{place}.items_completed",
                f"记录种类 {_quote(item.name)} 没有 progress 类型的落实进展记录（part_of）",
            )
            return None
        return (
            {"items_completed": item.name},
            progress,
            "items_completed",
            f"每项{item.label}均已报告办结",
        )

    def req_ratings(self, table: Doc, place: str, context: Doc) -> Parsed | None:
        rating = self.kind_of(table, "ratings", place, context, "rating")
        at_least = self.whole(table, "at_least", place, least=1, default=1)
        if rating is None:
            return None
        params: dict[str, Any] = {"ratings": rating.name}
        if at_least != 1:
            params["at_least"] = at_least
        return params, rating.name, f"{rating.name}_rated", f"至少{at_least}条{rating.label}"

    def req_comment(self, table: Doc, place: str, context: Doc) -> Parsed | None:
        if table["comment"] is not True:
            self.note(f"{place}.comment", "应为 true")
            return None
        return {}, "comment", "comment_given", "说明理由"

    def req_min_wait(self, table: Doc, place: str, context: Doc) -> Parsed | None:
        before = len(self.mistakes)
        days = self.whole(table, "min_wait", place, least=1, default=1)
        unit = self.choice(table, "unit", place, WAIT_UNITS, "days")
        counted_from = self.choice(table, "from", place, ("entered",), "entered")
        if len(self.mistakes) > before:
            return None
        word = "日" if unit == "days" else "个工作日"
        return (
            {"min_wait": days, "unit": unit, "from": counted_from},
            "",
            f"min_wait_{days}",
            f"进入本阶段满{days}{word}",
        )

    def req_quorum(self, table: Doc, place: str, context: Doc) -> Parsed | None:
        before = len(self.mistakes)
        vote = self.kind_of(table, "quorum", place, context, "vote")
        body = self.text(table, "body", place)
        rules = {}
        for key in ("attendance", "approval"):
            rule = table.get(key)
            if rule is None:
                self.note(f"{place}.{key}", '缺少此项（如 ">= 2/3 roster"）')
                continue
            match = QUORUM_RULE.match(rule) if isinstance(rule, str) else None
            if match is None:
                self.note(
                    f"{place}.{key}",
                    f"无法理解 {_quote(rule)}：应写作“>= 分子/分母 roster”或“> 分子/分母 present”，"
                    '如 ">= 2/3 roster"',
                )
                continue
            numerator, denominator = int(match.group(2)), int(match.group(3))
            if denominator == 0 or not 0 < Fraction(numerator, denominator) <= 1:
                self.note(f"{place}.{key}", f"比例 {numerator}/{denominator} 应大于 0 且不大于 1")
                continue
            if key == "attendance" and match.group(4) == "present":
                self.note(f"{place}.{key}", "到会人数只能按组成人数（roster）计")
                continue
            rules[key] = f"{match.group(1)} {numerator}/{denominator} {match.group(4)}"
        outcome = self.choice(table, "outcome", place, ("carried", "rejected"), "carried")
        extra: dict[str, Any] = {}
        members = self.text(table, "members", place, required=False)
        if members:
            extra["members"] = members
        unit = self.choice(table, "unit", place, ("人", "户"), "人")
        if unit != "人":
            extra["unit"] = unit
        if "notice_days" in table:
            extra["notice_days"] = self.whole(table, "notice_days", place, least=1, default=1)
        if vote is None or len(self.mistakes) > before:
            return None
        return (
            {"quorum": vote.name, "body": body, **rules, "outcome": outcome, **extra},
            vote.name,
            f"{vote.name}_{outcome}",
            f"{body}表决{'通过' if outcome == 'carried' else '否决'}",
        )

    def req_any_of(self, table: Doc, place: str, context: Doc) -> tuple[Requirement, ...]:
        """``any_of = [ {…}, {…} ]``: at least two requirements of the vocabulary (none
        an ``any_of`` itself, nor ``comment``: a reason is not an alternative)."""
        raw = table["any_of"]
        if not isinstance(raw, list) or len(raw) < 2:
            self.note(f"{place}.any_of", "应为至少两个条件的列表")
            return ()
        found: list[Requirement] = []
        before = len(self.mistakes)
        for number, item in enumerate(raw):
            where = f"{place}.any_of[{number}]"
            if isinstance(item, dict) and ("any_of" in item or "comment" in item):
                self.note(where, "any_of 的备选条件不能是 any_of 或 comment")
                continue
            requirement = self.read_requirement(item, where, context)
            if requirement is not None:
                found.append(requirement)
        return tuple(found) if len(self.mistakes) == before else ()

    def req_window_closed(self, table: Doc, place: str, context: Doc) -> Parsed | None:
        if table["window_closed"] is not True:
            self.note(f"{place}.window_closed", "应为 true")
            return None
        return {}, "", "window_closed", "意见征集期已结束"

    # The graph --------------------------------------------------------------------------

    def check_graph(self, workflow: Workflow) -> None:
        """Every state reachable from the initial one; every non-terminal state with a
        way out that can lead to an end; no way out of a terminal state."""
        exits: dict[str, set[str]] = {s.name: set() for s in workflow.states}
        for index, transition in enumerate(workflow.transitions):
            for source in transition.sources:
                if source in exits and transition.dest in exits:
                    exits[source].add(transition.dest)
                    if workflow.state(source).terminal:
                        self.note(
                            f"transitions[{index}] ({transition.trigger}).from",
                            f"终止状态 {_quote(source)} 不能再有出路",
                        )
        reached = {workflow.initial}
        queue = deque([workflow.initial])
        while queue:
            for dest in exits[queue.popleft()]:
                if dest not in reached:
                    reached.add(dest)
                    queue.append(dest)
        ending = {s.name for s in workflow.states if s.terminal}
        if not ending:
            self.note("states", "至少需要一个终止状态（terminal = true）")
        can_end = set(ending)
        changed = True
        while changed:
            changed = False
            for state, dests in exits.items():
                if state not in can_end and dests & can_end:
                    can_end.add(state)
                    changed = True
        for index, node in enumerate(workflow.states):
            place = f"states[{index}] ({node.name})"
            if node.name not in reached:
                self.note(
                    place,
                    f"状态 {_quote(node.name)} 从初始状态 {_quote(workflow.initial)} 无法到达",
                )
            if node.terminal:
                continue
            if not exits[node.name]:
                self.note(place, f"非终止状态 {_quote(node.name)} 没有任何出路（死胡同）")
            elif ending and node.name not in can_end:
                self.note(place, f"从状态 {_quote(node.name)} 无法到达任何终止状态")
