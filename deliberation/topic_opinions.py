"""A topic's opinions for its page, a page at a time: the tallies counted in SQL and
the newest :data:`PAGE` opinions the reader may see (older ones by a keyset cursor,
``before`` the oldest shown), optionally only the unanswered ones or one stance, so
staff answer them in batches. The page stays small whatever the topic holds
(docs/decisions.md "The topic page shows 50").

Who sees which opinion is the policy's (docs/permissions.md), as in
``records.opinions_seen``: the query narrows to the rows the reader may see at all,
each row is then projected as the policy says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from deliberation.errors import NotFound
from deliberation.permissions import Subject, allowed
from deliberation.records import _OPINION_COLUMNS, opinion_shown, readable_opinions
from deliberation.schemas import OpinionRead, Stance, TopicTallies
from deliberation.security import Principal
from deliberation.tables import Opinion
from deliberation.tallies import topic_tallies
from deliberation.topics import topic_row

PAGE = 50
"""Opinions shown at a time (the first page and each 更多意见)."""

FILTERS = ("unanswered", *get_args(Stance))
"""What the list may be narrowed to (``show=``): 未答复, or one stance."""


@dataclass(frozen=True)
class OpinionPage:
    opinions: list[OpinionRead]
    more: int | None
    """The id of the oldest shown when there are older ones (the next page's ``before``)."""
    show: str
    """The filter in force ('' for all)."""


async def opinions_page(
    principal: Principal | None,
    topic: dict[str, Any],
    before: int | None = None,
    show: str = "",
    limit: int = PAGE,
) -> OpinionPage:
    """The newest ``limit`` opinions this reader sees (older than ``before``), narrowed
    to ``show`` (one of :data:`FILTERS`, or '' for all)."""
    show = show if show in FILTERS else ""
    # Only the rows this reader may see are read (records' rule), so a page is full.
    query = Opinion.select(*_OPINION_COLUMNS).where(readable_opinions(principal, topic))
    if show == "unanswered":
        query = query.where(Opinion.adoption.is_null())
    elif show:
        query = query.where(Opinion.stance == show)
    if before is not None:
        query = query.where(Opinion.id < before)
    rows = await query.order_by(Opinion.id, ascending=False).limit(limit + 1)
    seen = [o for o in (opinion_shown(principal, topic, r) for r in rows[:limit]) if o is not None]
    more = rows[limit - 1]["id"] if len(rows) > limit else None
    return OpinionPage(seen, more, show)


async def one_opinion(
    principal: Principal | None, topic: dict[str, Any], opinion_id: int
) -> OpinionRead | None:
    """One opinion of the topic as this reader sees it (None if not at all)."""
    row = (
        await Opinion.select(*_OPINION_COLUMNS)
        .where((Opinion.id == opinion_id) & (Opinion.topic == topic["id"]))
        .first()
    )
    return None if row is None else opinion_shown(principal, topic, row)


@dataclass(frozen=True)
class ShownOpinions:
    """A page of opinions for the page's htmx route: the topic, the page, the tallies
    (for the filters' counts), whether the reader answers them and may correct which."""

    topic: dict[str, Any]
    page: OpinionPage
    tallies: TopicTallies
    may_answer: bool
    correctable: set[str]


async def page_for(
    principal: Principal | None, topic_id: int, before: int | None, show: str
) -> ShownOpinions:
    """The page of opinions ``before``/``show`` ask for, on a topic this reader may read
    (404 otherwise, as the topic page)."""
    from deliberation.overview import may_add

    topic = await topic_row(topic_id)
    seen = allowed(principal, "topic.read", Subject.of_topic(topic))
    if not seen:
        raise NotFound(seen.reason)
    page = await opinions_page(principal, topic, before, show)
    may_answer = seen.view == "full" and may_add(principal, topic, "opinion_answer")
    correctable = {
        f"opinion-{o.id}"
        for o in page.opinions
        if allowed(principal, "record.correct", Subject.of_topic(topic, o.author_id), "opinion")
    }
    return ShownOpinions(topic, page, await topic_tallies(topic_id), may_answer, correctable)
