"""Chinese working days: the one calendar the whole project counts deadlines with.

Where each day's answer comes from, first match wins:

1. a schedule an administrator loaded for that year (``deliberation calendar load``),
   copied from the State Council's notice — it wins over everything else;
2. ``chinese-calendar`` (official schedules, 2004–2026 in version 1.11);
3. for a year neither knows: weekdays minus the fixed-date statutory holidays
   (元旦, 劳动节, 国庆节). Such an answer is **provisional** (暂定): the lunar
   holidays and the make-up working days are not known yet.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import chinese_calendar

from deliberation.clock import utcnow
from deliberation.context import current
from deliberation.errors import ValidationFailed
from deliberation.tables import HolidaySchedule

FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))
"""Statutory holidays on fixed Gregorian dates (元旦 1 day, 劳动节 2, 国庆节 3, since 2025)."""


@dataclass(frozen=True)
class Schedule:
    """One year's official schedule: days off on weekdays, working weekend days."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = ""


@dataclass(frozen=True)
class Deadline:
    day: date
    provisional: bool


@functools.lru_cache(maxsize=8192)
def _package_answer(day: date) -> tuple[bool, bool]:
    """The package's answer, or the provisional rule's. Cached: the package checks each
    date against its whole range first (~30 µs a call), and a year's statistics ask
    about hundreds of thousands of days."""
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:
        fixed = (day.month, day.day) in FIXED_HOLIDAYS
        return day.weekday() < 5 and not fixed, True


@dataclass(frozen=True)
class WorkingDays:
    """Answers "is this a working day?" and counts working days forward."""

    schedules: Mapping[int, Schedule] = field(default_factory=dict)

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, is that answer provisional)."""
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            if day in schedule.workdays:
                return True, False
            if day in schedule.holidays:
                return False, False
            return day.weekday() < 5, False
        return _package_answer(day)

    def add(self, start: date, working_days: int) -> Deadline:
        """The ``working_days``-th working day after ``start`` (``start`` not counted)."""
        if working_days < 0:
            raise ValueError("working_days must not be negative")
        day, left, provisional = start, working_days, False
        while left:
            day += timedelta(days=1)
            workday, unsure = self.is_workday(day)
            provisional = provisional or unsure
            if workday:
                left -= 1
        return Deadline(day, provisional)

    def count(self, after: date, until: date) -> tuple[int, bool]:
        """Working days d with ``after`` < d <= ``until``, and whether that is provisional."""
        day, found, provisional = after, 0, False
        while day < until:
            day += timedelta(days=1)
            workday, unsure = self.is_workday(day)
            provisional = provisional or unsure
            found += workday
        return found, provisional


class DayRanks:
    """The calendar's answers between two dates read once and numbered, so that counting
    and adding working days are lookups (a year's statistics count hundreds of
    thousands of days). Outside those dates it asks the calendar."""

    def __init__(self, calendar: WorkingDays, first: date, last: date) -> None:
        self.calendar = calendar
        self.first = first
        self.last = last
        self.before: list[int] = []
        """Working days from ``first`` (exclusive) to each day (inclusive)."""
        self.workdays: list[date] = []
        self.unsure: list[int] = []
        """Provisional answers, counted the same way."""
        found = unsure = 0
        day = first
        while day <= last:
            workday, provisional = calendar.is_workday(day)
            if day > first:
                found += workday
                unsure += provisional
                if workday:
                    self.workdays.append(day)
            self.before.append(found)
            self.unsure.append(unsure)
            day += timedelta(days=1)

    def _index(self, day: date) -> int | None:
        return (day - self.first).days if self.first <= day <= self.last else None

    def count(self, after: date, until: date) -> tuple[int, bool]:
        """As :meth:`WorkingDays.count`."""
        a, u = self._index(after), self._index(until)
        if a is None or u is None or u < a:
            return self.calendar.count(after, until)
        return self.before[u] - self.before[a], self.unsure[u] > self.unsure[a]

    def add(self, start: date, working_days: int) -> Deadline:
        """As :meth:`WorkingDays.add`."""
        s = self._index(start)
        if s is None or working_days <= 0:
            return self.calendar.add(start, working_days)
        wanted = self.before[s] + working_days - 1
        if wanted >= len(self.workdays):
            return self.calendar.add(start, working_days)
        day = self.workdays[wanted]
        d = self._index(day)
        assert d is not None
        return Deadline(day, self.unsure[d] > self.unsure[s])


def parse_schedule(text: str) -> Schedule:
    """A schedule file, JSON:
    ``{"year": 2027, "source": …, "holidays": {name: [dates]}, "workdays": [dates]}``.

    ``holidays`` lists every day off of each holiday (weekend days included, as the
    notice gives them); ``workdays`` the weekend days that are working days (调休上班).
    """
    problems: list[dict[str, str]] = []
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationFailed([{"field": "file", "message": f"不是有效的 JSON:{error}"}]) from None
    if not isinstance(raw, dict):
        raise ValidationFailed([{"field": "file", "message": "应为一个 JSON 对象"}])
    year = raw.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationFailed([{"field": "year", "message": "年份应为 2000–2100 之间的整数"}])
    holidays_raw = raw.get("holidays", {})
    if not isinstance(holidays_raw, dict):
        problems.append({"field": "holidays", "message": '应为 {"节日名称": ["日期", …]}'})
        holidays_raw = {}
    holidays = _dates(
        "holidays", [d for days in holidays_raw.values() for d in _list(days)], year, problems
    )
    workdays = _dates("workdays", _list(raw.get("workdays", [])), year, problems)
    for day in sorted(workdays):
        if day.weekday() < 5:
            problems.append({"field": "workdays", "message": f"{day} 本来就是工作日（周一至周五）"})
    for day in sorted(holidays & workdays):
        problems.append({"field": "workdays", "message": f"{day} 同时列为放假和上班"})
    if problems:
        raise ValidationFailed(problems)
    source = raw.get("source", "")
    return Schedule(year, frozenset(holidays), frozenset(workdays), str(source))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _dates(
    name: str, values: Iterable[Any], year: int, problems: list[dict[str, str]]
) -> set[date]:
    days: set[date] = set()
    for value in values:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            problems.append({"field": name, "message": f"日期格式应为 YYYY-MM-DD:{value!r}"})
            continue
        if day.year != year:
            problems.append({"field": name, "message": f"{day} 不在 {year} 年"})
        days.add(day)
    return days


_CACHE_SECONDS = 60.0
_CACHED = "workdays.calendar"
"""Where the application context keeps the calendar as last read, and when (see
``working_days``)."""


async def load_schedule(schedule: Schedule, *, now: datetime | None = None) -> None:
    """Store ``schedule``, replacing any earlier one for the same year."""
    now = now or utcnow()
    holidays = json.dumps(sorted(d.isoformat() for d in schedule.holidays))
    workdays = json.dumps(sorted(d.isoformat() for d in schedule.workdays))
    existing = await HolidaySchedule.select(HolidaySchedule.id).where(
        HolidaySchedule.year == schedule.year
    )
    if existing:
        await HolidaySchedule.update(
            {
                HolidaySchedule.holidays: holidays,
                HolidaySchedule.workdays: workdays,
                HolidaySchedule.source: schedule.source,
                HolidaySchedule.loaded_at: now,
            }
        ).where(HolidaySchedule.year == schedule.year)
    else:
        row = HolidaySchedule(
            year=schedule.year,
            holidays=holidays,
            workdays=workdays,
            source=schedule.source,
            loaded_at=now,
        )
        await HolidaySchedule.insert(row)
    current().forget(_CACHED)


async def remove_schedule(year: int) -> None:
    """Forget a loaded schedule: the package (or the provisional rule) answers again."""
    await HolidaySchedule.delete().where(HolidaySchedule.year == year)
    current().forget(_CACHED)


async def working_days() -> WorkingDays:
    """The calendar with every loaded schedule, re-read from the database at most once
    a minute (schedules change once a year; loading one in this process re-reads at once)."""
    memory = current().memory
    now = time.monotonic()
    cached: tuple[float, WorkingDays] | None = memory.get(_CACHED)
    if cached is None or now - cached[0] > _CACHE_SECONDS:
        cached = memory[_CACHED] = (now, await _read_calendar())
    return cached[1]


async def _read_calendar() -> WorkingDays:
    rows = await HolidaySchedule.select(
        HolidaySchedule.year,
        HolidaySchedule.holidays,
        HolidaySchedule.workdays,
        HolidaySchedule.source,
    )
    schedules = {
        row["year"]: Schedule(
            row["year"],
            frozenset(date.fromisoformat(d) for d in json.loads(row["holidays"])),
            frozenset(date.fromisoformat(d) for d in json.loads(row["workdays"])),
            row["source"],
        )
        for row in rows
    }
    return WorkingDays(schedules)
