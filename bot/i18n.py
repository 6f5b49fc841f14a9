"""Which language a text is read in: gettext catalogs (Babel) and locale-aware dates, weekdays
and numbers, for the locale of the reply being built.

Every text a person reads goes through `_` (or `ngettext` for counts) with named placeholders,
`_("Paused until {when}.").format(when=...)`, so translators can reorder them. The locale is a
context variable: set it with `use_locale` around the work that answers one person or channel.
Module-level texts are marked with `N_` and translated where they are shown. The catalogs are
`bot/locales/<locale>/LC_MESSAGES/stretchbot.po` (compiled `.mo` beside them; `make messages`
extracts new texts and compiles).
"""

from __future__ import annotations

import functools
import gettext
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path

SOURCE_LOCALE = "en"
# The languages with a catalog, and what each one is called in itself (for `/stretch language`).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "pt_BR": "Português (Brasil)",
    "ja": "日本語",
}
LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "stretchbot"

_NULL = gettext.NullTranslations()
_translations: ContextVar[gettext.NullTranslations] = ContextVar("translations", default=_NULL)
_locale: ContextVar[str] = ContextVar("locale", default=SOURCE_LOCALE)


def _(message: str) -> str:
    """`message` in the current locale."""
    return _translations.get().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a counted text for `count` in the current locale (placeholders stay)."""
    return _translations.get().ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """`message` in the current locale, as meant in `context` (e.g. a command word)."""
    return _translations.get().pgettext(context, message)


def N_(message: str) -> str:
    """Marks a text for extraction without translating it (translate it where it is shown)."""
    return message


def NP_(context: str, message: str) -> str:
    """Marks a text with its context for extraction (translate it with `pgettext`)."""
    return message


def supported_locale(value: str | None) -> str | None:
    """The catalog locale for a platform locale ('de-DE' -> 'de', 'pt-BR' -> 'pt_BR', 'ja-JP'
    -> 'ja', 'en-GB' -> 'en'), or None when there is no catalog for its language."""
    if not value or not isinstance(value, str) or len(value) > 35:
        return None
    tag = value.replace("-", "_").strip()
    language, _sep, region = tag.partition("_")
    language = language.lower()
    if language == "pt":  # Brazilian Portuguese serves every Portuguese reader
        return "pt_BR"
    if language in LANGUAGES:
        return language
    full = f"{language}_{region.upper()}"
    return full if full in LANGUAGES else None


def current_locale() -> str:
    """The locale of the reply being built (`en` by default)."""
    return _locale.get()


@functools.lru_cache(maxsize=len(LANGUAGES))
def translations_for(locale: str) -> gettext.NullTranslations:
    """The catalog for `locale`; the source texts when there is none."""
    if locale == SOURCE_LOCALE or locale not in LANGUAGES:
        return _NULL
    # The standard library reads the compiled catalog (plural forms and contexts included);
    # Babel itself is loaded only when a date or number is formatted for a locale.
    try:
        with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as mo:
            return gettext.GNUTranslations(mo)
    except OSError:  # no catalog shipped for it
        return _NULL


def context_messages(locale: str, context: str) -> dict[str, str]:
    """The translations of the messages in `context` in `locale`'s compiled catalog (msgid ->
    msgstr), read straight from the `.mo` file without loading the rest of the catalog: the
    command words of every language are needed at start, a whole catalog only once someone
    reads that language (~0.2 MB each)."""
    if locale == SOURCE_LOCALE or locale not in LANGUAGES:
        return {}
    try:
        data = (LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo").read_bytes()
    except OSError:
        return {}
    orders = {b"\xde\x12\x04\x95": "<", b"\x95\x04\x12\xde": ">"}  # the magic number's bytes
    order = orders.get(data[:4])
    if order is None:  # not a compiled catalog: no translated words (English still works)
        return {}
    prefix = f"{context}\x04".encode()
    found: dict[str, str] = {}
    try:
        _magic, _version, count, originals, translations = struct.unpack_from(order + "5I", data)
        for n in range(count):
            length, start = struct.unpack_from(order + "2I", data, originals + 8 * n)
            msgid = data[start : start + length]
            if not msgid.startswith(prefix) or b"\x00" in msgid:  # another context, or plural
                continue
            length, start = struct.unpack_from(order + "2I", data, translations + 8 * n)
            found[msgid[len(prefix) :].decode()] = data[start : start + length].decode()
    except (struct.error, UnicodeDecodeError):  # cut short or damaged
        return {}
    return found


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Build texts in `locale` (a platform locale like 'de-DE' is fine; None or unknown:
    English) inside the block."""
    chosen = supported_locale(locale) or SOURCE_LOCALE
    token = _translations.set(translations_for(chosen))
    locale_token = _locale.set(chosen)
    try:
        yield chosen
    finally:
        _translations.reset(token)
        _locale.reset(locale_token)


def set_locale(locale: str | None) -> str:
    """Build texts in `locale` from here on in this task (and the tasks it starts): for a
    platform's edge that cannot wrap the work in `use_locale` (a Bolt middleware). Returns the
    catalog locale chosen."""
    chosen = supported_locale(locale) or SOURCE_LOCALE
    _translations.set(translations_for(chosen))
    _locale.set(chosen)
    return chosen


# ---- dates, times and numbers in the current locale ---------------------------------------

# English by hand, not strftime: the same words whatever the process's C locale.
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_clock(moment: datetime) -> str:
    """A time of day: 24-hour `HH:MM` in English (like the schedules people type), the
    locale's short time elsewhere."""
    locale = current_locale()
    if locale == SOURCE_LOCALE:
        return f"{moment.hour:02d}:{moment.minute:02d}"
    from babel.dates import format_time

    return str(format_time(moment, "short", locale=locale))


def format_day(day: date, *, with_year: bool = False) -> str:
    """A weekday and date: 'Mon 24 Nov' ('Mon 24 Nov 2027') in English, the locale's own
    pattern elsewhere ('Di., 24. Nov.', '11月24日(火)')."""
    locale = current_locale()
    if locale == SOURCE_LOCALE:
        text = f"{_EN_DAYS[day.weekday()][:3]} {day.day} {_EN_MONTHS[day.month - 1]}"
        return f"{text} {day.year}" if with_year else text
    from babel.dates import format_skeleton

    return str(format_skeleton("yMMMEd" if with_year else "MMMEd", day, locale=locale))


def format_weekday(day: date) -> str:
    """The full weekday name: 'Monday', 'Montag', '月曜日'."""
    locale = current_locale()
    if locale == SOURCE_LOCALE:
        return _EN_DAYS[day.weekday()]
    from babel.dates import format_date

    return str(format_date(day, "EEEE", locale=locale))


def weekday_abbreviation(weekday: int) -> str:
    """The short name of a weekday (Monday 0): 'Mon', 'Mo.', '月'."""
    locale = current_locale()
    if locale == SOURCE_LOCALE:
        return _EN_DAYS[weekday][:3]
    from babel.dates import get_day_names

    return str(get_day_names("abbreviated", locale=locale)[weekday])


def format_number(value: int | float) -> str:
    """A number with the locale's grouping and decimal signs."""
    locale = current_locale()
    if locale == SOURCE_LOCALE and isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=locale))
