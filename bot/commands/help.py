"""`/stretch help`: what every command does (read from the registry) and a short health note."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args
from bot.i18n import _
from bot.replies import HEALTH_NOTE

USAGE = "/stretch help"


@dataclass(frozen=True)
class HelpCommand(CommandBase):
    read_only = True

    async def run(self, call: Call) -> Reply:
        lines = [
            _(
                "stretchbot posts short movement breaks so your team gets up (or at least moves) "
                "every so often."
            ),
            "",
            *call.services.commands.registry.help_lines(),
            "",
            _("React ✅ to a nudge or press its Done button to log your break."),
            "",
            _(HEALTH_NOTE),
        ]
        return Reply("\n".join(lines))


def parse(args: Args) -> HelpCommand:
    return HelpCommand()  # `help anything` still deserves help


WORDS = [Word(names=("help",), usage=USAGE, help="", parse=parse)]
