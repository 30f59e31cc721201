"""How long each stage took and whether it was on time, from a topic's moves on the
chain, in Chinese working days (chinese-calendar's 2026 schedule: 国庆 lies inside the
first stage)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from deliberation.statistics import stage_times
from deliberation.workdays import WorkingDays


def move(seq: int, state: str, day: date, hour: int = 2) -> dict[str, object]:
    """A move at ``hour`` UTC on ``day`` (10:00 China time: the same China date)."""
    return {
        "seq": seq,
        "to_state": state,
        "created_at": datetime(2026, day.month, day.day, hour, tzinfo=UTC),
    }


def test_each_stage_counts_working_days_and_meets_its_limit_or_not() -> None:
    calendar = WorkingDays()
    events = [
        move(1, "proposed", date(2026, 9, 21)),  # a Monday
        move(2, "investigated", date(2026, 10, 12)),  # after 国庆: 10 working days later
        move(3, "site_consultation", date(2026, 10, 30)),  # 14 working days: late
        move(4, "meeting", date(2026, 11, 2)),  # 1 working day
        move(5, "resolution", date(2026, 11, 16)),  # minutes 7 working days after the meeting?
    ]
    meeting_day = date(2026, 11, 4)  # held on the Wednesday
    found = stage_times(list(reversed(events)), [meeting_day], calendar)
    assert found == [
        # Three weeks of calendar, ten working days: the National Day week is off.
        ("proposed", 10, True),
        ("investigated", 14, False),
        ("site_consultation", 1, True),
        # Counted from the meeting (4 Nov): 7 working days end on 13 Nov; left 16 Nov.
        ("meeting", 10, False),
    ]


def test_late_in_the_china_evening_is_the_next_day() -> None:
    calendar = WorkingDays()
    opened = {
        "seq": 1,
        "to_state": "proposed",
        "created_at": datetime(2026, 11, 2, 16, 30, tzinfo=UTC),
    }
    moved = {
        "seq": 2,
        "to_state": "investigated",
        "created_at": datetime(2026, 11, 16, 15, 0, tzinfo=UTC),
    }
    # Entered 3 Nov (00:30 China time), left 16 Nov (23:00 China time): 9 working days.
    assert stage_times([opened, moved], [], calendar) == [("proposed", 9, True)]


def test_a_stage_not_yet_left_and_untimed_stages_are_not_counted() -> None:
    calendar = WorkingDays()
    events = [
        move(1, "proposed", date(2026, 11, 2)),
        move(2, "rejected", date(2026, 11, 3)),
    ]
    assert stage_times(events, [], calendar) == [("proposed", 1, True)]
    assert stage_times(events[:1], [], calendar) == []
