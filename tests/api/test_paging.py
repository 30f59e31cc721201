"""Every list that grows is paged (issue 29, item 1; docs/decisions.md "Paged lists"):
``limit`` (default 100, at most 500) and ``after`` (the last id, or seq for events) choose
the page, the next page's address comes in ``Link: <…>; rel="next"``, absent on the last
page, and the body stays a JSON array. Rows added between two pages are neither skipped
nor repeated; a reader pages over what they may see, no more and no fewer."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar import Litestar

from deliberation import records, topics
from deliberation.tables import Delivery, Webhook
from tests.api.test_documents import create, publish
from tests.api.test_suggestions import body, fresh_client
from tests.receiver import Receiver
from tests.world import (
    PASSWORD,
    Actor,
    Township,
    World,
    new_township,
    open_topic,
    sign_in,
    today,
    topic_in_state,
    unique,
)
from tests.world import walk as walk_to

LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


@dataclass
class Story:
    township: Township
    topic: dict[str, Any]
    neighbour: Actor
    """A second representative of the topic's village."""


async def _ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def add_opinion(author: Actor, topic_id: int, content: str = "路灯不亮") -> dict[str, Any]:
    body = {"content": content, "stance": "support"}
    return dict(await _ok(await author.post(f"/api/v1/topics/{topic_id}/opinions", body)))


@pytest.fixture(scope="module")
async def story(world: World) -> Story:
    """A proposed topic of village 金山, with six opinions: three by its representative,
    three by a neighbour of the same village, in turn."""
    t = await new_township(world, "分页镇")
    name = unique("fenye")
    await _ok(
        await world.admin.post(
            "/api/v1/users",
            {
                "username": name,
                "password": PASSWORD,
                "display_name": "测试分页代表",
                "role": "representative",
                "township_id": t.id,
                "village_id": t.villages[0]["id"],
            },
        )
    )
    neighbour = await sign_in(world.client, name)
    topic = await open_topic(t, village_id=t.villages[0]["id"])
    for n in range(3):
        await add_opinion(t["representative"], topic["id"], f"意见{n}")
        await add_opinion(neighbour, topic["id"], f"邻居意见{n}")
    return Story(t, topic, neighbour)


def next_address(response: httpx.Response) -> str | None:
    """The ``Link: <…>; rel="next"`` address, or None (the last page)."""
    link = response.headers.get("link")
    if link is None:
        return None
    match = LINK.match(link)
    assert match, link
    return match["url"]


async def walk(
    actor: Actor,
    path: str,
    key: str = "id",
    between: Callable[[int], Awaitable[None]] | None = None,
    **params: Any,
) -> tuple[list[Any], list[int]]:
    """Every page of ``path`` by its ``Link`` headers (``between(n)`` after page n): the
    rows, and each page's length."""
    rows: list[Any] = []
    sizes: list[int] = []
    address: str | None = path
    first = True
    while address is not None:
        response = await actor.get(address, params=params if first else None)
        assert response.status_code == 200, response.text
        page = response.json()
        assert isinstance(page, list)
        rows += page
        sizes.append(len(page))
        address = next_address(response)
        if address is not None:
            assert address.startswith(path + "?"), address  # root-relative, same path
            query = parse_qs(urlsplit(address).query)
            assert query["after"] == [str(page[-1][key])]
            for name, value in params.items():  # the rest of the query is kept
                assert query[name] == [str(value)]
            if between is not None:
                await between(len(sizes))
        first = False
    return rows, sizes


async def test_opinions_page_by_page_while_more_are_added(story: Story) -> None:
    t, tid = story.township, story.topic["id"]
    added: list[int] = []

    async def more(page: int) -> None:
        # Three more opinions arrive after the first page, one after the second.
        authors = [t["representative"], story.neighbour, t["representative"]][: 4 - page * 2 + 1]
        for author in authors if page <= 2 else []:
            added.append((await add_opinion(author, tid, f"后来的意见{page}"))["id"])

    path = f"/api/v1/topics/{tid}/opinions"
    rows, sizes = await walk(t["staff"], path, between=more, limit=4)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == 10  # six before, four meanwhile: each once
    assert ids == sorted(ids) and len(added) == 4 and set(added) <= set(ids)
    assert sizes == [4, 4, 2]  # the last page, and only it, without a Link
    everything = await _ok(await t["staff"].get(path))
    assert [r["id"] for r in everything] == ids  # one page of 100 holds them all
    assert rows == everything


async def test_a_reader_pages_over_what_they_may_see(story: Story) -> None:
    """A representative sees their own opinions of a proposed topic (the others' only as
    counts): their pages hold their own, all of them, and nobody else's."""
    t, tid = story.township, story.topic["id"]
    path = f"/api/v1/topics/{tid}/opinions"
    for reader in (t["representative"], story.neighbour):
        rows, sizes = await walk(reader, path, limit=1)
        assert rows, "the reader's own opinions"
        assert {r["author_id"] for r in rows} == {reader.user["id"]}
        every = await records.opinions_seen(
            reader.principal, await topics.visible_topic(reader.principal, tid)
        )
        assert [r["id"] for r in rows] == [o.id for o in every]
        assert sizes == [1] * len(rows)  # full pages: nobody else's rows counted


async def test_events_page_by_seq_while_more_are_added(story: Story) -> None:
    t, tid = story.township, story.topic["id"]

    async def more(page: int) -> None:
        if page == 1:
            await add_opinion(t["representative"], tid, "翻页时的意见")

    path = f"/api/v1/topics/{tid}/events"
    rows, sizes = await walk(t["staff"], path, key="seq", between=more, limit=3)
    seqs = [r["seq"] for r in rows]
    assert seqs == sorted(set(seqs)) and seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert sizes[:-1] == [3] * (len(sizes) - 1) and 1 <= sizes[-1] <= 3
    assert rows == await _ok(await t["staff"].get(path))
    # A representative passes over the events of the others' opinions, never short of a page.
    mine, sizes = await walk(t["representative"], path, key="seq", limit=2)
    assert sizes[:-1] == [2] * (len(sizes) - 1)
    assert [r["seq"] for r in mine] == [
        e.seq
        for e in await topics.list_events(t["representative"].principal, tid)  # unpaged
    ]


async def test_another_kind_is_paged_the_same(story: Story) -> None:
    t, tid = story.township, story.topic["id"]
    path = f"/api/v1/topics/{tid}/investigations"
    for n in range(3):
        body = {
            "visited_on": str(today()),
            "place": f"{n}组",
            "participants": "联络员",
            "findings": "属实",
        }
        await _ok(await t["liaison"].post(path, body))
    rows, sizes = await walk(t["staff"], path, limit=2)
    assert sizes == [2, 1] and [r["place"] for r in rows] == ["0组", "1组", "2组"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"after": "-1"}, "after"),
        ({"after": "abc"}, "after"),
        ({"after": "1.5"}, "after"),
        ({"after": str(2**31)}, "after"),
    ],
)
async def test_bad_paging_is_a_400_naming_the_parameter(
    story: Story, query: dict[str, str], field: str
) -> None:
    t, tid = story.township, story.topic["id"]
    for path in (f"/api/v1/topics/{tid}/opinions", f"/api/v1/topics/{tid}/events"):
        response = await t["staff"].get(path, params=query)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["code"] == "bad_page" and problem["field"] == field
        assert field in problem["detail"]


async def test_the_largest_key_is_an_empty_last_page(story: Story) -> None:
    t, tid = story.township, story.topic["id"]
    for path in (f"/api/v1/topics/{tid}/opinions", f"/api/v1/topics/{tid}/events"):
        response = await t["staff"].get(path, params={"after": 2**31 - 1})
        assert response.status_code == 200 and response.json() == []
        assert "link" not in response.headers


async def test_a_hundred_by_default_five_hundred_at_most(world: World) -> None:
    t = await new_township(world, "百条镇")
    topic = await open_topic(t, village_id=t.villages[0]["id"])
    path = f"/api/v1/topics/{topic['id']}/opinions"
    for n in range(101):
        await add_opinion(t["representative"], topic["id"], f"第{n}条")
    first = await t["staff"].get(path)
    assert len(first.json()) == 100 and next_address(first) is not None
    rest = await t["staff"].get(next_address(first) or "")
    assert len(rest.json()) == 1 and next_address(rest) is None
    whole = await t["staff"].get(path, params={"limit": 500})
    assert len(whole.json()) == 101 and "link" not in whole.headers


async def test_the_topic_answer_carries_the_tallies(story: Story) -> None:
    """Nobody pages to count: the topic's answer holds its opinions by stance and by
    adoption, the unanswered and the ratings, as counting the rows gives them."""
    t, tid = story.township, story.topic["id"]
    opinions = await _ok(
        await t["staff"].get(f"/api/v1/topics/{tid}/opinions", params={"limit": 500})
    )
    await _ok(
        await t["representative"].post(
            f"/api/v1/topics/{tid}/opinions", {"content": "反对", "stance": "oppose"}
        )
    )
    for opinion, adoption in zip(opinions, ["adopted", "not_adopted", "adopted"], strict=False):
        await _ok(
            await t["staff"].post(
                f"/api/v1/opinions/{opinion['id']}/answer",
                {"adoption": adoption, "reason": "已研究"},
            )
        )
    opinions = await _ok(
        await t["staff"].get(f"/api/v1/topics/{tid}/opinions", params={"limit": 500})
    )
    answer = await _ok(await t["staff"].get(f"/api/v1/topics/{tid}"))
    tallies = answer["tallies"]

    def count(field: str, value: Any) -> int:
        return sum(1 for o in opinions if o[field] == value)

    assert tallies["opinions"] == {
        s: count("stance", s) for s in ("support", "oppose", "suggestion")
    }
    assert tallies["opinions"]["oppose"] >= 1
    assert tallies["adoption"] == {
        a: count("adoption", a) for a in ("adopted", "partly_adopted", "not_adopted")
    }
    assert tallies["adoption"]["adopted"] == 2
    assert tallies["unanswered"] == count("adoption", None) == len(opinions) - 3
    assert tallies["satisfaction"] == {"satisfied": 0, "basically_satisfied": 0, "dissatisfied": 0}
    # The representative, who sees only their own opinions, gets the same counts.
    theirs = await _ok(await t["representative"].get(f"/api/v1/topics/{tid}"))
    assert theirs["tallies"] == tallies
    # The v1 tallies route answers as before, from the same counts.
    old = await _ok(await t["representative"].get(f"/api/v1/topics/{tid}/tallies"))
    assert old == {"opinions": tallies["opinions"], "satisfaction": tallies["satisfaction"]}


async def test_documents_page_over_what_the_reader_may_see(world: World) -> None:
    """The staff page over drafts and published documents; a representative, who may
    not read drafts, over the published ones only, in full pages."""
    t = await new_township(world, "文书镇")
    topic = await topic_in_state(t, "feedback", village_id=t.villages[0]["id"])
    path = f"/api/v1/topics/{topic['id']}/documents"
    for kind in ("resolution_notice", "feedback_report", "minutes"):
        await create(t["staff"], topic["id"], kind)
    everything = await _ok(await t["staff"].get(path))
    drafts = [d for d in everything if d["status"] == "draft"]
    await publish(t["staff"], drafts[0]["id"])
    everything = await _ok(await t["staff"].get(path))
    assert len(everything) >= 3 and any(d["status"] == "draft" for d in everything)
    rows, sizes = await walk(t["staff"], path, limit=1)
    assert rows == everything and sizes == [1] * len(everything)
    published = [d["id"] for d in everything if d["status"] != "draft"]
    rows, sizes = await walk(t["representative"], path, limit=1)
    assert [d["id"] for d in rows] == published and sizes == [1] * len(published)


async def test_webhook_deliveries_page_newest_first(world: World, receiver: Receiver) -> None:
    t = await new_township(world, "推送镇")
    hook = await _ok(await t["staff"].post("/api/v1/webhooks", {"target_url": receiver.url}))
    topic = await open_topic(t, village_id=t.villages[0]["id"])
    for n in range(4):
        await add_opinion(t["representative"], topic["id"], f"推送意见{n}")
    path = f"/api/v1/webhooks/{hook['id']}/deliveries"
    everything = await _ok(await t["staff"].get(path))
    assert len(everything) >= 5  # the topic opened, four opinions
    ids = [d["id"] for d in everything]
    assert ids == sorted(ids, reverse=True)  # newest first, as always

    async def more(page: int) -> None:
        if page == 1:  # a newer delivery goes on the first page, not into the walk
            await add_opinion(t["representative"], topic["id"], "翻页时的意见")

    rows, sizes = await walk(t["staff"], path, between=more, limit=2, status="pending")
    assert [d["id"] for d in rows] == [i for i in ids if i in {d["id"] for d in rows}]
    assert [d["id"] for d in rows] == [d["id"] for d in everything if d["status"] == "pending"]
    assert len(await _ok(await t["staff"].get(path))) == len(everything) + 1
    assert sizes[:-1] == [2] * (len(sizes) - 1)
    # Nothing left pending for a later test's delivery loop to send to the session's
    # shared receiver (test_webhooks counts what it receives).
    await Webhook.update({Webhook.active: False}).where(Webhook.id == hook["id"])
    await Delivery.delete().where(Delivery.webhook == hook["id"])


async def test_a_suggestions_events_page_by_seq(world: World, app: Litestar) -> None:
    t = await new_township(world, "建议镇")
    filed = await _ok(await fresh_client(app).post("/api/v1/suggestions", json=body(t)))
    path = f"/api/v1/suggestions/{filed['id']}"
    for n in range(4):
        change = {"public_content": f"村口路灯不亮（第{n}次核对）", "reason": f"核对{n}"}
        await _ok(await t["staff"].patch(path, change))
    for reader in (t["staff"], t["representative"]):
        everything = await _ok(await reader.get(f"{path}/events"))
        assert len(everything) >= 5  # filed, four corrections
        rows, sizes = await walk(reader, f"{path}/events", key="seq", limit=2)
        assert rows == everything
        assert sizes == [2] * (len(rows) // 2) + ([len(rows) % 2] if len(rows) % 2 else [])


async def test_accounts_page_by_id(world: World) -> None:
    t = await new_township(world, "账号镇")
    mine = await _ok(await world.admin.get("/api/v1/users", params={"township_id": t.id}))
    assert len(mine) == 7  # the township's accounts of tests.world
    rows, sizes = await walk(world.admin, "/api/v1/users", limit=3, township_id=t.id)
    assert rows == mine and sizes == [3, 3, 1]


async def test_once_public_others_page_over_the_answered_opinions_without_names(
    world: World,
) -> None:
    """At 已形成成果 a representative of another village reads the answered opinions
    without names and the others not at all: their pages hold exactly those, full."""
    t = await new_township(world, "公开镇")
    topic = await open_topic(t, village_id=t.villages[0]["id"])
    made = [
        (await add_opinion(t["representative"], topic["id"], f"意见{n}"))["id"] for n in range(6)
    ]
    answered = made[1::2]
    for opinion_id in answered:
        body = {"adoption": "adopted", "reason": "已研究"}
        await _ok(await t["staff"].post(f"/api/v1/opinions/{opinion_id}/answer", body))
    await walk_to(t, topic, "resolution")
    path = f"/api/v1/topics/{topic['id']}/opinions"
    rows, sizes = await walk(t["representative2"], path, limit=1)
    assert [r["id"] for r in rows] == answered and sizes == [1] * len(answered)
    assert all(r["view"] == "anonymous" and r["author_id"] is None for r in rows)
    mine, _ = await walk(t["representative"], path, limit=4)
    assert [r["id"] for r in mine] == made and all(r["view"] == "full" for r in mine)
