"""The customer's language, end to end (issue 15): a customer whose ``language`` column says
``ca`` reads a Catalan portal, Catalan PDFs and Catalan emails, with dates, numbers and money
formatted by Babel for ca_ES; every language the portal speaks gets its own pages, and the
gate's pages follow the browser's Accept-Language."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from lxml import html as lxml_html
from pypdf import PdfReader

from portalgen.domain.formatting import format_date, format_money, format_percent
from portalgen.domain.model import Invoice
from portalgen.presentation.catalogs import locale_for, translations
from portalgen.presentation.languages import SOURCE_LANGUAGE, offered
from tests.conftest import load_demo
from tests.gate_fixtures import GateWorld
from tests.mail_fixtures import body_html, body_text, grant, office, publish_paths, with_customers
from tests.render_fixtures import language_portal, parse, render_settings, text_of
from tests.smtpserver import SmtpServer
from tests.test_mail_notify import run


def spaced(text: str) -> str:
    """Text with Babel's no-break spaces as plain ones (a PDF's text may carry either)."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def invoices_of(demo_dir: Path, code: str) -> list[Invoice]:
    return [i for i in load_demo(demo_dir).export.invoices if i.customer_code == code]


def pdf_text(path: Path) -> str:
    return spaced(" ".join(page.extract_text() for page in PdfReader(path).pages))


def test_a_catalan_customers_portal_is_in_catalan(language_portals: Path, demo_dir: Path) -> None:
    root = language_portals / language_portal("ca")
    home = parse(root / "index.html")
    assert home.get("lang") == "ca"
    navigation = text_of(home.xpath("//nav")[0])
    for section in ("Inici", "Pressupostos", "Comandes", "Albarans", "Factures"):
        assert section in navigation
    invoice = invoices_of(demo_dir, "C00007")[0]
    page = parse(root / "invoices" / f"{invoice.number}.html")
    assert page.get("lang") == "ca"
    text = spaced(text_of(page))
    assert spaced(format_money(invoice.totals.total, "ca_ES")) in text
    assert spaced(format_date(invoice.issue_date, "ca_ES")) in text  # "5 de març 2026"
    assert "Base imposable" in text and "Factures" in text


PDF_WORDS = {  # invoice, delivery note, statement
    "ca": ("Base imposable", "Rebut per (nom, DNI i signatura)", "Moviments fins a la data"),
    "gl": ("Base impoñible", "Recibido por (nome, DNI e sinatura)", "Movementos ata o"),
}


@pytest.mark.parametrize(("language", "locale"), [("ca", "ca_ES"), ("gl", "gl_ES")])
def test_catalan_and_galician_customers_pdfs_are_in_their_language(
    language: str, locale: str, language_portals: Path, demo_dir: Path
) -> None:
    root = language_portals / language_portal(language)
    taxes, received, until = PDF_WORDS[language]
    invoice = invoices_of(demo_dir, "C00007")[0]
    text = pdf_text(root / "invoices" / f"{invoice.number}.pdf")
    assert "Factura" in text and taxes in text
    assert spaced(format_money(invoice.totals.total, locale)) in text
    assert spaced(format_date(invoice.issue_date, locale)) in text
    note = pdf_text(next((root / "delivery-notes").glob("*.pdf")))
    assert received in note
    statement = pdf_text(root / "payments" / "statement.pdf")
    assert until in statement


@pytest.mark.parametrize("language", offered())
def test_every_language_gets_its_own_pages(
    language: str, language_portals: Path, demo_dir: Path
) -> None:
    """The page's lang, a heading in the language and an amount in its locale's format."""
    code = language_portal(language)
    root = language_portals / code
    invoices = parse(root / "invoices" / "index.html")
    assert invoices.get("lang") == language
    heading = translations(language).gettext("Invoices")
    assert language == SOURCE_LANGUAGE or heading != "Invoices"
    assert text_of(invoices.xpath("//main//h1")[0]) == heading
    locale = locale_for(language, render_settings(demo_dir))
    invoice = invoices_of(demo_dir, code.split("/")[-1])[0]
    page = spaced(text_of(parse(root / "invoices" / f"{invoice.number}.html")))
    assert spaced(format_money(invoice.totals.total, locale)) in page


def test_a_catalan_customers_digest_is_in_catalan(
    fresh_demo: Path, smtp_server: SmtpServer
) -> None:
    the_office = office(fresh_demo, smtp_server.mail_settings())
    the_office.export = with_customers(the_office.export, C00001={"language": "ca"})
    grant(the_office, ["C00001"])
    publish_paths(the_office, ["C00001"])
    report = run(the_office)
    assert report.failed == [] and report.messages > 0
    for received in smtp_server.messages:
        msg = received.message
        assert msg["Content-Language"] == "ca"
        assert msg["Subject"] == "Novetats al seu portal de Suministros Levante"
        html = lxml_html.fromstring(body_html(msg))
        assert html.get("lang") == "ca"
        text = spaced(body_text(msg))
        assert "Aquestes són les novetats del seu portal de Suministros Levante:" in text
        invoices = invoices_of(fresh_demo, "C00001")
        announced = [i for i in invoices if f"Factura {i.number} " in text]
        assert announced, text
        for invoice in announced:  # "Factura F… del dia 1 de març del 2026, per 1.234,50 €"
            issued = format_date(invoice.issue_date, "ca_ES", "long")
            total = format_money(invoice.totals.total, "ca_ES")
            assert spaced(f"Factura {invoice.number} del dia {issued}, per {total}") in text


def test_percentages_follow_the_locale() -> None:
    assert format_percent(Decimal("21"), "ca_ES") == "21\u00a0%"
    assert format_percent(Decimal("10.5"), "gl_ES") == "10,5\u00a0%"
    assert format_percent(Decimal("21"), "eu_ES") == "%\u00a021"
    assert format_percent(Decimal("21"), "pt_PT") == "21%"
    assert format_percent(Decimal("21"), "en_GB") == "21%"


@pytest.mark.parametrize("language", offered())
def test_the_gate_speaks_the_browsers_language(gate_world: GateWorld, language: str) -> None:
    client = gate_world.client()
    response = client.get("/link", headers={"Accept-Language": f"{language}-ES;q=0.9,de;q=0.8"})
    page = lxml_html.fromstring(response.get_data(as_text=True))
    assert page.get("lang") == language
    assert text_of(page.xpath("//h1")[0]) == translations(language).gettext("Ask for a new link")
    signed_out = client.get(f"/signed-out?lang={language}")
    assert lxml_html.fromstring(signed_out.get_data(as_text=True)).get("lang") == language
