"""Checks on input that its shape cannot express."""

from __future__ import annotations

from datetime import date

from deliberation.errors import ValidationFailed

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


def check_dates(**days: date) -> None:
    """Dates people type (visits, meetings, deadlines) within 2000–2099: a slip of the
    keyboard (year 0001 or 9999) is refused as bad input, not stored or crashed on."""
    bad = [
        {"field": name, "message": "日期应在 2000 年至 2099 年之间"}
        for name, day in days.items()
        if not EARLIEST <= day <= LATEST
    ]
    if bad:
        raise ValidationFailed(bad)
