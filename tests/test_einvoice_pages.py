# ruff: noqa: E501 - XML literals read better whole
"""What a customer sees of a UBL or Facturae invoice: its title, its VAT reasons, its
units, its rounding, and never "-0,00".

Each case starts from a real sample (tests/data/samples) changed only where it matters,
and renders the page and PDF the customer gets.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import html

from portalgen.domain.formatting import format_money
from portalgen.domain.model import Export, Money
from portalgen.load import LoadOptions, load_export
from portalgen.mail.planner import customer_items
from portalgen.mail.sentences import Sentences
from portalgen.presentation.catalogs import translations
from portalgen.render import build_context, plan_portal
from portalgen.render.filters import make_filters
from tests.conftest import TODAY
from tests.render_fixtures import render_settings, text_of
from tests.test_render_pdf import pdf_text

SAMPLES = Path(__file__).parent / "data" / "samples"
UBL = SAMPLES / "ubl" / "gobl_peppol_invoice-with-charges.xml"
UBL_CREDIT = SAMPLES / "ubl" / "gobl_peppol_credit-note.xml"
FACTURAE = SAMPLES / "facturae" / "facturae322_gobl_invoice-vat.xml"
FACTURAE_CREDIT = SAMPLES / "facturae" / "facturae322_gobl_credit-note.xml"
BILLING_REFERENCE = """<cac:BillingReference>
    <cac:InvoiceDocumentReference>
      <cbc:ID>F-001</cbc:ID>
      <cbc:IssueDate>2024-02-05</cbc:IssueDate>
      <cbc:DocumentTypeCode>380</cbc:DocumentTypeCode>
    </cac:InvoiceDocumentReference>
  </cac:BillingReference>"""


def replace_once(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def read(tmp_path: Path, *paths: Path) -> Export:
    options = LoadOptions(today=TODAY, cache_dir=tmp_path / "cache")
    return load_export(list(paths), options).export


def render(
    demo_dir: Path, export: Export, wanted: set[str], language: str = "es"
) -> dict[str, bytes]:
    """The files in `wanted` of the portal of the export's one customer."""
    context = build_context(render_settings(demo_dir, portal={"pdf": "render"}), today=TODAY)
    (customer,) = export.customers
    data = export.customer_data(customer.code)
    data = replace(data, customer=replace(customer, language=language))
    files = {f.path: f for f in plan_portal(data, context) if f.path in wanted}
    assert set(files) == wanted, sorted(f.path for f in plan_portal(data, context))
    return {path: f.render() for path, f in files.items()}


def pdf_words(content: bytes) -> str:
    """The PDF's text with every run of spaces and line breaks as one space."""
    return " ".join(pdf_text(content).split())


def page_text(content: bytes) -> str:
    return text_of(html.fromstring(content)).replace("\u00a0", " ")


def tax_rows_and_notes(content: bytes) -> tuple[list[str], list[str]]:
    """The tax breakdown's row labels, and the exemption notes printed under it."""
    page = html.fromstring(content)
    rows = page.xpath("//table[contains(@class,'taxes')]//tbody/tr/th")
    notes = page.xpath("//p[@class='tax-exemption']")
    return (
        [text_of(r).replace("\u00a0", " ") for r in rows],
        [text_of(n).replace("\u00a0", " ") for n in notes],
    )


def heading(content: bytes) -> str:
    return text_of(html.fromstring(content).xpath("//h1")[0])


# -- credit notes are titled as what they are ------------------------------------------------


def credit_note_without_reference(tmp_path: Path) -> Path:
    text = replace_once(UBL_CREDIT.read_text(), BILLING_REFERENCE, "")
    return write(tmp_path, "rebate.xml", text)


@pytest.mark.parametrize(
    ("language", "with_reference", "title"),
    [
        ("es", True, "Factura rectificativa"),
        ("es", False, "Abono"),
        ("en", True, "Credit note"),
        ("en", False, "Credit note"),
    ],
)
def test_a_credit_note_is_titled_as_one(
    tmp_path: Path, demo_dir: Path, language: str, with_reference: bool, title: str
) -> None:
    """A credit that corrects a named invoice is a "factura rectificativa" (RD 1619/2012,
    art. 15); one that names none, an "abono". Page, list, PDF and email say so."""
    source = UBL_CREDIT if with_reference else credit_note_without_reference(tmp_path)
    export = read(tmp_path, source)
    (credit,) = export.invoices
    page, pdf = f"invoices/{credit.slug}.html", f"invoices/{credit.slug}.pdf"
    files = render(demo_dir, export, {page, pdf, "invoices/index.html"}, language)
    assert heading(files[page]) == f"{title} CN-002"
    assert f"{title} CN-002" in pdf_words(files[pdf])
    row = html.fromstring(files["invoices/index.html"]).xpath("//tbody/tr")[0]
    assert text_of(row.xpath(".//span[@class='tag']")[0]) == title
    for wrong in ("Factura CN-002", "Invoice CN-002"):
        assert wrong not in page_text(files[page]) and wrong not in pdf_words(files[pdf])
    # The digest's line about it.
    data = export.customer_data(credit.customer_code)
    (item,) = [i for i in customer_items(data, TODAY, ()) if i.kind == "invoice"]
    sentences = Sentences(
        translations(language),
        money=lambda m: format_money(m, "es_ES"),
        day=lambda d: d.isoformat() if d else "",
        company="Empresa",
        new_link_url="",
    )
    assert sentences.invoice(item.view, TODAY).startswith(f"{title} CN-002 ")


def test_a_facturae_corrective_invoice_is_a_factura_rectificativa(
    tmp_path: Path, demo_dir: Path
) -> None:
    export = read(tmp_path, FACTURAE_CREDIT)
    (credit,) = export.invoices
    assert credit.corrective and credit.title == "corrective_credit"
    page = f"invoices/{credit.slug}.html"
    files = render(demo_dir, export, {page, f"invoices/{credit.slug}.pdf"})
    assert heading(files[page]) == f"Factura rectificativa {credit.number}"


def test_a_corrected_invoice_type_384_is_titled_corrective(tmp_path: Path, demo_dir: Path) -> None:
    text = replace_once(
        UBL.read_text(),
        "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>",
        "<cbc:InvoiceTypeCode>384</cbc:InvoiceTypeCode>",
    )
    export = read(tmp_path, write(tmp_path, "corrected.xml", text))
    (invoice,) = export.invoices
    assert invoice.totals.total.amount > 0  # it adds to what is owed
    page = f"invoices/{invoice.slug}.html"
    assert heading(render(demo_dir, export, {page})[page]) == "Factura rectificativa CHARGE-001"
    assert heading(render(demo_dir, export, {page}, "en")[page]) == "Corrective invoice CHARGE-001"


# -- an invoice and a credit note with the same number ---------------------------------------


def test_an_invoice_and_a_credit_note_may_share_a_number(tmp_path: Path, demo_dir: Path) -> None:
    invoice_text = replace_once(
        UBL.read_text(), "<cbc:ID>CHARGE-001</cbc:ID>", "<cbc:ID>7</cbc:ID>"
    )
    credit_text = replace_once(
        UBL_CREDIT.read_text(), "<cbc:ID>CN-002</cbc:ID>", "<cbc:ID>7</cbc:ID>"
    )
    # One buyer for both, so both are in one portal.
    credit_text = credit_text.replace("LU282741168", "DE282741168")
    invoice_file = write(tmp_path, "invoice-7.xml", invoice_text)
    credit_file = write(tmp_path, "credit-note-7.xml", credit_text)
    assert len(read(tmp_path, tmp_path / "in").invoices) == 2  # one folder
    export = read(tmp_path, invoice_file, credit_file)  # two sources, combined
    invoice, credit = sorted(export.invoices, key=lambda i: i.credit_note)
    assert invoice.number == credit.number == "7"
    assert not invoice.credit_note and credit.credit_note
    assert invoice.slug != credit.slug
    pages = {f"invoices/{d.slug}.{ext}" for d in (invoice, credit) for ext in ("html", "pdf")}
    files = render(demo_dir, export, {*pages, "payments/index.html", "payments/statement.csv"})
    assert heading(files[f"invoices/{invoice.slug}.html"]) == "Factura 7"
    assert heading(files[f"invoices/{credit.slug}.html"]) == "Factura rectificativa 7"
    credit_page = page_text(files[f"invoices/{credit.slug}.html"])
    assert format_money(credit.totals.total, "es_ES").replace("\u00a0", " ") in credit_page
    # The account statement names and links each one as what it is.
    statement = html.fromstring(files["payments/index.html"]).xpath("//tbody/tr/th[@scope='row']")
    movements = {text_of(th): th.xpath(".//a/@href") for th in statement}
    assert movements == {
        "Factura 7": [f"../invoices/{invoice.slug}.html"],
        "Factura rectificativa 7": [f"../invoices/{credit.slug}.html"],
    }
    csv_rows = files["payments/statement.csv"].decode("utf-8-sig").splitlines()[1:]
    assert sorted(row.split(";")[3] for row in csv_rows) == ["7", "7"]  # the number as issued


# -- VAT categories and exemption reasons ----------------------------------------------------


def exempt_credit_note(tmp_path: Path, category: str, reason: str) -> Path:
    """The credit note sample with its one line exempt (0 %) for `reason`."""
    text = UBL_CREDIT.read_text()
    text = text.replace(
        "<cbc:ID>S</cbc:ID>\n        <cbc:Percent>21.0</cbc:Percent>",
        f"<cbc:ID>{category}</cbc:ID>\n        <cbc:Percent>0</cbc:Percent>{reason}",
    )
    text = text.replace(
        "<cbc:ID>S</cbc:ID>\n          <cbc:Percent>21.0</cbc:Percent>",
        f"<cbc:ID>{category}</cbc:ID>\n          <cbc:Percent>0</cbc:Percent>{reason}",
    )
    text = text.replace(">378.00<", ">0.00<").replace(">2178.00<", ">1800.00<")
    return write(tmp_path, f"exempt-{category}.xml", text)


@pytest.mark.parametrize(
    ("category", "reason", "shown_es", "shown_en"),
    [
        (
            "E",
            "<cbc:TaxExemptionReason>Exento según el artículo 20.Uno.9.º de la Ley del IVA</cbc:TaxExemptionReason>",
            "IVA 0 % · exenta: Exento según el artículo 20.Uno.9.º de la Ley del IVA",
            "VAT 0% · exempt: Exento según el artículo 20.Uno.9.º de la Ley del IVA",
        ),
        (
            "K",
            "<cbc:TaxExemptionReasonCode>VATEX-EU-IC</cbc:TaxExemptionReasonCode>",
            "IVA 0 % · entrega intracomunitaria: entrega intracomunitaria de bienes o servicios",
            "VAT 0% · intra-community supply: intra-community supply of goods or services",
        ),
        (
            "AE",
            "",  # no reason given (a warning): the category's name says why
            "IVA 0 % · inversión del sujeto pasivo",
            "VAT 0% · reverse charge",
        ),
    ],
)
def test_the_vat_category_and_exemption_reason_are_shown(
    tmp_path: Path, demo_dir: Path, category: str, reason: str, shown_es: str, shown_en: str
) -> None:
    export = read(tmp_path, exempt_credit_note(tmp_path, category, reason))
    (credit,) = export.invoices
    page, pdf = f"invoices/{credit.slug}.html", f"invoices/{credit.slug}.pdf"
    for language, shown in (("es", shown_es), ("en", shown_en)):
        files = render(demo_dir, export, {page, pdf}, language)
        rows, notes = tax_rows_and_notes(files[page])
        # The row names the category; a note under the table gives the reason.
        assert rows == [shown.split(": ")[0]]
        assert notes == ([shown] if ": " in shown else [])
        assert shown in pdf_words(files[pdf])


def facturae_with_a_zero_rated_line(event: str) -> str:
    """The Facturae sample with its second line (202.00) at 0 %, followed by `event`."""
    text = FACTURAE.read_text()
    line = text[text.index("<ItemDescription>Additional Overtime") :]
    line = line[: line.index("</InvoiceLine>")]
    zero = line.replace("<TaxRate>21.0</TaxRate>", "<TaxRate>0.0</TaxRate>").replace(
        "<TotalAmount>42.42</TotalAmount>", "<TotalAmount>0.00</TotalAmount>"
    )
    text = text.replace(line, zero + event)
    text = replace_once(
        text,
        "<TotalAmount>4202.00</TotalAmount>\n\t\t\t\t\t</TaxableBase>\n\t\t\t\t\t<TaxAmount>\n\t\t\t\t\t\t<TotalAmount>882.42</TotalAmount>\n\t\t\t\t\t</TaxAmount>\n\t\t\t\t</Tax>",
        "<TotalAmount>4000.00</TotalAmount></TaxableBase><TaxAmount><TotalAmount>840.00</TotalAmount></TaxAmount></Tax>"
        "<Tax><TaxTypeCode>01</TaxTypeCode><TaxRate>0.0</TaxRate><TaxableBase><TotalAmount>202.00</TotalAmount></TaxableBase>"
        "<TaxAmount><TotalAmount>0.00</TotalAmount></TaxAmount></Tax>",
    )
    text = replace_once(text, "<TotalTaxOutputs>882.42<", "<TotalTaxOutputs>840.00<")
    text = text.replace("5084.42", "5042.00")
    # The sample is signed; changed, its signature would be (rightly) reported broken.
    return text[: text.index("<ds:Signature")] + text[text.index("</ds:Signature>") + 15 :]


def test_no_zero_rate_row_without_its_reason_facturae(tmp_path: Path, demo_dir: Path) -> None:
    """Facturae says why a line bears no tax in SpecialTaxableEvent (01 exempt, 02 not
    subject); its LegalLiterals are shown with the invoice."""
    event = (
        "<SpecialTaxableEvent><SpecialTaxableEventCode>02</SpecialTaxableEventCode>"
        "<SpecialTaxableEventReason>Operación no sujeta (art. 7 LIVA)</SpecialTaxableEventReason>"
        "</SpecialTaxableEvent>"
    )
    literal = "Operación no sujeta al IVA por las reglas de localización"
    text = facturae_with_a_zero_rated_line(event).replace(
        "</PaymentDetails>",
        f"</PaymentDetails><LegalLiterals><LegalReference>{literal}</LegalReference></LegalLiterals>",
    )
    result = load_export(
        write(tmp_path, "event.xml", text), LoadOptions(today=TODAY, cache_dir=tmp_path / "c")
    )
    assert not result.warnings
    (invoice,) = result.export.invoices
    zero = invoice.lines[1]
    assert (zero.tax_rate, zero.tax_category) == (Decimal(0), "O")
    assert zero.tax_exemption == "Operación no sujeta (art. 7 LIVA)"
    assert literal in invoice.notes
    page, pdf = f"invoices/{invoice.slug}.html", f"invoices/{invoice.slug}.pdf"
    files = render(demo_dir, result.export, {page, pdf})
    rows, notes = tax_rows_and_notes(files[page])
    shown = "IVA 0 % · no sujeta a IVA: Operación no sujeta (art. 7 LIVA)"
    assert rows == ["IVA 0 % · no sujeta a IVA", "IVA 21 %"]
    assert notes == [shown]
    assert shown in pdf_words(files[pdf])
    assert literal in page_text(files[page])


def test_a_facturae_zero_rated_line_without_its_reason_is_a_warning(tmp_path: Path) -> None:
    result = load_export(
        write(tmp_path, "no-event.xml", facturae_with_a_zero_rated_line("")),
        LoadOptions(today=TODAY, cache_dir=tmp_path / "c"),
    )
    (warning,) = result.warnings
    assert warning.location.endswith("InvoiceLine[2]/SpecialTaxableEvent")
    assert "does not say why" in warning.message


# -- units in words ----------------------------------------------------------------------------


def with_unit(tmp_path: Path, code: str, quantity: str) -> Export:
    text = UBL.read_text()
    text = replace_once(
        text,
        '<cbc:InvoicedQuantity unitCode="HUR">20</cbc:InvoicedQuantity>',
        f'<cbc:InvoicedQuantity unitCode="{code}">{quantity}</cbc:InvoicedQuantity>',
    )
    text = replace_once(
        text,
        '<cbc:PriceAmount currencyID="EUR">90.00</cbc:PriceAmount>',
        f'<cbc:PriceAmount currencyID="EUR">{Decimal(1800) / Decimal(quantity):.2f}</cbc:PriceAmount>',
    )
    return read(tmp_path, write(tmp_path, f"unit-{code}-{quantity}.xml", text))


@pytest.mark.parametrize(
    ("code", "quantity", "es", "en"),
    [
        ("HUR", "20", "20 horas", "20 hours"),
        ("HUR", "1", "1 hora", "1 hour"),
        ("DAY", "2", "2 días", "2 days"),
        ("MON", "1", "1 mes", "1 month"),
        ("C62", "4", "4 unidades", "4 units"),
        ("MTK", "12", "12 metros cuadrados", "12 square metres"),
        ("KGM", "1.5", "1,5 kilogramos", "1.5 kilograms"),
        ("XPK", "3", "3 paquetes", "3 packages"),
        ("ZZQ", "5", "5 ZZQ", "5 ZZQ"),  # unknown: shown as it is
    ],
)
def test_units_are_words_in_the_customers_language(
    tmp_path: Path, demo_dir: Path, code: str, quantity: str, es: str, en: str
) -> None:
    export = with_unit(tmp_path, code, quantity)
    (invoice,) = export.invoices
    page, pdf = f"invoices/{invoice.slug}.html", f"invoices/{invoice.slug}.pdf"
    wanted = {page, pdf} if code == "HUR" else {page}  # PDFs are slow; one shows they agree
    for language, shown in (("es", es), ("en", en)):
        files = render(demo_dir, export, wanted, language)
        cell = html.fromstring(files[page]).xpath(
            "//table[contains(@class,'lines')]//tbody/tr[1]/td[1]"
        )[0]
        assert text_of(cell).replace("\u00a0", " ") == shown
        if pdf in files:
            assert shown in pdf_words(files[pdf])


def test_facturae_units_are_read_as_unece_codes(tmp_path: Path) -> None:
    text = FACTURAE.read_text()
    assert "<UnitOfMeasure>" not in text
    text = text.replace("</Quantity>", "</Quantity><UnitOfMeasure>02</UnitOfMeasure>", 1)
    (invoice,) = read(tmp_path, write(tmp_path, "hours.xml", text)).invoices
    assert invoice.lines[0].unit == "HUR"


# -- rounding ----------------------------------------------------------------------------------


def test_payable_rounding_is_a_row_and_the_rows_add_up(tmp_path: Path, demo_dir: Path) -> None:
    text = replace_once(
        UBL.read_text(),
        '<cbc:PayableAmount currencyID="EUR">2201.50</cbc:PayableAmount>',
        '<cbc:PayableRoundingAmount currencyID="EUR">-0.50</cbc:PayableRoundingAmount>'
        '<cbc:PayableAmount currencyID="EUR">2201.00</cbc:PayableAmount>',
    )
    result = load_export(
        write(tmp_path, "rounded.xml", text), LoadOptions(today=TODAY, cache_dir=tmp_path / "c")
    )
    (invoice,) = result.export.invoices
    assert invoice.totals.rounding == Money(Decimal("-0.50"), "EUR")
    assert invoice.totals.total == Money(Decimal("2201.00"), "EUR")
    assert not result.warnings  # the lines and the rounding add up to the total
    page, pdf = f"invoices/{invoice.slug}.html", f"invoices/{invoice.slug}.pdf"
    files = render(demo_dir, export=result.export, wanted={page, pdf})
    totals = html.fromstring(files[page]).xpath("//dl[contains(@class,'totals')]/div")
    rows = {
        text_of(d.xpath("dt")[0]): text_of(d.xpath("dd")[0]).replace("\u00a0", " ") for d in totals
    }
    assert rows == {
        "Base imponible": "1.850,00 €",
        "IVA": "351,50 €",
        "Redondeo": "-0,50 €",
        "Total": "2.201,00 €",
    }
    assert "Redondeo -0,50 €" in pdf_words(files[pdf])


# -- no negative zero --------------------------------------------------------------------------


def test_amounts_never_print_as_negative_zero(tmp_path: Path, demo_dir: Path) -> None:
    """An exempt credit note: its VAT is 0 × −1 = −0.00, which must read 0,00."""
    export = read(
        tmp_path,
        exempt_credit_note(
            tmp_path, "E", "<cbc:TaxExemptionReason>Exenta</cbc:TaxExemptionReason>"
        ),
    )
    (credit,) = export.invoices
    assert credit.totals.tax.amount.is_signed()  # the model keeps what the arithmetic gave
    page, pdf = f"invoices/{credit.slug}.html", f"invoices/{credit.slug}.pdf"
    files = render(demo_dir, export, {page, pdf, "payments/index.html"})
    for content in (page_text(files[page]), pdf_words(files[pdf])):
        assert "-0,00" not in content and "−0,00" not in content
        assert "0,00 €" in content
    assert format_money(Money(Decimal("-0.00"), "EUR"), "en_GB") == "€0.00"
    # A withholding is printed as subtracted; a credit note's (negative) one gives back.
    subtracted = make_filters("es_ES")["subtracted"]
    assert subtracted(Money(Decimal("15.00"), "EUR")) == "\u221215,00\u00a0€"
    assert subtracted(Money(Decimal("-15.00"), "EUR")) == "15,00\u00a0€"
    assert subtracted(Money(Decimal("-0.00"), "EUR")) == "0,00\u00a0€"
    assert format_money(Money(Decimal("-0.004"), "EUR"), "es_ES") == "0,00\u00a0€"
