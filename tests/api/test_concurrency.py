"""Twenty people firing the same trigger on the same version: exactly one wins."""

from __future__ import annotations

import asyncio

from deliberation.audit import verify_all
from tests.world import World, satisfy, topic_in_state


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
    assert [e["trigger"] for e in events] == ["open", "investigate"]
    after = (await liaison.get(f"/api/v1/topics/{topic['id']}")).json()
    assert (after["state"], after["version"]) == ("investigated", 2)
    _, problems = await verify_all()
    assert [p for p in problems if p.topic_id == topic["id"]] == []
