"""A topic's opinions and ratings counted in SQL (``GROUP BY``), never by loading its
rows: the topic answer and the ``tallies`` route carry them, so that nobody pages a
list to count it (docs/decisions.md, "Paged lists")."""

from __future__ import annotations

from typing import get_args

from piccolo.query.functions.aggregate import Count

from deliberation.schemas import Adoption, Rating, Stance, Tallies, TopicTallies
from deliberation.tables import Opinion, SatisfactionRating


async def topic_tallies(topic_id: int) -> TopicTallies:
    """How many opinions of each stance and adoption, how many unanswered, and how many
    ratings of each kind ``topic_id`` has (every kind named, zero or more): two grouped
    counts. The topic's page and its API answer both show these."""
    opinions = dict.fromkeys(get_args(Stance), 0)
    adoption = dict.fromkeys(get_args(Adoption), 0)
    unanswered = 0
    for row in await (
        Opinion.select(Opinion.stance, Opinion.adoption, Count(Opinion.id, alias="n"))
        .where(Opinion.topic == topic_id)
        .group_by(Opinion.stance, Opinion.adoption)
    ):
        n = int(row["n"])
        opinions[row["stance"]] = opinions.get(row["stance"], 0) + n
        if row["adoption"] is None:
            unanswered += n
        else:
            adoption[row["adoption"]] = adoption.get(row["adoption"], 0) + n
    satisfaction = dict.fromkeys(get_args(Rating), 0)
    for row in await (
        SatisfactionRating.select(
            SatisfactionRating.rating, Count(SatisfactionRating.id, alias="n")
        )
        .where(SatisfactionRating.topic == topic_id)
        .group_by(SatisfactionRating.rating)
    ):
        satisfaction[row["rating"]] = satisfaction.get(row["rating"], 0) + int(row["n"])
    return TopicTallies(
        opinions=opinions, adoption=adoption, unanswered=unanswered, satisfaction=satisfaction
    )


async def stance_and_rating_tallies(topic_id: int) -> Tallies:
    """What ``GET …/tallies`` has answered since v1: opinions by stance, ratings by kind."""
    counted = await topic_tallies(topic_id)
    return Tallies(opinions=counted.opinions, satisfaction=counted.satisfaction)
