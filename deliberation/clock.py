"""The one place that reads the time, so every record uses the same UTC clock."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


CHINA = ZoneInfo("Asia/Shanghai")
"""Dates people see (posting periods, document dates) are China dates."""


def china_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(CHINA).date()


def chinese_date(day: date) -> str:
    """``2026年1月5日``: Arabic numerals, no leading zeros (GB/T 9704)."""
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_datetime(moment: datetime) -> str:
    local = moment.astimezone(CHINA)
    return f"{chinese_date(local.date())}{local.hour}时{local.minute:02d}分"
