"""The year's figures (issue 15, item 1) equal counts taken straight from the tables:
topics by state, opinions by adoption, ratings, items, the stages that ended; the
public sees public topics only, the office and the county everything."""

from __future__ import annotations

from typing import Any

from deliberation.clock import china_today
from deliberation.tables import Opinion, ResolutionItem, SatisfactionRating, Topic, TopicEvent
from tests.world import World, new_township, topic_in_state

STATES = ("proposed", "investigated", "meeting", "resolution", "feedback", "closed", "rejected")


async def direct(township_id: int, states: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The same figures, counted straight from the tables."""
    topics = await Topic.select(Topic.id, Topic.state).where(Topic.township == township_id)
    if states is not None:
        topics = [t for t in topics if t["state"] in states]
    ids = [t["id"] for t in topics] or [-1]
    by_state: dict[str, int] = {}
    for t in topics:
        by_state[t["state"]] = by_state.get(t["state"], 0) + 1
    adoption: dict[str, int] = {}
    for o in await Opinion.select(Opinion.adoption).where(Opinion.topic.is_in(ids)):
        key = o["adoption"] or "unanswered"
        adoption[key] = adoption.get(key, 0) + 1
    ratings: dict[str, int] = {}
    for r in await SatisfactionRating.select(SatisfactionRating.rating).where(
        SatisfactionRating.topic.is_in(ids)
    ):
        ratings[r["rating"]] = ratings.get(r["rating"], 0) + 1
    items = await ResolutionItem.select(ResolutionItem.completed).where(
        ResolutionItem.topic.is_in(ids)
    )
    left = await TopicEvent.select(TopicEvent.from_state).where(
        TopicEvent.topic.is_in(ids), TopicEvent.kind == "transition"
    )
    finished: dict[str, int] = {}
    for e in left:
        finished[e["from_state"]] = finished.get(e["from_state"], 0) + 1
    return {
        "topics": len(topics),
        "by_state": by_state,
        "adoption": adoption,
        "ratings": ratings,
        "items": (len(items), sum(1 for i in items if i["completed"])),
        "finished": finished,
    }


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


async def test_the_figures_equal_direct_counts(world: World) -> None:
    t = await new_township(world, "统计镇")
    for state in STATES:
        await topic_in_state(t, state)
    year = china_today().year
    for who, states in (
        (t["staff"], None),
        (world.supervisor, None),
        (None, ("resolution", "feedback", "closed")),  # the public: public topics only
    ):
        client = who or world.client
        answer = await client.get("/api/v1/statistics", params={"township_id": t.id, "year": year})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["public_only"] is (who is None)
        [figures] = body["townships"]
        expected = await direct(t.id, states)
        assert figures["topics"] == expected["topics"]
        assert figures["by_state"] == expected["by_state"]
        assert nonzero(figures["opinions_by_adoption"]) == expected["adoption"]
        assert nonzero(figures["satisfaction_by_rating"]) == expected["ratings"]
        items = figures["items"]
        assert (items["total"], items["completed"]) == expected["items"]
        for stage in figures["stages"]:
            assert stage["finished"] == expected["finished"].get(stage["state"], 0), stage
            if stage["finished"]:  # everything here moved on the day it was opened
                assert stage["on_time"] == stage["finished"]
                assert stage["median_working_days"] == 0
        assert (figures["liaisons"] is None) is (who is None)
    staff_view = (await t["staff"].get("/api/v1/statistics", params={"township_id": t.id})).json()[
        "townships"
    ][0]
    liaison = next(p for p in staff_view["liaisons"] if p["account_id"] == t["liaison"].user["id"])
    opened = await Topic.count().where(
        (Topic.township == t.id) & (Topic.opened_by == t["liaison"].user["id"])
    )
    assert liaison["topics_opened"] == opened


async def test_other_years_and_bad_asks(world: World) -> None:
    t = await new_township(world, "往年镇")
    await topic_in_state(t, "closed")
    last_year = (
        await t["staff"].get(
            "/api/v1/statistics", params={"township_id": t.id, "year": china_today().year - 1}
        )
    ).json()["townships"][0]
    assert last_year["topics"] == 0
    assert (
        await world.client.get("/api/v1/statistics", params={"township_id": 999999})
    ).status_code == 404
    for bad in ({"year": "今年"}, {"year": 1900}, {"township_id": 0}):
        answer = await world.client.get("/api/v1/statistics", params=bad)
        assert answer.status_code in (400, 422), bad
