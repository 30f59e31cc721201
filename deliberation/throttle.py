"""Limits counted and written in one serialised step (sign-ins, public filings).

A limit of "n per window" holds under concurrent requests only if counting the window's
rows and writing the new one cannot interleave. Inside a write transaction,
``serialise`` takes a PostgreSQL transaction advisory lock per key (released at commit);
SQLite's write transaction (``BEGIN IMMEDIATE``) already serialises every writer. The
rows counted are the attempts themselves (``login_failure``, ``suggestion``): no separate
counter to drift (docs/decisions.md "Sign-in limits" and "Suggestions: filing limits").
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from piccolo.querystring import QueryString

from deliberation.database import bound_engine, is_sqlite


async def serialise(*keys: str) -> None:
    """Wait for the other writers holding any of ``keys`` (call inside a write
    transaction). The keys are locked in sorted order, so two callers with overlapping
    keys cannot deadlock."""
    engine = bound_engine()
    if is_sqlite(engine):
        return
    for key in sorted(set(keys)):
        await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock(hashtext({}))", key))


def retry_after(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    """Whole seconds until the oldest counted row leaves the window (at least 1): when
    one more attempt will be accepted. No row known: the whole window."""
    if oldest is None:
        return max(1, math.ceil(window.total_seconds()))
    return max(1, math.ceil((oldest + window - now).total_seconds()))
