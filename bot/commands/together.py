"""`/stretch together [2m]`: post a group break card (a short routine, a start a minute ahead,
a roll call and a Done that credits everyone who joined)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args, Invalid, parse_duration, quote
from bot.i18n import N_, _
from bot.replies import count_minutes, post_problem
from bot.together import DEFAULT_MINUTES, MAX_MINUTES, MIN_MINUTES

USAGE = "/stretch together [2m]"


@dataclass(frozen=True)
class TogetherCommand(CommandBase):
    minutes: int = DEFAULT_MINUTES

    async def run(self, call: Call) -> Reply | None:
        busy_until = await call.take_cooldown("together")
        if busy_until is not None:
            minutes = max(1, math.ceil((busy_until - call.now).total_seconds() / 60))
            return Reply(
                _(
                    "There's a group break here already: join that one! `/stretch together` "
                    "works again here in {wait}."
                ).format(wait=count_minutes(minutes))
            )
        result = await call.services.group_breaks.start(
            call.channel, by=call.ctx.user_id, minutes=self.minutes
        )
        if result.ok:
            return None
        await call.release_cooldown("together")
        return Reply(post_problem(result))


def parse(args: Args) -> TogetherCommand:
    if not args.tokens:
        return TogetherCommand()
    text = " ".join(args.lowered)
    duration = parse_duration(text)
    if duration is None:
        raise Invalid(
            _("I didn't understand {text}: give a length like `together 2m`.").format(
                text=quote("together " + " ".join(args.tokens))
            ),
            USAGE,
        )
    minutes = duration.total_seconds() / 60
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise Invalid(
            _("A group break lasts {low} to {high} minutes.").format(
                low=MIN_MINUTES, high=MAX_MINUTES
            ),
            USAGE,
        )
    return TogetherCommand(int(minutes))


WORDS = [
    Word(
        names=("together",),
        usage=USAGE,
        help=N_(
            "`/stretch together [2m]`: a group break card with a short routine; everyone who "
            "joins gets a break"
        ),
        parse=parse,
        summary="together 2m",
    )
]
