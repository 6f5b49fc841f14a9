"""Slot math: windows, weekdays, holidays and DST, per DESIGN "Schedule semantics"."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.schedules import (
    ALL_DAYS,
    ScheduleSpec,
    day_slots,
    is_holiday,
    is_scheduled_day,
    next_slot_after,
    next_slots,
    slots_between,
)

M = timedelta(minutes=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))


def walls(slots: list[datetime], tz: str) -> list[str]:
    return [s.astimezone(ZoneInfo(tz)).strftime("%a %H:%M") for s in slots]


def day_of(spec: ScheduleSpec, day: date) -> list[datetime]:
    zone = ZoneInfo(spec.tz)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return list(slots_between(spec, start, start + timedelta(days=1)))


NIGHT = {"window_start": time(1), "window_end": time(4), "weekdays": ALL_DAYS}


# ---- the basic example ----------------------------------------------------------------------


def test_every_45m_nine_to_five_gives_ten_slots() -> None:
    spec = ScheduleSpec(interval=45 * M, tz="Europe/Berlin")
    slots = day_of(spec, date(2026, 6, 3))
    assert [s.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") for s in slots] == [
        "09:45", "10:30", "11:15", "12:00", "12:45", "13:30", "14:15", "15:00", "15:45", "16:30",
    ]  # fmt: skip
    assert all(s.tzinfo is UTC for s in slots)
    assert slots[0] == utc(2026, 6, 3, 7, 45)  # CEST, +02:00


def test_slot_at_exactly_the_window_end_is_excluded() -> None:
    spec = ScheduleSpec(interval=60 * M, tz="UTC")
    slots = day_of(spec, date(2026, 6, 3))
    assert walls(slots, "UTC")[-1] == "Wed 16:00"
    assert len(slots) == 7  # 10:00 ... 16:00; never 09:00 (k >= 1) nor 17:00 (end)


def test_weekdays_schedule_skips_the_weekend() -> None:
    spec = ScheduleSpec(interval=4 * 60 * M, tz="UTC")  # one slot a day at 13:00
    slots = list(slots_between(spec, utc(2026, 6, 1), utc(2026, 6, 15)))
    assert walls(slots, "UTC") == [
        "Mon 13:00", "Tue 13:00", "Wed 13:00", "Thu 13:00", "Fri 13:00",
        "Mon 13:00", "Tue 13:00", "Wed 13:00", "Thu 13:00", "Fri 13:00",
    ]  # fmt: skip


def test_weekend_and_custom_days() -> None:
    weekend = ScheduleSpec(interval=4 * 60 * M, tz="UTC", weekdays=frozenset({5, 6}))
    slots = list(slots_between(weekend, utc(2026, 6, 1), utc(2026, 6, 8)))
    assert walls(slots, "UTC") == ["Sat 13:00", "Sun 13:00"]
    mwf = ScheduleSpec(interval=4 * 60 * M, tz="UTC", weekdays=frozenset({0, 2, 4}))
    slots = list(slots_between(mwf, utc(2026, 6, 1), utc(2026, 6, 8)))
    assert walls(slots, "UTC") == ["Mon 13:00", "Wed 13:00", "Fri 13:00"]


def test_custom_window() -> None:
    spec = ScheduleSpec(interval=30 * M, tz="UTC", window_start=time(7, 15), window_end=time(9, 0))
    assert walls(day_of(spec, date(2026, 6, 3)), "UTC") == ["Wed 07:45", "Wed 08:15", "Wed 08:45"]


def test_slots_between_is_half_open() -> None:
    spec = ScheduleSpec(interval=60 * M, tz="UTC")
    slots = list(slots_between(spec, utc(2026, 6, 3, 10), utc(2026, 6, 3, 12)))
    assert slots == [utc(2026, 6, 3, 10), utc(2026, 6, 3, 11)]
    assert list(slots_between(spec, utc(2026, 6, 3, 12), utc(2026, 6, 3, 12))) == []
    assert list(slots_between(spec, utc(2026, 6, 4), utc(2026, 6, 3))) == []


def test_slots_between_accepts_non_utc_bounds() -> None:
    spec = ScheduleSpec(interval=60 * M, tz="Asia/Tokyo")
    start = local("America/Los_Angeles", 2026, 6, 2, 18)  # = Wed 10:00 Tokyo
    slots = list(slots_between(spec, start, start + timedelta(hours=2)))
    assert walls(slots, "Asia/Tokyo") == ["Wed 10:00", "Wed 11:00"]


# ---- holidays -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [(date(2026, 7, 3), "Independence Day observed"), (date(2026, 11, 26), "Thanksgiving")],
)
def test_us_holidays_have_no_slots(day: date, name: str) -> None:
    spec = ScheduleSpec(interval=45 * M, tz="America/New_York", holidays="US")
    assert is_holiday("US", day), name
    assert not is_scheduled_day(spec, day)
    assert day_of(spec, day) == []
    without = ScheduleSpec(interval=45 * M, tz="America/New_York")
    assert len(day_of(without, day)) == 10


def test_next_slot_skips_a_holiday_and_the_weekend() -> None:
    spec = ScheduleSpec(interval=45 * M, tz="America/New_York", holidays="US")
    thursday_evening = local("America/New_York", 2026, 7, 2, 17)
    slot = next_slot_after(spec, thursday_evening)
    assert slot == local("America/New_York", 2026, 7, 6, 9, 45)  # Monday, after Fri 3rd off


def test_other_countries_holidays_do_not_apply() -> None:
    spec = ScheduleSpec(interval=45 * M, tz="Europe/Berlin", holidays="DE")
    assert is_scheduled_day(spec, date(2026, 11, 26))  # US Thanksgiving, a German workday
    assert not is_scheduled_day(spec, date(2026, 5, 25))  # Whit Monday
    assert not is_scheduled_day(spec, date(2026, 12, 25))


def test_is_scheduled_day_without_holidays() -> None:
    spec = ScheduleSpec(interval=45 * M, tz="UTC")
    assert is_scheduled_day(spec, date(2026, 12, 25))  # a Friday; no holiday calendar set
    assert not is_scheduled_day(spec, date(2026, 12, 26))  # Saturday


def test_unknown_holiday_code_in_a_stored_spec_does_not_crash() -> None:
    spec = ScheduleSpec(interval=45 * M, tz="UTC", holidays="QQ")
    assert is_scheduled_day(spec, date(2026, 12, 25))


# ---- DST ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "expected"),
    [
        # New York springs forward 02:00 EST -> 03:00 EDT: 02:00 and 02:30 do not exist.
        (
            "America/New_York",
            date(2026, 3, 8),
            [utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7), utc(2026, 3, 8, 7, 30)],
        ),
        # New York falls back 02:00 EDT -> 01:00 EST: 01:30 happens twice, fires once (EDT).
        (
            "America/New_York",
            date(2026, 11, 1),
            [
                utc(2026, 11, 1, 5, 30),
                utc(2026, 11, 1, 7),
                utc(2026, 11, 1, 7, 30),
                utc(2026, 11, 1, 8),
                utc(2026, 11, 1, 8, 30),
            ],
        ),
        # Berlin springs forward 02:00 CET -> 03:00 CEST.
        (
            "Europe/Berlin",
            date(2026, 3, 29),
            [utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)],
        ),
        # Berlin falls back 03:00 CEST -> 02:00 CET: 02:00 and 02:30 fire at the CEST one.
        (
            "Europe/Berlin",
            date(2026, 10, 25),
            [
                utc(2026, 10, 24, 23, 30),
                utc(2026, 10, 25, 0),
                utc(2026, 10, 25, 0, 30),
                utc(2026, 10, 25, 2),
                utc(2026, 10, 25, 2, 30),
            ],
        ),
        # Sydney (southern hemisphere) falls back in April: 03:00 AEDT -> 02:00 AEST.
        (
            "Australia/Sydney",
            date(2026, 4, 5),
            [
                utc(2026, 4, 4, 14, 30),
                utc(2026, 4, 4, 15),
                utc(2026, 4, 4, 15, 30),
                utc(2026, 4, 4, 17),
                utc(2026, 4, 4, 17, 30),
            ],
        ),
        # ... and springs forward in October: 02:00 AEST -> 03:00 AEDT.
        (
            "Australia/Sydney",
            date(2026, 10, 4),
            [utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 16), utc(2026, 10, 3, 16, 30)],
        ),
    ],
)
def test_dst_change_days(tz: str, day: date, expected: list[datetime]) -> None:
    spec = ScheduleSpec(interval=30 * M, tz=tz, **NIGHT)  # type: ignore[arg-type]
    assert list(day_slots(spec, day)) == expected
    assert day_of(spec, day) == expected
    around = list(slots_between(spec, expected[0] - timedelta(hours=3), expected[-1] + M))
    assert around == expected


def test_office_hours_keep_their_wall_clock_across_dst() -> None:
    spec = ScheduleSpec(interval=60 * M, tz="America/New_York")
    friday = day_of(spec, date(2026, 3, 6))
    monday = day_of(spec, date(2026, 3, 9))
    assert walls(friday, spec.tz)[0] == "Fri 10:00"
    assert walls(monday, spec.tz)[0] == "Mon 10:00"
    assert friday[0].hour == 15  # EST
    assert monday[0].hour == 14  # EDT


def test_kolkata_half_hour_offset_without_dst() -> None:
    spec = ScheduleSpec(interval=45 * M, tz="Asia/Kolkata")
    for day in (date(2026, 1, 5), date(2026, 7, 6)):
        slots = day_of(spec, day)
        assert len(slots) == 10
        assert (slots[0].hour, slots[0].minute) == (4, 15)  # 09:45 IST = 04:15 UTC
        assert (slots[-1].hour, slots[-1].minute) == (11, 0)  # 16:30 IST


# ---- next slots -----------------------------------------------------------------------------


def test_next_slot_is_strictly_after() -> None:
    spec = ScheduleSpec(interval=45 * M, tz="Europe/Berlin")
    at_slot = local("Europe/Berlin", 2026, 6, 3, 10, 30)
    assert next_slot_after(spec, at_slot) == local("Europe/Berlin", 2026, 6, 3, 11, 15)
    just_before = at_slot - timedelta(microseconds=1)
    assert next_slot_after(spec, just_before) == at_slot


def test_next_slot_after_friday_last_slot_is_monday() -> None:
    spec = ScheduleSpec(interval=45 * M, tz="Europe/Berlin")
    friday_last = local("Europe/Berlin", 2026, 6, 5, 16, 30)
    assert next_slot_after(spec, friday_last) == local("Europe/Berlin", 2026, 6, 8, 9, 45)
    saturday = local("Europe/Berlin", 2026, 6, 6, 12)
    assert next_slot_after(spec, saturday) == local("Europe/Berlin", 2026, 6, 8, 9, 45)


def test_next_slot_before_the_window_on_the_same_day() -> None:
    spec = ScheduleSpec(interval=45 * M, tz="Europe/Berlin")
    early = local("Europe/Berlin", 2026, 6, 3, 6)
    assert next_slot_after(spec, early) == local("Europe/Berlin", 2026, 6, 3, 9, 45)


def test_next_slot_when_utc_date_differs_from_local_date() -> None:
    spec = ScheduleSpec(interval=60 * M, tz="Pacific/Auckland", weekdays=ALL_DAYS)
    after = utc(2026, 6, 2, 23)  # = Wed 11:00 in Auckland (+12)
    assert next_slot_after(spec, after) == local("Pacific/Auckland", 2026, 6, 3, 12)


def test_next_slots() -> None:
    spec = ScheduleSpec(interval=3 * 60 * M, tz="UTC")  # 12:00 and 15:00
    slots = next_slots(spec, utc(2026, 6, 5, 13), 4)
    assert walls(slots, "UTC") == ["Fri 15:00", "Mon 12:00", "Mon 15:00", "Tue 12:00"]
    assert next_slots(spec, utc(2026, 6, 5, 13), 0) == []


def test_no_slot_at_all_gives_none() -> None:
    no_days = ScheduleSpec(interval=45 * M, tz="UTC", weekdays=frozenset())
    assert next_slot_after(no_days, utc(2026, 6, 1)) is None
    assert next_slots(no_days, utc(2026, 6, 1), 3) == []
    too_short = ScheduleSpec(interval=60 * M, tz="UTC", window_start=time(9), window_end=time(10))
    assert next_slot_after(too_short, utc(2026, 6, 1)) is None


def test_naive_datetimes_are_refused() -> None:
    spec = ScheduleSpec(interval=45 * M, tz="UTC")
    naive = datetime(2026, 6, 1)
    with pytest.raises(ValueError):
        next_slot_after(spec, naive)


def test_next_slot_after_stays_cheap() -> None:
    specs = [
        ScheduleSpec(interval=(15 + i % 100) * M, tz=tz, holidays=country)
        for i in range(300)
        for tz, country in [("Europe/Berlin", None), ("America/New_York", "US")]
    ]
    after = utc(2026, 6, 5, 20)  # Friday evening: the search has to cross a weekend
    for spec in specs:
        slot = next_slot_after(spec, after)
        assert slot is not None
        assert slot > after


# ---- properties -----------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]


@settings(max_examples=120, deadline=None)
@given(
    minutes=st.integers(15, 480),
    start=st.integers(0, 22 * 60),
    length=st.integers(15, 24 * 60),
    days=st.frozensets(st.integers(0, 6)),
    tz=st.sampled_from(ZONES),
    offset_days=st.integers(0, 4 * 365),
)
def test_slots_are_increasing_in_window_and_on_allowed_days(
    minutes: int, start: int, length: int, days: frozenset[int], tz: str, offset_days: int
) -> None:
    end = min(start + length, 23 * 60 + 59)
    spec = ScheduleSpec(
        interval=minutes * M,
        tz=tz,
        window_start=time(start // 60, start % 60),
        window_end=time(end // 60, end % 60),
        weekdays=days,
    )
    begin = utc(2025, 1, 1) + timedelta(days=offset_days)
    slots = list(slots_between(spec, begin, begin + timedelta(days=10)))
    zone = ZoneInfo(tz)
    assert slots == sorted(set(slots))
    for slot in slots:
        assert begin <= slot < begin + timedelta(days=10)
        wall = slot.astimezone(zone)
        assert wall.weekday() in days
        assert spec.window_start < wall.time() < spec.window_end
        since_start = (wall.hour * 60 + wall.minute) - start
        assert since_start % minutes == 0
    if slots:
        assert next_slot_after(spec, begin - timedelta(microseconds=1)) == slots[0]
        for earlier, later in itertools.pairwise(slots):
            assert next_slot_after(spec, earlier) == later
