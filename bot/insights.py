"""Slot insights: for each scheduled slot of a channel (its wall-clock time), the share of its
nudges over the last four weeks that got at least one break, and which slots stayed far below
the channel's average for two weeks.

Pure: no I/O. A nudge outcome is (slot_at, answered): the slot it was posted for (aware UTC)
and whether anyone logged a break on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.schedules import ScheduleSpec, wall_times
from bot.teamgoal import SlotSuggestion

INSIGHT_WEEKS = 4
FAR_BELOW_WEEKS = 2
# "Far below": in each of the last two weeks, the slot's share is at most half the channel's
# and at least 20 percentage points under it, from at least 3 of its nudges that week (a slot
# that posted once or twice says nothing yet).
FAR_BELOW_RATIO = 0.5
FAR_BELOW_POINTS = 0.20
FAR_BELOW_MIN_NUDGES = 3

Outcome = tuple[datetime, bool]


@dataclass(frozen=True)
class SlotInsight:
    """One slot of the schedule over the last four weeks."""

    wall: time  # the slot's wall-clock time in the channel's timezone
    nudges: int  # nudges posted for it
    answered: int  # of which at least one break

    @property
    def share(self) -> float | None:
        return self.answered / self.nudges if self.nudges else None


@dataclass(frozen=True)
class ChannelInsights:
    """Every current slot's insight (in the day's order) and the channel's average."""

    slots: tuple[SlotInsight, ...]
    nudges: int
    answered: int

    @property
    def average(self) -> float | None:
        return self.answered / self.nudges if self.nudges else None


def _by_wall(
    outcomes: Iterable[Outcome], spec: ScheduleSpec, since: datetime, until: datetime
) -> dict[time, tuple[int, int]]:
    """(nudges, answered) per current slot time, for slots in [since, until)."""
    zone = ZoneInfo(spec.tz)
    walls = set(wall_times(spec))
    tally: dict[time, tuple[int, int]] = {}
    for slot_at, answered in outcomes:
        if not since <= slot_at < until:
            continue
        local = slot_at.astimezone(zone)
        wall = time(local.hour, local.minute, local.second)
        if wall not in walls:  # a slot of an earlier schedule
            continue
        nudges, hits = tally.get(wall, (0, 0))
        tally[wall] = (nudges + 1, hits + (1 if answered else 0))
    return tally


def channel_insights(
    outcomes: Sequence[Outcome], spec: ScheduleSpec, *, now: datetime
) -> ChannelInsights:
    """Each current slot's answered share over the `INSIGHT_WEEKS` weeks before `now`."""
    tally = _by_wall(outcomes, spec, now - timedelta(weeks=INSIGHT_WEEKS), now)
    slots = tuple(SlotInsight(wall, *tally.get(wall, (0, 0))) for wall in wall_times(spec))
    return ChannelInsights(
        slots,
        nudges=sum(slot.nudges for slot in slots),
        answered=sum(slot.answered for slot in slots),
    )


def far_below(
    outcomes: Sequence[Outcome], spec: ScheduleSpec, *, now: datetime
) -> tuple[SlotSuggestion, ...]:
    """The slots that stayed far below the channel's average in each of the last
    `FAR_BELOW_WEEKS` weeks (seven-day windows ending at `now`): share <= half the channel's
    share that week and >= 20 points under it, from at least 3 of the slot's nudges each week.
    """
    weekly: list[dict[time, tuple[int, int]]] = []
    for week in range(FAR_BELOW_WEEKS):
        until = now - timedelta(weeks=week)
        weekly.append(_by_wall(outcomes, spec, until - timedelta(weeks=1), until))
    found: list[SlotSuggestion] = []
    for wall in wall_times(spec):
        if all(_far_below_in(tally, wall) for tally in weekly):
            nudges = sum(tally.get(wall, (0, 0))[0] for tally in weekly)
            hits = sum(tally.get(wall, (0, 0))[1] for tally in weekly)
            all_nudges = sum(n for tally in weekly for n, _h in tally.values())
            all_hits = sum(h for tally in weekly for _n, h in tally.values())
            found.append(
                SlotSuggestion(
                    wall=f"{wall.hour:02d}:{wall.minute:02d}",
                    slot_share=hits / nudges,
                    channel_share=all_hits / all_nudges,
                )
            )
    return tuple(found)


def _far_below_in(tally: dict[time, tuple[int, int]], wall: time) -> bool:
    nudges, hits = tally.get(wall, (0, 0))
    total = sum(n for n, _h in tally.values())
    if nudges < FAR_BELOW_MIN_NUDGES or total == 0:
        return False
    average = sum(h for _n, h in tally.values()) / total
    share = hits / nudges
    return share <= average * FAR_BELOW_RATIO and average - share >= FAR_BELOW_POINTS
