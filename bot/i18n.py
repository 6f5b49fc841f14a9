"""Which language a text is read in: gettext lookups against the locale of the current reply.

Every text a person reads goes through `_` (or `ngettext` for counts) with named placeholders,
`_("Paused until {when}.").format(when=...)`, so translators can reorder them. The locale is a
context variable: set it with `use_locale` around the work that answers one person or channel.
Module-level texts are marked with `N_` and translated where they are shown.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SOURCE_LOCALE = "en"

_NULL = gettext.NullTranslations()
_translations: ContextVar[gettext.NullTranslations] = ContextVar("translations", default=_NULL)
_locale: ContextVar[str] = ContextVar("locale", default=SOURCE_LOCALE)


def _(message: str) -> str:
    """`message` in the current locale."""
    return _translations.get().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a counted text for `count` in the current locale (placeholders stay)."""
    return _translations.get().ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Marks a text for extraction without translating it (translate it where it is shown)."""
    return message


def current_locale() -> str:
    """The locale of the reply being built (`en` by default)."""
    return _locale.get()


def translations_for(locale: str) -> gettext.NullTranslations:
    """The catalog for `locale`; the source texts when there is none."""
    return _NULL


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Build texts in `locale` (None or unknown: English) inside the block."""
    chosen = locale or SOURCE_LOCALE
    token = _translations.set(translations_for(chosen))
    locale_token = _locale.set(chosen)
    try:
        yield chosen
    finally:
        _translations.reset(token)
        _locale.reset(locale_token)
