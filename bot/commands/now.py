"""`/stretch` or `/stretch now`: post a break nudge with one exercise into this channel now, at
most once per channel per cooldown across every replica."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args, nothing_after
from bot.i18n import N_, _
from bot.replies import count_minutes, post_problem

USAGE = "/stretch now"


@dataclass(frozen=True)
class NowCommand(CommandBase):
    """`/stretch` or `/stretch now`."""

    needs_channel = False  # in a direct message: a break there, just for the person

    async def run(self, call: Call) -> Reply | None:
        busy_until = await call.take_cooldown("now")
        if busy_until is not None:
            minutes = max(1, math.ceil((busy_until - call.now).total_seconds() / 60))
            return Reply(
                _(
                    "I posted a break here just a moment ago: do that one and react ✅! "
                    "`/stretch now` works again here in {wait}."
                ).format(wait=count_minutes(minutes))
            )
        result = await call.services.nudging.post_now(call.channel, by=call.ctx.user_id)
        if result.ok:
            return None
        await call.release_cooldown("now")  # nothing was posted: try again once it's fixed
        return Reply(post_problem(result))


def parse(args: Args) -> NowCommand:
    nothing_after(args, "now", USAGE)
    return NowCommand()


WORDS = [
    Word(
        names=("now",),
        usage=USAGE,
        help=N_("`/stretch` or `/stretch now`: post a break with one exercise here now"),
        parse=parse,
    )
]
