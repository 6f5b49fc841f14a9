"""`/stretch help`: what every command does (read from the registry) and a short health note."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.commands.base import Call, CommandBase, Reply, Word
from bot.commands.keywords import KEYWORD_CONTEXT
from bot.grammar import Args
from bot.i18n import _, pgettext
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
        *own_words(registry),
        "",
        _("React ✅ to a nudge or press its Done button to log your break."),
        "",
        _(HEALTH_NOTE),
    ]
    return "\n".join(lines)


def own_words(registry: Registry) -> list[str]:
    """The reader's own command words (bot.commands.keywords), when their language has some."""
    words = [
        f"`{pgettext(KEYWORD_CONTEXT, word.name)}`"
        for word in registry.words
        if pgettext(KEYWORD_CONTEXT, word.name) != word.name
    ]
    if not words:
        return []
    return ["", _("In your language too: {words}.").format(words=", ".join(words))]


def parse(args: Args) -> HelpCommand:
    return HelpCommand()  # `help anything` still deserves help


WORDS = [Word(names=("help",), usage=USAGE, help="", parse=parse)]
