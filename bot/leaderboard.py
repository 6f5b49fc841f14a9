"""Leaderboard periods, ranking and streaks.

Pure: no I/O. Platform rendering (mentions, blocks) lives in handlers/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.schedules import local_time_to_utc

Period = Literal["week", "month", "all"]

_TITLES: dict[str, str] = {"week": "This week", "month": "This month", "all": "All time"}
MAX_STREAK_DAYS = 3 * 366  # how far back a streak walk goes, so it is always cheap


@dataclass(frozen=True)
class BoardEntry:
    rank: int
    person_id: str
    breaks: int
    streak: int


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
    return _TITLES[period]


def current_streak(
    break_days: Iterable[date], *, today: date, is_scheduled_day: Callable[[date], bool]
) -> int:
    """Consecutive scheduled days with at least one break, counted back from `today`.

    Non-scheduled days neither count nor break the streak. Today without a break (yet) does not
    break it either: the streak then ends at the previous scheduled day. Breaks on non-scheduled
    days and after `today` are ignored; the walk stops after `MAX_STREAK_DAYS` days.
    """
    days = {day for day in break_days if day <= today}
    if not days:
        return 0
    earliest = min(days)
    streak = 0
    day = today
    if is_scheduled_day(today) and today in days:
        streak = 1
    for _ in range(MAX_STREAK_DAYS):
        day -= timedelta(days=1)
        if day < earliest:
            break
        if not is_scheduled_day(day):
            continue
        if day not in days:
            break
        streak += 1
    return streak


def rank_entries(counts: Mapping[str, int], streaks: Mapping[str, int]) -> list[BoardEntry]:
    """Rank people by breaks, then streak, descending; equal (breaks, streak) share a rank
    (1, 1, 3 style). People with zero breaks are left out. Stable order for ties: person_id."""
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
        entries.append(BoardEntry(rank=rank, person_id=person, breaks=breaks, streak=streak))
    return entries
