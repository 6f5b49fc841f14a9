"""The team goal, its streak, the most improved and the regulars: each figure checked against a
computation written out by hand in the test."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from bot.teamgoal import (
    DEFAULT_GOAL_PERCENT,
    goal_day,
    most_improved,
    needed_movers,
    regular_days_needed,
    regulars,
    team_streak,
    week_goal_days,
)


def d(day: int) -> date:
    return date(2026, 11, day)  # Mon 16 ... Fri 20, Mon 23 ... Fri 27


def weekday(day: date) -> bool:
    return day.weekday() < 5


def test_a_channel_with_one_mover_reaches_the_default_goal() -> None:
    movers = {d(23): {"U1"}}
    day = goal_day(movers, d(23), DEFAULT_GOAL_PERCENT)
    assert (day.movers, day.active, day.needed, day.met) == (1, 1, 1, True)
    assert team_streak(movers, today=d(23), is_scheduled_day=weekday, percent=100) == 1


def test_nobody_active_is_no_goal_day() -> None:
    day = goal_day({}, d(23), 50)
    assert (day.active, day.needed, day.met) == (0, 0, False)


@pytest.mark.parametrize("active", range(1, 30))
@pytest.mark.parametrize("percent", [10, 33, 50, 70, 100])
def test_needed_movers_is_the_share_rounded_up(active: int, percent: int) -> None:
    assert needed_movers(active, percent) == max(1, math.ceil(active * percent / 100))


def test_active_people_are_those_who_moved_in_the_14_days_ending_that_day() -> None:
    movers = {
        d(23) - timedelta(days=13): {"U1"},  # inside the window (14th day back, inclusive)
        d(23) - timedelta(days=14): {"U2"},  # outside
        d(23): {"U3"},
    }
    day = goal_day(movers, d(23), 50)
    assert day.active == 2  # U1, U3
    assert day.needed == 1 and day.met


def test_the_goal_needs_the_share_of_recent_movers() -> None:
    # Five people moved in the last fortnight; on Tue 24 two of them move.
    movers = {d(16): {"A", "B", "C", "D", "E"}, d(24): {"A", "B"}}
    assert not goal_day(movers, d(24), 50).met  # needs 3
    assert goal_day(movers, d(24), 40).met  # needs 2


def test_team_streak_counts_scheduled_goal_days_and_skips_weekends() -> None:
    people = {"A", "B"}
    movers = {d(19): people, d(20): people, d(23): people, d(24): {"A"}}
    # 50%: Tue 24 (1 of 2) met, Mon 23 met, weekend skipped, Fri 20, Thu 19 met.
    assert team_streak(movers, today=d(24), is_scheduled_day=weekday, percent=50) == 4
    # 100%: Tue 24 not met (yet): the streak runs Mon, Fri, Thu.
    assert team_streak(movers, today=d(24), is_scheduled_day=weekday, percent=100) == 3
    # A missed scheduled day in between ends it (no team freezes).
    movers.pop(d(20))
    assert team_streak(movers, today=d(24), is_scheduled_day=weekday, percent=50) == 2


def test_week_goal_days_lists_the_scheduled_days_so_far() -> None:
    movers = {d(23): {"A"}, d(25): {"A"}}
    week = week_goal_days(movers, week_of=d(25), today=d(25), is_scheduled_day=weekday, percent=50)
    assert [(g.day, g.met) for g in week] == [(d(23), True), (d(24), False), (d(25), True)]


def test_most_improved_is_the_biggest_gain_and_ties_stay_ties() -> None:
    this_week = {"A": 9, "B": 5, "C": 4, "D": 2}
    last_week = {"A": 8, "B": 1, "C": 0, "E": 7}
    # Gains: A +1, B +4, C +4, D +2.
    assert most_improved(this_week, last_week) == (("B", "C"), 4)
    assert most_improved({"A": 3}, {"A": 5}) == ((), 0)


def test_regulars_moved_on_at_least_n_days() -> None:
    assert regular_days_needed(5) == 3
    assert regular_days_needed(2) == 2  # a mon,thu schedule: both days
    days = {"A": 5, "B": 3, "C": 2, "D": 3}
    assert regulars(days, 3) == ("A", "B", "D")
    assert regulars(days, 0) == ()
