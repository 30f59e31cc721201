"""Chinese substring search over topics.

Most Chinese words are two characters, below pg_trgm's three-character floor.
At write time we store the lower-cased text and its character bigrams; a query
narrows candidates by its bigrams (a GIN index on PostgreSQL) and then checks the
exact substring, so results equal a plain substring scan.
"""

from __future__ import annotations

from deliberation.tables import SuggestionGramCount, TopicGramCount


def normalise(text: str) -> str:
    return text.lower()


def bigrams(text: str) -> list[str]:
    """Distinct two-character grams without whitespace, in first-seen order."""
    seen: dict[str, None] = {}
    for i in range(len(text) - 1):
        gram = text[i : i + 2]
        if not gram[0].isspace() and not gram[1].isspace():
            seen.setdefault(gram, None)
    return list(seen)


def search_fields(title: str, description: str) -> tuple[str, str]:
    """(search_text, search_grams) stored with a topic."""
    text = normalise(f"{title}\n{description}")
    return text, " ".join(bigrams(text))


def title_grams(title: str) -> str:
    """The bigrams of a title alone (``topic.title_grams``, ``suggestion.title_grams``):
    short, for the similar-suggestion lookup (migration 0025 back-filled topics')."""
    return " ".join(bigrams(normalise(title)))


async def count_grams(township_id: int, grams: list[str]) -> None:
    """Add one topic's grams to its township's counts (inside the write transaction).

    Sorted, so concurrent writers lock the counter rows in the same order."""
    grams = sorted(set(grams))
    if not grams:
        return
    values = ", ".join("({}, {}, 1)" for _ in grams)
    args: list[object] = []
    for gram in grams:
        args += [township_id, gram]
    await TopicGramCount.raw(
        f"INSERT INTO topic_gram_count (township, gram, n) VALUES {values} "
        "ON CONFLICT (township, gram) DO UPDATE SET n = topic_gram_count.n + 1",
        *args,
    )


async def gram_total(township_id: int | None, needle: str) -> int | None:
    """The exact number of the township's topics containing ``needle`` when it is a
    single bigram (a two-character word); None when it is not."""
    if len(needle) != 2 or bigrams(needle) != [needle]:
        return None
    row = (
        await TopicGramCount.select(TopicGramCount.n)
        .where((TopicGramCount.township == township_id) & (TopicGramCount.gram == needle))
        .first()
    )
    return int(row["n"]) if row else 0


async def count_suggestion_grams(township_id: int, grams: list[str]) -> None:
    """Add one suggestion's title grams to its township's counts (inside the write
    transaction), for picking the rarest grams of a title being typed. Sorted, as
    ``count_grams``."""
    grams = sorted(set(grams))
    if not grams:
        return
    values = ", ".join("({}, {}, 1)" for _ in grams)
    args: list[object] = []
    for gram in grams:
        args += [township_id, gram]
    await SuggestionGramCount.raw(
        f"INSERT INTO suggestion_gram_count (township, gram, n) VALUES {values} "
        "ON CONFLICT (township, gram) DO UPDATE SET n = suggestion_gram_count.n + 1",
        *args,
    )


async def rarest(township_id: int, grams: list[str], k: int = 4) -> list[str]:
    """The ``k`` grams of ``grams`` that the fewest of the township's topics and
    suggestions contain (a gram never seen counts 0: it finds nothing, cheaply)."""
    if len(grams) <= k:
        return list(grams)
    seen: dict[str, int] = dict.fromkeys(grams, 0)
    for table in (TopicGramCount, SuggestionGramCount):
        rows = await table.select(table.gram, table.n).where(
            (table.township == township_id) & table.gram.is_in(grams)
        )
        for row in rows:
            seen[row["gram"]] += int(row["n"])
    order = {g: i for i, g in enumerate(grams)}
    return sorted(grams, key=lambda g: (seen[g], order[g]))[:k]
