"""The registry of /stretch words: parses command text through the registered `Word`s and
builds the usage lines and `/stretch help` from them, so nothing else lists commands."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable, Sequence

from bot.commands.base import Command, Word
from bot.commands.keywords import fold, translated_words
from bot.grammar import MAX_COMMAND_LENGTH, Args, Invalid, ParseError, quote, tokenize
from bot.i18n import _


class Registry:
    """The words in registration order (which is also their order in `help`)."""

    def __init__(self, words: Iterable[Word], *, default: str) -> None:
        self.words: tuple[Word, ...] = tuple(words)
        self._by_name: dict[str, Word] = {}
        for word in self.words:
            for name in word.names:
                if name in self._by_name:
                    raise ValueError(f"/stretch {name} is registered twice")
                self._by_name[name] = word
        self.default = self._by_name[default]  # what a bare `/stretch` runs
        # Translated words (bot.commands.keywords): folded word -> the English word it means.
        self.translated: dict[str, str] = {}
        for language, table in translated_words(self._by_name).items():
            for shown, english in table.items():
                if shown in self._by_name and self._by_name[shown] is not self._by_name[english]:
                    raise ValueError(
                        f"/stretch {shown} ({language}) is the word of another command"
                    )
                meant = self.translated.setdefault(shown, english)
                if self._by_name[meant] is not self._by_name[english]:
                    raise ValueError(f"/stretch {shown} ({language}) means two commands")

    @classmethod
    def load(cls, modules: Sequence[str], *, default: str) -> Registry:
        """The registry of the `WORDS` of each module of `bot.commands` named in `modules`."""
        words: list[Word] = []
        for name in modules:
            module = importlib.import_module(f"bot.commands.{name}")
            words.extend(module.WORDS)
        return cls(words, default=default)

    def find(self, name: str) -> Word | None:
        """The command of an English word or alias, or of a translated word."""
        return self._by_name.get(name.lower()) or self._by_name.get(
            self.translated.get(fold(name), "")
        )

    def english(self, name: str) -> str:
        """The English word for `name` as typed (itself when it is English)."""
        lowered = name.lower()
        return lowered if lowered in self._by_name else self.translated.get(fold(name), lowered)

    def usage(self, name: str) -> str:
        """The usage line of the command `name` (or of any of its aliases)."""
        word = self.find(name)
        return word.usage if word is not None else self.general_usage()

    def general_usage(self) -> str:
        """One line naming every command, e.g. `/stretch [now|every 45m ...|status|...]`."""
        return "/stretch [" + "|".join(w.summary or w.name for w in self.words) + "]"

    def help_lines(self) -> list[str]:
        """The help lines of the commands, in registration order, translated."""
        return [_(word.help) for word in self.words if word.help]

    def parse(self, text: str) -> Command | ParseError:
        """Parse the text after `/stretch` (or after the bot mention in Teams).

        Never raises: anything unparseable comes back as a `ParseError` with a friendly message
        and the nearest correct usage line.
        """
        if len(text) > MAX_COMMAND_LENGTH:
            return ParseError(_("That is too long for a /stretch command."), self.general_usage())
        tokens = tokenize(text)
        try:
            if not tokens:
                return self.default.parse(Args.of("", []))
            word = self.find(tokens[0])
            if word is None and "-" in tokens[0][1:]:
                # `every -5m` arrives as `every-5m` (spaces around dashes go, for windows like
                # `09:00 - 17:00`): a known word before the dash is the command.
                head, tail = tokens[0].split("-", 1)
                if self.find(head) is not None:
                    tokens = [head, "-" + tail, *tokens[1:]]
                    word = self.find(head)
            if word is None:
                raise self._unknown(tokens)
            return word.parse(Args.of(self.english(tokens[0]), tokens[1:]))
        except Invalid as invalid:
            return invalid.error

    def _unknown(self, tokens: list[str]) -> Invalid:
        first = tokens[0].lower()
        for word in self.words:
            message = word.guess(tuple(tokens)) if word.guess is not None else None
            if message:
                return Invalid(message, word.usage)
        close = difflib.get_close_matches(first[:30], list(self._by_name), n=1, cutoff=0.6)
        if close:
            return Invalid(
                _("I didn't understand {word}. Did you mean `{suggestion}`?").format(
                    word=quote(first), suggestion=close[0]
                ),
                self._by_name[close[0]].usage,
            )
        return Invalid(
            _("I didn't understand {word}.").format(word=quote(first)), self.general_usage()
        )
