"""The message catalogs are complete: every text the code marks (extracted here as `make
messages` does) is translated in every language, not fuzzy, with the same `{placeholders}`
and as many plural forms as the language has, and the shipped `.mo` says the same as its `.po`.

A new text without translations fails here on purpose: run `make messages` and translate it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot.i18n import DOMAIN, LANGUAGES, LOCALES_DIR, SOURCE_LOCALE

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "_": None,
    "N_": None,
    "NP_": ((1, "c"), 2),
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}
PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_]+)\}(?!\})")
TRANSLATED = [locale for locale in LANGUAGES if locale != SOURCE_LOCALE]


def marked_in_code() -> set[tuple[str | None, str]]:
    """(context, first msgid) of every text marked in bot/ and handlers/."""
    found: set[tuple[str | None, str]] = set()
    for folder in ("bot", "handlers"):
        for _name, _line, message, _comments, context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            first = message[0] if isinstance(message, tuple) else message
            if first:
                found.add((context, first))
    return found


def catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def messages(cat: Catalog) -> list[Message]:
    return [message for message in cat if message.id]


def first_id(message: Message) -> str:
    return str(message.id[0] if isinstance(message.id, tuple) else message.id)


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_marked_text_is_in_the_catalog(locale: str) -> None:
    have = {(message.context, first_id(message)) for message in messages(catalog(locale))}
    missing = sorted(marked_in_code() - have, key=str)
    assert not missing, f"{len(missing)} texts not in {locale}: run `make messages`: {missing[:5]}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders(locale: str) -> None:
    cat = catalog(locale)
    plurals = Locale.parse(locale).plural_form
    problems: list[str] = []
    for message in messages(cat):
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if isinstance(message.id, tuple):
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            if len(forms) != cat.num_plurals or not all(forms):
                problems.append(f"plural forms ({len(forms)}/{cat.num_plurals}): {message.id!r}")
            expected = placeholders(message.id[1]) | placeholders(message.id[0])
            for form in forms:
                # A form may leave out {count} (e.g. 'one break'), never add a name.
                if not placeholders(form) <= expected or not (
                    placeholders(form) >= expected - {"count"}
                ):
                    problems.append(f"placeholders {placeholders(form)}: {message.id!r}")
        else:
            if not message.string:
                problems.append(f"untranslated: {message.id!r}")
            elif placeholders(message.string) != placeholders(str(message.id)):
                problems.append(f"placeholders {placeholders(message.string)}: {message.id!r}")
    problems += [f"{message.id!r}: {errors}" for message, errors in cat.check() if errors]
    # CLDR names every form but "other".
    assert cat.num_plurals == len(plurals.tags) + 1, "Plural-Forms header differs from CLDR"
    assert not problems, f"{locale}: {len(problems)} problems:\n" + "\n".join(problems[:20])


@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_compiled_catalog_matches_its_source(locale: str) -> None:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as handle:
        compiled = read_mo(handle)
    for message in messages(catalog(locale)):
        shipped = compiled.get(message.id, context=message.context)
        as_list = list if isinstance(message.string, tuple) else str
        assert shipped is not None and as_list(shipped.string) == as_list(message.string), (
            f"{locale}: stale .mo for {message.id!r}: run `make messages`"
        )


def test_the_completeness_check_catches_a_gap() -> None:
    """The checks above are not vacuous: a catalog with a hole and a wrong placeholder fails."""
    cat = Catalog(locale="de")
    cat.add("Paused until {when}.", "Pausiert.")
    cat.add("Hello", "")
    broken = [
        m
        for m in messages(cat)
        if not m.string or placeholders(str(m.string)) != placeholders(str(m.id))
    ]
    assert len(broken) == 2
