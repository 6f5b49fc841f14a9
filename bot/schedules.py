"""Schedule model, /stretch command parser and slot math.

Pure: no I/O, no Slack, Teams, SQLAlchemy or APScheduler imports. Every datetime that crosses
this module's boundary is timezone-aware; slots are returned in UTC.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holidays_lib

MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(hours=8)
DEFAULT_WINDOW = (time(9, 0), time(17, 0))
WEEKDAYS = frozenset({0, 1, 2, 3, 4})  # Monday=0 ... Sunday=6
ALL_DAYS = frozenset(range(7))
WEEKENDS = frozenset({5, 6})

MAX_COMMAND_LENGTH = 500
MAX_PAUSE = timedelta(days=366)
_SEARCH_DAYS = 2 * 366  # next_slot_after looks this far ahead

_DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_WORDS: dict[str, int] = {}
for _index, _name in enumerate(_DAY_NAMES):
    for _word in (_name, _name[:3], _name + "s", _name[:3] + "s"):
        _DAY_WORDS[_word] = _index
_DAY_WORDS.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})

# Usage lines, one per command word, without markup; the renderer decides how to show them.
USAGE: Mapping[str, str] = {
    "now": "/stretch now",
    "every": (
        "/stretch every 45m [09:00-17:00] [weekdays|daily|mon-thu|mon,wed,fri] "
        "[tz Europe/Berlin] [holidays US]"
    ),
    "status": "/stretch status",
    "pause": "/stretch pause [2h|3 days|until monday|until tomorrow|until 14:00|until 2026-12-01]",
    "resume": "/stretch resume",
    "off": "/stretch off",
    "leaderboard": "/stretch leaderboard [week|month|all]  or  /stretch leaderboard weekly on|off",
    "stats": "/stretch stats",
    "seated": "/stretch seated on|off",
    "help": "/stretch help",
    "optout": "/stretch optout",
    "optin": "/stretch optin",
    "forget-me": "/stretch forget-me",
    "admins-only": "/stretch admins-only on|off",
}
GENERAL_USAGE = (
    "/stretch [now|every 45m ...|status|pause|resume|off|leaderboard|stats|seated on|off|"
    "optout|optin|forget-me|admins-only on|off|help]"
)

_COMMAND_ALIASES: dict[str, str] = {
    "now": "now",
    "every": "every",
    "status": "status",
    "pause": "pause",
    "resume": "resume",
    "off": "off",
    "stop": "off",
    "leaderboard": "leaderboard",
    "board": "leaderboard",
    "lb": "leaderboard",
    "stats": "stats",
    "help": "help",
    "seated": "seated",
    "optout": "optout",
    "opt-out": "optout",
    "optin": "optin",
    "opt-in": "optin",
    "forget-me": "forget-me",
    "forgetme": "forget-me",
    "forget": "forget-me",  # `forget me`
    "admins-only": "admins-only",
    "adminsonly": "admins-only",
    "admins": "admins-only",  # `admins only on`
}


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
        """Human sentence, e.g. 'every 45 minutes, 09:00-17:00, weekdays (Europe/Berlin)'."""
        window = f"{self.window_start:%H:%M}–{self.window_end:%H:%M}"
        days = describe_days(self.weekdays)
        text = f"{describe_interval(self.interval)}, {window} {days} ({self.tz})"
        if self.holidays:
            text += f", no nudges on {self.holidays} public holidays"
        return text

    def to_text(self) -> str:
        """Canonical command text that `parse_command` parses back to an equal spec."""
        parts = [
            "every",
            format_duration(self.interval),
            f"{self.window_start:%H:%M}-{self.window_end:%H:%M}",
            _days_to_text(self.weekdays),
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
        return "every hour"
    if rest == 0:
        return f"every {hours} hours"
    if minutes < 120:
        return f"every {minutes} minutes"
    return f"every {hours} hours {rest} minutes"


def describe_days(weekdays: frozenset[int]) -> str:
    """Words for a set of weekdays, e.g. 'on weekdays', 'every day', 'on Mon, Wed, Fri'."""
    days = sorted(weekdays)
    if weekdays == WEEKDAYS:
        return "on weekdays"
    if weekdays == ALL_DAYS:
        return "every day"
    if weekdays == WEEKENDS:
        return "on weekends"
    if not days:
        return "on no days"
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return f"on {_DAY_ABBREVIATIONS[days[0]]}–{_DAY_ABBREVIATIONS[days[-1]]}"
    return "on " + ", ".join(_DAY_ABBREVIATIONS[d] for d in days)


def _days_to_text(weekdays: frozenset[int]) -> str:
    if weekdays == WEEKDAYS:
        return "weekdays"
    if weekdays == ALL_DAYS:
        return "daily"
    if weekdays == WEEKENDS:
        return "weekends"
    return ",".join(_DAY_NAMES[d][:3] for d in sorted(weekdays))


# ---- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NowCommand:
    """`/stretch` or `/stretch now`."""


@dataclass(frozen=True)
class ScheduleCommand:
    """`/stretch every 45m [09:00-17:00] [weekdays|daily|mon-thu|mon,wed,fri] [tz X] [holidays CC]`.

    Only `every` and the interval are required; the rest may come in any order.
    """

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
    """`/stretch pause` (until resumed), `pause 2h`, `pause until monday|tomorrow|14:00|<date>`.

    `<date>` is YYYY-MM-DD.
    """

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
class OptOutCommand:
    """`/stretch optout`: no mentions, not on boards, breaks not stored from now on."""


@dataclass(frozen=True)
class OptInCommand:
    """`/stretch optin`: undo `optout`."""


@dataclass(frozen=True)
class ForgetMeCommand:
    """`/stretch forget-me`: delete the person's breaks in this workspace."""


@dataclass(frozen=True)
class AdminsOnlyCommand:
    """`/stretch admins-only on|off` (None: show the setting)."""

    enabled: bool | None = None


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
    | OptOutCommand
    | OptInCommand
    | ForgetMeCommand
    | AdminsOnlyCommand
)


# ---- parser ---------------------------------------------------------------------------------

_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−"})
_SPACED_PUNCTUATION = re.compile(r"\s*([-,])\s*")
_DURATION_PART = re.compile(
    r"(\d{1,6}(?:\.\d{1,4})?)\s*"
    r"(d|days?|h|hrs?|hours?|m|mins?|minutes?)(?![a-z])",
    re.ASCII,
)
_CLOCK = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?"
_CLOCK_RE = re.compile(_CLOCK, re.ASCII)
_WINDOW_RE = re.compile(_CLOCK + "-" + _CLOCK, re.ASCII)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60}


class _Invalid(Exception):
    """Internal: carries a ParseError out of nested helpers."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.error = ParseError(message, usage)


# Echoed user text must never become markup: no `<!channel>`/`<@U1>`/`<http://...|link>` (Slack),
# no @channel/@here however a platform parses it. Look-alikes keep the echo readable.
_NEUTRALISE = str.maketrans({"`": "'", "<": "‹", ">": "›", "&": "＆", "@": "@\u2060"})


def _quote(text: str) -> str:
    text = text if len(text) <= 60 else text[:57] + "..."
    return "`" + text.translate(_NEUTRALISE) + "`"


def parse_command(text: str) -> Command | ParseError:
    """Parse the text after `/stretch` (or after the bot mention in Teams).

    Never raises: anything unparseable comes back as a `ParseError` with a friendly message and
    the nearest correct usage line.
    """
    if len(text) > MAX_COMMAND_LENGTH:
        return ParseError("That is too long for a /stretch command.", GENERAL_USAGE)
    normalised = _SPACED_PUNCTUATION.sub(r"\1", text.translate(_DASHES).strip())
    tokens = normalised.split()
    try:
        return _parse_tokens(tokens)
    except _Invalid as invalid:
        return invalid.error


def _parse_tokens(tokens: list[str]) -> Command:
    if not tokens:
        return NowCommand()
    word = tokens[0].lower()
    rest = tokens[1:]
    lowered = [t.lower() for t in rest]
    command = _COMMAND_ALIASES.get(word)
    if command is None:
        raise _unknown_command(tokens)
    usage = USAGE[command]
    if command == "every":
        return _parse_every(rest)
    if command == "pause":
        return _parse_pause(lowered)
    if command == "leaderboard":
        return _parse_leaderboard(lowered)
    if command == "seated":
        if lowered in (["on"], ["off"]):
            return SeatedCommand(enabled=lowered == ["on"])
        raise _Invalid("Say `seated on` or `seated off`.", usage)
    if command == "help":
        return HelpCommand()  # `help anything` still deserves help
    if command == "admins-only":
        return _parse_admins_only(word, lowered)
    if command == "forget-me" and word == "forget":
        if lowered != ["me"]:
            raise _Invalid("Say `forget-me` to delete your breaks here.", usage)
        return ForgetMeCommand()
    if rest:
        raise _Invalid(
            f"`{command}` takes nothing after it (I got {_quote(' '.join(rest))}).", usage
        )
    simple: dict[str, Command] = {
        "now": NowCommand(),
        "status": StatusCommand(),
        "resume": ResumeCommand(),
        "off": OffCommand(),
        "stats": StatsCommand(),
        "optout": OptOutCommand(),
        "optin": OptInCommand(),
        "forget-me": ForgetMeCommand(),
    }
    return simple[command]


def _parse_admins_only(word: str, tokens: list[str]) -> AdminsOnlyCommand:
    usage = USAGE["admins-only"]
    if word == "admins":  # `admins only on`
        if tokens[:1] != ["only"]:
            raise _Invalid("Say `admins-only on` or `admins-only off`.", usage)
        tokens = tokens[1:]
    if not tokens:
        return AdminsOnlyCommand()
    if tokens in (["on"], ["off"]):
        return AdminsOnlyCommand(enabled=tokens == ["on"])
    raise _Invalid("Say `admins-only on` or `admins-only off`.", usage)


def _unknown_command(tokens: list[str]) -> _Invalid:
    word = tokens[0].lower()
    if _parse_duration(word) is not None or (word.isascii() and word.isdigit()):
        return _Invalid(
            f"I didn't understand {_quote(' '.join(tokens))}. Did you mean `every {word}`?",
            USAGE["every"],
        )
    if word in ("schedule", "set", "start"):
        return _Invalid(
            f"I didn't understand {_quote(word)}. To set a schedule, start with `every`.",
            USAGE["every"],
        )
    close = difflib.get_close_matches(word[:30], list(_COMMAND_ALIASES), n=1, cutoff=0.6)
    if close:
        suggestion = _COMMAND_ALIASES[close[0]]
        return _Invalid(
            f"I didn't understand {_quote(word)}. Did you mean `{close[0]}`?", USAGE[suggestion]
        )
    return _Invalid(
        f"I didn't understand {_quote(word)}. Try `/stretch help` to see what I can do.",
        GENERAL_USAGE,
    )


def _parse_duration(text: str) -> timedelta | None:
    """'45m', '1h30m', '1 hour 30 minutes', '3 days', '1.5h' -> timedelta; None if not a duration.

    Whole minutes only; each unit at most once.
    """
    position = 0
    seen: set[str] = set()
    seconds = Fraction(0)
    text = text.strip()
    if not text:
        return None
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            return None
        unit = match.group(2)[0]
        if unit in seen:
            return None
        seen.add(unit)
        seconds += Fraction(match.group(1)) * _UNIT_SECONDS[unit]
        position = match.end()
        while position < len(text) and text[position] == " ":
            position += 1
    if seconds.denominator != 1 or seconds % 60:
        return None
    return timedelta(seconds=int(seconds))


def _take_duration(tokens: list[str]) -> tuple[timedelta, int] | None:
    """The longest prefix of `tokens` (up to 4) that reads as a duration, and its length."""
    for length in range(min(4, len(tokens)), 0, -1):
        duration = _parse_duration(" ".join(tokens[:length]))
        if duration is not None:
            return duration, length
    return None


def _parse_clock(hour_text: str, minute_text: str | None, meridiem: str | None) -> time | None:
    hour = int(hour_text)
    minute = int(minute_text) if minute_text is not None else 0
    if minute > 59:
        return None
    if meridiem is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23:
        return None
    return time(hour, minute)


def _parse_window(token: str, usage: str) -> tuple[time, time] | None:
    match = _WINDOW_RE.fullmatch(token)
    if match is None:
        return None
    start = _parse_clock(*match.group(1, 2, 3))
    end = _parse_clock(*match.group(4, 5, 6))
    if start is None or end is None:
        raise _Invalid(
            f"I didn't understand the time window {_quote(token)}: use 24-hour times like "
            "`09:00-17:00` or `9am-5pm`.",
            usage,
        )
    if end <= start:
        raise _Invalid(
            f"The window {_quote(token)} must end after it starts, on the same day "
            "(no overnight windows), e.g. `09:00-17:00`.",
            usage,
        )
    return start, end


def _parse_day_list(token: str) -> frozenset[int] | None:
    named = {
        "weekdays": WEEKDAYS,
        "weekday": WEEKDAYS,
        "daily": ALL_DAYS,
        "everyday": ALL_DAYS,
        "weekends": WEEKENDS,
        "weekend": WEEKENDS,
    }
    if token in named:
        return named[token]
    days: set[int] = set()
    for item in token.split(","):
        ends = item.split("-")
        if len(ends) == 1 and ends[0] in _DAY_WORDS:
            days.add(_DAY_WORDS[ends[0]])
        elif len(ends) == 2 and ends[0] in _DAY_WORDS and ends[1] in _DAY_WORDS:
            first, last = _DAY_WORDS[ends[0]], _DAY_WORDS[ends[1]]
            span = (last - first) % 7  # fri-mon wraps over the weekend
            days.update((first + i) % 7 for i in range(span + 1))
        else:
            return None
    return frozenset(days)


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
def _supported_countries() -> frozenset[str]:
    return frozenset(code.upper() for code in holidays_lib.list_supported_countries())


def _parse_every(tokens: list[str]) -> ScheduleCommand:
    usage = USAGE["every"]
    lowered = [t.lower() for t in tokens]
    taken = _take_duration(lowered)
    if taken is None:
        if not tokens:
            raise _Invalid("How often? Give an interval, e.g. `every 45m`.", usage)
        if lowered[0].isascii() and lowered[0].isdigit():
            raise _Invalid(
                f"{_quote('every ' + tokens[0])} needs a unit, e.g. `every {tokens[0]}m`.",
                usage,
            )
        raise _Invalid(
            f"I didn't understand {_quote('every ' + tokens[0])}: start with how often, "
            "e.g. `every 45m` or `every 1h30m`.",
            usage,
        )
    interval, length = taken
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise _Invalid(
            f"I didn't understand {_quote('every ' + ' '.join(tokens[:length]))}: "
            "intervals go from 15m to 8h.",
            usage,
        )
    window: tuple[time, time] | None = None
    days: frozenset[int] | None = None
    tz: str | None = None
    country: str | None = None
    index = length
    while index < len(tokens):
        token, original = lowered[index], tokens[index]
        index += 1
        if token in ("tz", "timezone") or token.startswith(("tz=", "timezone=")):
            if "=" in token:
                value = original.split("=", 1)[1]
            elif index < len(tokens):
                value = tokens[index]
                index += 1
            else:
                raise _Invalid("Which timezone? e.g. `tz Europe/Berlin`.", usage)
            if tz is not None:
                raise _Invalid("Give the timezone only once.", usage)
            tz = canonical_timezone(value)
            if tz is None:
                raise _Invalid(
                    f"I don't know the timezone {_quote(value)}: use an IANA name like "
                    "`Europe/Berlin` or `America/New_York`.",
                    usage,
                )
        elif token in ("holidays", "holiday"):
            if index >= len(tokens):
                raise _Invalid("Which country's holidays? e.g. `holidays US`.", usage)
            value = tokens[index].upper()
            index += 1
            if country is not None:
                raise _Invalid("Give the holidays country only once.", usage)
            if value not in _supported_countries():
                raise _Invalid(
                    f"I don't know public holidays for {_quote(value)}: use a country code like "
                    "`US`, `DE` or `GB`.",
                    usage,
                )
            country = value
        elif token == "every" and index < len(tokens) and lowered[index] in ("day", "days"):
            index += 1
            days = ALL_DAYS if days is None else days | ALL_DAYS
        elif (parsed_window := _parse_window(token, usage)) is not None:
            if window is not None:
                raise _Invalid("Give one time window only, e.g. `09:00-17:00`.", usage)
            window = parsed_window
        elif (parsed_days := _parse_day_list(token)) is not None:
            days = parsed_days if days is None else days | parsed_days
        else:
            raise _Invalid(
                f"I didn't understand {_quote(original)} in your schedule.",
                usage,
            )
    start, end = window or DEFAULT_WINDOW
    if _minutes(start) * 60 + interval.total_seconds() >= _minutes(end) * 60:
        raise _Invalid(
            f"No nudge would fit: {describe_interval(interval)} starting at {start:%H:%M}, the "
            f"first one would be at or after the window end {end:%H:%M}. Use a longer window or "
            "a shorter interval.",
            usage,
        )
    return ScheduleCommand(
        interval=interval,
        window_start=start,
        window_end=end,
        weekdays=WEEKDAYS if days is None else days,
        tz=tz,
        holidays=country,
    )


def _minutes(wall: time) -> int:
    return wall.hour * 60 + wall.minute


def _parse_pause(tokens: list[str]) -> PauseCommand:
    usage = USAGE["pause"]
    if not tokens:
        return PauseCommand()
    if tokens[0] in ("until", "till", "til"):
        target = tokens[1:]
        if target[:1] == ["next"]:
            target = target[1:]
        if len(target) != 1:
            raise _Invalid(
                "Pause until when? e.g. `until monday`, `until tomorrow`, `until 14:00` or "
                "`until 2026-12-01`.",
                usage,
            )
        return PauseCommand(until=_parse_until(target[0], usage))
    if tokens[0] == "for":
        tokens = tokens[1:]
    text = " ".join(tokens)
    duration = _parse_duration(text)
    if duration is None:
        raise _Invalid(
            f"I didn't understand {_quote('pause ' + text)}: say how long (`2h`, `30m`, "
            "`3 days`) or until when (`until monday`).",
            usage,
        )
    if not timedelta(0) < duration <= MAX_PAUSE:
        raise _Invalid(
            "A pause can last from a minute up to a year; `/stretch off` stops nudges for good.",
            usage,
        )
    return PauseCommand(duration=duration)


def _parse_until(token: str, usage: str) -> str:
    if token in _DAY_WORDS:
        return _DAY_NAMES[_DAY_WORDS[token]]
    if token == "tomorrow":
        return token
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", token, re.ASCII):
        try:
            return date.fromisoformat(token).isoformat()
        except ValueError:
            raise _Invalid(f"{_quote(token)} is not a date I know.", usage) from None
    clock = _CLOCK_RE.fullmatch(token)
    if clock is not None and (clock.group(2) is not None or clock.group(3) is not None):
        wall = _parse_clock(*clock.group(1, 2, 3))
        if wall is not None:
            return f"{wall:%H:%M}"
    raise _Invalid(
        f"I didn't understand {_quote('until ' + token)}: try `until monday`, `until tomorrow`, "
        "`until 14:00` or `until 2026-12-01`.",
        usage,
    )


def _parse_leaderboard(tokens: list[str]) -> LeaderboardCommand | WeeklyBoardCommand:
    usage = USAGE["leaderboard"]
    periods = {"week": "week", "month": "month", "all": "all", "all-time": "all", "alltime": "all"}
    if not tokens:
        return LeaderboardCommand()
    if len(tokens) == 1 and tokens[0] in periods:
        return LeaderboardCommand(period=periods[tokens[0]])
    if tokens in (["weekly", "on"], ["weekly", "off"]):
        return WeeklyBoardCommand(enabled=tokens[1] == "on")
    raise _Invalid(
        f"I didn't understand {_quote('leaderboard ' + ' '.join(tokens))}: pick `week`, `month` "
        "or `all`, or turn the Monday board on or off with `leaderboard weekly on|off`.",
        usage,
    )


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


def resolve_pause_end(command: PauseCommand, *, now: datetime, tz: str) -> datetime | None:
    """When a pause ends, in UTC; None means 'until resumed'.

    Durations count from `now`. `until <weekday>` and `until tomorrow` end at local midnight of
    that day (a weekday is always after today); `until HH:MM` at the next such local time;
    `until YYYY-MM-DD` at that date's local midnight, even if it is in the past (the caller
    checks). Raises ValueError for an `until` value `parse_command` never produces.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if command.duration is not None:
        return (now + command.duration).astimezone(UTC)
    if command.until is None:
        return None
    until = command.until
    today = now.astimezone(ZoneInfo(tz)).date()
    if until == "tomorrow":
        return local_time_to_utc(today + timedelta(days=1), time(0, 0), tz)
    if until in _DAY_NAMES:
        ahead = (_DAY_NAMES.index(until) - today.weekday() - 1) % 7 + 1
        return local_time_to_utc(today + timedelta(days=ahead), time(0, 0), tz)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", until, re.ASCII):
        return local_time_to_utc(date.fromisoformat(until), time(0, 0), tz)
    if re.fullmatch(r"\d{2}:\d{2}", until, re.ASCII):
        wall = time.fromisoformat(until)
        candidate = local_time_to_utc(today, wall, tz)
        if candidate <= now:
            candidate = local_time_to_utc(today + timedelta(days=1), wall, tz)
        return candidate
    raise ValueError(f"unknown pause target {until!r}")


# ---- slot math ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _holiday_dates(country: str, year: int) -> frozenset[date]:
    try:
        calendar = holidays_lib.country_holidays(country, years=year)
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
    for _ in range(_SEARCH_DAYS + 2):
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
    for _ in range(_SEARCH_DAYS + 2):
        for slot in day_slots(spec, day):
            if slot > after:
                found.append(slot)
                if len(found) == count:
                    return found
        day += timedelta(days=1)
    return found
