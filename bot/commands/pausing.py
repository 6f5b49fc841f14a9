"""`/stretch pause [2h|until monday]`, `/stretch resume`, `/stretch off`: quiet the channel for a
while, bring its schedule back, or stop it (the schedule is kept for `resume`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import rules
from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import (
    CLOCK_RE,
    DAY_NAMES,
    DAY_WORDS,
    Args,
    Invalid,
    nothing_after,
    parse_clock,
    parse_duration,
    quote,
)
from bot.i18n import N_, _
from bot.replies import when
from bot.schedules import local_time_to_utc

PAUSE_USAGE = "/stretch pause [2h|3 days|until monday|until tomorrow|until 14:00|until 2026-12-01]"
RESUME_USAGE = "/stretch resume"
OFF_USAGE = "/stretch off"
MAX_PAUSE = timedelta(days=366)  # for a duration and for an end date alike
TOO_LONG = N_("A pause can last from a minute up to a year; `/stretch off` stops nudges for good.")


@dataclass(frozen=True)
class PauseCommand(CommandBase):
    """`/stretch pause` (until resumed), `pause 2h`, `pause until monday|tomorrow|14:00|<date>`.

    `<date>` is YYYY-MM-DD.
    """

    duration: timedelta | None = None
    until: str | None = None  # normalised: weekday name, "tomorrow", "HH:MM" or "YYYY-MM-DD"

    changes_schedule = True

    async def run(self, call: Call) -> Reply:
        state, now = call.channel, call.now
        if state.spec is None or not state.enabled:
            return Reply(
                _("There's no schedule running here to pause. `/stretch status` shows the setup.")
            )
        until = resolve_pause_end(self, now=now, tz=state.spec.tz)
        if until is not None and until <= now:
            return Reply(
                _(
                    "That time has already passed. Try `/stretch pause 2h` or "
                    "`/stretch pause until monday`."
                )
            )
        if until is not None and until - now > MAX_PAUSE:
            return Reply(_(TOO_LONG))
        await call.services.storage.channels.save(
            replace(state, paused=True, paused_until=until, updated_by=call.ctx.user_id)
        )
        call.services.log(
            "schedule.paused",
            call.key,
            until=until.isoformat() if until else "resume",
            by=call.ctx.user_id,
        )
        if until is None:
            return Reply(
                _("{who} paused movement breaks here until `/stretch resume`.").format(
                    who=await call.who()
                ),
                public=True,
            )
        return Reply(
            _("{who} paused movement breaks here until {when}.").format(
                who=await call.who(), when=when(until, state.spec.tz, now)
            ),
            public=True,
        )


@dataclass(frozen=True)
class ResumeCommand(CommandBase):
    changes_schedule = True

    async def run(self, call: Call) -> Reply:
        spec, now = call.channel.spec, call.now
        if spec is None:
            return Reply(
                _(
                    "There's no schedule here to resume. Try "
                    "`/stretch every 45m 09:00-17:00 weekdays`."
                )
            )
        state = rules.running(call.channel, now, by=call.ctx.user_id)
        await call.services.storage.channels.save(state)
        call.services.log("schedule.resumed", call.key, by=call.ctx.user_id)
        text = _("{who} resumed movement breaks here: {schedule}.").format(
            who=await call.who(), schedule=spec.describe()
        )
        if state.next_slot_at:
            text += " " + _("Next nudge: {when}.").format(
                when=when(state.next_slot_at, spec.tz, now)
            )
        return Reply(text, public=True)


@dataclass(frozen=True)
class OffCommand(CommandBase):
    changes_schedule = True

    async def run(self, call: Call) -> Reply:
        if not call.channel.enabled:
            return Reply(_("Scheduled nudges are already off here."))
        await call.services.storage.channels.save(
            rules.turned_off(call.channel, by=call.ctx.user_id)
        )
        call.services.log("schedule.off", call.key, by=call.ctx.user_id)
        return Reply(
            _(
                "{who} turned scheduled movement breaks off here. Breaks and leaderboards are "
                "kept; `/stretch resume` brings the schedule back."
            ).format(who=await call.who()),
            public=True,
        )


def resolve_pause_end(command: PauseCommand, *, now: datetime, tz: str) -> datetime | None:
    """When a pause ends, in UTC; None means 'until resumed'.

    Durations count from `now`. `until <weekday>` and `until tomorrow` end at local midnight of
    that day (a weekday is always after today); `until HH:MM` at the next such local time;
    `until YYYY-MM-DD` at that date's local midnight, even if it is in the past (the caller
    checks). Raises ValueError for an `until` value the parser never produces.
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
    if until in DAY_NAMES:
        ahead = (DAY_NAMES.index(until) - today.weekday() - 1) % 7 + 1
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


def parse_pause(args: Args) -> PauseCommand:
    tokens = args.lowered
    if not tokens:
        return PauseCommand()
    if tokens[0] in ("until", "till", "til"):
        target = tokens[1:]
        if target == ("next", "week"):  # the start of next week
            return PauseCommand(until="monday")
        if target[:1] == ("next",):
            target = target[1:]
        if len(target) != 1:
            raise Invalid(
                _(
                    "Pause until when? e.g. `until monday`, `until tomorrow`, `until 14:00` or "
                    "`until 2026-12-01`."
                ),
                PAUSE_USAGE,
            )
        return PauseCommand(until=_parse_until(target[0], " ".join(tokens)))
    if tokens[0] == "for":
        tokens = tokens[1:]
    text = " ".join(tokens)
    duration = parse_duration(text)
    if duration is None:
        raise Invalid(
            _(
                "I didn't understand {text}: say how long (`2h`, `30m`, `3 days`) or until when "
                "(`until monday`)."
            ).format(text=quote("pause " + text)),
            PAUSE_USAGE,
        )
    if not timedelta(0) < duration <= MAX_PAUSE:
        raise Invalid(_(TOO_LONG), PAUSE_USAGE)
    return PauseCommand(duration=duration)


def _parse_until(token: str, typed: str) -> str:
    if token in DAY_WORDS:
        return DAY_NAMES[DAY_WORDS[token]]
    if token == "tomorrow":
        return token
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", token, re.ASCII):
        try:
            return date.fromisoformat(token).isoformat()
        except ValueError:
            raise Invalid(
                _("{text} is not a date I know.").format(text=quote(token)), PAUSE_USAGE
            ) from None
    clock = CLOCK_RE.fullmatch(token)
    if clock is not None and (clock.group(2) is not None or clock.group(3) is not None):
        wall = parse_clock(*clock.group(1, 2, 3))
        if wall is not None:
            return f"{wall:%H:%M}"
    raise Invalid(
        _(
            "I didn't understand {text}: try `until monday`, `until tomorrow`, `until 14:00` or "
            "`until 2026-12-01`."
        ).format(text=quote(typed)),
        PAUSE_USAGE,
    )


def parse_resume(args: Args) -> ResumeCommand:
    nothing_after(args, "resume", RESUME_USAGE)
    return ResumeCommand()


def parse_off(args: Args) -> OffCommand:
    nothing_after(args, "off", OFF_USAGE)
    return OffCommand()


WORDS = [
    Word(
        names=("pause",),
        usage=PAUSE_USAGE,
        help=N_("`/stretch pause [2h | until monday]`, `/stretch resume`, `/stretch off`"),
        parse=parse_pause,
    ),
    Word(names=("resume",), usage=RESUME_USAGE, help="", parse=parse_resume),
    Word(names=("off", "stop"), usage=OFF_USAGE, help="", parse=parse_off),
]
