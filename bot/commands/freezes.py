"""`/stretch freezes [0|1|2]`: how many missed scheduled days per person and calendar week a
streak bridges automatically in this channel, shown or set."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args, Invalid, quote
from bot.i18n import N_, _
from bot.replies import capitalize
from bot.team_replies import freezes_text
from bot.teamgoal import MAX_FREEZES

USAGE = "/stretch freezes [0|1|2]"


@dataclass(frozen=True)
class ShowFreezesCommand(CommandBase):
    read_only = True

    async def run(self, call: Call) -> Reply:
        return Reply(
            capitalize(freezes_text(call.channel.streak_freezes))
            + ". "
            + _("Weeks start on Monday (channel time). `/stretch freezes 0|1|2` changes it.")
        )


@dataclass(frozen=True)
class SetFreezesCommand(CommandBase):
    count: int

    changes_schedule = True

    async def run(self, call: Call) -> Reply:
        await call.services.storage.channels.save(
            replace(call.channel, streak_freezes=self.count, updated_by=call.ctx.user_id)
        )
        call.services.log("channel.freezes", call.key, count=self.count, by=call.ctx.user_id)
        return Reply(
            await call.addressed(
                _("streaks here now have {rule}.").format(rule=freezes_text(self.count))
            ),
            public=True,
        )


def parse(args: Args) -> ShowFreezesCommand | SetFreezesCommand:
    tokens = args.lowered
    if not tokens:
        return ShowFreezesCommand()
    if len(tokens) == 1 and tokens[0].isdigit() and int(tokens[0]) <= MAX_FREEZES:
        return SetFreezesCommand(int(tokens[0]))
    raise Invalid(
        _("I didn't understand {text}: say `freezes 0`, `freezes 1` or `freezes 2`.").format(
            text=quote("freezes " + " ".join(args.tokens))
        ),
        USAGE,
    )


WORDS = [
    Word(
        names=("freezes", "freeze"),
        usage=USAGE,
        help=N_(
            "`/stretch freezes [0 | 1 | 2]`: missed scheduled days per person and week a "
            "streak survives"
        ),
        parse=parse,
        summary="freezes 1",
    )
]
