"""The channel settings form: its inputs, grouped in parts that each stand for one /stretch
command, so every platform can show it (a Slack modal, a Teams card) and a submission runs
exactly the commands the text grammar would run.

A part is a small registration (`FormPart`): its inputs, their values for the channel as it is
now, the command text for submitted values, and the command text that reproduces the channel's
current setting (an unchanged part is not run again). A later setting (a team goal, the
channel's language) is one more part in `FORM_PARTS`; platforms render inputs by their kind.
Pure: no I/O.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.grammar import ParseError, parse_duration, quote
from bot.i18n import LANGUAGES, N_, _, current_locale, format_weekday
from bot.ports import ChannelKey, ChannelState
from bot.schedules import (
    DEFAULT_WINDOW,
    MAX_INTERVAL,
    MIN_INTERVAL,
    WEEKDAYS,
    canonical_timezone,
    days_to_text,
    describe_interval,
    format_duration,
    supported_countries,
)

if TYPE_CHECKING:
    from bot.commands.registry import Registry

# A submitted value: a choice, a time or a zone (str), several choices (tuple), a toggle (bool),
# or nothing (an optional input left empty).
Value = str | tuple[str, ...] | bool | None


class InputKind(StrEnum):
    """How a platform shows an input."""

    CHOICE = "choice"  # one of a few fixed options
    TIME = "time"  # a wall-clock time, HH:MM
    DAYS = "days"  # any of a few fixed options (the weekdays)
    TIMEZONE = "timezone"  # an IANA zone: too many for a fixed list, so searched
    COUNTRY = "country"  # a country code for public holidays, searched; optional
    TOGGLE = "toggle"  # on or off


@dataclass(frozen=True)
class Option:
    value: str
    label: str  # shown as is (already translated)


@dataclass(frozen=True)
class FormInput:
    """One input. `key` is its id everywhere (Slack block and action id, Teams input id)."""

    key: str
    label: str  # marked with N_, translated where shown
    kind: InputKind
    hint: str = ""  # marked with N_
    optional: bool = False
    # CHOICE and DAYS: the options, given the input's value when the form opens (so a value
    # set by the text grammar that no option offers is still shown).
    options: Callable[[Value], tuple[Option, ...]] | None = None

    def options_for(self, value: Value) -> tuple[Option, ...]:
        return self.options(value) if self.options is not None else ()


@dataclass(frozen=True)
class FormDefaults:
    """What a channel without a setting starts from."""

    tz: str  # the person's timezone (or the bot's default)


class FieldError(Exception):
    """A submitted value that cannot be used: `message` is shown next to input `key`."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


@dataclass(frozen=True)
class FormPart:
    """Inputs that together make one /stretch command."""

    name: str
    inputs: tuple[FormInput, ...]
    initial: Callable[[ChannelState, FormDefaults], dict[str, Value]]
    # The command text for the submitted values; raises FieldError for a value it cannot use.
    command: Callable[[Mapping[str, Value]], str]
    # The command text that reproduces the channel's current setting; None: not set yet.
    current: Callable[[ChannelState], str | None]
    errors_on: str  # the input a mistake the grammar finds is shown next to


@dataclass(frozen=True)
class SettingsForm:
    """The form for one channel, with the values it opens with."""

    channel: ChannelKey
    values: Mapping[str, Value]
    parts: tuple[FormPart, ...]

    @property
    def inputs(self) -> tuple[FormInput, ...]:
        return tuple(item for part in self.parts for item in part.inputs)


@dataclass(frozen=True)
class Submission:
    """A submission read: errors by input key, or the commands to run, in order."""

    errors: dict[str, str] = field(default_factory=dict)
    commands: tuple[tuple[FormPart, str], ...] = ()


def read_submission(
    parts: Sequence[FormPart], values: Mapping[str, Value], registry: Registry
) -> Submission:
    """Turn submitted values into /stretch command texts, each parsed by the registry as if
    typed: the first mistake of each part is reported next to its input, and a submission
    with any mistake runs nothing."""
    errors: dict[str, str] = {}
    commands: list[tuple[FormPart, str]] = []
    for part in parts:
        try:
            text = part.command(values)
        except FieldError as error:
            errors.setdefault(error.key, error.message)
            continue
        parsed = registry.parse(text)
        if isinstance(parsed, ParseError):
            errors.setdefault(part.errors_on, parsed.message)
            continue
        commands.append((part, text))
    if errors:
        return Submission(errors=errors)
    return Submission(commands=tuple(commands))


def initial_values(
    parts: Sequence[FormPart], state: ChannelState, defaults: FormDefaults
) -> dict[str, Value]:
    values: dict[str, Value] = {}
    for part in parts:
        values.update(part.initial(state, defaults))
    return values


@functools.lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """The IANA zones a schedule may use, sorted (what a searched menu offers)."""
    return tuple(
        sorted(zone for zone in zoneinfo.available_timezones() if canonical_timezone(zone) == zone)
    )


@functools.lru_cache(maxsize=1)
def holiday_countries() -> dict[str, str]:
    """Country code -> English name, for the countries whose public holidays are known,
    sorted by name."""
    from holidays import registry

    known = supported_countries()
    names = {
        entry[1]: module.replace("_", " ").title()
        for module, entry in registry.COUNTRIES.items()
        if entry[1] in known
    }
    return dict(sorted(names.items(), key=lambda item: item[1]))


# ---- the schedule: `every 45m 09:00-17:00 weekdays tz Europe/Berlin [holidays US]` -----------

INTERVAL_CHOICES = ("15m", "20m", "30m", "45m", "1h", "1h30m", "2h", "3h", "4h", "6h", "8h")
DEFAULT_INTERVAL = "45m"
_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d", re.ASCII)


def _interval_options(value: Value) -> tuple[Option, ...]:
    choices = list(INTERVAL_CHOICES)
    if isinstance(value, str) and value not in choices:
        choices.insert(0, value)  # e.g. `every 50m` set by text
    options = []
    for choice in choices:
        duration = parse_duration(choice)
        label = describe_interval(duration) if duration is not None else choice
        options.append(Option(choice, label[:1].upper() + label[1:]))
    return tuple(options)


_A_MONDAY = date(2024, 1, 1)


def _day_options(value: Value) -> tuple[Option, ...]:
    return tuple(
        Option(str(day), format_weekday(_A_MONDAY + timedelta(days=day))) for day in range(7)
    )


def _schedule_initial(state: ChannelState, defaults: FormDefaults) -> dict[str, Value]:
    spec = state.spec
    if spec is None:
        return {
            "interval": DEFAULT_INTERVAL,
            "window_start": f"{DEFAULT_WINDOW[0]:%H:%M}",
            "window_end": f"{DEFAULT_WINDOW[1]:%H:%M}",
            "days": tuple(str(day) for day in sorted(WEEKDAYS)),
            "tz": defaults.tz,
            "holidays": None,
        }
    return {
        "interval": format_duration(spec.interval),
        "window_start": f"{spec.window_start:%H:%M}",
        "window_end": f"{spec.window_end:%H:%M}",
        "days": tuple(str(day) for day in sorted(spec.weekdays)),
        "tz": spec.tz,
        "holidays": spec.holidays,
    }


def _schedule_command(values: Mapping[str, Value]) -> str:
    interval = values.get("interval")
    duration = parse_duration(interval) if isinstance(interval, str) and interval else None
    if duration is None or not MIN_INTERVAL <= duration <= MAX_INTERVAL:
        raise FieldError("interval", _("Pick how often: from 15 minutes to 8 hours."))
    start, end = values.get("window_start"), values.get("window_end")
    if not isinstance(start, str) or not _CLOCK.fullmatch(start):
        raise FieldError("window_start", _("Pick the time the first nudge may come after."))
    if not isinstance(end, str) or not _CLOCK.fullmatch(end):
        raise FieldError("window_end", _("Pick the time nudges stop."))
    days = values.get("days")
    if not isinstance(days, tuple) or not days:
        raise FieldError("days", _("Pick at least one day."))
    if not all(day in ("0", "1", "2", "3", "4", "5", "6") for day in days):
        raise FieldError("days", _("Pick days from the list."))
    zone = values.get("tz")
    tz = canonical_timezone(zone) if isinstance(zone, str) else None
    if tz is None:
        raise FieldError(
            "tz",
            _(
                "I don't know the timezone {zone}: pick one from the list, e.g. Europe/Berlin."
            ).format(zone=quote(zone if isinstance(zone, str) else "")),
        )
    country = values.get("holidays")
    if country is not None and not isinstance(country, str):
        raise FieldError("holidays", _("Pick a country from the list, or none."))
    text = (
        f"every {format_duration(duration)} {start}-{end} "
        f"{days_to_text(frozenset(int(day) for day in days))} tz {tz}"
    )
    if country:
        if country.upper() not in supported_countries():
            raise FieldError(
                "holidays",
                _("I don't know public holidays for {country}: pick one from the list.").format(
                    country=quote(country)
                ),
            )
        text += f" holidays {country.upper()}"
    return text


def _schedule_current(state: ChannelState) -> str | None:
    return state.spec.to_text() if state.spec is not None and state.enabled else None


SCHEDULE = FormPart(
    name="schedule",
    inputs=(
        FormInput("interval", N_("How often"), InputKind.CHOICE, options=_interval_options),
        FormInput(
            "window_start",
            N_("From"),
            InputKind.TIME,
            hint=N_("The first nudge comes one interval after this."),
        ),
        FormInput("window_end", N_("Until"), InputKind.TIME),
        FormInput("days", N_("On these days"), InputKind.DAYS, options=_day_options),
        FormInput("tz", N_("Timezone"), InputKind.TIMEZONE),
        FormInput(
            "holidays",
            N_("No nudges on public holidays of"),
            InputKind.COUNTRY,
            hint=N_("Leave empty to nudge on holidays too."),
            optional=True,
        ),
    ),
    initial=_schedule_initial,
    command=_schedule_command,
    current=_schedule_current,
    errors_on="window_end",  # what the grammar still finds: no nudge fits the window
)


# ---- on/off settings: `seated on|off`, `leaderboard weekly on|off` ----------------------------


def _toggle(key: str, values: Mapping[str, Value]) -> bool:
    value = values.get(key)
    if value is None:
        return False  # an unticked box sends nothing
    if not isinstance(value, bool):
        raise FieldError(key, _("Tick the box or leave it empty."))
    return value


SEATED = FormPart(
    name="seated",
    inputs=(
        FormInput(
            "seated",
            N_("Seated exercises only"),
            InputKind.TOGGLE,
            hint=N_("Only suggest exercises people can do sitting down."),
            optional=True,
        ),
    ),
    initial=lambda state, defaults: {"seated": state.seated_only},
    command=lambda values: "seated on" if _toggle("seated", values) else "seated off",
    current=lambda state: "seated on" if state.seated_only else "seated off",
    errors_on="seated",
)

WEEKLY_BOARD = FormPart(
    name="weekly_board",
    inputs=(
        FormInput(
            "weekly_board",
            N_("Weekly leaderboard"),
            InputKind.TOGGLE,
            hint=N_("Posted here on Fridays at 16:00 (channel time)."),
            optional=True,
        ),
    ),
    initial=lambda state, defaults: {"weekly_board": state.weekly_board},
    command=lambda values: (
        "leaderboard weekly on" if _toggle("weekly_board", values) else "leaderboard weekly off"
    ),
    current=lambda state: (
        "leaderboard weekly on" if state.weekly_board else "leaderboard weekly off"
    ),
    errors_on="weekly_board",
)

# ---- the channel's language: `language de` ----------------------------------------------------


def _language_options(value: Value) -> tuple[Option, ...]:
    return tuple(Option(code, name) for code, name in LANGUAGES.items())


def _shown_language(state: ChannelState) -> str:
    """The channel's language, or (not set yet) the reader's: the schedule sets that one."""
    return state.language if state.language in LANGUAGES else current_locale()


def _language_command(values: Mapping[str, Value]) -> str:
    value = values.get("language")
    if not isinstance(value, str) or value not in LANGUAGES:
        raise FieldError("language", _("Pick one of the languages in the list."))
    return f"language {value}"


LANGUAGE = FormPart(
    name="language",
    inputs=(
        FormInput(
            "language",
            N_("Language"),
            InputKind.CHOICE,
            hint=N_(
                "Nudges, boards and messages in this channel; replies to one person use theirs."
            ),
            options=_language_options,
        ),
    ),
    initial=lambda state, defaults: {"language": _shown_language(state)},
    command=_language_command,
    current=lambda state: f"language {_shown_language(state)}",
    errors_on="language",
)

# The form's parts, in the order they show and run (the schedule first: the others apply to
# the channel it creates). A new setting: a FormPart above (or in its own module) and its
# name here.
FORM_PARTS: tuple[FormPart, ...] = (SCHEDULE, SEATED, WEEKLY_BOARD, LANGUAGE)
