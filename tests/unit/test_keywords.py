"""Translated /stretch words (bot.commands.keywords): each language's words are unambiguous,
English always works, and a new command gets its word marked for translation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.commands import REGISTRY, keywords
from bot.commands.base import Word
from bot.commands.keywords import ENGLISH_WORDS, KEYWORD_CONTEXT, fold, translated_words
from bot.commands.registry import Registry
from bot.grammar import Args, ParseError
from bot.i18n import LANGUAGES, SOURCE_LOCALE

TRANSLATED = [locale for locale in LANGUAGES if locale != SOURCE_LOCALE]


@pytest.mark.parametrize("locale", TRANSLATED)
def test_no_translated_word_is_another_commands_word_in_the_same_language(locale: str) -> None:
    table = translated_words(ENGLISH_WORDS)[locale]
    for shown, english in table.items():
        word = REGISTRY.find(english)
        assert word is not None
        # Not another command's English word or alias ...
        other = REGISTRY._by_name.get(shown)
        assert other is None or other is word, f"{locale}: {shown} is /stretch {other.name}"
    # ... and no two commands share a translation (the table maps each word to one).
    meanings: dict[str, set[str]] = {}
    for shown, english in table.items():
        meanings.setdefault(shown, set()).add(REGISTRY.find(english).name)  # type: ignore[union-attr]
    assert all(len(names) == 1 for names in meanings.values())


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_command_has_a_word_in_each_language(locale: str) -> None:
    table = translated_words(ENGLISH_WORDS)[locale]
    named = {REGISTRY.find(english).name for english in table.values()}  # type: ignore[union-attr]
    untranslated = {word.name for word in REGISTRY.words} - named
    # A word may stay English where that is what people type (`status`, `pause`, `stats`).
    assert untranslated <= {"status", "pause", "stats"}, untranslated


def test_every_command_word_is_marked_for_translation() -> None:
    missing = {word.name for word in REGISTRY.words} - set(ENGLISH_WORDS)
    assert not missing, f"add NP_({keywords.KEYWORD_CONTEXT!r}, ...) for {missing}"


@pytest.mark.parametrize(
    ("typed", "english"),
    [
        ("jetzt", "now"),
        ("JETZT", "now"),
        ("pausa 2h", "pause"),
        ("reglages", "settings"),  # accents are optional
        ("réglages", "settings"),
        ("vergiss-mich", "forget-me"),
        ("ランキング", "leaderboard"),
        ("alle 45m", "every"),
    ],
)
def test_translated_words_parse_as_the_english_command(typed: str, english: str) -> None:
    translated = REGISTRY.parse(typed)
    original = REGISTRY.parse(typed.replace(typed.split()[0], english, 1))
    assert not isinstance(translated, ParseError), translated
    assert translated == original


def test_english_always_wins() -> None:
    for word in REGISTRY.words:
        for name in word.names:
            assert REGISTRY.find(name) is word


def test_a_translation_that_is_another_commands_word_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def parse(args: Args) -> object:
        raise AssertionError("not called")

    words = [
        Word(names=("now",), usage="", help="", parse=parse),  # type: ignore[arg-type]
        Word(names=("help",), usage="", help="", parse=parse),  # type: ignore[arg-type]
    ]
    monkeypatch.setattr(
        "bot.commands.registry.translated_words", lambda english: {"xx": {"help": "now"}}
    )
    with pytest.raises(ValueError, match="another command"):
        Registry(words, default="now")
    monkeypatch.setattr(
        "bot.commands.registry.translated_words",
        lambda english: {"xx": {"ayuda": "now"}, "yy": {"ayuda": "help"}},
    )
    with pytest.raises(ValueError, match="two commands"):
        Registry(words, default="now")


def test_fold_drops_accents_and_case() -> None:
    assert fold("Réglages") == "reglages"
    assert fold("ESQUEÇA-ME") == "esqueca-me"
    assert fold("設定") == "設定"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_command_words_read_from_the_mo_match_the_catalog(locale: str) -> None:
    """The start-up reads only the command words from each `.mo`; they are what the whole
    catalog (the standard library's gettext) gives."""
    from bot.i18n import context_messages, pgettext, use_locale

    read = context_messages(locale, KEYWORD_CONTEXT)
    assert read  # every shipped language translates some command words
    with use_locale(locale):
        for word in ENGLISH_WORDS:
            assert read.get(word, word) == pgettext(KEYWORD_CONTEXT, word), word


@pytest.mark.parametrize(
    "content",
    [b"", b"\xde\x12\x04\x95\x00", b"not a catalog at all", b"\xde\x12\x04\x95" + b"\xff" * 40],
)
def test_a_damaged_catalog_gives_no_words_and_no_crash(
    content: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import i18n

    catalog = tmp_path / "de" / "LC_MESSAGES" / "stretchbot.mo"
    catalog.parent.mkdir(parents=True)
    catalog.write_bytes(content)
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    assert i18n.context_messages("de", KEYWORD_CONTEXT) == {}
    assert i18n.context_messages("fr", KEYWORD_CONTEXT) == {}  # no file at all
