"""Schedule model and slot math: when a channel's nudges are due.

Pure: no I/O, no Slack, Teams, SQLAlchemy or APScheduler imports. Every datetime that crosses
this module's boundary is timezone-aware; slots are returned in UTC.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.grammar import ALL_DAY_SET, DAY_NAMES, WEEKDAY_SET, WEEKEND_SET
from bot.i18n import _, ngettext, weekday_abbreviation

MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(hours=8)
DEFAULT_WINDOW = (time(9, 0), time(17, 0))
WEEKDAYS = WEEKDAY_SET  # Monday=0 ... Sunday=6
ALL_DAYS = ALL_DAY_SET
WEEKENDS = WEEKEND_SET

_SEARCH_DAYS = 2 * 366  # next_slot_after looks this far ahead


# ---- schedule model -------------------------------------------------------------------------


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
        """Human sentence, e.g. 'every 45 minutes, 09:00–17:00 on weekdays (Europe/Berlin)'."""
        text = _("{interval}, {start}–{end} {days} ({tz})").format(
            interval=describe_interval(self.interval),
            start=f"{self.window_start:%H:%M}",
            end=f"{self.window_end:%H:%M}",
            days=describe_days(self.weekdays),
            tz=self.tz,
        )
        if self.holidays:
            text += _(", no nudges on {country} public holidays").format(country=self.holidays)
        return text

    def to_text(self) -> str:
        """Canonical command text that the `every` command parses back to an equal spec."""
        parts = [
            "every",
            format_duration(self.interval),
            f"{self.window_start:%H:%M}-{self.window_end:%H:%M}",
            days_to_text(self.weekdays),
            "tz",
            self.tz,
        ]
        if self.holidays:
            parts += ["holidays", self.holidays]
        return " ".join(parts)


def format_duration(duration: timedelta) -> str:
    """Compact duration text as the parser accepts it, e.g. '45m', '1h', '1h30m', '3d'."""
    minutes = int(duration.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "")
    if minutes or not text:
        text += f"{minutes}m"
    return text


def describe_interval(interval: timedelta) -> str:
    """Words for a nudge interval, e.g. 'every 45 minutes', 'every hour', 'every 2 hours'."""
    minutes = int(interval.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if rest == 0 and hours == 1:
        return _("every hour")
    if rest == 0:
        return ngettext("every {count} hour", "every {count} hours", hours).format(count=hours)
    if minutes < 120:
        return ngettext("every {count} minute", "every {count} minutes", minutes).format(
            count=minutes
        )
    return _("every {hours} hours {minutes} minutes").format(hours=hours, minutes=rest)


def describe_days(weekdays: frozenset[int]) -> str:
    """Words for a set of weekdays, e.g. 'on weekdays', 'every day', 'on Mon, Wed, Fri'."""
    days = sorted(weekdays)
    if weekdays == WEEKDAYS:
        return _("on weekdays")
    if weekdays == ALL_DAYS:
        return _("every day")
    if weekdays == WEEKENDS:
        return _("on weekends")
    if not days:
        return _("on no days")
    names = [weekday_abbreviation(d) for d in days]
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return _("on {first}–{last}").format(first=names[0], last=names[-1])
    return _("on {days}").format(days=", ".join(names))


def days_to_text(weekdays: frozenset[int]) -> str:
    """The day list as the parser reads it: `weekdays`, `daily`, `mon,wed,fri`."""
    if weekdays == WEEKDAYS:
        return "weekdays"
    if weekdays == ALL_DAYS:
        return "daily"
    if weekdays == WEEKENDS:
        return "weekends"
    return ",".join(DAY_NAMES[d][:3] for d in sorted(weekdays))


# ---- timezones and holidays -----------------------------------------------------------------

# These mean whatever the host is set to: not a real choice for a team.
_HOST_DEPENDENT_ZONES = frozenset({"localtime", "posixrules", "factory"})


@functools.lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    names = {name for name in available_timezones() if name.lower() not in _HOST_DEPENDENT_ZONES}
    return {name.lower(): name for name in names}


def canonical_timezone(name: str) -> str | None:
    """The IANA zone name for `name` (any case), e.g. 'europe/berlin' -> 'Europe/Berlin'.

    None when no such zone exists.
    """
    if not name or len(name) > 64:
        return None
    zones = _zones_by_lower_name()
    if zones:
        return zones.get(name.lower())
    # No zone list on this host (no tzdata): fall back to what ZoneInfo can load.
    if name.lower() in _HOST_DEPENDENT_ZONES:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name


@functools.lru_cache(maxsize=1)
def supported_countries() -> frozenset[str]:
    """Country codes whose public holidays the `holidays` package knows."""
    import holidays  # only for schedules that name a country: it and dateutil cost ~3 MB

    return frozenset(code.upper() for code in holidays.list_supported_countries())


# ---- time helpers ---------------------------------------------------------------------------


def _local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The first (fold=0) UTC instant showing `wall` on `day` in `zone`; None if it never does."""
    local = datetime.combine(day, wall, tzinfo=zone)
    instant = local.astimezone(UTC)
    back = instant.astimezone(zone)
    if back.date() != day or back.time() != wall:
        return None
    return instant


def local_time_to_utc(day: date, wall: time, tz: str) -> datetime:
    """Aware UTC instant of a local wall time in `tz`.

    An ambiguous time (fall back) resolves to its first occurrence; a time that does not exist
    (spring forward) shifts forward to the first existing instant after the gap.
    """
    zone = ZoneInfo(tz)
    instant = _local_instant(day, wall, zone)
    if instant is not None:
        return instant
    # Inside a gap: fold=1 reads the wall time with the later offset (an instant before the
    # transition), fold=0 with the earlier one (after it). Bisect for the transition.
    wanted = datetime.combine(day, wall, tzinfo=zone)
    low = wanted.replace(fold=1).astimezone(UTC)
    high = wanted.replace(fold=0).astimezone(UTC)
    if low > high:
        low, high = high, low
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        local = middle.astimezone(zone)
        if (local.date(), local.time()) >= (day, wall):
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


# ---- slot math ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _holiday_dates(country: str, year: int) -> frozenset[date]:
    import holidays

    try:
        calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        # A code the installed holidays package no longer knows: nudge rather than crash.
        return frozenset()
    return frozenset(calendar.keys())


def is_holiday(country: str | None, day: date) -> bool:
    """True when `day` is a public holiday (observed days included) in `country`."""
    return country is not None and day in _holiday_dates(country, day.year)


def is_scheduled_day(spec: ScheduleSpec, day: date) -> bool:
    """True when `day` (a local date in the schedule's timezone) is a schedule day.

    That is: its weekday is in the schedule and it is no public holiday of `spec.holidays`.
    """
    return day.weekday() in spec.weekdays and not is_holiday(spec.holidays, day)


def _wall_offsets(spec: ScheduleSpec) -> tuple[time, ...]:
    """The slot wall-clock times of one day: window_start + k*interval, k >= 1, before the end."""
    return _wall_offsets_cached(spec.interval, spec.window_start, spec.window_end)


@functools.lru_cache(maxsize=1024)
def _wall_offsets_cached(interval: timedelta, start: time, end: time) -> tuple[time, ...]:
    if interval <= timedelta(0):
        return ()
    start_offset = timedelta(hours=start.hour, minutes=start.minute, seconds=start.second)
    end_offset = timedelta(hours=end.hour, minutes=end.minute, seconds=end.second)
    walls: list[time] = []
    offset = start_offset + interval
    while offset < end_offset:
        seconds = int(offset.total_seconds())
        walls.append(time(seconds // 3600, seconds // 60 % 60, seconds % 60))
        offset += interval
    return tuple(walls)


@functools.lru_cache(maxsize=8192)
def day_slots(spec: ScheduleSpec, day: date) -> tuple[datetime, ...]:
    """The slots on one local date of the schedule, ascending, as aware UTC datetimes."""
    if not is_scheduled_day(spec, day):
        return ()
    zone = ZoneInfo(spec.tz)
    slots: list[datetime] = []
    for wall in _wall_offsets(spec):
        instant = _local_instant(day, wall, zone)
        if instant is not None:  # skipped: this wall time does not exist today
            slots.append(instant)
    return tuple(slots)


def _local_date(instant: datetime, spec: ScheduleSpec) -> date:
    if instant.tzinfo is None:
        raise ValueError("slot math needs timezone-aware datetimes")
    return instant.astimezone(ZoneInfo(spec.tz)).date()


def slots_between(spec: ScheduleSpec, start: datetime, end: datetime) -> Iterator[datetime]:
    """Slots `s` with `start <= s < end`, ascending, as aware UTC datetimes."""
    first = _local_date(start, spec) - timedelta(days=1)
    last = _local_date(end, spec) + timedelta(days=1)
    day = first
    while day <= last:
        for slot in day_slots(spec, day):
            if slot >= end:
                return
            if slot >= start:
                yield slot
        day += timedelta(days=1)


def next_slot_after(spec: ScheduleSpec, after: datetime) -> datetime | None:
    """The first slot strictly after `after` (UTC), or None if there is none within 2 years."""
    if not spec.weekdays or not _wall_offsets(spec):
        return None
    day = _local_date(after, spec) - timedelta(days=1)
    for _step in range(_SEARCH_DAYS + 2):
        for slot in day_slots(spec, day):
            if slot > after:
                return slot
        day += timedelta(days=1)
    return None


def next_slots(spec: ScheduleSpec, after: datetime, count: int) -> list[datetime]:
    """The next `count` slots strictly after `after` (fewer if there are none within 2 years).

    One walk over the days (slots ascend from one local date to the next): `/stretch status`
    asks for five on every call."""
    found: list[datetime] = []
    if count <= 0 or not spec.weekdays or not _wall_offsets(spec):
        return found
    day = _local_date(after, spec) - timedelta(days=1)
    for _step in range(_SEARCH_DAYS + 2):
        for slot in day_slots(spec, day):
            if slot > after:
                found.append(slot)
                if len(found) == count:
                    return found
        day += timedelta(days=1)
    return found
