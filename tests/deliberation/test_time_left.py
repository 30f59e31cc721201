"""Relative time beside every date with a limit (issue 25): 还剩 N 个工作日 / 今天到期 /
已逾期 N 天, in working days where the limit is, from the one clock."""

from __future__ import annotations

from datetime import date

from deliberation.deadlines import TimeLeft, days_ago, posting_left, time_left
from deliberation.workdays import WorkingDays

CALENDAR = WorkingDays()
FRIDAY = date(2026, 12, 4)


def test_due_today() -> None:
    assert time_left(FRIDAY, FRIDAY, CALENDAR) == TimeLeft("今天到期", "today", 0)


def test_due_tomorrow_is_one_working_day() -> None:
    thursday = date(2026, 12, 3)
    assert time_left(FRIDAY, thursday, CALENDAR).text == "还剩 1 个工作日"


def test_a_weekend_is_not_counted() -> None:
    # Friday to the next Tuesday: Monday and Tuesday are left, not four days.
    assert time_left(date(2026, 12, 8), FRIDAY, CALENDAR).text == "还剩 2 个工作日"
    # In calendar days where the limit is in calendar days (a result's deadline).
    assert time_left(date(2026, 12, 8), FRIDAY, CALENDAR, working=False).text == "还剩 4 天"


def test_a_holiday_is_not_counted() -> None:
    # 2026 National Day: 10-01..10-07 off; from 09-30 only 10-08 is a working day.
    left = time_left(date(2026, 10, 8), date(2026, 9, 30), CALENDAR)
    assert left == TimeLeft("还剩 1 个工作日", "left", 1)


def test_overdue_in_calendar_days() -> None:
    assert time_left(FRIDAY, date(2026, 12, 5), CALENDAR) == TimeLeft("已逾期 1 天", "late", 1)
    assert time_left(FRIDAY, date(2026, 12, 7), CALENDAR).text == "已逾期 3 天"


def test_a_limit_on_a_day_off_with_no_working_day_before_it() -> None:
    # A typed deadline on a Sunday, seen on the Friday: two days, not "0 个工作日".
    assert time_left(date(2026, 12, 6), FRIDAY, CALENDAR).text == "还剩 2 天"


def test_past_events() -> None:
    assert days_ago(FRIDAY, FRIDAY) == "今天"
    assert days_ago(FRIDAY, date(2026, 12, 5)) == "昨天"
    assert days_ago(FRIDAY, date(2026, 12, 14)) == "10 天前"
    assert days_ago(date(2026, 12, 5), FRIDAY) == ""


def test_a_posting_period() -> None:
    ends = date(2026, 12, 8)  # Tuesday
    assert posting_left(ends, FRIDAY, CALENDAR).text == "公示还剩 2 个工作日"
    assert posting_left(ends, ends, CALENDAR) == TimeLeft("今天公示期满", "today", 0)
    # Ended is not late: nothing is wrong when a posting period runs out.
    assert posting_left(ends, date(2026, 12, 9), CALENDAR) == TimeLeft("公示已结束", "ended", 1)
