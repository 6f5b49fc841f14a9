"""`/stretch every 45m [09:00-17:00] [weekdays|daily|mon-thu|mon,wed,fri] [tz Europe/Berlin]
[holidays US]`: schedule this channel's nudges (joining the channel if the bot is not in it)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from bot import rules
from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import (
    Args,
    Invalid,
    parse_day_list,
    parse_duration,
    parse_window,
    quote,
    take_duration,
)
from bot.i18n import N_, _
from bot.ports import PostError
from bot.replies import post_problem, when
from bot.schedules import (
    ALL_DAYS,
    DEFAULT_WINDOW,
    MAX_INTERVAL,
    MIN_INTERVAL,
    WEEKDAYS,
    ScheduleSpec,
    canonical_timezone,
    describe_interval,
    format_duration,
    next_slots,
    supported_countries,
)

USAGE = (
    "/stretch every 45m [09:00-17:00] [weekdays|daily|mon-thu|mon,wed,fri] "
    "[tz Europe/Berlin] [holidays US]"
)


@dataclass(frozen=True)
class ScheduleCommand(CommandBase):
    """`/stretch every 45m [09:00-17:00] [weekdays|daily|mon-thu|mon,wed,fri] [tz X] [holidays CC]`.

    Only `every` and the interval are required; the rest may come in any order.
    """

    interval: timedelta
    window_start: time = DEFAULT_WINDOW[0]
    window_end: time = DEFAULT_WINDOW[1]
    weekdays: frozenset[int] = WEEKDAYS
    tz: str | None = None  # None: use the timezone of the person who typed it
    holidays: str | None = None

    changes_schedule = True

    def to_spec(self, default_tz: str) -> ScheduleSpec:
        return ScheduleSpec(
            interval=self.interval,
            tz=self.tz or default_tz,
            window_start=self.window_start,
            window_end=self.window_end,
            weekdays=self.weekdays,
            holidays=self.holidays,
        )

    async def run(self, call: Call) -> Reply:
        tz = self.tz
        if tz is None:
            tz = await call.chat.user_timezone(call.key.team_id, call.ctx.user_id)
            tz = tz if tz and valid_tz(tz) else call.services.default_tz
        spec = self.to_spec(tz)
        membership = await call.chat.ensure_member(call.key)
        if membership.error is PostError.CHANNEL_GONE:
            return Reply(post_problem(membership))
        now = call.services.clock()
        state = rules.running(call.channel, now, spec=spec, by=call.ctx.user_id)
        if state.language is None:  # the channel speaks the language of who scheduled it
            state = replace(state, language=call.person_locale)
        await call.services.storage.channels.save(state)
        call.services.log("schedule.set", call.key, spec=spec.to_text(), by=call.ctx.user_id)
        lines = [
            _("{who} scheduled movement breaks here: {schedule}.").format(
                who=await call.who(), schedule=spec.describe()
            )
        ]
        upcoming = next_slots(spec, now, 1)
        if upcoming:
            lines.append(_("First nudge: {when}.").format(when=when(upcoming[0], spec.tz, now)))
        if membership.error is PostError.NOT_IN_CHANNEL:
            lines.append(
                _(
                    "This is a private channel I'm not in yet: invite me with "
                    "`/invite @stretchbot` so the nudges can arrive."
                )
            )
        lines.append(_("React ✅ to a nudge (or press Done) to log your break."))
        return Reply("\n".join(lines), public=True)


def _no_nudge_fits(interval: timedelta, start: time, end: time) -> str:
    """Why a window holds no slot (the first one is `start + interval`, before `end`), and a
    window ending at the same time that holds one."""
    minutes = int(interval.total_seconds() // 60)
    earlier = _minutes(end) - minutes - 30  # one nudge, half an hour before the end
    text = _(
        "No nudge would fit: {interval} starting at {start}, the first one would be at or after "
        "the window end {end}."
    ).format(interval=describe_interval(interval), start=f"{start:%H:%M}", end=f"{end:%H:%M}")
    if earlier >= 0:
        fits = f"{earlier // 60:02d}:{earlier % 60:02d}-{end:%H:%M}"
        text += " " + _(
            "Start the window earlier, e.g. `every {interval} {window}`, or use a shorter interval."
        ).format(interval=format_duration(interval), window=fits)
    else:
        text += " " + _("Use a longer window or a shorter interval.")
    return text


def valid_tz(tz: str) -> bool:
    try:
        ZoneInfo(tz)
    except Exception:
        return False
    return True


def _minutes(wall: time) -> int:
    return wall.hour * 60 + wall.minute


def parse(args: Args) -> ScheduleCommand:
    tokens, lowered = args.tokens, args.lowered
    taken = take_duration(lowered)
    if taken is None:
        if not tokens:
            raise Invalid(_("How often? Give an interval, e.g. `every 45m`."), USAGE)
        if lowered[0].startswith("-"):
            raise Invalid(
                _("{text}: an interval can't be negative. Try `every 45m` (15m to 8h).").format(
                    text=quote("every " + tokens[0])
                ),
                USAGE,
            )
        if lowered[0].isascii() and lowered[0].isdigit():
            raise Invalid(
                _("{text} needs a unit, e.g. `every {number}m`.").format(
                    text=quote("every " + tokens[0]), number=tokens[0]
                ),
                USAGE,
            )
        raise Invalid(
            _(
                "I didn't understand {text}: start with how often, e.g. `every 45m` or "
                "`every 1h30m`."
            ).format(text=quote("every " + tokens[0])),
            USAGE,
        )
    interval, length = taken
    if interval < MIN_INTERVAL:
        raise Invalid(
            _(
                "{text} is more often than I nudge: intervals go from 15m to 8h. Try `every 15m`."
            ).format(text=quote("every " + " ".join(tokens[:length]))),
            USAGE,
        )
    if interval > MAX_INTERVAL:
        raise Invalid(
            _("{text} is longer than I allow: intervals go from 15m to 8h.").format(
                text=quote("every " + " ".join(tokens[:length]))
            ),
            USAGE,
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
                raise Invalid(_("Which timezone? e.g. `tz Europe/Berlin`."), USAGE)
            if tz is not None:
                raise Invalid(_("Give the timezone only once."), USAGE)
            tz = canonical_timezone(value)
            if tz is None:
                raise Invalid(
                    _(
                        "I don't know the timezone {zone}: use an IANA name like "
                        "`Europe/Berlin` or `America/New_York`."
                    ).format(zone=quote(value)),
                    USAGE,
                )
        elif token in ("holidays", "holiday"):
            if index >= len(tokens):
                raise Invalid(_("Which country's holidays? e.g. `holidays US`."), USAGE)
            value = tokens[index].upper()
            index += 1
            if country is not None:
                raise Invalid(_("Give the holidays country only once."), USAGE)
            if value not in supported_countries():
                raise Invalid(
                    _(
                        "I don't know public holidays for {country}: use a country code like "
                        "`US`, `DE` or `GB`."
                    ).format(country=quote(value)),
                    USAGE,
                )
            country = value
        elif token == "every" and index < len(tokens) and lowered[index] in ("day", "days"):
            index += 1
            days = ALL_DAYS if days is None else days | ALL_DAYS
        elif (parsed_window := parse_window(token, USAGE)) is not None:
            if window is not None:
                raise Invalid(_("Give one time window only, e.g. `09:00-17:00`."), USAGE)
            window = parsed_window
        elif (parsed_days := parse_day_list(token)) is not None:
            days = parsed_days if days is None else days | parsed_days
        else:
            raise Invalid(
                _("I didn't understand {text} in your schedule.").format(text=quote(original)),
                USAGE,
            )
    start, end = window or DEFAULT_WINDOW
    if _minutes(start) * 60 + interval.total_seconds() >= _minutes(end) * 60:
        raise Invalid(_no_nudge_fits(interval, start, end), USAGE)
    return ScheduleCommand(
        interval=interval,
        window_start=start,
        window_end=end,
        weekdays=WEEKDAYS if days is None else days,
        tz=tz,
        holidays=country,
    )


def guess(tokens: tuple[str, ...]) -> str | None:
    """`/stretch 45m` or `/stretch 45` meant `every 45m`; `schedule`/`set`/`start` meant `every`."""
    word = tokens[0].lower()
    if parse_duration(word) is not None or (word.isascii() and word.isdigit()):
        return _("I didn't understand {text}. Did you mean `every {word}`?").format(
            text=quote(" ".join(tokens)), word=word
        )
    if word in ("schedule", "set", "start"):
        return _("I didn't understand {word}. To set a schedule, start with `every`.").format(
            word=quote(word)
        )
    return None


WORDS = [
    Word(
        names=("every",),
        usage=USAGE,
        help=N_(
            "`/stretch every 45m 09:00-17:00 weekdays`: schedule breaks in this channel (15m to "
            "8h; days: weekdays, daily, mon-thu, mon,wed,fri; add `tz Europe/Berlin` or "
            "`holidays US` if you like)"
        ),
        parse=parse,
        summary="every 45m ...",
        guess=guess,
    )
]
