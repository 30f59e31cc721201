"""Workflow files: every mistake named with its place, nothing half-loaded."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from workflows import loader
from workflows.loader import WorkflowInvalid
from workflows.registry import Registry, RegistryInvalid

HERE = Path(__file__).resolve().parent
BROKEN = sorted((HERE / "broken").glob("*.toml"))
VALID = HERE / "valid_tiny.toml"


def expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} does not say what it breaks"
    return first.removeprefix("# expect: ")


def test_the_small_valid_file_loads_with_every_vocabulary_entry() -> None:
    workflow = loader.load(VALID)
    assert (workflow.key, workflow.version) == ("tiny", 1)
    finish = workflow.transition("finish")
    assert [r.kind for r in finish.requires] == ["records", "quorum", "min_wait"]
    quorum = finish.requires[1]
    assert quorum.name == "vote_carried" and quorum.label == "村民代表会议表决通过"
    assert quorum.basis == "村委会组织法第二十六条"
    assert quorum.param("attendance") == ">= 2/3 roster"
    assert quorum.param("approval") == "> 1/2 present"
    assert finish.requires[2].param("min_wait") == 7
    assert workflow.transition("decide").requires[0].kind == "window_closed"


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_each_broken_file_is_refused_naming_its_mistake(path: Path) -> None:
    with pytest.raises(WorkflowInvalid) as refused:
        loader.load(path)
    said = [str(m) for m in refused.value.mistakes]
    assert any(line.startswith(expected(path)) for line in said), said


def test_the_broken_set_covers_the_named_mistakes() -> None:
    assert {p.stem for p in BROKEN} >= {
        "unknown_role",
        "unreachable_state",
        "requirement_on_missing_kind",
        "dead_end",
        "clashing_trigger",
        "bad_quorum",
    }


def test_every_mistake_is_listed_not_only_the_first() -> None:
    text = VALID.read_text(encoding="utf-8")
    text = text.replace('roles = ["staff"]', 'roles = ["mayor"]').replace(
        '{ records = "note" }', '{ records = "photo" }'
    )
    text = text.replace('label = "已发起"', 'label = "已发起"\ncolour = "red"')
    with pytest.raises(WorkflowInvalid) as refused:
        loader.loads(text, "many.toml")
    said = [str(m) for m in refused.value.mistakes]
    assert 'transitions[0] (decide).roles: 未知角色 "mayor"' in said
    assert 'transitions[1] (finish).roles: 未知角色 "mayor"' in said
    assert 'transitions[1] (finish).requires[0].records: 本流程没有记录种类 "photo"' in said
    assert 'states[0] (open).colour: 未知字段 "colour"' in said


def test_each_mistake_knows_its_line() -> None:
    with pytest.raises(WorkflowInvalid) as refused:
        loader.load(HERE / "broken" / "unknown_role.toml")
    (mistake,) = refused.value.mistakes
    lines = (HERE / "broken" / "unknown_role.toml").read_text(encoding="utf-8").splitlines()
    assert lines[mistake.line - 1] == "[[transitions]]"
    assert lines[mistake.line] == 'trigger = "decide"'
    with pytest.raises(WorkflowInvalid) as refused:
        loader.load(HERE / "broken" / "public_from_off_the_main_path.toml")
    (mistake,) = refused.value.mistakes
    assert mistake.line == 8 and mistake.place == "public_from"


def test_a_toml_syntax_error_is_one_mistake_with_its_line() -> None:
    with pytest.raises(WorkflowInvalid) as refused:
        loader.loads('key = "x\n', "bad.toml")
    assert "TOML 语法错误" in str(refused.value.mistakes[0])
    assert "line 1" in str(refused.value.mistakes[0])


def test_a_requirement_name_means_one_rule() -> None:
    text = VALID.read_text(encoding="utf-8").replace(
        "{ min_wait = 7 }", '{ min_wait = 7 }, { min_wait = 3, name = "min_wait_7" }'
    )
    with pytest.raises(WorkflowInvalid) as refused:
        loader.loads(text)
    assert any('条件名 "min_wait_7" 已在' in str(m) for m in refused.value.mistakes)


def test_the_registry_loads_all_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "v1.toml").write_text(VALID.read_text(encoding="utf-8"), "utf-8")
    registry = Registry.load(tmp_path)
    assert registry.keys() == ["tiny"] and registry.latest("tiny").version == 1

    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "v1.toml").write_text(
        (HERE / "broken" / "unknown_role.toml").read_text(encoding="utf-8"), "utf-8"
    )
    with pytest.raises(RegistryInvalid) as refused:
        Registry.load(tmp_path)
    assert '未知角色 "mayor"' in str(refused.value)


def test_the_registry_refuses_a_file_in_the_wrong_place(tmp_path: Path) -> None:
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "v2.toml").write_text(VALID.read_text(encoding="utf-8"), "utf-8")
    with pytest.raises(RegistryInvalid) as refused:
        Registry.load(tmp_path)
    assert "workflows/tiny/v1.toml" in str(refused.value)


def test_the_shipped_files_all_load() -> None:
    registry = Registry.load()
    assert ("standard", 1) in registry.workflows


def test_a_record_name_keeps_its_type_across_versions(tmp_path: Path) -> None:
    text = VALID.read_text(encoding="utf-8")
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "v1.toml").write_text(text, "utf-8")
    second = text.replace("version = 1", "version = 2")
    (tmp_path / "tiny" / "v2.toml").write_text(second, "utf-8")
    assert Registry.load(tmp_path).latest("tiny").version == 2

    retyped = second.replace('name = "note"\ntype = "note"', 'name = "note"\ntype = "meeting"')
    (tmp_path / "tiny" / "v2.toml").write_text(retyped, "utf-8")
    with pytest.raises(RegistryInvalid) as refused:
        Registry.load(tmp_path)
    assert 'records[0] (note).type: 记录种类 "note" 在第 1 版的类型是 "note"' in str(refused.value)


def _places(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found: list[tuple[object, ...]] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        found.append((*prefix, key))
        found.extend(_places(value, (*prefix, key)))
    return found


def test_any_value_of_the_wrong_shape_is_a_mistake_never_a_crash() -> None:
    """Each value of the small file replaced by a wrong shape, or removed: the file is
    refused with named mistakes (or still valid), never with a Python error."""
    original = tomllib.loads(VALID.read_text(encoding="utf-8"))
    wrong: list[object] = [5, "x", [], [5], {}, {"a": 1}, True, "@nope", [[1]]]
    for place in _places(original):
        for value in [*wrong, None]:
            data = copy.deepcopy(original)
            parent: Any = data
            for key in place[:-1]:
                parent = parent[key]
            if value is None:
                del parent[place[-1]]
            else:
                parent[place[-1]] = value
            try:
                loader.validate(data, "shaped.toml")
            except WorkflowInvalid as refused:
                assert refused.mistakes, place


def test_a_wrong_step_target_is_said_once_not_echoed_by_the_graph_checks() -> None:
    with pytest.raises(WorkflowInvalid) as refused:
        loader.load(HERE / "broken" / "unknown_state.toml")
    assert [str(m) for m in refused.value.mistakes] == [
        'transitions[1] (finish).to: 未知状态 "archived"'
    ]
