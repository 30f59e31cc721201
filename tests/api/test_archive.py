"""One archive bag per finished topic (一事一档, issue 15, item 4): a BagIt bag that the
Library of Congress's ``bagit`` validates, and that fails validation once one byte of a
PDF is changed; every published version inside, marked; the archive code stays."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import bagit
import pytest
from litestar import Litestar

from deliberation import archive, chain
from tests.api.test_documents import create, publish
from tests.api.test_sessions_end import page_client
from tests.cli import run_cli
from tests.world import Township, World, fire, new_township, satisfy, today, topic_in_state


def unpack(content: bytes, folder: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        [root] = {name.split("/")[0] for name in archive.namelist()}
        archive.extractall(folder)
    return folder / root


def bag_info(bag: Path) -> dict[str, str]:
    lines = (bag / "bag-info.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split(": ", 1) for line in lines)


async def closed_with_versions(t: Township, draft: bool = False) -> dict[str, Any]:
    """A closed topic whose notice was published twice (the first superseded) and whose
    feedback report was published and then revoked; with ``draft``, a report drafted
    again and never published (its id in ``draft_id``)."""
    topic = await topic_in_state(t, "feedback")
    staff = t["staff"]
    await publish(staff, (await create(staff, topic["id"], "resolution_notice"))["id"])
    # A feedback report needs progress to report (issue 23).
    items = (await staff.get(f"/api/v1/topics/{topic['id']}/resolution-items")).json()
    r = await staff.post(
        f"/api/v1/resolution-items/{items[0]['id']}/progress", {"note": "施工中", "percent": 40}
    )
    assert r.status_code == 201, r.text
    report = await publish(staff, (await create(staff, topic["id"], "feedback_report"))["id"])
    r = await staff.post(f"/api/v1/documents/{report['id']}/revoke", {"reason": "数字有误"})
    assert r.status_code == 200, r.text
    drafted = await create(staff, topic["id"], "feedback_report") if draft else None
    for requirement in ("items_completed", "satisfaction_rated"):
        await satisfy(t, topic, requirement)
    r = await fire(staff, topic, "close", comment="办结")
    assert r.status_code == 200, r.text
    return dict(r.json()) | ({"draft": drafted} if drafted else {})


async def test_a_bag_validates_holds_every_version_and_fails_after_one_byte(
    world: World, tmp_path: Path
) -> None:
    t = await new_township(world, "归档镇")
    topic = await closed_with_versions(t)
    answer = await t["staff"].get(f"/api/v1/topics/{topic['id']}/archive")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert f"{topic['reference']}-" in answer.headers["content-disposition"]
    bag_dir = unpack(answer.content, tmp_path / "one")
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # the manifests, Payload-Oxum and every checksum
    info = bag_info(bag_dir)
    # RFC 8493: SHA-512 manifests (SHA-256 kept beside them), the size for people, and
    # files anyone may read once unpacked.
    assert "sha512" in bag.algorithms
    assert {"manifest-sha512.txt", "tagmanifest-sha512.txt"} <= {p.name for p in bag_dir.iterdir()}
    assert re.fullmatch(r"\d+(\.\d)? (bytes|KB|MB|GB)", info["Bag-Size"]), info
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        modes = {(i.external_attr >> 16) & 0o777 for i in archive.infolist()}
    assert modes == {0o644}, modes
    code = info["External-Identifier"]
    assert re.fullmatch(rf"0001-WS·{today().year}-D30-\d{{4}}", code), code
    assert info["Archive-Code"] == code and info["Retention-Period"] == "D30 定期30年"
    assert info["Source-Organization"] == t.name and info["Chain-Intact"] == "true"

    documents = json.loads((bag_dir / "data/documents.json").read_text())
    statuses = sorted(d["status"] for d in documents)
    assert statuses == ["published", "revoked", "superseded"]  # every published version
    for d in documents:
        pdf = (bag_dir / "data" / d["file"]).read_bytes()
        assert pdf.startswith(b"%PDF") and d["status"] in d["file"]
    revoked = next(d for d in documents if d["status"] == "revoked")
    assert revoked["revoke_reason"] == "数字有误" and revoked["status_label"] == "已撤销"
    record = json.loads((bag_dir / "data/record.json").read_text())
    assert record["topic"]["reference"] == topic["reference"]
    assert {"investigation", "meeting", "resolution_item"} <= set(record["records"])
    events = json.loads((bag_dir / "data/events.json").read_text())
    check = json.loads((bag_dir / "data/chain-check.json").read_text())
    assert check["intact"] is True and check["events"] == len(events)
    assert check["head"]["hash"] == events[-1]["hash"]
    # The chain can be checked again from the bag alone, with the audit key.
    previous = events[0]["prev_hash"]
    for event in events:
        row = event | {"created_at": datetime.fromisoformat(event["created_at"])}
        assert event["prev_hash"] == previous
        assert (
            chain.chain_hash(previous, chain.Event.of_row(topic["id"], row).content())
            == event["hash"]
        )
        previous = event["hash"]
    assert record["earlier_revisions"] == []  # nothing was corrected

    # One byte of one PDF changed: the bag no longer validates.
    victim = bag_dir / "data" / documents[0]["file"]
    body = bytearray(victim.read_bytes())
    body[len(body) // 2] ^= 0x01
    victim.write_bytes(bytes(body))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag_dir)).validate()

    # The code is the topic's for good; the county gets the same bag's code, and the
    # next finished topic the next number.
    again = await world.supervisor.get(f"/api/v1/topics/{topic['id']}/archive")
    assert again.status_code == 200
    assert bag_info(unpack(again.content, tmp_path / "again"))["External-Identifier"] == code
    other = await topic_in_state(t, "rejected")
    next_bag = await t["staff"].get(f"/api/v1/topics/{other['id']}/archive")
    next_code = bag_info(unpack(next_bag.content, tmp_path / "next"))["External-Identifier"]
    assert int(next_code[-4:]) > int(code[-4:])


async def test_only_finished_topics_and_only_their_office_and_the_county(world: World) -> None:
    t = await new_township(world, "归档限镇")
    running = await topic_in_state(t, "meeting")
    refused = await t["staff"].get(f"/api/v1/topics/{running['id']}/archive")
    assert refused.status_code == 409 and refused.json()["code"] == "transition_not_allowed"
    assert "办结、不予立项或撤回后才能归档" in refused.json()["detail"]
    withdrawn = await topic_in_state(t, "withdrawn")
    path = f"/api/v1/topics/{withdrawn['id']}/archive"
    for who, status in (
        (t["staff"], 200),
        (world.supervisor, 200),
        (t["liaison"], 403),
        (t["representative"], 403),
        (world.admin, 403),
        (world.a["staff"], 404),  # another township's: it does not exist for them
    ):
        answer = await who.get(path)
        assert answer.status_code == status, (who.user["role"], answer.text)
    assert (await world.client.get(path)).status_code == 401
    assert (await t["staff"].get("/api/v1/topics/99999999/archive")).status_code == 404
    assert (await t["staff"].get(f"/api/v1/topics/{2**40}/archive")).status_code == 404


async def test_the_button_and_the_command(
    world: World, app: Litestar, database_url: str, tmp_path: Path
) -> None:
    t = await new_township(world, "归档页镇")
    topic = await topic_in_state(t, "rejected")
    running = await topic_in_state(t, "proposed")
    staff = await page_client(app, t["staff"].user["username"])
    page = await staff.get(f"/topics/{topic['id']}")
    assert "归档下载" in page.text
    assert "归档下载" not in (await staff.get(f"/topics/{running['id']}")).text
    download = await staff.get(f"/topics/{topic['id']}/archive.zip")
    assert download.status_code == 200 and download.content.startswith(b"PK")
    liaison = await page_client(app, t["liaison"].user["username"])
    assert "归档下载" not in (await liaison.get(f"/topics/{topic['id']}")).text

    out = tmp_path / "one.zip"
    done = run_cli(database_url, "archive", topic["reference"], "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    bagit.Bag(str(unpack(out.read_bytes(), tmp_path / "cli"))).validate()
    refused = run_cli(database_url, "archive", running["reference"], "--out", str(out))
    assert refused.returncode == 1 and "才能归档" in refused.stderr
    year = run_cli(
        database_url,
        "archive",
        "--all",
        "--year",
        str(today().year),
        "--out",
        str(tmp_path / "all"),
    )
    assert year.returncode == 0, year.stderr
    written = {p.name for p in (tmp_path / "all").iterdir()}
    assert any(name.startswith(topic["reference"]) for name in written)
    assert not any(name.startswith(running["reference"]) for name in written)


async def test_a_draft_never_published_leaves_no_trace_in_the_bag(
    world: World, tmp_path: Path
) -> None:
    """Issue 29, item 6: a bag is the record people may read. The draft is the
    township's staff's working paper: its PDF, its record and its event's content stay
    out of every bag, the staff's and the county's alike; the published and revoked
    documents are the record and stay."""
    t = await new_township(world, "草稿不归档镇")
    topic = await closed_with_versions(t, draft=True)
    draft = topic["draft"]
    mine = await t["staff"].get(f"/api/v1/documents/{draft['id']}")
    assert mine.status_code == 200 and mine.json()["status"] == "draft"
    for who, folder in ((t["staff"], "staff"), (world.supervisor, "county")):
        answer = await who.get(f"/api/v1/topics/{topic['id']}/archive")
        assert answer.status_code == 200, answer.text
        bag_dir = unpack(answer.content, tmp_path / folder)
        bagit.Bag(str(bag_dir)).validate()
        info = bag_info(bag_dir)
        assert info["Chain-Intact"] == "true" and info["Withheld-Events"] == "1"
        assert info["Unpublished-Drafts"].startswith("not filed")

        # No file, no manifest line, no record: the draft's id, digest and PDF nowhere.
        documents = json.loads((bag_dir / "data/documents.json").read_text())
        assert sorted(d["status"] for d in documents) == ["published", "revoked", "superseded"]
        assert draft["id"] not in {d["id"] for d in documents}
        files = [p for p in bag_dir.rglob("*") if p.is_file()]
        assert not any(f"{draft['id']:06d}-" in p.name for p in files)
        manifests = "".join(p.read_text() for p in bag_dir.glob("*manifest-*.txt"))
        assert f"{draft['id']:06d}-" not in manifests and "-draft.pdf" not in manifests
        everything = b"".join(p.read_bytes() for p in files)
        assert draft["sha256"].encode() not in everything
        record = json.loads((bag_dir / "data/record.json").read_text())
        filed = {d["id"] for d in record["records"]["document"]}
        assert filed == {d["id"] for d in documents} and draft["id"] not in filed

        # The chain keeps the drafted event's place only: its links still check, and
        # every other event's hash is checked again from the bag, with the key.
        events = json.loads((bag_dir / "data/events.json").read_text())
        withheld = [e for e in events if "withheld" in e]
        assert len(withheld) == 1 and set(withheld[0]) == {"seq", "prev_hash", "hash", "withheld"}
        assert not any(
            json.loads(e["data"]).get("record") == "document"
            and json.loads(e["data"]).get("id") == draft["id"]
            for e in events
            if "data" in e
        )
        assert {"document.published", "document.revoked"} <= {e.get("kind") for e in events}
        previous = events[0]["prev_hash"]
        for event in events:
            assert event["prev_hash"] == previous
            if "withheld" not in event:
                row = event | {"created_at": datetime.fromisoformat(event["created_at"])}
                content = chain.Event.of_row(topic["id"], row).content()
                assert chain.chain_hash(previous, content) == event["hash"]
            previous = event["hash"]


def test_an_event_vouching_a_draft_among_other_records_leaves_the_draft_out() -> None:
    """A re-vouching event names every record of the topic (``also``): the draft's item
    is left out of the bag's copy, which says it is abridged."""
    data = {
        "v": 2,
        "record": "topic",
        "id": 5,
        "digest": "t",
        "also": [
            {"record": "document", "id": 9, "digest": "draft"},
            {"record": "opinion", "id": 3, "digest": "o"},
        ],
    }
    event = {
        "id": 1,
        "topic": 5,
        "seq": 1,
        "kind": "chain.revouched",
        "data": chain.canonical(data),
        "prev_hash": chain.GENESIS,
        "hash": "h",
        "created_at": datetime.fromisoformat("2026-01-05T08:00:00+00:00"),
    }
    [filed] = archive.filed_events([event], {9})
    assert json.loads(filed["data"])["also"] == [{"record": "opinion", "id": 3, "digest": "o"}]
    assert filed["abridged"] and "topic" not in filed and filed["hash"] == "h"
    assert archive.filed_events([event], {8})[0]["data"] == event["data"]  # nothing withheld
