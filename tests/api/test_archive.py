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

from deliberation import chain
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


async def closed_with_versions(t: Township) -> dict[str, Any]:
    """A closed topic whose notice was published twice (the first superseded) and whose
    feedback report was published and then revoked."""
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
    for requirement in ("items_completed", "satisfaction_rated"):
        await satisfy(t, topic, requirement)
    r = await fire(staff, topic, "close", comment="办结")
    assert r.status_code == 200, r.text
    return dict(r.json())


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
