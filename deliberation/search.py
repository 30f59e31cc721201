"""Chinese substring search over topics.

Most Chinese words are two characters, below pg_trgm's three-character floor.
At write time we store the lower-cased text and its character bigrams; a query
narrows candidates by its bigrams (a GIN index on PostgreSQL) and then checks the
exact substring, so results equal a plain substring scan.
"""

from __future__ import annotations


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
