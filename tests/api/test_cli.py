"""The ``deliberation`` CLI on a database of its own (SQLite): in this process (see
tests/cli.py), and as the installed command from another folder (its first two calls)."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Any

from tests.cli import run_cli, run_cli_process
from tests.demo import DemoBuild, demo_copy
from workflows import WORKFLOW

ROOT = Path(__file__).resolve().parents[2]


def test_cli_sets_up_a_township_from_scratch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    # The command as installed, started from another folder: its own imports, its own
    # Piccolo configuration, migrations and a first write.
    assert run_cli_process(url, "migrate", cwd=tmp_path).returncode == 0
    r = run_cli_process(url, "township", "create", "石口镇", cwd=tmp_path)
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


def test_demo_is_idempotent_and_covers_every_state(demo_build: DemoBuild, tmp_path: Path) -> None:
    # The session's build ran `migrate` then `demo --if-empty` on a new database.
    url = f"sqlite:///{demo_copy(demo_build, tmp_path)}"
    first = demo_build.printed
    assert "黄金埠镇" in first and "hsl-xieshang-2026" in first
    second = run_cli(url, "demo", cwd=tmp_path)
    assert second.returncode == 0 and "已存在" in second.stdout
    audit = run_cli(url, "audit", "verify", cwd=tmp_path)
    from deliberation import demo

    topics = len(demo.STORIES) + len(demo.SECOND_STORIES) + len(demo.workflow_demos())
    assert audit.returncode == 0 and f"已检查 {topics} 个议题" in audit.stdout, audit.stdout

    import sqlite3

    with sqlite3.connect(tmp_path / "demo.sqlite3") as db:
        first_township = "(SELECT id FROM township WHERE name = '黄金埠镇')"
        states = {
            row[0]
            for row in db.execute("SELECT state FROM topic WHERE workflow_key = ?", (WORKFLOW.key,))
        }
        count = db.execute(
            f"SELECT count(*) FROM topic WHERE township = {first_township}"
        ).fetchone()[0]
        # A demo worth showing: 30 representatives across the villages ...
        per_village = db.execute(
            "SELECT village, count(*) FROM account WHERE role = 'representative' "
            f"AND township = {first_township} GROUP BY village"
        ).fetchall()
        # ... a second township with a topic for the county to urge, and the county.
        second = db.execute(
            "SELECT t.title, t.due_on < date('now', '+8 hours') FROM topic t "
            "JOIN township w ON w.id = t.township WHERE w.name = '港口镇'"
        ).fetchall()
        supervisors = db.execute(
            "SELECT username FROM account WHERE role = 'supervisor'"
        ).fetchall()
        # ... each topic with its own records, not one shared text ...
        findings = [r[0] for r in db.execute("SELECT findings FROM investigation")]
        units = {r[0] for r in db.execute("SELECT responsible_unit FROM resolution_item")}
        # ... and the closed topic fully answered and rated.
        closed = db.execute("SELECT id FROM topic WHERE state = 'closed'").fetchone()[0]
        unanswered = db.execute(
            "SELECT count(*) FROM opinion WHERE topic = ? AND adoption IS NULL", (closed,)
        ).fetchone()[0]
        opinions = db.execute("SELECT count(*) FROM opinion WHERE topic = ?", (closed,)).fetchone()[
            0
        ]
        ratings = db.execute(
            "SELECT count(*) FROM satisfaction_rating WHERE topic = ?", (closed,)
        ).fetchone()[0]
    assert count == 12 + len(demo.workflow_demos())
    assert states == set(WORKFLOW.state_names)
    assert sum(n for _, n in per_village) == 30 and len(per_village) == 5
    assert all(n == 6 for _, n in per_village)
    assert len(findings) == len(set(findings)) >= 8
    assert len(units) >= 5
    assert opinions >= 3 and unanswered == 0 and ratings >= 3
    assert len(second) == 3 and [t for t, late in second if late] == ["港口村码头护栏修复"]
    assert supervisors == [("xianzhengxie",)]
    assert "xianzhengxie" in first and "hsl-duban-2026" in first
    assert "gk-xieshang" in first


def test_cli_renders_and_publishes_a_demo_topics_documents(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    database = demo_copy(demo_build, tmp_path)
    url = f"sqlite:///{database}"
    audit = run_cli(url, "audit", "verify", cwd=tmp_path)  # publishing left the chains intact
    assert audit.returncode == 0, audit.stderr
    reference = _demo_reference_in_state(database, "resolution")
    for kind in ("minutes", "resolution_notice"):
        out = tmp_path / f"{kind}.pdf"
        r = run_cli(
            url, "render", reference, "--kind", kind, "--out", str(out), "--publish", cwd=tmp_path
        )
        assert r.returncode == 0, r.stderr
        assert out.read_bytes().startswith(b"%PDF") and "有效" in r.stdout
        assert "/verify/" in r.stdout and "SHA-256" in r.stdout
    draft = tmp_path / "draft.pdf"
    r = run_cli(url, "render", reference, "--kind", "minutes", "--out", str(draft), cwd=tmp_path)
    assert r.returncode == 0 and "草稿" in r.stdout
    r = run_cli(
        url, "render", "HSL-1999-0001", "--kind", "minutes", "--out", str(draft), cwd=tmp_path
    )
    assert r.returncode == 1 and "HSL-1999-0001" in r.stderr
    r = run_cli(
        url,
        "render",
        reference,
        "--kind",
        "feedback_report",
        "--out",
        "x.pdf",
        "--as",
        "nobody",
        cwd=tmp_path,
    )
    assert r.returncode == 1 and "nobody" in r.stderr


def _demo_reference_in_state(path: Path, state: str) -> str:
    import sqlite3

    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT reference FROM topic WHERE state = ? ORDER BY id", (state,)
        ).fetchone()
    assert row, state
    return str(row[0])


def _every_argument(parser: argparse.ArgumentParser, path: str = "") -> list[tuple[str, Any]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _every_argument(child, f"{path} {name}".strip())
        elif not isinstance(action, argparse._HelpAction):
            found.append((f"{path} {'/'.join(action.option_strings) or action.dest}", action))
    return found


def test_every_option_says_what_it_is_for() -> None:
    from api.cli import build_parser

    silent = [name for name, action in _every_argument(build_parser()) if not action.help]
    assert silent == []


def _user_create(database: str, username: str, password: str) -> subprocess.CompletedProcess[str]:
    """``deliberation user create`` for a staff account with no township."""
    account = ["--username", username, "--role", "staff", "--display-name", "王"]
    return run_cli(database, "user", "create", *account, "--password-stdin", stdin=password + "\n")


def test_user_create_names_the_option_and_the_password_rules(migrated: str) -> None:
    short = _user_create(migrated, "wang", "abc")
    assert short.returncode == 2
    assert "密码至少要有 10 个字符" in short.stderr and "Expected" not in short.stderr
    nowhere = _user_create(migrated, "wang2", "hsl-long-password-2026")
    assert nowhere.returncode != 0
    assert "--township" in nowhere.stderr and "township_id" not in nowhere.stderr, nowhere.stderr


def test_user_create_offers_the_village_cadre_and_asks_for_the_village(migrated: str) -> None:
    """村干部 (issue 26): a role of the command line; placed in a village."""
    account = ["--username", "cunganbu", "--role", "village_cadre", "--display-name", "村干部"]
    answer = run_cli(
        migrated, "user", "create", *account, "--password-stdin", stdin="hsl-long-password-2026\n"
    )
    assert answer.returncode != 0
    assert "--village" in answer.stderr and "村干部必须属于一个村（社区）" in answer.stderr, (
        answer.stderr
    )
    assert "invalid choice" not in answer.stderr


def test_render_kinds_come_from_the_loaded_workflows(demo_build: DemoBuild, tmp_path: Path) -> None:
    """``render --kind`` offers every loaded workflow's document kinds (none fixed in the
    code); a kind the topic's own workflow lacks is a clear Chinese error, exit code 2."""
    from api.cli import build_parser
    from workflows import REGISTRY

    render = next(
        a
        for a in build_parser()._subparsers._group_actions[0].choices["render"]._actions  # type: ignore[union-attr]
        if "--kind" in a.option_strings
    )
    declared = {d.name for w in REGISTRY for d in w.documents}
    assert set(render.choices or ()) == declared
    foreign = sorted(declared - {d.name for d in WORKFLOW.documents})
    assert foreign  # the other workflows' documents (决议公开, 微协商建议, …)

    database = demo_copy(demo_build, tmp_path)
    url = f"sqlite:///{database}"
    reference = _demo_reference_in_state(database, "resolution")
    out = tmp_path / "foreign.pdf"
    r = run_cli(url, "render", reference, "--kind", foreign[0], "--out", str(out), cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert f"议题 {reference} 所用的流程（{WORKFLOW.label}）没有“{foreign[0]}”这种公文" in r.stderr
    assert "可生成：" in r.stderr and WORKFLOW.documents[0].label in r.stderr
    assert not out.exists()
