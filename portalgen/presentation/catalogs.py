"""The portal's languages: gettext catalogs and locales (the list: languages.py).

Catalogs live in ``portalgen/locale/<lang>/LC_MESSAGES/portalgen.po``. The wheel carries
compiled ``.mo`` files (built by hatch_build.py); a checkout has only the ``.po`` files,
which are compiled here, so editing a translation needs no build step. Compiling one takes
tens of milliseconds (Babel parses the whole file), which every process of a checkout paid
for every language it used: so the result is kept beside the source, like Python's own
``__pycache__``, as ``LC_MESSAGES/__pycache__/portalgen.<hash of the .po>.mo``. An edited
``.po`` has another hash, so it is compiled again; the cache is never trusted for more
than that (a file that does not read as a catalog is compiled again too).
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import os
import tempfile
from io import BytesIO
from pathlib import Path

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
    """The compiled catalog for `language`: the shipped .mo, or the checkout's .po compiled."""
    mo, po = catalog_files(language)
    if mo.is_file():
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    return compiled_po(po, language)


def compiled_po(po: Path, language: str) -> gettext.GNUTranslations:
    """The catalog `po` compiled: from its cached .mo when one matches its content."""
    source = po.read_bytes()
    cached = po.parent / "__pycache__" / f"{po.stem}.{hashlib.sha256(source).hexdigest()[:16]}.mo"
    found = _read(cached)
    if found is not None:
        return found
    from babel.messages.mofile import write_mo  # a checkout only: compiled here
    from babel.messages.pofile import read_po

    catalog = read_po(BytesIO(source), locale=language, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    _keep(cached, buffer.getvalue())
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _read(cached: Path) -> gettext.GNUTranslations | None:
    try:
        return gettext.GNUTranslations(BytesIO(cached.read_bytes()))
    except Exception:  # missing, unreadable, or not a catalog (a bad magic, cut short...)
        return None


def _keep(cached: Path, data: bytes) -> None:
    """Write the compiled catalog for the next process (whole or not at all) and drop the
    ones of earlier versions of the .po; a folder that cannot be written is left alone."""
    try:
        cached.parent.mkdir(exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=cached.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(temp, cached)
        except BaseException:
            os.unlink(temp)
            raise
        stem = cached.name.split(".")[0]
        for old in cached.parent.glob(f"{stem}.*.mo"):
            if old != cached:
                old.unlink(missing_ok=True)
    except OSError:
        pass


@functools.cache
def catalogs_fingerprint() -> str:
    """A hash of every catalog: changing a translation re-renders what uses it."""
    digest = hashlib.sha256()
    for language in offered():
        mo, po = catalog_files(language)
        source = mo if mo.is_file() else po
        digest.update(language.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()
