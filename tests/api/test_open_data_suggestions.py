"""Open data of issue 27 (docs/plans/issue-27-plan.md §8): ``suggestions.csv`` holds the
screened suggestions only, in their public words, and ``plan.csv`` the latest published
version of each plan; a topic is named by reference and linked only once public; the
data package validates (frictionless) and the ZIP holds no villager's name, phone, ID
number or own words, and no pending suggestion."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import frictionless
import pytest

from deliberation import open_data
from deliberation.clock import china_today
from deliberation.tables import PlanItem
from tests.api.suggestion_seed import ID_NUMBER, PHONE, SECRETS, seed, take_out_made
from tests.api.test_plan_figures import plan_of
from tests.world import World, new_township

BASE = "https://example.org"


def rows_of(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files[name].decode("utf-8-sig"))))


async def test_suggestions_and_plans_are_published_without_names_or_phones(
    world: World, tmp_path: Path
) -> None:
    t = await new_township(world, "公开建议镇")
    seeded = await seed(t)
    year = china_today().year
    _, version = await plan_of(t.id, t["staff"].user["id"], year=year)
    items: list[dict[str, Any]] = [
        {"title": "路灯维修", "quarter": 1, "topic": seeded["public"]["topic_id"]},
        {"title": "尚未审核的建议", "quarter": 2, "suggestion": seeded["pending"]["id"]},
        {"title": "河道清淤", "quarter": 3, "suggestion": seeded["hidden"]["id"]},
        {"title": "文化广场", "quarter": 4},
    ]
    for position, item in enumerate(items, 1):
        await PlanItem.insert(
            PlanItem(
                plan_version=version,
                position=position,
                workflow_key="standard",
                lead_unit="镇政府",
                **item,
            )
        )

    await open_data.write(tmp_path, BASE)
    with zipfile.ZipFile(tmp_path / open_data.LATEST) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}

    suggestions = {
        r["suggestion_reference"]: r
        for r in rows_of(files, "suggestions.csv")
        if r["township"] == t.name
    }
    screened = ("public", "hidden", "declined", "merged")
    assert set(suggestions) == {seeded[k]["reference"] for k in screened}  # screened only
    public = suggestions[seeded["public"]["reference"]]
    assert public["title"] == "路灯不亮请维修" and public["filed_by_role"] == "村民"
    # The filer, two representatives, a liaison and two names on paper: six people.
    assert (public["supports_total"], public["supports_representatives"]) == ("6", "2")
    assert public["supports_villagers"] == "5" and public["must_list"] == "true"
    assert public["reason"] == "情况属实，转为议题"  # the public reason only
    assert public["topic_reference"] == seeded["public"]["topic_reference"]
    assert public["topic_url"] == f"{BASE}/topics/{seeded['public']['topic_id']}"
    hidden = suggestions[seeded["hidden"]["reference"]]
    # A topic not yet public: named by its reference, not linked.
    assert hidden["topic_reference"] == seeded["hidden"]["topic_reference"]
    assert hidden["topic_url"] == "" and hidden["village"] == ""
    assert suggestions[seeded["declined"]["reference"]]["filed_by_role"] == "村（居）民代表"
    merged = suggestions[seeded["merged"]["reference"]]
    assert merged["merged_into_reference"] == seeded["public"]["reference"]
    assert merged["status_label"] == "已合并办理"

    plan = [r for r in rows_of(files, "plan.csv") if r["township"] == t.name]
    assert [(r["position"], r["title"], r["version"]) for r in plan] == [
        (str(n), item["title"], "2") for n, item in enumerate(items, 1)
    ]  # the published version's, none of the superseded one's
    by_title = {r["title"]: r for r in plan}
    done = by_title["路灯维修"]
    assert done["topic_reference"] == seeded["public"]["topic_reference"]
    assert done["topic_url"].endswith(f"/topics/{seeded['public']['topic_id']}")
    assert done["topic_state_label"] and done["opened_on"] == str(china_today())
    assert by_title["尚未审核的建议"]["suggestion_reference"] == ""  # pending: not named
    river = by_title["河道清淤"]
    assert river["suggestion_reference"] == seeded["hidden"]["reference"]
    assert river["topic_reference"] == seeded["hidden"]["topic_reference"]
    assert river["topic_url"] == river["topic_state_label"] == ""
    assert (
        by_title["文化广场"]["topic_reference"] == "" and by_title["文化广场"]["closed"] == "false"
    )

    # The data card and the package describe both files; every CSV validates.
    card = files["README.md"].decode()
    assert "不含村民代表和村民的姓名及手机号" in card
    assert "| suggestions.csv / suggestions.json | 村民建议 |" in card
    assert "| plan.csv / plan.json | 年度协商计划 |" in card
    descriptor = json.loads(files[open_data.PACKAGE])
    assert {"suggestions", "plan"} <= {r["name"] for r in descriptor["resources"]}
    report = frictionless.validate(str(tmp_path / open_data.PACKAGE))
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "message"])

    # Nothing in the ZIP names a villager, gives a phone or ID number or a pending
    # suggestion, or quotes the villagers' own words.
    texts = {name: body.decode("utf-8-sig") for name, body in files.items()}
    found = {(name, s) for name, text in texts.items() for s in SECRETS if s in text}
    assert found == set()
    for name, text in texts.items():
        assert ID_NUMBER[:6] + ID_NUMBER[6:14] not in text, name
        if name.startswith(("suggestions.", "plan.")):  # (a document's sha256 may hold one)
            assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text.replace(" ", "")), name
        for hidden_one in ("pending", "must_list"):
            reference = re.escape(seeded[hidden_one]["reference"])
            assert not re.search(rf"{reference}(?!\d)", text), (name, hidden_one)
    assert PHONE not in "".join(texts.values())


@pytest.fixture(autouse=True)
async def _off_the_chain_rows_taken_out() -> AsyncIterator[None]:
    """The suggestions and plans a test wrote straight into the tables go after it."""
    yield
    await take_out_made()
