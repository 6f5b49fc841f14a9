"""The words every /stretch command shares: tokens, durations, clock times, windows, day lists.

Pure: no I/O. Each command module (bot/commands/) parses its own arguments with these pieces and
raises `Invalid` for a user mistake, which the registry turns into a friendly `ParseError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from fractions import Fraction

from bot.i18n import _

MAX_COMMAND_LENGTH = 500

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_WORDS: dict[str, int] = {}
for _index, _name in enumerate(DAY_NAMES):
    for _word in (_name, _name[:3], _name + "s", _name[:3] + "s"):
        DAY_WORDS[_word] = _index
DAY_WORDS.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})

_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−"})
_SPACED_PUNCTUATION = re.compile(r"\s*([-,])\s*")
_DURATION_PART = re.compile(
    r"(\d{1,6}(?:\.\d{1,4})?)\s*"
    r"(d|days?|h|hrs?|hours?|m|mins?|minutes?)(?![a-z])",
    re.ASCII,
)
_CLOCK = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?"
CLOCK_RE = re.compile(_CLOCK, re.ASCII)
_WINDOW_RE = re.compile(_CLOCK + "-" + _CLOCK, re.ASCII)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60}


@dataclass(frozen=True)
class ParseError:
    """A user mistake: `message` says what is wrong, `usage` the nearest correct usage."""

    message: str
    usage: str = field(default="")


class Invalid(Exception):
    """Raised by a command's parser for a user mistake; becomes a `ParseError`."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.error = ParseError(message, usage)


@dataclass(frozen=True)
class Args:
    """The words after the command word: as typed, and lowercased."""

    word: str  # the command word as typed, lowercased (an alias, e.g. `lb`)
    tokens: tuple[str, ...]
    lowered: tuple[str, ...]

    @classmethod
    def of(cls, word: str, tokens: list[str]) -> Args:
        return cls(word, tuple(tokens), tuple(t.lower() for t in tokens))


def tokenize(text: str) -> list[str]:
    """Split command text into words: dashes of any kind become `-`, and spaces around `-` and
    `,` go (`09:00 - 17:00` is one window, `mon, wed` one day list)."""
    return _SPACED_PUNCTUATION.sub(r"\1", text.translate(_DASHES).strip()).split()


# Echoed user text must never become markup: no `<!channel>`/`<@U1>`/`<http://...|link>` (Slack),
# no @channel/@here however a platform parses it. Look-alikes keep the echo readable.
_NEUTRALISE = str.maketrans({"`": "'", "<": "‹", ">": "›", "&": "＆", "@": "@\u2060"})


def quote(text: str) -> str:
    """User text shown back in a reply: shortened, in backticks, unable to ping or link."""
    text = text if len(text) <= 60 else text[:57] + "..."
    return "`" + text.translate(_NEUTRALISE) + "`"


def parse_duration(text: str) -> timedelta | None:
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


def take_duration(tokens: tuple[str, ...]) -> tuple[timedelta, int] | None:
    """The longest prefix of `tokens` (up to 4) that reads as a duration, and its length."""
    for length in range(min(4, len(tokens)), 0, -1):
        duration = parse_duration(" ".join(tokens[:length]))
        if duration is not None:
            return duration, length
    return None


def parse_clock(hour_text: str, minute_text: str | None, meridiem: str | None) -> time | None:
    """A wall-clock time from a `CLOCK_RE` match's groups; None if out of range."""
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


def parse_window(token: str, usage: str) -> tuple[time, time] | None:
    """`09:00-17:00` or `9am-5pm` -> (start, end); None when `token` is no window at all."""
    match = _WINDOW_RE.fullmatch(token)
    if match is None:
        return None
    start = parse_clock(*match.group(1, 2, 3))
    end = parse_clock(*match.group(4, 5, 6))
    if start is None or end is None:
        raise Invalid(
            _(
                "I didn't understand the time window {window}: use 24-hour times like "
                "`09:00-17:00` or `9am-5pm`."
            ).format(window=quote(token)),
            usage,
        )
    if end <= start:
        raise Invalid(
            _(
                "The window {window} must end after it starts, on the same day "
                "(no overnight windows), e.g. `09:00-17:00`."
            ).format(window=quote(token)),
            usage,
        )
    return start, end


WEEKDAY_SET = frozenset({0, 1, 2, 3, 4})
ALL_DAY_SET = frozenset(range(7))
WEEKEND_SET = frozenset({5, 6})


def parse_day_list(token: str) -> frozenset[int] | None:
    """`weekdays`, `daily`, `mon-thu`, `mon,wed,fri`, `fri-mon` -> weekday numbers (Monday 0)."""
    named = {
        "weekdays": WEEKDAY_SET,
        "weekday": WEEKDAY_SET,
        "daily": ALL_DAY_SET,
        "everyday": ALL_DAY_SET,
        "weekends": WEEKEND_SET,
        "weekend": WEEKEND_SET,
    }
    if token in named:
        return named[token]
    days: set[int] = set()
    for item in token.split(","):
        ends = item.split("-")
        if len(ends) == 1 and ends[0] in DAY_WORDS:
            days.add(DAY_WORDS[ends[0]])
        elif len(ends) == 2 and ends[0] in DAY_WORDS and ends[1] in DAY_WORDS:
            first, last = DAY_WORDS[ends[0]], DAY_WORDS[ends[1]]
            span = (last - first) % 7  # fri-mon wraps over the weekend
            days.update((first + i) % 7 for i in range(span + 1))
        else:
            return None
    return frozenset(days)


def on_off(args: Args, usage: str, *, say: str) -> bool:
    """`on` -> True, `off` -> False; anything else is a mistake (`say` shows the right words)."""
    if args.lowered in (("on",), ("off",)):
        return args.lowered == ("on",)
    raise Invalid(_("Say {right}.").format(right=say), usage)


def nothing_after(args: Args, command: str, usage: str) -> None:
    """A command that takes no words after it."""
    if args.tokens:
        raise Invalid(
            _("`{command}` takes nothing after it (I got {text}).").format(
                command=command, text=quote(" ".join(args.tokens))
            ),
            usage,
        )
