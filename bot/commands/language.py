"""`/stretch language [de|es|fr|pt-BR|ja|en]`: the language texts to this channel are written in
(nudges, boards, the weekly post, confirmations), shown or set. Replies to one person stay in
that person's own locale."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args, Invalid, quote
from bot.i18n import LANGUAGES, N_, _, supported_locale, use_locale
from bot.languages import channel_language

USAGE = "/stretch language [en|de|es|fr|pt-BR|ja]"

# What people may type for a language besides its code: its English name and its own name.
_NAMES: dict[str, str] = {
    "english": "en",
    "german": "de",
    "deutsch": "de",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "portuguese": "pt_BR",
    "português": "pt_BR",
    "portugues": "pt_BR",
    "japanese": "ja",
    "日本語": "ja",
}


def language_of(text: str) -> str | None:
    """The catalog locale someone means by `text` ('de', 'de-DE', 'Deutsch', 'pt-br'), or None."""
    word = text.strip().lower()
    return _NAMES.get(word) or supported_locale(word)


def choices() -> str:
    """The languages on offer, e.g. '`en` English, `de` Deutsch, ...'."""
    return ", ".join(f"`{code.replace('_', '-')}` {name}" for code, name in LANGUAGES.items())


def named(locale: str) -> str:
    return f"{LANGUAGES[locale]} (`{locale.replace('_', '-')}`)"


@dataclass(frozen=True)
class ShowLanguageCommand(CommandBase):
    """`/stretch language`: the channel's language and the choices."""

    read_only = True

    async def run(self, call: Call) -> Reply:
        current = channel_language(call.channel)
        if current is None:
            first = _(
                "This channel has no language set: texts here are in the language of whoever "
                "sets the schedule (English until then)."
            )
        else:
            first = _("This channel's language: {language}.").format(language=named(current))
        return Reply(
            first
            + "\n"
            + _("Change it with `/stretch language de`. I speak: {languages}.").format(
                languages=choices()
            )
        )


@dataclass(frozen=True)
class SetLanguageCommand(CommandBase):
    """`/stretch language de`."""

    locale: str

    changes_schedule = True  # a channel setting: `admins-only` applies

    async def run(self, call: Call) -> Reply:
        await call.services.storage.channels.save(
            replace(call.channel, language=self.locale, updated_by=call.ctx.user_id)
        )
        call.services.log("channel.language", call.key, language=self.locale, by=call.ctx.user_id)
        with use_locale(self.locale):  # the confirmation is the first text in the new language
            text = _(
                "I'll speak {language} in this channel from now on: nudges, boards and "
                "confirmations."
            ).format(language=LANGUAGES[self.locale])
            return Reply(await call.addressed(text), public=True)


def parse(args: Args) -> ShowLanguageCommand | SetLanguageCommand:
    if not args.tokens:
        return ShowLanguageCommand()
    locale = language_of(" ".join(args.tokens)) if len(args.tokens) == 1 else None
    if locale is None:
        raise Invalid(
            _("I don't speak {text} (yet). I speak: {languages}.").format(
                text=quote(" ".join(args.tokens)), languages=choices()
            ),
            USAGE,
        )
    return SetLanguageCommand(locale)


WORDS = [
    Word(
        names=("language", "lang"),
        usage=USAGE,
        help=N_("`/stretch language [de]`: the language I use in this channel"),
        parse=parse,
        summary="language de",
    )
]
