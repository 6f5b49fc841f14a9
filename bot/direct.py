"""A direct message to the bot read as /stretch words (`help`, `stats`, `optout`, ...): words
that act on a channel's schedule or board get a friendly pointer to a channel, with the help."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands.base import CommandContext, Reply
from bot.commands.help import help_text
from bot.grammar import tokenize
from bot.i18n import _

if TYPE_CHECKING:
    from bot.services import Services


async def run_direct(services: Services, ctx: CommandContext, text: str) -> Reply | None:
    """Run `text` as the person's command in their direct chat with the bot (`ctx.direct`)."""
    commands = services.commands
    checked = commands.check(ctx, text)
    if isinstance(checked, Reply):
        return checked
    if checked.needs_channel:
        tokens = tokenize(text)
        word = commands.registry.find(tokens[0]) if tokens else None
        name = word.name if word is not None else "help"
        return Reply(
            _(
                "`{word}` works in a channel: type `/stretch {word}` there, or mention me "
                "there: `@stretchbot {word}`. Here I answer what is about you alone."
            ).format(word=name)
            + "\n\n"
            + help_text(commands.registry)
        )
    return await commands.execute(ctx, checked)
