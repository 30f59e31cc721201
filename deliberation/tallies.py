"""A topic's opinions and ratings counted in SQL (``GROUP BY``), never by loading its
rows: the topic answer and the ``tallies`` route carry them, so that nobody pages a
list to count it (docs/decisions.md, "Paged lists")."""

from __future__ import annotations

from typing import Any, get_args

from piccolo.query.functions.aggregate import Count

from deliberation.schemas import Adoption, Rating, Stance, Tallies, TopicTallies
from deliberation.tables import Opinion, SatisfactionRating


async def _grouped(table: Any, column: Any, topic_id: int) -> dict[Any, int]:
    rows = await (
        table.select(column.as_alias("value"), Count(table.id, alias="n"))
        .where(table.topic == topic_id)
        .group_by(column)
    )
    return {r["value"]: int(r["n"]) for r in rows}


async def topic_tallies(topic_id: int) -> TopicTallies:
    """How many opinions of each stance and adoption, how many unanswered, and how many
    ratings of each kind ``topic_id`` has (every kind named, zero or more)."""
    stances = await _grouped(Opinion, Opinion.stance, topic_id)
    adoptions = await _grouped(Opinion, Opinion.adoption, topic_id)
    ratings = await _grouped(SatisfactionRating, SatisfactionRating.rating, topic_id)
    return TopicTallies(
        opinions={s: stances.get(s, 0) for s in get_args(Stance)},
        adoption={a: adoptions.get(a, 0) for a in get_args(Adoption)},
        unanswered=adoptions.get(None, 0),
        satisfaction={r: ratings.get(r, 0) for r in get_args(Rating)},
    )


async def stance_and_rating_tallies(topic_id: int) -> Tallies:
    """What ``GET …/tallies`` has answered since v1: opinions by stance, ratings by kind."""
    counted = await topic_tallies(topic_id)
    return Tallies(opinions=counted.opinions, satisfaction=counted.satisfaction)
