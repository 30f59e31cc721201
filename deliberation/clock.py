"""The one place that reads the time, so every record uses the same UTC clock."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
