"""Open data (issue 15, item 3): the ZIP's CSVs parse (UTF-8 with BOM) and match the
JSON and the data card, and hold no name of any representative or villager of the
demo; the web serves the newest build, and the worker rebuilds it once a day."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from datetime import timedelta
from pathlib import Path

import frictionless
import pytest

from api.settings import Settings
from deliberation import clock, open_data
from tests.cli import run_cli
from tests.demo import DemoBuild, demo_copy
from tests.world import World, new_township, topic_in_state
from workflows.registry import REGISTRY

NOT_IN_THE_DEMO = {"suggestions", "plan"}
"""Files the demo has no rows of (issue 27: no suggestions or plans in it yet)."""


@pytest.fixture(scope="module")
def demo_export(
    tmp_path_factory: pytest.TempPathFactory, demo_build: DemoBuild
) -> tuple[Path, Path]:
    """The demo's database and its open data, written by the command."""
    folder = tmp_path_factory.mktemp("open-data-demo")
    database = demo_copy(demo_build, folder)
    url = f"sqlite:///{database}"
    done = run_cli(url, "export", "open-data", "--out", str(folder / "out"), cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "公开数据已写入" in done.stdout
    return database, folder / "out"


def people_of(database: Path) -> set[str]:
    """Every representative's and villager's name the demo holds."""
    with sqlite3.connect(database) as db:
        names = {
            r[0]
            for r in db.execute("SELECT display_name FROM account WHERE role = 'representative'")
        }
        names |= {r[0] for r in db.execute("SELECT on_behalf_of FROM opinion")}
        names |= {
            r[0] for r in db.execute("SELECT name FROM meeting_attendee WHERE unit LIKE '%村民%'")
        }
    bare = {n.split("（")[0].strip() for n in names}
    return {n for n in names | bare if len(n) >= 2}


def test_the_zip_holds_every_table_as_csv_and_json_with_a_data_card(
    demo_export: tuple[Path, Path],
) -> None:
    database, out = demo_export
    with zipfile.ZipFile(out / open_data.LATEST) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert {"README.md", "LICENSE.txt", open_data.NESTED_STATISTICS} <= set(files)
    card = files["README.md"].decode()
    assert "CC BY 4.0" in files["LICENSE.txt"].decode() and "LICENSE.txt" in card
    with sqlite3.connect(database) as db:
        # Public: in a public state of the workflow version the topic is pinned to (the
        # demo has 四议两公开 and 微协商 topics beside the standard ones).
        public = {
            reference
            for reference, key, version, state in db.execute(
                "SELECT reference, workflow_key, workflow_version, state FROM topic"
            )
            if state in REGISTRY.get(key, version).public_states
        }
        published = db.execute(
            "SELECT count(*) FROM document WHERE status NOT IN ('draft', 'rendering')"
        ).fetchone()[0]
    for data_file in open_data.FILES:
        raw = files[f"{data_file.name}.csv"]
        assert raw.startswith("\ufeff".encode()), data_file.name  # Excel reads it as UTF-8
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        as_json = json.loads(files[f"{data_file.name}.json"])
        assert len(rows) == len(as_json), data_file.name
        if data_file.name in NOT_IN_THE_DEMO:
            continue  # tests/api/test_open_data_suggestions.py
        assert rows, data_file.name
        # Every field is in the file and defined in the data card.
        names = [f.name for f in data_file.fields]
        assert list(rows[0]) == names == list(as_json[0])
        for name in names:
            assert f"| {name} |" in card, name
        assert (
            f"| {data_file.name}.csv / {data_file.name}.json | {data_file.title} | {len(rows)} |"
            in card
        )
        assert (out / f"{data_file.name}.csv").read_bytes() == raw
    topics = list(csv.DictReader(io.StringIO(files["topics.csv"].decode("utf-8-sig"))))
    assert {t["topic_reference"] for t in topics} == public  # from resolution on, no other
    documents = json.loads(files["documents.json"])
    assert len(documents) == published
    assert all(d["pdf_url"].endswith("/pdf") and len(d["sha256"]) == 64 for d in documents)
    timeline = json.loads(files["timeline.json"])
    assert {e["topic_reference"] for e in timeline} == public
    assert all(e["happened_at"].endswith("+08:00") for e in timeline)
    statistics = json.loads(files[open_data.NESTED_STATISTICS])
    assert sum(t["topics"] for year in statistics for t in year["townships"]) == len(public)


def test_the_data_package_describes_every_csv_and_frictionless_finds_all_valid(
    demo_export: tuple[Path, Path], tmp_path: Path
) -> None:
    _, out = demo_export
    with zipfile.ZipFile(out / open_data.LATEST) as archive:
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
        archive.extractall(tmp_path)
    assert set(modes.values()) == {0o644}, modes  # readable once unpacked, not 0600
    descriptor = json.loads((tmp_path / open_data.PACKAGE).read_text(encoding="utf-8"))
    csvs = {p.name for p in tmp_path.glob("*.csv")}
    assert {r["path"] for r in descriptor["resources"]} == csvs and len(csvs) == 8
    report = frictionless.validate(str(tmp_path / open_data.PACKAGE))
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "message"])
    assert len(report.tasks) == 8
    assert all(task.stats["rows"] > 0 for task in report.tasks if task.name not in NOT_IN_THE_DEMO)
    topics = next(r for r in descriptor["resources"] if r["name"] == "topics")
    types = {f["name"]: f["type"] for f in topics["schema"]["fields"]}
    assert types["opened_on"] == "date" and types["opinions_adopted"] == "integer"


def test_no_representative_or_villager_is_named(demo_export: tuple[Path, Path]) -> None:
    database, out = demo_export
    people = people_of(database)
    assert len(people) >= 30  # the demo's thirty representatives at least
    with zipfile.ZipFile(out / open_data.LATEST) as archive:
        texts = {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}
    named = {(file, person) for file, text in texts.items() for person in people if person in text}
    assert named == set()


async def test_the_web_serves_the_newest_build_and_the_worker_makes_one_a_day(
    world: World, settings: Settings
) -> None:
    t = await new_township(world, "公开镇")
    topic = await topic_in_state(t, "resolution")
    # A correction's reason may name the person the record got wrong: not published.
    [item] = (await t["staff"].get(f"/api/v1/topics/{topic['id']}/resolution-items")).json()
    r = await t["staff"].patch(
        f"/api/v1/resolution-items/{item['id']}",
        {"responsible_unit": "镇水务站", "reason": "应由村民欧阳娜娜家门口段开始"},
    )
    assert r.status_code == 200, r.text
    await open_data.write(settings.open_data_dir, settings.public_url)
    page = await world.client.get("/open-data/")
    assert (
        page.status_code == 200 and "下载全部数据" in page.text and "topic_reference" in page.text
    )
    latest = await world.client.get(f"/open-data/{open_data.LATEST}")
    assert latest.status_code == 200 and latest.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(latest.content)) as archive:
        assert topic["reference"] in archive.read("topics.csv").decode("utf-8-sig")
        timeline = archive.read("timeline.csv").decode("utf-8-sig")
        assert "更正协商成果" in timeline and "欧阳娜娜" not in timeline
        assert "镇水务站" in archive.read("items.csv").decode("utf-8-sig")
    one = await world.client.get("/open-data/items.csv")
    assert one.status_code == 200 and one.content.startswith("\ufeff".encode())
    assert one.headers["content-type"] == "text/csv; charset=utf-8"  # one charset, not two
    card = await world.client.get("/open-data/README.md")
    assert card.headers["content-type"] == "text/markdown; charset=utf-8"
    assert (await world.client.get("/open-data/secrets.csv")).status_code == 404
    assert (await world.client.get("/open-data/..%2Fsecret_key")).status_code == 404

    assert await open_data.rebuild_if_due(settings.open_data_dir, settings.public_url) is False
    start = clock.offset_seconds()
    try:
        clock.set_offset(start + timedelta(days=1).total_seconds())
        assert await open_data.rebuild_if_due(settings.open_data_dir, settings.public_url)
        assert open_data.built_on(settings.open_data_dir) == clock.china_today()
    finally:
        clock.set_offset(start)


async def test_the_schedulers_tick_builds_the_days_open_data(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    """What the worker (or ``serve``) runs every minute builds the day's open data once."""
    from dataclasses import replace

    from deliberation.notifications.reminders import scheduler_tick

    folder = tmp_path / "open-data"
    config = replace(settings.delivery(), open_data_dir=folder)
    await scheduler_tick(config)
    assert open_data.built_on(folder) == clock.china_today()
    first = open_data.last_build(folder)
    await scheduler_tick(config)
    assert open_data.last_build(folder) == first  # not again the same day


def test_the_demos_figures_show_stages_that_took_time(demo_export: tuple[Path, Path]) -> None:
    """The demo was built with time (issue 25): its stages took working days, not the
    same minute, and not every one kept its limit."""
    _, out = demo_export
    with zipfile.ZipFile(out / open_data.LATEST) as archive:
        statistics = json.loads(archive.read(open_data.NESTED_STATISTICS))
    stages = [
        stage
        for year in statistics
        for township in year["townships"]
        for stage in township["stages"]
        if stage["finished"]
    ]
    assert stages
    assert all(stage["median_working_days"] > 0 for stage in stages), stages
    finished = sum(stage["finished"] for stage in stages)
    assert 0 < sum(stage["on_time"] for stage in stages) < finished
