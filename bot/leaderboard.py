"""Leaderboard periods, ranking and streaks.

Pure: no I/O. Platform rendering (mentions, blocks) lives in handlers/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Period = Literal["week", "month", "all"]


@dataclass(frozen=True)
class BoardEntry:
    rank: int
    person_id: str
    breaks: int
    streak: int


def period_start(period: Period, *, now: datetime, tz: str) -> datetime | None:
    """Start (aware UTC) of the calendar week (Monday first) / month containing `now` in `tz`;
    None for "all"."""
    raise NotImplementedError


def period_title(period: Period) -> str:
    """'This week', 'This month', 'All time'."""
    raise NotImplementedError


def current_streak(
    break_days: Iterable[date], *, today: date, is_scheduled_day: Callable[[date], bool]
) -> int:
    """Consecutive scheduled days with at least one break, counted back from `today`.

    Non-scheduled days neither count nor break the streak. Today without a break (yet) does not
    break it either: the streak then ends at the previous scheduled day.
    """
    raise NotImplementedError


def rank_entries(counts: Mapping[str, int], streaks: Mapping[str, int]) -> list[BoardEntry]:
    """Rank people by breaks, then streak, descending; equal (breaks, streak) share a rank
    (1, 1, 3 style). People with zero breaks are left out. Stable order for ties: person_id."""
    raise NotImplementedError
