"""The working-day calendar: official schedules, make-up Saturdays, unknown years."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from deliberation.errors import ValidationFailed
from deliberation.workdays import DayRanks, Deadline, WorkingDays, parse_schedule
from tests.cli import run_cli

CALENDAR = WorkingDays()


def test_national_day_counts_the_make_up_saturday() -> None:
    # 2026: 10-01..10-07 off, Saturday 10-10 is a working day.
    assert CALENDAR.add(date(2026, 9, 29), 5) == Deadline(date(2026, 10, 12), provisional=False)
    assert CALENDAR.is_workday(date(2026, 10, 10)) == (True, False)
    assert CALENDAR.is_workday(date(2026, 10, 5)) == (False, False)


def test_spring_festival_counts_the_make_up_saturday() -> None:
    # 2026: 02-15..02-23 off, Saturday 02-14 is a working day.
    assert CALENDAR.add(date(2026, 2, 12), 3) == Deadline(date(2026, 2, 24), provisional=False)
    assert CALENDAR.add(date(2026, 2, 12), 1) == Deadline(date(2026, 2, 13), provisional=False)


def test_zero_days_is_the_start_and_negative_is_refused() -> None:
    assert CALENDAR.add(date(2026, 3, 2), 0) == Deadline(date(2026, 3, 2), provisional=False)
    with pytest.raises(ValueError):
        CALENDAR.add(date(2026, 3, 2), -1)


def test_a_year_without_data_is_provisional_weekdays_minus_fixed_holidays() -> None:
    # 12-29, 12-30, 12-31, (2027-01-01 元旦, weekend), 01-04, 01-05.
    assert CALENDAR.add(date(2026, 12, 28), 5) == Deadline(date(2027, 1, 5), provisional=True)
    assert CALENDAR.is_workday(date(2027, 10, 1)) == (False, True)
    assert CALENDAR.is_workday(date(2027, 5, 3)) == (True, True)  # a Monday, not fixed


SCHEDULE_2027 = {
    "year": 2027,
    "source": "测试用安排",
    "holidays": {"元旦": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"]},
    "workdays": ["2027-01-09"],
}


def test_a_loaded_schedule_makes_the_year_exact_and_wins() -> None:
    schedule = parse_schedule(json.dumps(SCHEDULE_2027))
    loaded = WorkingDays({2027: schedule})
    # 12-29, 12-30, 12-31, (01-01..01-04 off), 01-05, 01-06.
    assert loaded.add(date(2026, 12, 28), 5) == Deadline(date(2027, 1, 6), provisional=False)
    assert loaded.is_workday(date(2027, 1, 9)) == (True, False)  # a make-up Saturday
    # A loaded schedule wins over the package too (it replaces the whole year).
    national_day = [f"2026-10-{d:02d}" for d in range(1, 8)]
    override = parse_schedule(
        json.dumps(
            {
                "year": 2026,
                "holidays": {"国庆节": national_day, "临时": ["2026-10-12"]},
                "workdays": ["2026-10-10"],
            }
        )
    )
    assert WorkingDays({2026: override}).add(date(2026, 9, 29), 5).day == date(2026, 10, 13)


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        ({"year": "2027"}, "year"),
        ({"year": 2027, "holidays": {"元旦": ["2026-01-01"]}}, "holidays"),
        ({"year": 2027, "holidays": {"元旦": ["2027-13-01"]}}, "holidays"),
        ({"year": 2027, "workdays": ["2027-01-05"]}, "workdays"),  # a Tuesday anyway
        ({"year": 2027, "holidays": {"x": ["2027-01-09"]}, "workdays": ["2027-01-09"]}, "workdays"),
    ],
)
def test_a_bad_schedule_file_is_refused_with_the_reason(
    schedule: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_schedule(json.dumps(schedule))
    assert field in {e["field"] for e in refused.value.errors}


def test_calendar_load_from_the_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cal.sqlite3'}"
    assert run_cli(url, "migrate", cwd=tmp_path).returncode == 0
    good = tmp_path / "2027.json"
    good.write_text(json.dumps(SCHEDULE_2027, ensure_ascii=False), encoding="utf-8")
    r = run_cli(url, "calendar", "load", str(good), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2027" in r.stdout and "放假 4 天" in r.stdout
    # Loading the same year again replaces it.
    assert run_cli(url, "calendar", "load", str(good), cwd=tmp_path).returncode == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    r = run_cli(url, "calendar", "load", str(bad), cwd=tmp_path)
    assert r.returncode == 1 and "JSON" in r.stderr
    r = run_cli(url, "calendar", "load", str(tmp_path / "missing.json"), cwd=tmp_path)
    assert r.returncode == 1 and "无法读取" in r.stderr


def test_numbered_days_answer_as_the_calendar_does() -> None:
    """The statistics count with DayRanks; it must agree with the calendar everywhere,
    across a year end into a year nobody has published (provisional answers) and past
    the range it numbered."""
    ranks = DayRanks(CALENDAR, date(2026, 9, 1), date(2027, 2, 28))
    days = [date(2026, 8, 20) + timedelta(days=k) for k in range(0, 220, 3)]
    for after in days:
        for until in days:
            assert ranks.count(after, until) == CALENDAR.count(after, until), (after, until)
        for n in (0, 1, 5, 7, 10, 60):
            assert ranks.add(after, n) == CALENDAR.add(after, n), (after, n)
