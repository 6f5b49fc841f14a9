"""`/stretch seated on|off`: only suggest exercises people can do sitting down."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args, on_off
from bot.i18n import N_, _

USAGE = "/stretch seated on|off"


@dataclass(frozen=True)
class SeatedCommand(CommandBase):
    """`/stretch seated on|off`."""

    enabled: bool

    changes_schedule = True

    async def run(self, call: Call) -> Reply:
        await call.services.storage.channels.save(
            replace(call.channel, seated_only=self.enabled, updated_by=call.ctx.user_id)
        )
        text = (
            _("nudges here will only suggest exercises you can do sitting down.")
            if self.enabled
            else _("nudges here can suggest standing and floor exercises again.")
        )
        return Reply(await call.addressed(text), public=True)


def parse(args: Args) -> SeatedCommand:
    return SeatedCommand(enabled=on_off(args, USAGE, say="`seated on` or `seated off`"))


WORDS = [
    Word(
        names=("seated",),
        usage=USAGE,
        help=N_("`/stretch seated on|off`: only exercises you can do sitting down"),
        parse=parse,
        summary="seated on|off",
    )
]
