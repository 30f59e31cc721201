"""The demo a newcomer first sees tells a story with time: topics opened over the past
months, each stage entered on a working day after the one before, meetings after their
topics, one topic really (and only just) overdue, answers that do not repeat their
label, and documents that name the address the demo is served at."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
from collections import defaultdict
from contextlib import closing
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from pypdf import PdfReader

from deliberation import demo
from deliberation.clock import china_date, china_today
from deliberation.wording import ADOPTION_LABELS
from deliberation.workdays import WorkingDays
from tests.cli import run_cli
from tests.demo import SERVED_AT, DemoBuild, demo_copy

CALENDAR = WorkingDays()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, demo_build: DemoBuild) -> Path:
    return demo_copy(demo_build, tmp_path_factory.mktemp("demo-time"))


def rows(database: Path, sql: str) -> list[sqlite3.Row]:
    with closing(sqlite3.connect(database)) as db:
        db.row_factory = sqlite3.Row
        return db.execute(sql).fetchall()


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_each_stage_took_time_and_began_on_a_working_day(database: Path) -> None:
    events: dict[int, list[sqlite3.Row]] = defaultdict(list)
    for event in rows(
        database,
        "SELECT topic, seq, kind, to_state, created_at FROM topic_event ORDER BY topic, seq",
    ):
        events[event["topic"]].append(event)
    opened = {
        t["id"]: moment(t["created_at"]) for t in rows(database, "SELECT id, created_at FROM topic")
    }
    assert len(events) == len(demo.STORIES) + len(demo.SECOND_STORIES) + len(demo.workflow_demos())
    days_seen = set()
    for topic, chain in events.items():
        times = [moment(e["created_at"]) for e in chain]
        assert times == sorted(times) and len(set(times)) == len(times), topic
        assert times[0] >= opened[topic] - timedelta(seconds=1)
        moves = [china_date(moment(e["created_at"])) for e in chain if e["kind"] == "transition"]
        for day in moves:
            assert CALENDAR.is_workday(day)[0], (topic, day)
            days_seen.add(day)
        # Each stage entered on a later working day than the one before.
        assert all(a < b for a, b in pairwise(moves)), (topic, moves)
        assert china_date(opened[topic]) < china_today()
    # Not one minute: topics opened over the past months.
    first = min(china_date(o) for o in opened.values())
    assert china_today() - first > timedelta(days=90)
    assert len(days_seen) > 20


def test_meetings_come_after_their_topics(database: Path) -> None:
    meetings = rows(
        database,
        "SELECT meeting.scheduled_at, topic.created_at, topic.title FROM meeting "
        "JOIN topic ON topic.id = meeting.topic",
    )
    assert meetings
    for meeting in meetings:
        assert moment(meeting["scheduled_at"]) > moment(meeting["created_at"]), meeting["title"]
    for visit in rows(
        database,
        "SELECT investigation.visited_on, topic.created_at FROM investigation "
        "JOIN topic ON topic.id = investigation.topic",
    ):
        assert date.fromisoformat(visit["visited_on"]) >= china_date(moment(visit["created_at"]))


def test_one_topic_is_overdue_by_a_few_days_and_was_opened_months_ago(database: Path) -> None:
    today = china_today()
    late = [
        t
        for t in rows(database, "SELECT title, due_on, created_at, state FROM topic")
        if t["due_on"]
        and date.fromisoformat(t["due_on"]) < today
        and t["state"] not in ("closed", "rejected", "withdrawn")
    ]
    assert [t["title"] for t in late] == [demo.OVERDUE_STORY]
    overdue_by, _ = CALENDAR.count(date.fromisoformat(late[0]["due_on"]), today)
    assert 1 <= overdue_by <= 5  # a few working days, not 逾期 16 天
    assert today - china_date(moment(late[0]["created_at"])) > timedelta(days=45)


def test_answers_do_not_repeat_their_label(database: Path) -> None:
    answered = rows(
        database, "SELECT adoption, answer_reason FROM opinion WHERE adoption IS NOT NULL"
    )
    assert answered
    for opinion in answered:
        label = ADOPTION_LABELS[opinion["adoption"]]
        assert "采纳" not in opinion["answer_reason"], (label, opinion["answer_reason"])


def test_the_demos_documents_name_the_address_it_is_served_at(database: Path) -> None:
    host, port = SERVED_AT
    published = rows(database, "SELECT kind, pdf FROM document WHERE status = 'published'")
    assert published
    for document in published:
        text = "".join(
            page.extract_text() or "" for page in PdfReader(io.BytesIO(document["pdf"])).pages
        )
        flat = "".join(text.split())
        assert f"{host}:{port}" in flat, document["kind"]
        assert ":8000" not in flat, document["kind"]


def test_serving_the_demo_elsewhere_says_its_documents_name_the_first_address(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """``make run PORT=8124`` on a demo built for 8123: published documents cannot change
    (their hashes are in the chain), so the command says where they point and how to
    remake them; served where they point, it says nothing of the kind."""
    host, port = SERVED_AT
    url = f"sqlite:///{demo_copy(demo_build, tmp_path)}"
    elsewhere = run_cli(url, "demo", "--if-empty", "--host", host, "--port", "8124", cwd=tmp_path)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert f"指向 http://{host}:{port}" in elsewhere.stdout
    assert f"而不是 http://{host}:8124" in elsewhere.stdout
    same = run_cli(url, "demo", "--if-empty", "--host", host, "--port", str(port), cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    assert "指向" not in same.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_builds_the_demo_for_the_port_it_serves() -> None:
    """``make run PORT=8123``: the demo's documents are made for the address it serves."""
    planned = subprocess.run(
        ["make", "-n", "run", "HOST=0.0.0.0", "PORT=8123"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    assert "deliberation demo --if-empty --host 0.0.0.0 --port 8123" in planned
    assert "deliberation serve --host 0.0.0.0 --port 8123" in planned


def test_one_topic_of_each_other_workflow_shows_what_it_is_about(database: Path) -> None:
    """微协商 in its opinion window with two opinions; 四议两公开 past 两委商议 with the
    votes that carried it there; 村民说事 in 办事 with its items, the village's 说事日 set."""
    found = {
        t["workflow_key"]: t
        for t in rows(database, "SELECT id, title, workflow_key, state, village FROM topic")
    }
    for workflow, title, state in demo.workflow_demos():
        topic = found[workflow.key]
        assert (topic["title"], topic["state"]) == (title, state)
    demos = demo.workflow_demos()
    assert [w.key for w, _, _ in demos] == ["micro", "siyi", "shuoshi"]  # all three shipped
    micro, siyi, shuoshi = (found[w.key] for w, _, _ in demos)
    siyi_workflow = demos[1][0]
    opinions = rows(database, f"SELECT stance FROM opinion WHERE topic = {micro['id']}")
    assert len(opinions) == 2
    votes = rows(database, f"SELECT body, present, votes_for FROM vote WHERE topic = {siyi['id']}")
    stages = siyi_workflow.main_path[: siyi_workflow.main_path.index(siyi["state"])]
    assert len(votes) == len(stages) == 2
    items = rows(database, f"SELECT id FROM resolution_item WHERE topic = {shuoshi['id']}")
    assert len(items) == 2
    (village,) = rows(database, f"SELECT shuoshi_day FROM village WHERE id = {shuoshi['village']}")
    assert village["shuoshi_day"] == demo.SHUOSHI_DAY
