"""Every shipped catalog is complete and keeps the messages' placeholders.

A language is offered as soon as its catalog ships (portalgen.presentation.languages), so a
catalog with one empty or fuzzy entry would show that entry in English to its customers: these tests
fail on it. English is the messages' own language and needs no translation.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from portalgen.presentation.catalogs import translations
from portalgen.presentation.languages import (
    LOCALE_DIR,
    LOCALES,
    SOURCE_LANGUAGE,
    catalog_files,
    offered,
)

TRANSLATED = [language for language in offered() if language != SOURCE_LANGUAGE]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


def catalog(language: str) -> Catalog:
    with catalog_files(language)[1].open("rb") as fh:
        return read_po(fh, locale=language)


def forms(message: Message) -> list[tuple[str, str]]:
    """(source, translation) pairs: a plural's first form is its singular, the others plural."""
    if isinstance(message.id, str):
        return [(message.id, str(message.string))]
    singular, plural = message.id
    strings = message.string if isinstance(message.string, tuple | list) else [""]
    return [(singular if i == 0 else plural, s) for i, s in enumerate(strings)]


def test_the_portal_speaks_the_languages_of_spain() -> None:
    shipped = sorted(p.parent.parent.name for p in LOCALE_DIR.glob("*/LC_MESSAGES/portalgen.po"))
    assert set(shipped) <= set(LOCALES), (
        "a catalog for a language portalgen/presentation/languages.py lacks"
    )
    assert sorted(offered()) == shipped
    assert set(offered()) == set(LOCALES)  # all seven


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str) -> None:
    messages = [m for m in catalog(language) if m.id]
    missing = [m.id for m in messages if m.fuzzy or not all(t for _, t in forms(m))]
    assert missing == [], f"untranslated or fuzzy in {language}: translate them"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_exactly_the_placeholders(language: str) -> None:
    wrong = []
    for message in catalog(language):
        for source, translated in forms(message) if message.id else []:
            if Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(translated)):
                wrong.append((source, translated))
    assert wrong == []


@pytest.mark.parametrize("language", sorted(offered()))
def test_every_catalog_has_every_message(language: str) -> None:
    expected = {(m.id, m.context) for m in catalog("es") if m.id}
    assert {(m.id, m.context) for m in catalog(language) if m.id} == expected, (
        "run scripts/update-catalogs"
    )


@pytest.mark.parametrize("language", sorted(offered()))
def test_counts_follow_the_plural_rule_of_the_language_s_locale(language: str) -> None:
    """A catalog's Plural-Forms is CLDR's for its Babel locale: `pybabel init -l pt` writes
    Brazil's rule (0 is singular), but the portal's Portuguese is pt_PT's (0 is plural)."""
    expected = get_plural(LOCALES[language]).plural_forms
    assert catalog(language).plural_forms == expected, f"set Plural-Forms: {expected}"


def test_zero_invoices_read_right_in_portuguese_and_french() -> None:
    assert translations("pt").ngettext("New invoice", "New invoices", 0) == "Novas faturas"
    assert translations("pt").ngettext("New invoice", "New invoices", 1) == "Nova fatura"
    assert translations("fr").ngettext("New invoice", "New invoices", 0) == "Nouvelle facture"


def test_french_punctuation_never_wraps_onto_a_line_of_its_own() -> None:
    """French puts a space before : ; ! ? — a no-break one (U+00A0), else a narrow phone
    screen can wrap "Merci" and "!" apart (docs/translations.md)."""
    loose = [
        translated
        for message in catalog("fr")
        for _, translated in (forms(message) if message.id else [])
        if re.search(r"[ \t][:;!?]", translated)
    ]
    assert loose == []
