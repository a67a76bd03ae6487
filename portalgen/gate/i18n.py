"""The gate's own pages in the customer's language, from the renderer's gettext catalogs.

A light loader: the wheel's compiled ``.mo`` through the standard library, or, in a
checkout (``.po`` only), a minimal reader of the ``.po`` file. The gate never imports
Babel's message tools, Jinja or the renderer for this.
"""

from __future__ import annotations

import ast
import functools
import gettext

from portalgen.presentation.languages import FALLBACK, catalog_files, offered


class PoTranslations(gettext.NullTranslations):
    """Singular messages of a .po file; untranslated and fuzzy entries fall back."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = messages

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message


def read_po(text: str) -> dict[str, str]:
    """msgid → msgstr for the plain entries of a .po file (plurals and contexts skipped)."""
    messages: dict[str, str] = {}
    entry: dict[str, list[str]] = {}
    field = ""
    fuzzy = False

    def flush() -> None:
        complete = "msgid" in entry and "msgstr" in entry
        plain = "msgctxt" not in entry and "msgid_plural" not in entry
        if complete and plain and not fuzzy:
            msgid, msgstr = "".join(entry["msgid"]), "".join(entry["msgstr"])
            if msgid and msgstr:
                messages[msgid] = msgstr

    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if not line or (line.startswith("#") and entry.get("msgstr") is not None):
            flush()
            entry, field, fuzzy = {}, "", False
            if not line:
                continue
        if line.startswith("#,"):
            fuzzy = fuzzy or "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if field:
                entry[field].append(ast.literal_eval(line))
        else:
            keyword, _, rest = line.partition(" ")
            field = keyword
            entry[field] = [ast.literal_eval(rest.strip())]
    return messages


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    mo, po = catalog_files(language)
    if mo.is_file():
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    if po.is_file():
        return PoTranslations(read_po(po.read_text(encoding="utf-8")))
    return gettext.NullTranslations()


def negotiate(accept_language: str, default: str) -> str:
    """The first language of an Accept-Language header the gate speaks, else `default`."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in offered() and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else (default if default in offered() else FALLBACK)
