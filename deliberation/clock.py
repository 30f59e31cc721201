"""The one place that reads the time, so every record uses the same UTC clock.

Nothing else in the project calls ``datetime.now``, ``date.today`` or
``time.time``: it asks this module. Tests (and a demo that wants to see what
happens at midnight in China) shift the clock with :func:`set_offset`; a server
process takes the shift from ``DELIBERATION_CLOCK_OFFSET_SECONDS`` so that a
test's live server and the test agree on the hour. The shifted clock keeps
running, so timeouts and retries behave as in real life. The shift belongs to the
application context (``deliberation.context``): each application has its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from deliberation.context import current

CHINA = ZoneInfo("Asia/Shanghai")
"""Dates people see (posting periods, document dates, deadlines) are China dates."""

OFFSET_ENV = "DELIBERATION_CLOCK_OFFSET_SECONDS"


def utcnow() -> datetime:
    return datetime.now(UTC) + current().clock_offset


def timestamp() -> float:
    """Seconds since the epoch, on the same clock (token issue and expiry)."""
    return utcnow().timestamp()


def china_date(moment: datetime) -> date:
    """The date in China of a moment (a meeting at 07:00 China time is on that day,
    though it is the day before in UTC)."""
    return moment.astimezone(CHINA).date()


def china_today(now: datetime | None = None) -> date:
    return china_date(now or utcnow())


def set_offset(seconds: float) -> None:
    """Shift the current application's clock by ``seconds`` from the real time (0
    restores it)."""
    current().clock_offset = timedelta(seconds=seconds)


@contextmanager
def set_to(moment: datetime) -> Iterator[None]:
    """For the duration of the block the clock reads ``moment`` (and keeps running from
    there); afterwards it is put back as it was. The demo tells its stories this way:
    each step happens on the day and at the hour the story says."""
    if moment.tzinfo is None:
        raise ValueError("set_to needs an aware datetime")
    context = current()
    before = context.clock_offset
    context.clock_offset = moment - datetime.now(UTC)
    try:
        yield
    finally:
        context.clock_offset = before


def offset_seconds() -> float:
    return current().clock_offset.total_seconds()


def offset_to_china_time(hour: int, minute: int, day: date | None = None) -> float:
    """The offset that makes the clock read ``hour:minute`` China time now, on
    ``day`` (the real China date by default)."""
    real_now = datetime.now(UTC)
    day = day or real_now.astimezone(CHINA).date()
    target = datetime.combine(day, time(hour, minute), tzinfo=CHINA)
    return (target - real_now).total_seconds()


def chinese_date(day: date) -> str:
    """``2026年1月5日``: Arabic numerals, no leading zeros (GB/T 9704)."""
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_datetime(moment: datetime) -> str:
    local = moment.astimezone(CHINA)
    return f"{chinese_date(local.date())}{local.hour}时{local.minute:02d}分"
