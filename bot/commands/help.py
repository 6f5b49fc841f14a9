"""`/stretch help`: what every command does (read from the registry) and a short health note."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args
from bot.i18n import _
from bot.replies import HEALTH_NOTE

if TYPE_CHECKING:
    from bot.commands.registry import Registry

USAGE = "/stretch help"


@dataclass(frozen=True)
class HelpCommand(CommandBase):
    read_only = True
    needs_channel = False

    async def run(self, call: Call) -> Reply:
        return Reply(help_text(call.services.commands.registry))


def help_text(registry: Registry) -> str:
    """What every command does, and the health note."""
    lines = [
        _(
            "stretchbot posts short movement breaks so your team gets up (or at least moves) "
            "every so often."
        ),
        "",
        *registry.help_lines(),
        "",
        _("React ✅ to a nudge or press its Done button to log your break."),
        "",
        _(HEALTH_NOTE),
    ]
    return "\n".join(lines)


def parse(args: Args) -> HelpCommand:
    return HelpCommand()  # `help anything` still deserves help


WORDS = [Word(names=("help",), usage=USAGE, help="", parse=parse)]
