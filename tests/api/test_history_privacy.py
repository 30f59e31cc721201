"""The history shows each person what the records show them (issue 23, item 3).

A topic's events (``GET /api/v1/topics/{id}/events``) and its page's 办理经过 carry a
correction's reason, its actor and its digests only to those who read the corrected
record in full; an administrator placed in a township reads none of its topics; a
representative never sees the office's time limits.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.conftest import browser
from tests.world import (
    PASSWORD,
    PATH,
    Actor,
    Township,
    World,
    new_township,
    open_topic,
    sign_in,
    step,
    today,
    unique,
)

OPINION_REASON = "代填人张三电话13800001111写错"
INVESTIGATION_REASON = "参加人员漏记王五13900002222"
SITE_REASON = "参会群众赵六家住三组18号"
ITEM_REASON = "负责单位名称更正"
STEP_REASON = "推进"  # what tests.world writes when it takes a step
PRIVATE = (OPINION_REASON, INVESTIGATION_REASON, SITE_REASON)
SUMMARY_RECORDS = ("investigation", "site_consultation")
OWNED_RECORDS = ("opinion", "satisfaction")
DIGESTS = ("digest", "changed", "also")


@dataclass
class Story:
    township: Township
    topic: dict[str, Any]
    neighbour: Actor
    """A second representative of the topic's village (not the opinion's author)."""
    opinion_id: int


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


@pytest.fixture(scope="module")
async def story(world: World) -> Story:
    """A topic of village 金山 walked to 落实反馈 (public), with a corrected opinion (its
    stance and 代填 name), a corrected investigation and site consultation, a corrected
    item and a rating changed from 满意 to 不满意, each correction's reason naming
    someone with a telephone number."""
    t = await new_township(world, "经过镇")
    name = unique("linju")
    await _ok(
        await world.admin.post(
            "/api/v1/users",
            {
                "username": name,
                "password": PASSWORD,
                "display_name": "测试邻居代表",
                "role": "representative",
                "township_id": t.id,
                "village_id": t.villages[0]["id"],
            },
        )
    )
    neighbour = await sign_in(world.client, name)
    topic = await open_topic(t, village_id=t.villages[0]["id"])
    tid = topic["id"]
    rep, liaison, staff = t["representative"], t["liaison"], t["staff"]
    opinion = await _ok(
        await rep.post(
            f"/api/v1/topics/{tid}/opinions",
            {"content": "路灯不亮", "stance": "support", "on_behalf_of": "村民王五"},
        )
    )
    await _ok(
        await rep.patch(
            f"/api/v1/opinions/{opinion['id']}",
            {"stance": "oppose", "on_behalf_of": "张三", "reason": OPINION_REASON},
        )
    )
    investigation = await _ok(
        await liaison.post(
            f"/api/v1/topics/{tid}/investigations",
            {
                "visited_on": str(today()),
                "place": "三组",
                "participants": "联络员",
                "findings": "属实",
            },
        )
    )
    await _ok(
        await liaison.patch(
            f"/api/v1/investigations/{investigation['id']}",
            {"participants": "联络员、王五", "reason": INVESTIGATION_REASON},
        )
    )
    await step(t, topic, "proposed", "investigated")
    site = await _ok(
        await liaison.post(
            f"/api/v1/topics/{tid}/site-consultations",
            {
                "held_on": str(today()),
                "place": "村委会",
                "participants": "村两委",
                "summary": "同意",
            },
        )
    )
    await _ok(
        await liaison.patch(
            f"/api/v1/site-consultations/{site['id']}",
            {"participants": "村两委、赵六", "reason": SITE_REASON},
        )
    )
    for source, dest in itertools.pairwise(
        PATH[PATH.index("investigated") : PATH.index("feedback") + 1]
    ):
        await step(t, topic, source, dest)
    item = (await staff.get(f"/api/v1/topics/{tid}/resolution-items")).json()[0]
    await _ok(
        await staff.patch(
            f"/api/v1/resolution-items/{item['id']}",
            {"responsible_unit": "镇村建办公室", "reason": ITEM_REASON},
        )
    )
    await _ok(await rep.post(f"/api/v1/topics/{tid}/satisfaction", {"rating": "satisfied"}))
    await _ok(await rep.post(f"/api/v1/topics/{tid}/satisfaction", {"rating": "dissatisfied"}))
    return Story(t, topic, neighbour, opinion["id"])


async def events_of(actor: Actor, topic_id: int) -> list[dict[str, Any]]:
    response = await actor.get(f"/api/v1/topics/{topic_id}/events")
    assert response.status_code == 200, response.text
    return list(response.json())


def about(events: list[dict[str, Any]], record: str) -> list[dict[str, Any]]:
    return [e for e in events if e["data"].get("record") == record]


def assert_hidden(event: dict[str, Any], where: str) -> None:
    """An event whose record the reader does not see in full: no reason, no actor, no
    digest a guess could be tested against."""
    assert event["comment"] == "", where
    assert event["actor_id"] is None, where
    assert not set(event["data"]) & set(DIGESTS), where
    assert event["view"] != "full", where


async def test_staff_read_every_event_whole(story: Story) -> None:
    events = await events_of(story.township["staff"], story.topic["id"])
    text = json.dumps(events, ensure_ascii=False)
    for reason in (*PRIVATE, ITEM_REASON):
        assert reason in text
    corrected = [e for e in events if e["kind"] == "record.corrected"]
    assert len(corrected) == 4
    for event in corrected:
        assert event["view"] == "full" and event["actor_id"] is not None
        assert event["data"]["changed"] and event["data"]["digest"]
    rated = [e for e in events if e["kind"] == "satisfaction.rated"]
    assert rated[-1]["actor_id"] == story.township["representative"].user["id"]


async def test_another_villages_representative_sees_no_reason_actor_or_digest(
    story: Story,
) -> None:
    rep2 = story.township["representative2"]
    events = await events_of(rep2, story.topic["id"])
    text = json.dumps(events, ensure_ascii=False)
    for reason in PRIVATE:
        assert reason not in text
    author = story.township["representative"].user["id"]
    assert all(e["actor_id"] != author for e in events)
    for record in (*SUMMARY_RECORDS, *OWNED_RECORDS):
        listed = about(events, record)
        assert listed, record  # the event is there, as far as the record is shown
        for event in listed:
            assert_hidden(event, f"{record} {event['kind']}")
    for event in about(events, "satisfaction"):
        assert event["view"] == "counts" and "id" not in event["data"]  # one was given
    for event in about(events, "opinion"):
        assert event["view"] == "anonymous"  # the topic is public: answers without names
    for event in about(events, "investigation"):
        assert event["view"] == "summary" and event["data"]["id"]
    # What they read in full stays whole: the item's correction, the steps.
    item = [e for e in about(events, "resolution_item") if e["kind"] == "record.corrected"]
    assert item[0]["comment"] == ITEM_REASON and item[0]["data"]["changed"]
    assert any(e["kind"] == "transition" and e["comment"] == STEP_REASON for e in events)


async def test_the_own_villages_representatives_see_their_own_records_only(story: Story) -> None:
    tid = story.topic["id"]
    author = story.township["representative"]
    neighbour_events = await events_of(story.neighbour, tid)
    assert OPINION_REASON not in json.dumps(neighbour_events, ensure_ascii=False)
    for record in (*SUMMARY_RECORDS, *OWNED_RECORDS):
        for event in about(neighbour_events, record):
            assert_hidden(event, f"neighbour {record} {event['kind']}")
    # The author reads their own opinion and rating in full, not the office's records.
    own = await events_of(author, tid)
    corrected = [e for e in about(own, "opinion") if e["kind"] == "record.corrected"]
    assert corrected[0]["comment"] == OPINION_REASON
    assert corrected[0]["actor_id"] == author.user["id"] and corrected[0]["data"]["changed"]
    assert about(own, "satisfaction")[-1]["data"]["changed"]
    for record in SUMMARY_RECORDS:
        for event in about(own, record):
            assert_hidden(event, f"author {record} {event['kind']}")
    assert INVESTIGATION_REASON not in json.dumps(own, ensure_ascii=False)


@pytest.fixture(scope="module")
async def pages(story: Story, world: World, app: Litestar) -> dict[str, httpx.AsyncClient]:
    found = {}
    who: dict[str, Actor | None] = {
        "public": None,
        "staff": story.township["staff"],
        "representative2": story.township["representative2"],
        "neighbour": story.neighbour,
        "outsider": world.a["staff"],
    }
    for name, actor in who.items():
        client, _ = await browser(app)
        if actor is not None:
            client.cookies.set("hsl_session", actor.token)
        found[name] = client
    return found


def timeline_of(page: httpx.Response) -> str:
    """The page's 办理经过 list."""
    assert page.status_code == 200, page.text[-2000:]
    return page.text.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]


AUTHOR_NAME = re.compile("测试representative(?!2)")
"""The display name tests.world gives the opinion's and the rating's author."""


@pytest.mark.parametrize("reader", ["public", "representative2", "neighbour", "outsider"])
async def test_the_pages_timeline_keeps_private_reasons_private(
    story: Story, pages: dict[str, httpx.AsyncClient], reader: str
) -> None:
    timeline = timeline_of(await pages[reader].get(f"/topics/{story.topic['id']}"))
    for reason in PRIVATE:
        assert reason not in timeline, reader
    # The corrections are still there, and what the reader may read is worded.
    assert "更正调研记录" in timeline and "更正协商成果" in timeline
    assert ITEM_REASON in timeline and STEP_REASON in timeline
    if reader in ("representative2", "neighbour"):  # the township: names where it may
        assert not AUTHOR_NAME.search(timeline)  # the opinion's and the rating's author


async def test_the_office_page_shows_every_reason(
    story: Story, pages: dict[str, httpx.AsyncClient]
) -> None:
    timeline = timeline_of(await pages["staff"].get(f"/topics/{story.topic['id']}"))
    for reason in (*PRIVATE, ITEM_REASON):
        assert reason in timeline
    assert AUTHOR_NAME.search(timeline)


# An administrator placed in a township ----------------------------------------------


async def test_an_administrator_placed_in_a_township_reads_none_of_its_topics(
    world: World, app: Litestar
) -> None:
    t = await new_township(world, "管理镇")
    admin = t["admin"]  # placed in the township, as the demo's administrator is
    topic = await open_topic(t, title=unique("未公开议题"))
    tid = topic["id"]
    for path in ("", "/events", "/opinions", "/investigations", "/tallies"):
        response = await admin.get(f"/api/v1/topics/{tid}{path}")
        assert response.status_code == 404, (path, response.text)
    listing = await admin.get("/api/v1/topics")
    assert listing.status_code == 403 and listing.json()["code"] == "forbidden"
    listing = await admin.get("/api/v1/topics", params={"township_id": t.id})
    assert listing.status_code == 403
    figures = (await admin.get("/api/v1/statistics", params={"township_id": t.id})).json()
    public = (await world.client.get("/api/v1/statistics", params={"township_id": t.id})).json()
    assert figures["public_only"] is True and figures == public
    client, _ = await browser(app)
    client.cookies.set("hsl_session", admin.token)
    assert (await client.get(f"/topics/{tid}")).status_code == 404
    me = await client.get("/me")
    assert topic["title"] not in me.text
    county = await client.get(f"/county/townships/{t.id}")
    assert county.status_code in (403, 404) and topic["title"] not in county.text
    # Its township's people still read it (the control).
    assert (await t["representative"].get(f"/api/v1/topics/{tid}")).status_code == 200


# The office's time limits ---------------------------------------------------------


async def test_representatives_never_see_the_offices_time_limits(
    world: World, app: Litestar
) -> None:
    t = await new_township(world, "期限镇")
    topic = await open_topic(t, title=unique("期限议题"), village_id=t.villages[0]["id"])
    tid = topic["id"]
    staff_view = (await t["staff"].get(f"/api/v1/topics/{tid}")).json()
    assert staff_view["due_on"] and staff_view["due_label"] == "完成调研"
    for key in ("representative", "representative2"):
        rep = t[key]
        one = (await rep.get(f"/api/v1/topics/{tid}")).json()
        listed = (await rep.get("/api/v1/topics")).json()["items"]
        assert [i["id"] for i in listed] == [tid]
        for seen in (one, listed[0]):
            assert seen["due_on"] is None and seen["due_label"] is None, key
            assert seen["overdue"] is False and seen["due_provisional"] is False
    pages = {}
    for key in ("staff", "representative"):
        client, _ = await browser(app)
        client.cookies.set("hsl_session", t[key].token)
        pages[key] = await client.get(f"/county/townships/{t.id}")
        assert pages[key].status_code == 200 and topic["title"] in pages[key].text
    assert "完成调研" in pages["staff"].text and staff_view["due_on"] in pages["staff"].text
    assert "完成调研" not in pages["representative"].text
    assert staff_view["due_on"] not in pages["representative"].text
