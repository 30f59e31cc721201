"""Checks on input that its shape cannot express."""

from __future__ import annotations

from datetime import date, datetime

from deliberation.clock import CHINA, china_today, utcnow
from deliberation.errors import ValidationFailed

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)

HAPPENED = {"visited_on": "调研日期", "held_on": "协商日期"}
"""Dates of things that have happened (a visit, a site consultation): never ahead of
today."""
DUE = {"due_date": "完成时限"}
"""Deadlines set from now on: never before today."""


REVERSED_RANGE = "起止日期填反了\uff1a结束日期早于开始日期"


def check_date_range(date_from: date | None, date_to: date | None) -> None:
    """A search's ``from``..``to`` (both included): a reversed range would silently find
    nothing, so it is refused, naming the field ``to``."""
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ValidationFailed([{"field": "to", "message": REVERSED_RANGE}])


def check_dates(**days: date) -> None:
    """Dates people type (visits, meetings, deadlines) within 2000–2099: a slip of the
    keyboard (year 0001 or 9999) is refused as bad input, not stored or crashed on.
    A visit or consultation is not dated in the future, a deadline not in the past
    (today is China's today); each refusal names its field."""
    today = china_today()
    bad = []
    for name, day in days.items():
        if not EARLIEST <= day <= LATEST:
            bad.append({"field": name, "message": "日期应在 2000 年至 2099 年之间"})
        elif name in HAPPENED and day > today:
            message = f"{HAPPENED[name]}不能晚于今天（{today.isoformat()}）"
            bad.append({"field": name, "message": message})
        elif name in DUE and day < today:
            message = f"{DUE[name]}不能早于今天（{today.isoformat()}）"
            bad.append({"field": name, "message": message})
    if bad:
        raise ValidationFailed(bad)


def check_meeting_held(scheduled_at: datetime, now: datetime | None = None) -> None:
    """Minutes are recorded once the meeting has begun, not before."""
    if (now or utcnow()) < scheduled_at:
        when = scheduled_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
        message = f"会议定于 {when} 召开\uff0c会议开始后才能记录纪要"
        raise ValidationFailed([{"field": "summary", "message": message}])
