"""Similar while typing: open suggestions and topics whose title is like the one being
typed (``GET /api/v1/suggestions/similar``), so a villager can ask the village's
representative to support an existing one instead of filing it again.

Trigrams do not fit two-character Chinese words; titles are compared by their character
bigrams (``search.bigrams``). The 4 rarest grams of the typed title (by the township's
gram counts) pick the candidates, through a GIN index over ``title_grams`` on
PostgreSQL and ``instr`` over the short column on SQLite; Dice's coefficient on the
grams ranks them, kept from 0.3 (Decidim's pg_trgm threshold is 0.25; bigrams are
coarser); titles with too few or too many grams to reach it are not read at all. The
best 50 of each kind go through the policy, so the caller sees only what they may read
(docs/decisions.md "Suggestions: similar titles")."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from piccolo.columns.combination import WhereRaw

from deliberation.database import is_sqlite
from deliberation.permissions import Subject, allowed, allowed_suggestion, member_township
from deliberation.pinning import terminal_states, workflow_of
from deliberation.search import bigrams, normalise, rarest
from deliberation.security import Principal
from deliberation.suggestions.read import subject_of
from deliberation.suggestions.schemas import SimilarRead, SimilarSuggestion, SimilarTopic
from deliberation.tables import Suggestion, Topic, Village

THRESHOLD = 0.3
SHOWN = 5
CANDIDATES = 2000
MOST_GRAMS = 40
"""The typed title's first grams compared (a title is typed short)."""
CHECKED = 50
"""The best-scoring candidates the policy is asked about, per kind."""
OPEN = ("pending", "must_list", "accepted")
"""Suggestions still open to support, or become a topic (merged and declined ones are
closed; an accepted one's topic is listed among the topics too)."""
PUBLIC_OPEN = ("accepted",)
"""Of those, what someone outside the township may read (screened)."""


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


def _sized(wanted: int) -> Any:
    """Titles whose number of grams can reach the threshold at all: Dice ≥ t needs
    t·|A|/(2−t) ≤ |B| ≤ |A|·(2−t)/t. ``title_grams`` is |B| grams of two characters
    and |B|−1 spaces: 3·|B|−1 characters."""
    low = math.ceil(THRESHOLD * wanted / (2 - THRESHOLD))
    high = math.floor(wanted * (2 - THRESHOLD) / THRESHOLD)
    return WhereRaw("length(title_grams) BETWEEN {} AND {}", 3 * low - 1, 3 * high - 1)


def _close_enough(grams: list[str], sqlite: bool) -> Any:
    """Dice ≥ 0.3 decided in the query: 2·|A∩B| ≥ 0.3·(|A| + |B|), with |A∩B| the
    number of the typed grams in ``title_grams`` (exact: grams are two characters
    between single spaces) and |B| = (length + 1) / 3. Only those rows are read."""
    found = "(instr(title_grams, {}) > 0)" if sqlite else "(strpos(title_grams, {}) > 0)::int"
    shared = " + ".join(found for _ in grams)
    return WhereRaw(
        f"20 * ({shared}) >= 3 * ({len(grams)} + (length(title_grams) + 1) / 3)", *grams
    )


async def _best(table: Any, conditions: list[Any], own: set[str]) -> list[tuple[float, int]]:
    """(score, id) of the candidates at or above the threshold, best first."""
    rows = await table.select(table.id, table.title_grams).where(*conditions).limit(CANDIDATES)
    scored = [(dice(own, set(r["title_grams"].split())), r["id"]) for r in rows]
    return sorted(((s, i) for s, i in scored if s >= THRESHOLD), key=lambda x: (-x[0], x[1]))


async def _suggestions(
    principal: Principal | None, where: list[Any], own: set[str]
) -> list[SimilarSuggestion]:
    """The best suggestions the caller may read, at most ``SHOWN``."""
    suggestions: list[SimilarSuggestion] = []
    best = (await _best(Suggestion, where, own))[:CHECKED]
    scores = dict((i, s) for s, i in best)
    rows = await Suggestion.select(
        Suggestion.id,
        Suggestion.reference,
        Suggestion.township,
        Suggestion.village,
        Suggestion.status,
        Suggestion.filed_by,
        Suggestion.public_title,
    ).where(Suggestion.id.is_in(list(scores) or [0]))
    for row in sorted(rows, key=lambda r: (-scores[r["id"]], r["id"])):
        if len(suggestions) == SHOWN:
            break
        if allowed_suggestion(principal, "suggestion.read", subject_of(row)):
            suggestions.append(
                SimilarSuggestion(
                    id=row["id"],
                    reference=row["reference"],
                    title=row["public_title"],
                    status=row["status"],
                    score=round(scores[row["id"]], 3),
                )
            )
    return suggestions


async def _topics(
    principal: Principal | None, where: list[Any], own: set[str]
) -> list[SimilarTopic]:
    """The best topics the caller may read, at most ``SHOWN``."""
    topics: list[SimilarTopic] = []
    best = (await _best(Topic, where, own))[:CHECKED]
    scores = dict((i, s) for s, i in best)
    topic_rows = await Topic.select(
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
    ).where(Topic.id.is_in(list(scores) or [0]))
    for row in sorted(topic_rows, key=lambda r: (-scores[r["id"]], r["id"])):
        if len(topics) == SHOWN:
            break
        if allowed(principal, "topic.read", Subject.of_topic(row)):
            topics.append(
                SimilarTopic(
                    id=row["id"],
                    reference=row["reference"],
                    title=row["title"],
                    state_label=workflow_of(row).state(row["state"]).label,
                    score=round(scores[row["id"]], 3),
                )
            )
    return topics


async def similar(
    principal: Principal | None, title: str, village_id: int | None = None
) -> SimilarRead:
    """At most 5 suggestions and 5 topics, best first; nothing for fewer than two
    characters."""
    wanted = bigrams(normalise(title.strip()))[:MOST_GRAMS]
    if not wanted:
        return SimilarRead(suggestions=[], topics=[])
    township: int | None = member_township(principal)
    if village_id is not None:
        row = await Village.select(Village.township).where(Village.id == village_id).first()
        township = row["township"] if row else township
    rare = await rarest(township, wanted) if township is not None else wanted[:4]
    sqlite = is_sqlite(Suggestion._meta.db)
    own = set(wanted)
    near = [_matching(rare, sqlite), _sized(len(own)), _close_enough(wanted, sqlite)]
    # Nobody signed in reads screened suggestions only: the others are not candidates.
    statuses = OPEN if principal is not None else PUBLIC_OPEN

    suggestion_where: list[Any] = [Suggestion.status.is_in(list(statuses)), *near]
    topic_where: list[Any] = [Topic.state.not_in(list(terminal_states())), *near]
    if township is not None:
        suggestion_where.append(Suggestion.township == township)
        topic_where.append(Topic.township == township)

    kinds = (_suggestions(principal, suggestion_where, own), _topics(principal, topic_where, own))
    if Suggestion._meta.db.current_transaction.get() is None:
        # Each kind is a scan of its own: both at once, on two pooled connections
        # (docs/benchmarks.md, "issue 27: similar titles and the suggestions page");
        # inside a transaction, on its one connection, one after the other.
        suggestions, topics = await asyncio.gather(*kinds)
    else:
        suggestions, topics = await kinds[0], await kinds[1]
    return SimilarRead(suggestions=suggestions, topics=topics)
