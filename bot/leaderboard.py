"""Leaderboard periods, ranking and streaks.

Pure: no I/O. Platform rendering (mentions, blocks) lives in handlers/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.i18n import N_, _
from bot.schedules import local_time_to_utc

Period = Literal["week", "month", "all"]

_TITLES: dict[str, str] = {
    "week": N_("This week"),
    "month": N_("This month"),
    "all": N_("All time"),
}
MAX_STREAK_DAYS = 3 * 366  # how far back a streak walk goes, so it is always cheap


@dataclass(frozen=True)
class BoardEntry:
    rank: int
    person_id: str
    breaks: int
    streak: int
    freezes: int = 0  # missed scheduled days the streak bridged with freezes


@dataclass(frozen=True)
class Streak:
    """A run of scheduled days with a break: `days` counted, `freezes_used` missed days it
    bridged (they do not count as days)."""

    days: int
    freezes_used: int = 0


def period_start(period: Period, *, now: datetime, tz: str) -> datetime | None:
    """Start (aware UTC) of the calendar week (Monday first) / month containing `now` in `tz`;
    None for "all".

    A local midnight that does not exist (a DST change at midnight) moves to the first instant
    of that local day.
    """
    if period == "all":
        return None
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(ZoneInfo(tz)).date()
    if period == "week":
        first = today - timedelta(days=today.weekday())
    elif period == "month":
        first = today.replace(day=1)
    else:
        raise ValueError(f"unknown period {period!r}")
    return local_time_to_utc(first, time(0, 0), tz)


def period_title(period: Period) -> str:
    """'This week', 'This month', 'All time'."""
    return _(_TITLES[period])


def week_start(day: date) -> date:
    """The Monday of `day`'s calendar week."""
    return day - timedelta(days=day.weekday())


def current_streak(
    break_days: Iterable[date], *, today: date, is_scheduled_day: Callable[[date], bool]
) -> int:
    """Consecutive scheduled days with at least one break, counted back from `today`, with no
    freezes (see `streak_with_freezes`)."""
    return streak_with_freezes(
        break_days, today=today, is_scheduled_day=is_scheduled_day, freezes_per_week=0
    ).days


def streak_with_freezes(
    break_days: Iterable[date],
    *,
    today: date,
    is_scheduled_day: Callable[[date], bool],
    freezes_per_week: int,
) -> Streak:
    """The person's current streak: scheduled days with at least one break, counted back from
    `today`, where a missed scheduled day is bridged by a freeze while the person has one left
    in that day's calendar week (Monday first; `freezes_per_week` each week).

    Non-scheduled days neither count nor break the streak, nor use a freeze. Today without a
    break (yet) does not break it either. A freeze is used only when it bridges to an earlier
    break day: missed days before the run's first break (a person who joined mid-week, or a
    gap the freezes could not cross) use none. Breaks on non-scheduled days and after `today`
    are ignored; the walk stops at the person's first break or after `MAX_STREAK_DAYS` days.
    """
    days = {day for day in break_days if day <= today}
    if not days:
        return Streak(0)
    earliest = min(days)
    streak = 1 if is_scheduled_day(today) and today in days else 0
    used: dict[date, int] = {}  # freezes that bridged, per week (its Monday)
    pending: list[date] = []  # missed days since the last break day, bridged if one comes
    day = today
    for _step in range(MAX_STREAK_DAYS):
        day -= timedelta(days=1)
        if day < earliest:
            break
        if not is_scheduled_day(day):
            continue
        if day in days:
            streak += 1
            for missed in pending:
                used[week_start(missed)] = used.get(week_start(missed), 0) + 1
            pending.clear()
            continue
        week = week_start(day)
        taken = used.get(week, 0) + sum(1 for missed in pending if week_start(missed) == week)
        if taken >= freezes_per_week:
            break
        pending.append(day)
    return Streak(streak, sum(used.values()))


def rank_entries(
    counts: Mapping[str, int],
    streaks: Mapping[str, int],
    freezes: Mapping[str, int] | None = None,
) -> list[BoardEntry]:
    """Rank people by breaks, then streak, descending; equal (breaks, streak) share a rank
    (1, 1, 3 style). People with zero breaks are left out. Stable order for ties: person_id.
    `freezes`: the freezes each streak used (shown, not ranked)."""
    ordered = sorted(
        (
            (person, breaks, streaks.get(person, 0))
            for person, breaks in counts.items()
            if breaks > 0
        ),
        key=lambda row: (-row[1], -row[2], row[0]),
    )
    entries: list[BoardEntry] = []
    for position, (person, breaks, streak) in enumerate(ordered, start=1):
        previous = entries[-1] if entries else None
        same = previous is not None and (previous.breaks, previous.streak) == (breaks, streak)
        rank = previous.rank if same and previous is not None else position
        entries.append(
            BoardEntry(
                rank=rank,
                person_id=person,
                breaks=breaks,
                streak=streak,
                freezes=(freezes or {}).get(person, 0) if streak else 0,
            )
        )
    return entries
