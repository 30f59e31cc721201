"""``deliberation workflow check | list | diagram``."""

from __future__ import annotations

from pathlib import Path

from tests.cli import ROOT, run_cli
from workflows import WORKFLOW, mermaid

BROKEN = ROOT / "tests" / "workflows" / "broken"
STANDARD = ROOT / "workflows" / "standard" / "v1.toml"
DATABASE = "sqlite:///unused.sqlite"
"""The workflow commands touch no database."""


def test_check_passes_the_standard_file_with_a_summary() -> None:
    done = run_cli(DATABASE, "workflow", "check", str(STANDARD))
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
