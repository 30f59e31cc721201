"""The must-list rule as numbers (docs/decisions.md, "Suggestions: the threshold, the
deadline and the screening"): at least one fifth is ``supports × 5 ≥ roster``, rounded
up."""

from __future__ import annotations

import pytest

from deliberation.errors import ValidationFailed
from deliberation.suggestions.threshold import (
    DEFAULT_DECLINE_GROUNDS,
    Settings,
    Tally,
    decline_grounds,
    ground_of,
    met,
    needed,
    reached,
    still_needed,
    store_grounds,
)


@pytest.mark.parametrize(
    ("roster", "supports", "expected"),
    [(27, 5, False), (27, 6, True), (25, 4, False), (25, 5, True), (0, 0, False), (0, 9, False)],
)
def test_one_fifth_rounds_up(roster: int, supports: int, expected: bool) -> None:
    assert met(supports, roster, 5) is expected


def test_needed_is_the_ceiling() -> None:
    assert needed(27, 5) == 6
    assert needed(25, 5) == 5
    assert needed(143, 10) == 15
    assert needed(0, 5) is None


def test_villagers_rule_at_one_tenth() -> None:
    settings = Settings(representatives=27, registered_villagers=143)
    assert reached(Tally(villagers=14), settings) is None
    hit = reached(Tally(villagers=15), settings)
    assert hit is not None and (hit.rule, hit.needed, hit.roster) == ("villagers", 15, 143)


def test_liaisons_count_toward_neither_rule() -> None:
    settings = Settings(representatives=5, registered_villagers=10)
    assert reached(Tally(liaisons=50), settings) is None
    assert still_needed(Tally(liaisons=50), settings) == 1


def test_paper_names_count_for_villagers_only() -> None:
    settings = Settings(representatives=27, registered_villagers=None)
    assert reached(Tally(villagers=6), settings) is None
    assert still_needed(Tally(representatives=4), settings) == 2


def test_no_roster_no_rule() -> None:
    assert still_needed(Tally(representatives=3), Settings(0, None)) is None


def test_decline_grounds_default_and_stored() -> None:
    assert decline_grounds(None) == list(DEFAULT_DECLINE_GROUNDS)
    stored = store_grounds(["  无法核实  ", "无法核实", ""])
    assert decline_grounds(stored) == ["无法核实"]
    assert store_grounds([]) is None
    with pytest.raises(ValidationFailed):
        store_grounds(["长" * 201])
    assert (
        ground_of(f"经核查：{DEFAULT_DECLINE_GROUNDS[1]}。", DEFAULT_DECLINE_GROUNDS)
        == (DEFAULT_DECLINE_GROUNDS[1])
    )
    assert ground_of("不想办", DEFAULT_DECLINE_GROUNDS) is None
