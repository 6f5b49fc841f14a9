"""Leaderboard periods, ranking and streaks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import partial

import pytest

from bot.leaderboard import (
    BoardEntry,
    current_streak,
    period_start,
    period_title,
    rank_entries,
)
from bot.schedules import ScheduleSpec, is_scheduled_day


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---- periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "now", "tz", "expected"),
    [
        # Berlin moves to CEST on Sunday 2026-03-29.
        ("week", utc(2026, 4, 1, 12), "Europe/Berlin", utc(2026, 3, 29, 22)),  # Mon 00:00 CEST
        ("week", utc(2026, 3, 29, 22, 30), "Europe/Berlin", utc(2026, 3, 29, 22)),
        ("week", utc(2026, 3, 29, 21, 30), "Europe/Berlin", utc(2026, 3, 22, 23)),  # Sun night
        ("week", utc(2026, 3, 29, 12), "Europe/Berlin", utc(2026, 3, 22, 23)),  # Mon 00:00 CET
        ("month", utc(2026, 4, 2, 12), "Europe/Berlin", utc(2026, 3, 31, 22)),
        ("month", utc(2026, 3, 31, 22, 30), "Europe/Berlin", utc(2026, 3, 31, 22)),  # 00:30 Apr 1
        ("month", utc(2026, 3, 31, 21, 30), "Europe/Berlin", utc(2026, 2, 28, 23)),  # 23:30 Mar 31
        # New York falls back on Sunday 2026-11-01.
        ("month", utc(2026, 11, 15), "America/New_York", utc(2026, 11, 1, 4)),  # 00:00 EDT
        ("week", utc(2026, 11, 4, 15), "America/New_York", utc(2026, 11, 2, 5)),  # 00:00 EST
        ("week", utc(2026, 6, 1), "America/New_York", utc(2026, 5, 25, 4)),  # still Sunday there
        ("week", utc(2026, 6, 3), "Asia/Kolkata", utc(2026, 5, 31, 18, 30)),
        ("month", utc(2026, 1, 1, 0, 30), "UTC", utc(2026, 1, 1)),
        ("week", utc(2026, 1, 1), "UTC", utc(2025, 12, 29)),  # weeks cross the year
    ],
)
def test_period_start(period: str, now: datetime, tz: str, expected: datetime) -> None:
    start = period_start(period, now=now, tz=tz)  # type: ignore[arg-type]
    assert start == expected
    assert start is not None and start.utcoffset() == timedelta(0)


def test_all_time_has_no_start() -> None:
    assert period_start("all", now=utc(2026, 6, 1), tz="UTC") is None


def test_period_start_in_a_week_with_a_midnight_dst_change() -> None:
    # Chile springs forward at midnight on Sunday 2026-09-06 (00:00 does not exist that day);
    # the week still starts on Monday 00:00 at the old offset.
    start = period_start("week", now=utc(2026, 9, 6, 12), tz="America/Santiago")
    assert start == utc(2026, 8, 31, 4)


def test_period_titles() -> None:
    assert period_title("week") == "This week"
    assert period_title("month") == "This month"
    assert period_title("all") == "All time"


# ---- ranking --------------------------------------------------------------------------------


def test_rank_ties_share_a_rank() -> None:
    entries = rank_entries({"U1": 5, "U2": 5, "U3": 3, "U4": 1}, {"U1": 2, "U2": 2, "U3": 9})
    assert entries == [
        BoardEntry(rank=1, person_id="U1", breaks=5, streak=2),
        BoardEntry(rank=1, person_id="U2", breaks=5, streak=2),
        BoardEntry(rank=3, person_id="U3", breaks=3, streak=9),
        BoardEntry(rank=4, person_id="U4", breaks=1, streak=0),
    ]


def test_streak_breaks_a_tie_in_breaks() -> None:
    entries = rank_entries({"UA": 4, "UB": 4, "UC": 4}, {"UA": 1, "UB": 3, "UC": 1})
    assert [(e.rank, e.person_id) for e in entries] == [(1, "UB"), (2, "UA"), (2, "UC")]


def test_three_way_tie_then_next_rank_skips() -> None:
    entries = rank_entries({"c": 2, "b": 2, "a": 2, "d": 1}, {})
    assert [(e.rank, e.person_id) for e in entries] == [(1, "a"), (1, "b"), (1, "c"), (4, "d")]


def test_zero_breaks_are_left_out() -> None:
    assert rank_entries({"U1": 0, "U2": 1}, {"U1": 4}) == [
        BoardEntry(rank=1, person_id="U2", breaks=1, streak=0)
    ]
    assert rank_entries({}, {}) == []


# ---- streaks --------------------------------------------------------------------------------

WEEKDAY_SPEC = ScheduleSpec(interval=timedelta(minutes=45), tz="America/New_York")
weekdays = partial(is_scheduled_day, WEEKDAY_SPEC)
WED = date(2026, 3, 11)


def days(*numbers: int, month: int = 3) -> list[date]:
    return [date(2026, month, n) for n in numbers]


def test_streak_counts_back_over_the_weekend() -> None:
    # Thu 5, Fri 6, (weekend), Mon 9, Tue 10, Wed 11
    assert current_streak(days(5, 6, 9, 10, 11), today=WED, is_scheduled_day=weekdays) == 5


def test_missed_scheduled_day_breaks_the_streak() -> None:
    assert current_streak(days(3, 5, 6, 9, 10, 11), today=WED, is_scheduled_day=weekdays) == 5
    assert current_streak(days(6, 10, 11), today=WED, is_scheduled_day=weekdays) == 2


def test_today_without_a_break_does_not_break_the_streak() -> None:
    assert current_streak(days(6, 9, 10), today=WED, is_scheduled_day=weekdays) == 3


def test_no_break_yesterday_or_today_is_zero() -> None:
    assert current_streak(days(6, 9), today=WED, is_scheduled_day=weekdays) == 0
    assert current_streak([], today=WED, is_scheduled_day=weekdays) == 0


def test_only_today() -> None:
    assert current_streak(days(11), today=WED, is_scheduled_day=weekdays) == 1


def test_on_the_weekend_the_streak_ends_friday() -> None:
    saturday, sunday, monday = date(2026, 3, 14), date(2026, 3, 15), date(2026, 3, 16)
    breaks = days(12, 13)
    assert current_streak(breaks, today=saturday, is_scheduled_day=weekdays) == 2
    assert current_streak(breaks, today=sunday, is_scheduled_day=weekdays) == 2
    assert current_streak(breaks, today=monday, is_scheduled_day=weekdays) == 2  # not yet today


def test_weekend_breaks_neither_count_nor_bridge() -> None:
    assert current_streak(days(6, 7, 8, 9), today=date(2026, 3, 9), is_scheduled_day=weekdays) == 2
    assert current_streak(days(5, 7, 8, 9), today=date(2026, 3, 9), is_scheduled_day=weekdays) == 1


def test_holidays_are_skipped_like_weekends() -> None:
    spec = ScheduleSpec(interval=timedelta(minutes=45), tz="America/New_York", holidays="US")
    scheduled = partial(is_scheduled_day, spec)
    # Thu 2 July, (Fri 3 July observed holiday), (weekend), Mon 6 July
    breaks = [date(2026, 7, 2), date(2026, 7, 6)]
    assert current_streak(breaks, today=date(2026, 7, 6), is_scheduled_day=scheduled) == 2


def test_future_breaks_and_duplicates_are_ignored() -> None:
    breaks = [*days(10, 10, 11), date(2026, 3, 20)]
    assert current_streak(breaks, today=WED, is_scheduled_day=weekdays) == 2


def test_long_streak_is_bounded_and_fast() -> None:
    today = date(2030, 1, 1)
    every_day = [today - timedelta(days=n) for n in range(5000)]
    streak = current_streak(every_day, today=today, is_scheduled_day=lambda d: True)
    assert 3 * 365 <= streak <= 3 * 366 + 1


def test_never_scheduled_walk_terminates() -> None:
    assert current_streak(days(1), today=WED, is_scheduled_day=lambda d: False) == 0


def test_daily_schedule_streak() -> None:
    daily = partial(
        is_scheduled_day,
        ScheduleSpec(
            interval=timedelta(hours=1),
            tz="UTC",
            window_start=time(8),
            weekdays=frozenset(range(7)),
        ),
    )
    assert current_streak(days(6, 7, 8, 9), today=date(2026, 3, 9), is_scheduled_day=daily) == 4
