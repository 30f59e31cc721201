"""Twenty people firing the same trigger on the same version: exactly one wins."""

from __future__ import annotations

import asyncio

from deliberation.audit import verify_all
from tests.world import World, open_topic, satisfy, topic_in_state


async def test_twenty_concurrent_fires_one_winner(world: World) -> None:
    topic = await topic_in_state(world.a, "proposed")
    await satisfy(world.a, topic, "investigation_recorded")
    liaison = world.a["liaison"]
    body = {"trigger": "investigate", "version": topic["version"]}

    responses = await asyncio.gather(
        *[liaison.post(f"/api/v1/topics/{topic['id']}/transitions", body) for _ in range(20)]
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19, [
        r.text for r in responses if r.status_code not in (200, 409)
    ]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"stale_version"}
    events = (await liaison.get(f"/api/v1/topics/{topic['id']}/events")).json()
    assert [(e["kind"], e["trigger"]) for e in events] == [
        ("topic.opened", "open"),
        ("record.created", ""),  # the investigation record
        ("transition", "investigate"),
    ]
    after = (await liaison.get(f"/api/v1/topics/{topic['id']}")).json()
    assert (after["state"], after["version"]) == ("investigated", 2)
    _, problems = await verify_all()
    assert [p for p in problems if p.topic_id == topic["id"]] == []


async def test_concurrent_reads_each_get_their_own_topic(world: World) -> None:
    """Reads arriving together share database round trips (PostgreSQL): every
    caller still gets exactly the topic asked for, and never another township's."""
    mine = [await open_topic(world.a) for _ in range(4)]
    theirs = [await open_topic(world.b) for _ in range(2)]
    a, b = world.a["staff"], world.b["staff"]
    asks = [(a, t, 200) for t in mine] * 3 + [(b, t, 200) for t in theirs] * 3
    asks += [(a, t, 404) for t in theirs] + [(b, t, 404) for t in mine]
    asks += [(a, {"id": 2**31 - 1, "title": None}, 404)]

    responses = await asyncio.gather(*[who.get(f"/api/v1/topics/{t['id']}") for who, t, _ in asks])

    for (_, topic, expected), r in zip(asks, responses, strict=True):
        assert r.status_code == expected, (topic["id"], r.text)
        if expected == 200:
            assert (r.json()["id"], r.json()["title"]) == (topic["id"], topic["title"])
        else:
            assert r.json()["code"] == "not_found"
