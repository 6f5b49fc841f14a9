"""A year of slots in five timezones against an independent brute-force reference.

The reference walks every quarter hour of the year in UTC and asks, for each instant, whether its
local wall time is a slot by DESIGN.md's words: window start + k x interval (k >= 1), strictly
before the window end, on a chosen weekday that is not a public holiday; a wall time that occurs
twice fires at its first occurrence (fold=0); one that does not exist never shows up as a local
time at all, so it is skipped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.schedules import ScheduleSpec, next_slot_after, slots_between

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(days=1)
YEAR_END = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=1)
STEP = timedelta(minutes=15)


def reference_slots(spec: ScheduleSpec, start: datetime, end: datetime) -> list[datetime]:
    zone = ZoneInfo(spec.tz)
    calendar = (
        holidays.country_holidays(spec.holidays, years=range(2025, 2028)) if spec.holidays else {}
    )
    interval = int(spec.interval.total_seconds() // 60)
    first = spec.window_start.hour * 60 + spec.window_start.minute
    last = spec.window_end.hour * 60 + spec.window_end.minute
    found = []
    at = start
    while at < end:
        local = at.astimezone(zone)
        minute = local.hour * 60 + local.minute
        if (
            local.fold == 0
            and local.second == 0
            and local.weekday() in spec.weekdays
            and local.date() not in calendar
            and first < minute < last
            and (minute - first) % interval == 0
        ):
            found.append(at)
        at += STEP
    return found


WEEKDAYS = frozenset(range(5))
DAILY = frozenset(range(7))

CASES = [
    # office hours
    ScheduleSpec(timedelta(minutes=45), "America/New_York", time(9), time(17), WEEKDAYS),
    ScheduleSpec(timedelta(minutes=90), "Asia/Kolkata", time(9), time(18), WEEKDAYS),
    ScheduleSpec(timedelta(hours=1), "America/Chicago", time(8), time(17), WEEKDAYS, "US"),
    ScheduleSpec(
        timedelta(minutes=45), "Europe/Berlin", time(9, 15), time(17, 30), frozenset({0, 2, 4})
    ),
    ScheduleSpec(timedelta(minutes=30), "Australia/Sydney", time(8), time(12), WEEKDAYS, "AU"),
    # windows that cross the DST hour in both directions
    ScheduleSpec(timedelta(minutes=30), "America/New_York", time(0), time(4), DAILY),
    ScheduleSpec(timedelta(minutes=15), "America/Chicago", time(0, 30), time(3, 30), DAILY, "US"),
    ScheduleSpec(timedelta(minutes=30), "Europe/Berlin", time(1), time(4), DAILY),
    ScheduleSpec(timedelta(minutes=45), "Australia/Sydney", time(1), time(4), DAILY),
    ScheduleSpec(timedelta(minutes=15), "Asia/Kolkata", time(0), time(23, 45), DAILY),
]


@pytest.mark.parametrize("spec", CASES, ids=lambda s: f"{s.tz}-{s.to_text()}")
def test_a_year_of_slots_matches_the_reference(spec: ScheduleSpec) -> None:
    expected = reference_slots(spec, YEAR_START, YEAR_END)
    actual = list(slots_between(spec, YEAR_START, YEAR_END))
    assert actual == expected
    assert len(set(actual)) == len(actual)


@pytest.mark.parametrize("spec", CASES[:6], ids=lambda s: f"{s.tz}-{s.to_text()}")
def test_next_slot_after_walks_the_same_year(spec: ScheduleSpec) -> None:
    expected = reference_slots(spec, YEAR_START, YEAR_END)
    walked = []
    at = next_slot_after(spec, YEAR_START - timedelta(microseconds=1))
    while at is not None and at < YEAR_END:
        walked.append(at)
        at = next_slot_after(spec, at)
    assert walked == expected


def test_us_holidays_are_skipped_in_chicago() -> None:
    spec = CASES[2]
    days = {
        s.astimezone(ZoneInfo(spec.tz)).date() for s in slots_between(spec, YEAR_START, YEAR_END)
    }
    for holiday in (date(2026, 1, 1), date(2026, 7, 3), date(2026, 11, 26), date(2026, 12, 25)):
        assert holiday not in days
    assert date(2026, 11, 27) in days  # the Friday after Thanksgiving is a working day


def test_dst_days_in_new_york_have_the_exact_slots() -> None:
    spec = CASES[5]  # every 30m 00:00-04:00 daily
    zone = ZoneInfo(spec.tz)

    def day(d: date) -> list[str]:
        start = datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(d + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        return [s.astimezone(zone).strftime("%H:%M%z") for s in slots_between(spec, start, end)]

    # spring forward: 02:00-02:59 does not exist
    assert day(date(2026, 3, 8)) == [
        "00:30-0500",
        "01:00-0500",
        "01:30-0500",
        "03:00-0400",
        "03:30-0400",
    ]
    # fall back: 01:00 and 01:30 happen twice and fire once, at the first (EDT) occurrence
    assert day(date(2026, 11, 1)) == [
        "00:30-0400",
        "01:00-0400",
        "01:30-0400",
        "02:00-0500",
        "02:30-0500",
        "03:00-0500",
        "03:30-0500",
    ]
