"""Similar while typing: open suggestions and topics whose title is like the one being
typed (``GET /api/v1/suggestions/similar``), so a villager can ask the village's
representative to support an existing one instead of filing it again.

Trigrams do not fit two-character Chinese words; titles are compared by their character
bigrams (``search.bigrams``). The 4 rarest grams of the typed title (by the township's
gram counts) pick the candidates, through a GIN index over ``title_grams`` on
PostgreSQL and ``instr`` over the short column on SQLite; Dice's coefficient on the
grams ranks them, kept from 0.3 (Decidim's pg_trgm threshold is 0.25; bigrams are
coarser). Every candidate goes through the policy: the caller sees only what they may
read (docs/decisions.md "Suggestions: similar titles")."""

from __future__ import annotations

from typing import Any

from piccolo.columns.combination import WhereRaw

from deliberation.database import is_sqlite
from deliberation.permissions import Subject, allowed, allowed_suggestion
from deliberation.pinning import terminal_states, workflow_of
from deliberation.search import bigrams, normalise, rarest
from deliberation.security import Principal
from deliberation.suggestions.read import subject_of
from deliberation.suggestions.schemas import SimilarRead, SimilarSuggestion, SimilarTopic
from deliberation.tables import Suggestion, Topic, Village

THRESHOLD = 0.3
SHOWN = 5
CANDIDATES = 2000
OPEN = ("pending", "must_list", "accepted")
"""Suggestions still open to support, or become a topic (merged and declined ones are
closed; an accepted one's topic is listed among the topics too)."""


def dice(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def _matching(grams: list[str], sqlite: bool) -> Any:
    if sqlite:
        return WhereRaw(
            "(" + " OR ".join("instr(title_grams, {}) > 0" for _ in grams) + ")", *grams
        )
    return WhereRaw("string_to_array(title_grams, ' ') && {}::text[]", grams)


async def similar(
    principal: Principal | None, title: str, village_id: int | None = None
) -> SimilarRead:
    """At most 5 suggestions and 5 topics, best first; nothing for fewer than two
    characters."""
    wanted = bigrams(normalise(title.strip()))
    if not wanted:
        return SimilarRead(suggestions=[], topics=[])
    township: int | None = principal.township_id if principal is not None else None
    if village_id is not None:
        row = await Village.select(Village.township).where(Village.id == village_id).first()
        township = row["township"] if row else township
    rare = await rarest(township, wanted) if township is not None else wanted[:4]
    sqlite = is_sqlite(Suggestion._meta.db)
    own = set(wanted)

    suggestion_where: list[Any] = [Suggestion.status.is_in(list(OPEN)), _matching(rare, sqlite)]
    if township is not None:
        suggestion_where.append(Suggestion.township == township)
    rows = (
        await Suggestion.select(
            Suggestion.id,
            Suggestion.reference,
            Suggestion.township,
            Suggestion.village,
            Suggestion.status,
            Suggestion.filed_by,
            Suggestion.public_title,
            Suggestion.title_grams,
        )
        .where(*suggestion_where)
        .limit(CANDIDATES)
    )
    suggestions: list[SimilarSuggestion] = []
    for row in rows:
        score = dice(own, set(row["title_grams"].split()))
        if score >= THRESHOLD and allowed_suggestion(principal, "suggestion.read", subject_of(row)):
            suggestions.append(
                SimilarSuggestion(
                    id=row["id"],
                    reference=row["reference"],
                    title=row["public_title"],
                    status=row["status"],
                    score=round(score, 3),
                )
            )

    topic_where: list[Any] = [
        Topic.state.not_in(list(terminal_states())),
        _matching(rare, sqlite),
    ]
    if township is not None:
        topic_where.append(Topic.township == township)
    topic_rows = (
        await Topic.select(
            Topic.id,
            Topic.reference,
            Topic.title,
            Topic.township,
            Topic.village,
            Topic.state,
            Topic.opened_by,
            Topic.due_on,
            Topic.workflow_key,
            Topic.workflow_version,
            Topic.title_grams,
        )
        .where(*topic_where)
        .limit(CANDIDATES)
    )
    topics: list[SimilarTopic] = []
    for row in topic_rows:
        score = dice(own, set(row["title_grams"].split()))
        if score < THRESHOLD or not allowed(principal, "topic.read", Subject.of_topic(row)):
            continue
        topics.append(
            SimilarTopic(
                id=row["id"],
                reference=row["reference"],
                title=row["title"],
                state_label=workflow_of(row).state(row["state"]).label,
                score=round(score, 3),
            )
        )
    suggestions.sort(key=lambda s: (-s.score, s.id))
    topics.sort(key=lambda t: (-t.score, t.id))
    return SimilarRead(suggestions=suggestions[:SHOWN], topics=topics[:SHOWN])
