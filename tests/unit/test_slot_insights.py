"""Slot insights: the share of each slot's nudges with a break over four weeks, and "far below":
in each of the last two weeks the slot's share is at most half the channel's and at least 20
points under it, from at least 3 of its nudges that week."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot.insights import channel_insights, far_below
from bot.schedules import ScheduleSpec, slots_between

# every 2h 09:00-17:00 weekdays, UTC: slots 11:00, 13:00, 15:00.
SPEC = ScheduleSpec(interval=timedelta(hours=2), tz="UTC")
NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # Fri evening


def outcomes(answered: dict[time, float], *, weeks: int = 4) -> list[tuple[datetime, bool]]:
    """Every slot of the last `weeks` weeks; slot `wall` answered on its first share of days."""
    slots = list(slots_between(SPEC, NOW - timedelta(weeks=weeks), NOW))
    result = []
    seen: dict[time, int] = {}
    for slot in slots:
        wall = slot.time()
        n = seen.get(wall, 0)
        seen[wall] = n + 1
        result.append((slot, (n % 10) < answered.get(wall, 1.0) * 10))
    return result


def test_shares_per_slot_and_the_channel_average() -> None:
    found = channel_insights(outcomes({time(11): 1.0, time(13): 0.5, time(15): 0.0}), SPEC, now=NOW)
    assert [s.wall for s in found.slots] == [time(11), time(13), time(15)]
    assert [s.nudges for s in found.slots] == [20, 20, 20]
    # Hand count: 11:00 all 20; 13:00 the first 5 of each 10 -> 10; 15:00 none.
    assert [s.answered for s in found.slots] == [20, 10, 0]
    assert found.average == 30 / 60


def test_nudges_of_an_earlier_schedule_are_not_counted() -> None:
    stray = (datetime(2026, 11, 25, 10, 30, tzinfo=UTC), True)
    found = channel_insights([stray], SPEC, now=NOW)
    assert found.nudges == 0 and found.average is None


def test_a_slot_far_below_for_two_weeks_is_suggested() -> None:
    suggestions = far_below(outcomes({time(11): 1.0, time(13): 1.0, time(15): 0.0}), SPEC, now=NOW)
    assert [s.wall for s in suggestions] == ["15:00"]
    assert suggestions[0].slot_share == 0.0
    assert suggestions[0].channel_share == 20 / 30


def test_below_in_only_one_of_the_two_weeks_is_no_suggestion() -> None:
    data = outcomes({time(11): 1.0, time(13): 1.0, time(15): 0.0})
    # The 15:00 nudges of the week before last were answered.
    flipped = [
        (slot, True if slot.time() == time(15) and slot < NOW - timedelta(weeks=1) else hit)
        for slot, hit in data
    ]
    assert far_below(flipped, SPEC, now=NOW) == ()


def test_not_far_enough_below_is_no_suggestion() -> None:
    # 15:00 answered 3 of 5 a week, the others 5 of 5: the channel's 13/15 = 87%; 60% is
    # more than half of that, so not far below.
    assert far_below(outcomes({time(15): 0.6}), SPEC, now=NOW) == ()
    # 2 of each 10 (last week 0 of 5, the week before 2 of 5 = 40% against 12/15 = 80%,
    # exactly half and 40 points under): far below.
    assert [s.wall for s in far_below(outcomes({time(15): 0.2}), SPEC, now=NOW)] == ["15:00"]


def test_too_few_nudges_say_nothing() -> None:
    last_two_weeks = [
        (slot, slot.time() != time(15))
        for slot, _hit in outcomes({})
        if slot >= NOW - timedelta(weeks=2)
    ]
    # Only two 15:00 nudges per week: below the three needed.
    sparse = [
        item for item in last_two_weeks if item[0].time() != time(15) or item[0].weekday() in (0, 1)
    ]
    assert far_below(sparse, SPEC, now=NOW) == ()
    assert [s.wall for s in far_below(last_two_weeks, SPEC, now=NOW)] == ["15:00"]
