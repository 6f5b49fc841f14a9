"""Schedule model, /stretch command parser and slot math.

Pure: no I/O, no Slack, Teams, SQLAlchemy or APScheduler imports. Every datetime that crosses
this module's boundary is timezone-aware; slots are returned in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(hours=8)
DEFAULT_WINDOW = (time(9, 0), time(17, 0))
WEEKDAYS = frozenset({0, 1, 2, 3, 4})  # Monday=0 ... Sunday=6
ALL_DAYS = frozenset(range(7))


@dataclass(frozen=True)
class ScheduleSpec:
    """A channel's nudge schedule, fully resolved (timezone included)."""

    interval: timedelta
    tz: str
    window_start: time = DEFAULT_WINDOW[0]
    window_end: time = DEFAULT_WINDOW[1]
    weekdays: frozenset[int] = WEEKDAYS
    holidays: str | None = None  # ISO 3166 country code, e.g. "US"

    def describe(self) -> str:
        """Human sentence, e.g. 'every 45 minutes, 09:00-17:00, weekdays (Europe/Berlin)'."""
        raise NotImplementedError

    def to_text(self) -> str:
        """Canonical command text that `parse_command` parses back to an equal spec."""
        raise NotImplementedError


# ---- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NowCommand:
    """`/stretch` or `/stretch now`."""


@dataclass(frozen=True)
class ScheduleCommand:
    """`/stretch every 45m [09:00-17:00] [weekdays|daily|mon-thu|mon,wed,fri] [tz X] [holidays CC]`."""

    interval: timedelta
    window_start: time = DEFAULT_WINDOW[0]
    window_end: time = DEFAULT_WINDOW[1]
    weekdays: frozenset[int] = WEEKDAYS
    tz: str | None = None  # None: use the timezone of the person who typed it
    holidays: str | None = None

    def to_spec(self, default_tz: str) -> ScheduleSpec:
        return ScheduleSpec(
            interval=self.interval,
            tz=self.tz or default_tz,
            window_start=self.window_start,
            window_end=self.window_end,
            weekdays=self.weekdays,
            holidays=self.holidays,
        )


@dataclass(frozen=True)
class StatusCommand:
    pass


@dataclass(frozen=True)
class PauseCommand:
    """`/stretch pause` (until resumed), `pause 2h`, `pause until monday|tomorrow|14:00|2026-12-01`."""

    duration: timedelta | None = None
    until: str | None = None  # normalised: weekday name, "tomorrow", "HH:MM" or "YYYY-MM-DD"


@dataclass(frozen=True)
class ResumeCommand:
    pass


@dataclass(frozen=True)
class OffCommand:
    pass


@dataclass(frozen=True)
class LeaderboardCommand:
    period: str = "week"  # "week" | "month" | "all"


@dataclass(frozen=True)
class WeeklyBoardCommand:
    """`/stretch leaderboard weekly on|off`."""

    enabled: bool


@dataclass(frozen=True)
class SeatedCommand:
    """`/stretch seated on|off`."""

    enabled: bool


@dataclass(frozen=True)
class StatsCommand:
    pass


@dataclass(frozen=True)
class HelpCommand:
    pass


@dataclass(frozen=True)
class ParseError:
    """A user mistake: `message` says what is wrong, `usage` the nearest correct usage."""

    message: str
    usage: str = field(default="")


Command = (
    NowCommand
    | ScheduleCommand
    | StatusCommand
    | PauseCommand
    | ResumeCommand
    | OffCommand
    | LeaderboardCommand
    | WeeklyBoardCommand
    | SeatedCommand
    | StatsCommand
    | HelpCommand
)


def parse_command(text: str) -> Command | ParseError:
    """Parse the text after `/stretch` (or after the bot mention in Teams)."""
    raise NotImplementedError


def resolve_pause_end(command: PauseCommand, *, now: datetime, tz: str) -> datetime | None:
    """When a pause ends, in UTC; None means 'until resumed'."""
    raise NotImplementedError


# ---- slot math ------------------------------------------------------------------------------


def slots_between(spec: ScheduleSpec, start: datetime, end: datetime) -> Iterator[datetime]:
    """Slots `s` with `start <= s < end`, ascending, as aware UTC datetimes."""
    raise NotImplementedError


def next_slot_after(spec: ScheduleSpec, after: datetime) -> datetime | None:
    """The first slot strictly after `after` (UTC), or None if there is none within 2 years."""
    raise NotImplementedError


def next_slots(spec: ScheduleSpec, after: datetime, count: int) -> list[datetime]:
    """The next `count` slots strictly after `after`."""
    raise NotImplementedError


def is_scheduled_day(spec: ScheduleSpec, day: date) -> bool:
    """True when `day` (a local date in the schedule's timezone) is a schedule day (weekday, no holiday)."""
    raise NotImplementedError
