"""Forgiving streaks: one freeze (or the channel's number) per person per calendar week bridges a
missed scheduled day; week edges, DST days, mid-week joiners, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from bot.leaderboard import Streak, current_streak, rank_entries, streak_with_freezes, week_start
from bot.ports import Board, ChannelKey, ChannelState
from bot.replies import board_lines
from bot.schedules import ScheduleSpec, is_scheduled_day
from bot.team import scheduled_days

WEEKDAYS = ScheduleSpec(interval=timedelta(minutes=45), tz="Europe/Berlin")
weekday = partial(is_scheduled_day, WEEKDAYS)


def d(day: int, month: int = 11) -> date:
    return date(2026, month, day)


def streak(days: list[date], today: date, freezes: int = 1, scheduled=weekday) -> Streak:  # type: ignore[no-untyped-def]
    return streak_with_freezes(
        days, today=today, is_scheduled_day=scheduled, freezes_per_week=freezes
    )


# November 2026: Mon 16 ... Fri 20, Mon 23 ... Fri 27, Mon 30.


def test_one_missed_day_is_bridged_and_counted_as_a_freeze() -> None:
    days = [d(16), d(17), d(19), d(20)]  # missed Wed 18
    assert streak(days, d(20)) == Streak(4, 1)
    assert streak(days, d(20), freezes=0) == Streak(2, 0)
    assert current_streak(days, today=d(20), is_scheduled_day=weekday) == 2


def test_a_second_missed_day_in_the_same_week_breaks_it_with_one_freeze() -> None:
    days = [d(16), d(18), d(20)]  # missed Tue 17 and Thu 19
    assert streak(days, d(20)) == Streak(2, 1)  # Fri, (Thu frozen), Wed; Tue ends it
    assert streak(days, d(20), freezes=2) == Streak(3, 2)


def test_week_edges_each_week_has_its_own_freeze() -> None:
    # Missed Fri 20 (week of the 16th) and Mon 23 (week of the 23rd): one freeze each.
    days = [d(16), d(17), d(18), d(19), d(24), d(25)]
    assert streak(days, d(25)) == Streak(6, 2)
    assert week_start(d(20)) == d(16) and week_start(d(23)) == d(23)
    # Two missed days in the same week (Thu 19, Fri 20) are one too many with one freeze.
    days = [d(16), d(17), d(18), d(23), d(24)]
    assert streak(days, d(24)) == Streak(2, 0)


def test_weekends_never_use_a_freeze_or_break_the_streak() -> None:
    days = [d(19), d(20), d(23)]  # Thu, Fri, Mon: the weekend between is not scheduled
    assert streak(days, d(23)) == Streak(3, 0)
    # A break on Saturday does not count as a day.
    assert streak([*days, d(21)], d(23)) == Streak(3, 0)


def test_today_without_a_break_yet_neither_counts_nor_uses_a_freeze() -> None:
    days = [d(16), d(17), d(18)]
    assert streak(days, d(19)) == Streak(3, 0)
    # Today (Fri) empty and yesterday (Thu) missed: the freeze bridges Thu.
    assert streak(days, d(20)) == Streak(3, 1)


def test_a_person_who_joins_mid_week_uses_no_freeze_for_the_days_before() -> None:
    days = [d(18), d(19), d(20)]  # first break on Wednesday
    assert streak(days, d(20)) == Streak(3, 0)


def test_freezes_that_bridge_to_nothing_are_not_counted() -> None:
    # Mon 23 only, after a break two weeks earlier: the gap is too long to bridge.
    days = [d(9), d(23)]
    assert streak(days, d(23)) == Streak(1, 0)


def test_holidays_are_not_scheduled_days() -> None:
    # Christmas Day (Fri 25 Dec 2026) is a German public holiday: not a scheduled day.
    spec = ScheduleSpec(interval=timedelta(hours=1), tz="Europe/Berlin", holidays="DE")
    holiday = partial(is_scheduled_day, spec)
    assert not holiday(date(2026, 12, 25))
    days = [date(2026, 12, 23), date(2026, 12, 24), date(2026, 12, 28)]  # Wed, Thu, Mon
    assert streak(days, date(2026, 12, 28), scheduled=holiday) == Streak(3, 0)
    # Without the holiday rule the missed Friday needs the week's freeze.
    assert streak(days, date(2026, 12, 28)) == Streak(3, 1)


def test_dst_day_breaks_land_on_their_local_day() -> None:
    # Berlin falls back on Sun 25 Oct 2026; springs forward on Sun 29 Mar 2026. A break at
    # 00:30 local on Mon 26 Oct is 23:30 UTC on Sunday: it still counts for Monday.
    state = ChannelState(key=ChannelKey("slack", "T1", "C1"), spec=WEEKDAYS)
    zone = ZoneInfo("Europe/Berlin")
    instants = [
        datetime(2026, 10, 23, 8, tzinfo=UTC),  # Fri
        datetime(2026, 10, 25, 23, 30, tzinfo=UTC),  # Mon 00:30 CET
        datetime(2026, 10, 27, 8, tzinfo=UTC),  # Tue
    ]
    days = [at.astimezone(zone).date() for at in instants]
    assert days == [date(2026, 10, 23), date(2026, 10, 26), date(2026, 10, 27)]
    result = streak_with_freezes(
        days, today=date(2026, 10, 27), is_scheduled_day=scheduled_days(state), freezes_per_week=1
    )
    assert result == Streak(3, 0)
    # The spring-forward Monday (30 Mar 2026) is an ordinary scheduled day.
    days = [date(2026, 3, 27), date(2026, 3, 31)]  # missed Mon 30
    assert streak(days, date(2026, 3, 31)) == Streak(2, 1)


def test_the_board_line_says_how_many_freezes_the_streak_used() -> None:
    entries = rank_entries({"U1": 5, "U2": 5}, {"U1": 12, "U2": 3}, {"U1": 1, "U2": 0})
    lines = board_lines(Board(title="This week", entries=entries))
    assert lines == [
        "1. <@U1> 5 breaks, 12-day streak (1 freeze used)",
        "2. <@U2> 5 breaks, 3-day streak",
    ]
