"""``deliberation workflow check | list | diagram``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import ROOT, run_cli, run_cli_process
from workflows import WORKFLOW, mermaid

BROKEN = ROOT / "tests" / "workflows" / "broken"
STANDARD = ROOT / "workflows" / "standard" / "v1.toml"
DATABASE = "sqlite:///unused.sqlite"
"""The workflow commands touch no database."""


def test_check_passes_the_standard_file_with_a_summary() -> None:
    # A process of its own: the check must say nothing on stderr, and in this process
    # another test's server thread may log there while the output is captured.
    done = run_cli_process(DATABASE, "workflow", "check", str(STANDARD))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    assert "standard 第 1 版「标准协商」无误" in lines[0]
    assert "9 个状态" in lines[0] and done.stderr == ""


def test_check_lists_each_mistake_on_its_own_line(tmp_path: Path) -> None:
    text = (BROKEN / "unknown_role.toml").read_text(encoding="utf-8")
    text = text.replace('{ records = "note" }', '{ records = "photo" }')
    broken = tmp_path / "mine.toml"
    broken.write_text(text, encoding="utf-8")
    done = run_cli(DATABASE, "workflow", "check", str(broken))
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[0] == f"{broken}：有 2 处错误"
    # FILE:LINE (the element's [[table]] header), so that editors jump there.
    assert f'{broken}:23: transitions[0] (decide).roles: 未知角色 "mayor"' in lines
    assert (
        f'{broken}:31: transitions[1] (finish).requires[0].records: 本流程没有记录种类 "photo"'
        in lines
    )


def test_check_of_several_files_fails_if_any_does() -> None:
    done = run_cli(DATABASE, "workflow", "check", str(STANDARD), str(BROKEN / "dead_end.toml"))
    assert done.returncode == 1
    assert "无误" in done.stdout and "死胡同" in done.stderr


def test_check_says_a_missing_file_plainly(tmp_path: Path) -> None:
    done = run_cli(DATABASE, "workflow", "check", str(tmp_path / "none.toml"))
    assert done.returncode == 1 and "无法读取文件" in done.stderr


def test_list_names_each_loaded_workflow() -> None:
    done = run_cli(DATABASE, "workflow", "list")
    assert done.returncode == 0
    assert "standard\tv1\t标准协商\t镇（街道）\t9 个状态" in done.stdout.splitlines()


def test_diagram_draws_a_workflow_by_key() -> None:
    done = run_cli(DATABASE, "workflow", "diagram", "standard")
    assert done.returncode == 0
    assert done.stdout == mermaid(WORKFLOW)
    assert run_cli(DATABASE, "workflow", "diagram", "standard", "--version", "1").stdout == (
        done.stdout
    )
    unknown = run_cli(DATABASE, "workflow", "diagram", "nosuch")
    assert unknown.returncode == 1 and "没有工作流程 nosuch" in unknown.stderr


def _with_records(tmp_path: Path, extra: str) -> Path:
    """The standard file with one more ``[[records]]`` table, as a county would add it."""
    text = STANDARD.read_text(encoding="utf-8")
    at = text.index("[[records]]")
    mine = tmp_path / "mine.toml"
    mine.write_text(text[:at] + extra + "\n" + text[at:], encoding="utf-8")
    return mine


NEW_MEETING = """[[records]]
name = "hearing"
type = "meeting"
label = "听证会"
roles = "@office"
open_in = ["proposed"]
correct_in = "@active"
"""


def test_check_names_a_new_kind_whose_type_has_no_storage(tmp_path: Path) -> None:
    # A new *note* kind is a file edit; a new name of a type with no generic table
    # (a meeting) is not, and check must say so rather than the server failing later.
    mine = _with_records(tmp_path, NEW_MEETING)
    done = run_cli(DATABASE, "workflow", "check", str(mine))
    assert done.returncode == 1 and done.stdout == ""
    assert '类型 "meeting" 的记录种类没有通用存储，不能起新名 "hearing"' in done.stderr
    assert "note、vote" in done.stderr and "meeting" in done.stderr
    note = _with_records(tmp_path, NEW_MEETING.replace('"meeting"', '"note"'))
    assert run_cli(DATABASE, "workflow", "check", str(note)).returncode == 0


def test_check_names_a_kind_with_its_own_table_declared_with_another_type(
    tmp_path: Path,
) -> None:
    text = STANDARD.read_text(encoding="utf-8")
    start = text.index('name = "investigation"')
    end = text.index("[[records]]", start)
    block = text[start:end]
    assert 'type = "note"' in block
    mine = tmp_path / "mine.toml"
    mine.write_text(
        text[:start] + block.replace('type = "note"', 'type = "rating"') + text[end:], "utf-8"
    )
    done = run_cli(DATABASE, "workflow", "check", str(mine))
    assert done.returncode == 1
    assert '记录种类 "investigation" 已有自己的存储，类型是 "note"，不能声明为 "rating"' in (
        done.stderr
    )


def test_the_app_refuses_a_folder_with_a_kind_no_storage_keeps(tmp_path: Path) -> None:
    from deliberation import record_types
    from workflows.registry import REGISTRY, Registry, RegistryInvalid

    folder = tmp_path / "workflows" / "standard"
    folder.mkdir(parents=True)
    _with_records(tmp_path, NEW_MEETING).rename(folder / "v1.toml")
    registry = Registry.load(tmp_path / "workflows")  # the loader alone cannot tell
    with pytest.raises(RegistryInvalid) as refused:
        record_types.check_storage(registry)
    assert "hearing" in str(refused.value) and "v1.toml" in str(refused.value)
    record_types.check_storage(REGISTRY)  # the shipped folder passes
