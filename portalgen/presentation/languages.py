"""The languages portalgen speaks: one list, each with its Babel locale.

Seven languages are known: the four of Spain (Spanish, Catalan, Galician, Basque), English,
French and Portuguese. A language is *offered* (chosen for a customer whose ``language``
column names it, negotiated by the gate from Accept-Language) only when its gettext catalog
ships: ``portalgen/locale/<lang>/LC_MESSAGES/portalgen.po`` in a checkout, the compiled
``.mo`` in the wheel. A catalog is added complete or not at all (tests/test_catalogs.py
fails on any empty or fuzzy entry), so a language without one is simply not offered yet and
its customers read the business's own language.

This module imports nothing of portalgen: the loaders, the renderer and the gate share it.
"""

from __future__ import annotations

import functools
from pathlib import Path

DOMAIN = "portalgen"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
# Language → the locale its dates, numbers and money are formatted in (when the business's
# configured locale is not in that language: a business set to es_MX keeps es_MX).
LOCALES = {
    "es": "es_ES",
    "en": "en_GB",
    "ca": "ca_ES",
    "gl": "gl_ES",
    "eu": "eu_ES",
    "fr": "fr_FR",
    "pt": "pt_PT",
}
# Every catalog but English's is translated; English is the messages' own language.
SOURCE_LANGUAGE = "en"
FALLBACK = "es"


def catalog_files(language: str) -> tuple[Path, Path]:
    """The compiled (.mo, in the wheel) and source (.po, in a checkout) catalog of `language`."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    return folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"


@functools.cache
def offered() -> tuple[str, ...]:
    """The known languages whose catalog ships, in the order of `LOCALES`."""
    return tuple(
        language for language in LOCALES if any(f.is_file() for f in catalog_files(language))
    )


def is_offered(language: str) -> bool:
    return language in offered()
