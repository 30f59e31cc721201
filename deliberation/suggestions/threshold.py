"""When a villager's suggestion must be listed (须列入议题), and the township's settings
that decide it: pure, so the rule is read and tested in one place.

**The rule.** A suggestion must be listed once at least one fifth of its village's
representatives (村民代表) support it, or — where the township set the number of
registered villagers — at least one tenth of the villagers. "At least one fifth" is
``supports × 5 ≥ roster``, the same as ``supports ≥ ⌈roster / 5⌉``: the count is
rounded **up**. Of 27 representatives 5 are not enough (5 × 5 = 25 < 27) and 6 are
(30 ≥ 27); of 25, 5 are. A village without representatives (roster 0) never obliges.
The divisors are the township's settings (5 and 10 unless the administrator changed
them). See docs/decisions.md, "Suggestions: the threshold, the deadline and the
screening".

**Who counts.** Representatives' own supports count toward the representatives' rule;
villagers' names on a paper sheet, the filer without an account and account holders of
the village count toward the villagers' rule. Liaisons (政协委员) are shown beside the
count (委员附议) but count toward neither: they are not 村民代表.

Once reached, the status is ``must_list`` for good (a later count never undoes it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from deliberation.errors import ValidationFailed

DEFAULT_REPRESENTATIVES_DIVISOR = 5
"""One fifth of the village's representatives (村民代表的五分之一以上)."""
DEFAULT_VILLAGERS_DIVISOR = 10
"""One tenth of its registered villagers (十分之一以上的村民)."""
DEFAULT_SCREENING_WORKING_DAYS = 10
"""Working days the office has to screen a suggestion once it must be listed."""

DEFAULT_DECLINE_GROUNDS = (
    "违反法律法规和国家政策（《村民委员会组织法》第二十七条）",
    "不属于本村（社区）公共事务、仅涉及个人诉求",
    "超出乡镇（村）职权范围，已转交有关部门（注明部门）",
    "同一事项已列入议题办理（应选择“合并”）",
)
"""The grounds on which a suggestion that must be listed may still be declined, unless
the township's administrator set its own (docs/decisions.md)."""

MAX_GROUNDS = 20
MAX_GROUND_LENGTH = 200
MAX_DIVISOR = 100
MAX_SCREENING_DAYS = 60

Rule = Literal["representatives", "villagers"]
RULE_LABELS: dict[str, str] = {
    "representatives": "五分之一以上村民代表附议",
    "villagers": "十分之一以上村民附议",
}


def met(supports: int, roster: int, divisor: int) -> bool:
    """At least ``1/divisor`` of ``roster``: ``supports × divisor ≥ roster`` (rounded
    up); never for an empty roster."""
    return roster > 0 and divisor > 0 and supports * divisor >= roster


def needed(roster: int, divisor: int) -> int | None:
    """The fewest supports that meet the rule (``⌈roster / divisor⌉``), or None when the
    rule cannot be met (no roster)."""
    if roster <= 0 or divisor <= 0:
        return None
    return -(-roster // divisor)


@dataclass(frozen=True)
class Tally:
    """A suggestion's supports, as the rules count them."""

    representatives: int = 0
    """Distinct representatives of the village (the filer too, if one)."""
    villagers: int = 0
    """Paper names, the filer without an account, and account holders of the village."""
    liaisons: int = 0
    """Shown (委员附议), never counted."""

    @property
    def total(self) -> int:
        return self.representatives + self.villagers + self.liaisons


@dataclass(frozen=True)
class Settings:
    """A township's threshold settings and its village's rosters."""

    representatives: int
    """Active representative accounts of the village."""
    registered_villagers: int | None
    """The village's 登记村民人数; None switches the villagers' rule off."""
    representatives_divisor: int = DEFAULT_REPRESENTATIVES_DIVISOR
    villagers_divisor: int = DEFAULT_VILLAGERS_DIVISOR


@dataclass(frozen=True)
class Reached:
    """The rule that held, with the numbers that make it hold (the chain keeps them)."""

    rule: Rule
    supports: int
    roster: int
    divisor: int
    needed: int


def reached(tally: Tally, settings: Settings) -> Reached | None:
    """The first rule the tally meets (the representatives' first), or None."""
    candidates: list[tuple[Rule, int, int | None, int]] = [
        (
            "representatives",
            tally.representatives,
            settings.representatives,
            settings.representatives_divisor,
        ),
        ("villagers", tally.villagers, settings.registered_villagers, settings.villagers_divisor),
    ]
    for rule, supports, roster, divisor in candidates:
        if roster is not None and met(supports, roster, divisor):
            wanted = needed(roster, divisor)
            assert wanted is not None
            return Reached(rule, supports, roster, divisor, wanted)
    return None


def still_needed(tally: Tally, settings: Settings) -> int | None:
    """How many more supports the nearest rule wants (0 once met), or None when no
    rule applies (a township-wide suggestion, a village without a roster)."""
    gaps = []
    for supports, roster, divisor in (
        (tally.representatives, settings.representatives, settings.representatives_divisor),
        (tally.villagers, settings.registered_villagers, settings.villagers_divisor),
    ):
        wanted = needed(roster or 0, divisor)
        if wanted is not None:
            gaps.append(max(0, wanted - supports))
    return min(gaps) if gaps else None


# Decline grounds ----------------------------------------------------------------------


def decline_grounds(stored: str | None) -> list[str]:
    """A township's grounds from its stored JSON list (None: the shipped defaults)."""
    if stored is None:
        return list(DEFAULT_DECLINE_GROUNDS)
    value = json.loads(stored)
    return [str(g) for g in value] if isinstance(value, list) else list(DEFAULT_DECLINE_GROUNDS)


def store_grounds(grounds: Sequence[str] | None) -> str | None:
    """The administrator's grounds as stored: trimmed, no blanks or repeats; an empty
    list (or None) goes back to the defaults. Refused (422, field ``decline_grounds``)
    when too many or too long."""
    if grounds is None:
        return None
    cleaned: list[str] = []
    for ground in grounds:
        ground = ground.strip()
        if ground and ground not in cleaned:
            cleaned.append(ground)
    problems = []
    if len(cleaned) > MAX_GROUNDS:
        problems.append(f"最多 {MAX_GROUNDS} 条")
    problems += [
        f"“{g[:20]}…”超过 {MAX_GROUND_LENGTH} 字" for g in cleaned if len(g) > MAX_GROUND_LENGTH
    ]
    if problems:
        raise ValidationFailed([{"field": "decline_grounds", "message": p} for p in problems])
    if not cleaned or cleaned == list(DEFAULT_DECLINE_GROUNDS):
        return None
    return json.dumps(cleaned, ensure_ascii=False)


def ground_of(reason: str, grounds: Sequence[str]) -> str | None:
    """The first ground ``reason`` contains word for word, or None."""
    return next((g for g in grounds if g in reason), None)
