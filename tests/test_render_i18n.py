"""Languages, catalogs and the theme's colour warnings."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from portalgen.presentation.catalogs import LOCALE_DIR, language_of, locale_for, translations
from portalgen.presentation.theme import contrast_ratio, contrast_warnings
from tests.render_fixtures import render_settings

ROOT = Path(__file__).resolve().parent.parent


def catalog(language: str):
    with (LOCALE_DIR / language / "LC_MESSAGES" / "portalgen.po").open("rb") as fh:
        return read_po(fh, locale=language)


def forms(message):
    """(source, translation) pairs: a plural's first form is its singular, the others plural."""
    if isinstance(message.id, str):
        return [(message.id, message.string)]
    singular, plural = message.id
    return [(singular if i == 0 else plural, s) for i, s in enumerate(message.string)]


def test_catalogs_cover_every_message_in_the_templates() -> None:
    used: set[str] = set()
    for template in (ROOT / "templates").rglob("*.*"):
        used |= set(re.findall(r"""_\(\s*"([^"]+)"\s*[,)]""", template.read_text()))
        used |= set(re.findall(r"""_\(\s*'([^']+)'\s*[,)]""", template.read_text()))
    known = {m.id for m in catalog("es") if m.id}
    assert used - known == set(), "run scripts/update-catalogs and translate"
    assert {m.id for m in catalog("en") if m.id} == known


def test_po_files_compile_from_a_checkout() -> None:
    # A checkout ships .po only (git ignores .mo); its compiled copies are in __pycache__.
    assert not list(LOCALE_DIR.glob("*/LC_MESSAGES/*.mo"))
    assert translations("es").gettext("Invoices") == "Facturas"
    assert translations("en").gettext("Invoices") == "Invoices"


def test_language_comes_from_the_customer_then_the_settings(demo_dir: Path) -> None:
    spanish = render_settings(demo_dir)
    assert language_of("en", spanish) == "en" and locale_for("en", spanish) == "en_GB"
    assert language_of("", spanish) == "es" and locale_for("es", spanish) == "es_ES"
    assert language_of("ca", spanish) == "ca" and locale_for("ca", spanish) == "ca_ES"
    assert language_of("de", spanish) == "es"  # no German catalog: the business's language
    english = render_settings(demo_dir, locale="en_US")
    assert language_of("", english) == "en" and locale_for("en", english) == "en_US"


def test_contrast_warning_for_pale_theme_colours(demo_dir: Path) -> None:
    assert round(contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast_ratio("#767676", "#ffffff"), 2) == 4.54
    assert contrast_warnings(render_settings(demo_dir)) == []
    pale = render_settings(demo_dir, theme={"primary_color": "#facc15"})
    [warning] = contrast_warnings(pale)
    assert "theme.primary_color" in warning and "4.5:1" in warning
