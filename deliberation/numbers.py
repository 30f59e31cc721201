"""Numbers printed one way everywhere: every document and page formats a share here.

``percent(1, 2)`` → ``50%``; ``percent(1, 3)`` → ``33.3%``; ``percent(0, 0)`` → ``—``.
Whole percentages have no decimals, others one; a share without a base is a dash.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NO_BASE = "—"


def percent(part: float | None, whole: float | None = None) -> str:
    """``part`` of ``whole`` as a percentage; with ``whole`` left out, ``part`` is a
    share between 0 and 1 (``None``: no base)."""
    if whole is None:
        if part is None:
            return NO_BASE
        value = Decimal(str(part)) * 100
    else:
        if not whole or part is None:
            return NO_BASE
        value = Decimal(str(part)) * 100 / Decimal(str(whole))
    tenth = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if tenth == tenth.to_integral_value():
        return f"{int(tenth)}%"
    return f"{tenth}%"
