"""The /stretch words in other languages (`/stretch jetzt`, `/stretch pausa 2h`): each English
command word marked for the catalogs in the `KEYWORD_CONTEXT` context, and the table of every
language's translations the registry accepts besides English.

A translator gives the word people would type (one word, no spaces; leave it empty or equal to
the English one when there is no good single word). A translated word that is another command's
word in any language is refused when the registry loads (tests/unit/test_keywords.py checks the
shipped catalogs), so English always wins.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from bot.i18n import LANGUAGES, NP_, SOURCE_LOCALE, context_messages

KEYWORD_CONTEXT = "/stretch word"

# The English command words that have a translation: every command's canonical word.
ENGLISH_WORDS = (
    NP_("/stretch word", "now"),
    NP_("/stretch word", "every"),
    NP_("/stretch word", "settings"),
    NP_("/stretch word", "status"),
    NP_("/stretch word", "pause"),
    NP_("/stretch word", "resume"),
    NP_("/stretch word", "off"),
    NP_("/stretch word", "leaderboard"),
    NP_("/stretch word", "together"),
    NP_("/stretch word", "goal"),
    NP_("/stretch word", "freezes"),
    NP_("/stretch word", "seated"),
    NP_("/stretch word", "language"),
    NP_("/stretch word", "exercises"),
    NP_("/stretch word", "me"),
    NP_("/stretch word", "skip"),
    NP_("/stretch word", "stats"),
    NP_("/stretch word", "optout"),
    NP_("/stretch word", "optin"),
    NP_("/stretch word", "forget-me"),
    NP_("/stretch word", "admins-only"),
    NP_("/stretch word", "help"),
)


def fold(word: str) -> str:
    """A word as it is matched: lowercased, accents dropped ('réglages' and 'reglages' alike)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def translated_words(english: Iterable[str]) -> dict[str, dict[str, str]]:
    """Per language, each translated word (folded) and the English word it stands for; words a
    catalog leaves as they are, empty or with spaces are left out."""
    table: dict[str, dict[str, str]] = {}
    for locale in LANGUAGES:
        if locale == SOURCE_LOCALE:
            continue
        words: dict[str, str] = {}
        # Only the command words are read from the catalog: the whole of it is loaded the
        # first time someone reads the language.
        catalog = context_messages(locale, KEYWORD_CONTEXT)
        for word in english:
            shown = catalog.get(word, word).strip()
            if shown and shown != word and not any(c.isspace() for c in shown):
                words[fold(shown)] = word
        table[locale] = words
    return table
