async def test_health(client):
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["x-request-id"]


async def test_walk_to_closed(world):
    from tests.world import topic_in_state

    topic = await topic_in_state(world.a, "closed")
    assert topic["state"] == "closed"
    assert topic["state_label"] == "已办结"
