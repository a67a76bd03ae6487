"""The portal's languages: gettext catalogs and locales (the list: languages.py).

Catalogs live in ``portalgen/locale/<lang>/LC_MESSAGES/portalgen.po``. The wheel carries
compiled ``.mo`` files (built by hatch_build.py); a checkout has only the ``.po`` files,
which are compiled in memory here, so editing a translation needs no build step.
"""

from __future__ import annotations

import functools
import gettext
import hashlib
from io import BytesIO

from portalgen.config import Settings
from portalgen.presentation.languages import (
    DOMAIN,
    FALLBACK,
    LOCALE_DIR,
    LOCALES,
    catalog_files,
    offered,
)

__all__ = ["LOCALE_DIR", "catalogs_fingerprint", "language_of", "locale_for", "translations"]


def language_of(customer_language: str, settings: Settings) -> str:
    """The customer's language if the portal speaks it, else the configured one."""
    if customer_language in offered():
        return customer_language
    return settings.language if settings.language in offered() else FALLBACK


def locale_for(language: str, settings: Settings) -> str:
    """``es`` → the configured ``es_ES`` (or es_MX...), ``ca`` → ``ca_ES`` unless configured."""
    if settings.language == language:
        return settings.locale
    return LOCALES.get(language, settings.locale)


@functools.cache
def translations(language: str) -> gettext.GNUTranslations:
    """The compiled catalog for `language`: the shipped .mo, or the .po compiled in memory."""
    mo, po = catalog_files(language)
    if mo.is_file():
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    from babel.messages.mofile import write_mo  # a checkout only: compiled here
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@functools.cache
def catalogs_fingerprint() -> str:
    """A hash of every catalog: changing a translation re-renders what uses it."""
    digest = hashlib.sha256()
    for language in offered():
        mo, po = catalog_files(language)
        source = mo if mo.is_file() else po
        digest.update(language.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()
