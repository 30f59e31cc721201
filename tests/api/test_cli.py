"""The ``deliberation`` CLI from another folder, on a database of its own (SQLite)."""

from __future__ import annotations

from pathlib import Path

from tests.deliberation.test_audit import run_cli
from workflows import WORKFLOW


def test_cli_sets_up_a_township_from_scratch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert run_cli(url, "migrate", cwd=tmp_path).returncode == 0
    r = run_cli(url, "township", "create", "石口镇", cwd=tmp_path)
    assert r.returncode == 0 and "石口镇" in r.stdout
    r = run_cli(url, "village", "create", "石口村", "--township", "石口镇", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run_cli(
        url,
        "user",
        "create",
        "--username",
        "root",
        "--role",
        "admin",
        "--display-name",
        "管理员",
        "--password-stdin",
        stdin="a-long-password\n",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    r = run_cli(
        url,
        "user",
        "create",
        "--username",
        "rep1",
        "--role",
        "representative",
        "--display-name",
        "代表",
        "--township",
        "石口镇",
        "--village",
        "石口村",
        "--password-stdin",
        stdin="another-password\n",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    r = run_cli(
        url,
        "user",
        "create",
        "--username",
        "root",
        "--role",
        "admin",
        "--display-name",
        "重复",
        "--password-stdin",
        stdin="a-long-password\n",
        cwd=tmp_path,
    )
    assert r.returncode == 1 and "已被使用" in r.stderr
    r = run_cli(url, "village", "create", "某村", "--township", "不存在镇", cwd=tmp_path)
    assert r.returncode == 2


def test_demo_is_idempotent_and_covers_every_state(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert run_cli(url, "migrate", cwd=tmp_path).returncode == 0
    first = run_cli(url, "demo", "--if-empty", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "黄金埠镇" in first.stdout and "demo-staff-2026" in first.stdout
    second = run_cli(url, "demo", cwd=tmp_path)
    assert second.returncode == 0 and "已存在" in second.stdout
    audit = run_cli(url, "audit", "verify", cwd=tmp_path)
    assert audit.returncode == 0 and "12" in audit.stdout

    import sqlite3

    with sqlite3.connect(tmp_path / "demo.sqlite3") as db:
        states = {row[0] for row in db.execute("SELECT state FROM topic")}
        count = db.execute("SELECT count(*) FROM topic").fetchone()[0]
    assert count == 12
    assert states == set(WORKFLOW.state_names)
