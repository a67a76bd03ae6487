# ruff: noqa: E501 - long XML and table literals read better whole
"""Broken e-invoices are refused with the file, the element path and what was expected."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from portalgen.demo.tinypdf import tiny_pdf
from portalgen.errors import InputError, Problem
from portalgen.load import LoadOptions, load_export
from tests.conftest import TODAY

SAMPLES = Path(__file__).parent / "data" / "samples"
UBL = SAMPLES / "ubl" / "gobl_peppol_invoice-with-charges.xml"
UBL_CREDIT = SAMPLES / "ubl" / "gobl_peppol_credit-note.xml"
FACTURAE = SAMPLES / "facturae" / "facturae322_gobl_invoice-vat.xml"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def errors(path: Path, fmt: str | None = None, tmp: Path | None = None) -> list[Problem]:
    options = LoadOptions(today=TODAY, cache_dir=(tmp or path.parent) / "cache")
    with pytest.raises(InputError) as info:
        load_export(path, options, format=fmt)
    return [p for p in info.value.problems if p.severity == "error"]


def one_error(problems: list[Problem], file: str, location: str, *expected: str) -> None:
    matching = [p for p in problems if p.file == file and p.location == location]
    assert matching, f"no error at {file} {location}: {[str(p) for p in problems]}"
    for text in expected:
        assert any(text in p.message for p in matching), [p.message for p in matching]


def replace_once(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("fmt", ["ubl", "facturae"])
def test_not_xml(tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path, "broken.xml", "<Invoice><cbc:ID>1</Invoice>")
    problems = errors(path, fmt)
    assert problems[0].file == "broken.xml"
    assert "not a well-formed XML file" in problems[0].message and "line 1" in problems[0].message


def test_wrong_namespace_ubl(tmp_path: Path) -> None:
    text = replace_once(
        UBL.read_text(),
        'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"',
        'xmlns="urn:example:invoice"',
    )
    problems = errors(write(tmp_path, "ns.xml", text), "ubl")
    one_error(
        problems,
        "ns.xml",
        "/Invoice",
        "expected a UBL 2.1 Invoice",
        "found {urn:example:invoice}Invoice",
    )


def test_wrong_namespace_facturae(tmp_path: Path) -> None:
    text = replace_once(FACTURAE.read_text(), "Facturaev3_2_2.xml", "Facturaev9_9.xml")
    problems = errors(write(tmp_path, "ns.xml", text), "facturae")
    one_error(problems, "ns.xml", "/Facturae", "expected a Facturae 3.2, 3.2.1 or 3.2.2 file")


def test_missing_mandatory_element_ubl(tmp_path: Path) -> None:
    text = re.sub(r"<cbc:IssueDate>[^<]*</cbc:IssueDate>", "", UBL.read_text(), count=1)
    problems = errors(write(tmp_path, "a.xml", text))
    one_error(problems, "a.xml", "/Invoice/cbc:IssueDate", "mandatory element is missing")


def test_missing_mandatory_element_facturae(tmp_path: Path) -> None:
    text = replace_once(FACTURAE.read_text(), "<InvoiceNumber>TEST01001F</InvoiceNumber>", "")
    problems = errors(write(tmp_path, "a.xml", text))
    one_error(
        problems,
        "a.xml",
        "/fe:Facturae/Invoices/Invoice/InvoiceHeader/InvoiceNumber",
        "mandatory element is missing",
        "invoice number",
    )


def test_payable_total_that_does_not_match_ubl(tmp_path: Path) -> None:
    text = replace_once(
        UBL.read_text(),
        '<cbc:PayableAmount currencyID="EUR">2201.50</cbc:PayableAmount>',
        '<cbc:PayableAmount currencyID="EUR">2201.00</cbc:PayableAmount>',
    )
    problems = errors(write(tmp_path, "a.xml", text))
    one_error(
        problems,
        "a.xml",
        "/Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount",
        "expected 2201.50",
        "found 2201.00",
    )


def test_line_total_that_does_not_match_ubl(tmp_path: Path) -> None:
    text = replace_once(
        UBL.read_text(),
        '<cbc:LineExtensionAmount currencyID="EUR">1800.00</cbc:LineExtensionAmount>\n    <cac:Item>',
        '<cbc:LineExtensionAmount currencyID="EUR">1700.00</cbc:LineExtensionAmount>\n    <cac:Item>',
    )
    problems = errors(write(tmp_path, "a.xml", text))
    one_error(
        problems,
        "a.xml",
        "/Invoice/cac:InvoiceLine/cbc:LineExtensionAmount",
        "expected 1800.00 (quantity × price",
        "found 1700.00",
    )


def test_tax_subtotal_that_does_not_match_the_lines_ubl(tmp_path: Path) -> None:
    text = UBL.read_text().replace(
        '<cbc:TaxAmount currencyID="EUR">351.50</cbc:TaxAmount>',
        '<cbc:TaxAmount currencyID="EUR">361.50</cbc:TaxAmount>',
    )
    text = replace_once(
        text,
        '<cbc:TaxInclusiveAmount currencyID="EUR">2201.50',
        '<cbc:TaxInclusiveAmount currencyID="EUR">2211.50',
    )
    text = replace_once(
        text,
        '<cbc:PayableAmount currencyID="EUR">2201.50',
        '<cbc:PayableAmount currencyID="EUR">2211.50',
    )
    problems = errors(write(tmp_path, "a.xml", text))
    one_error(
        problems,
        "a.xml",
        "/Invoice/cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount",
        "expected 351.50 (19 % of 1850.00)",
        "found 361.50",
    )


def test_totals_that_do_not_match_facturae(tmp_path: Path) -> None:
    text = replace_once(
        FACTURAE.read_text(),
        "<InvoiceTotal>5084.42</InvoiceTotal>",
        "<InvoiceTotal>5000.00</InvoiceTotal>",
    )
    problems = errors(write(tmp_path, "a.xml", text))
    one_error(
        problems,
        "a.xml",
        "/fe:Facturae/Invoices/Invoice/InvoiceTotals/InvoiceTotal",
        "expected 5084.42",
        "found 5000.00",
    )
    one_error(
        problems,
        "a.xml",
        "/fe:Facturae/FileHeader/Batch/TotalInvoicesAmount/TotalAmount",
        "expected 5000.00",
    )


def test_line_that_does_not_match_facturae(tmp_path: Path) -> None:
    text = replace_once(
        FACTURAE.read_text(), "<TotalCost>202.00</TotalCost>", "<TotalCost>220.00</TotalCost>"
    )
    problems = errors(write(tmp_path, "a.xml", text))
    one_error(
        problems,
        "a.xml",
        "/fe:Facturae/Invoices/Invoice/Items/InvoiceLine[2]/TotalCost",
        "expected 202.00 (Quantity × UnitPriceWithoutTax)",
    )


@pytest.mark.parametrize(
    ("sample", "old", "new", "location"),
    [
        (
            UBL,
            "<cbc:DocumentCurrencyCode>EUR<",
            "<cbc:DocumentCurrencyCode>EURO<",
            "/Invoice/cbc:DocumentCurrencyCode",
        ),
        (
            FACTURAE,
            "<InvoiceCurrencyCode>EUR</InvoiceCurrencyCode>\n\t\t\t\t<TaxCurrencyCode>",
            "<InvoiceCurrencyCode>ZZZ</InvoiceCurrencyCode>\n\t\t\t\t<TaxCurrencyCode>",
            "/fe:Facturae/Invoices/Invoice/InvoiceIssueData/InvoiceCurrencyCode",
        ),
    ],
)
def test_unknown_currency(tmp_path: Path, sample: Path, old: str, new: str, location: str) -> None:
    problems = errors(write(tmp_path, "a.xml", replace_once(sample.read_text(), old, new)))
    one_error(problems, "a.xml", location, "expected an ISO 4217 currency code")


def test_an_amount_in_another_currency_ubl(tmp_path: Path) -> None:
    text = replace_once(
        UBL.read_text(),
        '<cbc:ChargeTotalAmount currencyID="EUR">',
        '<cbc:ChargeTotalAmount currencyID="USD">',
    )
    problems = errors(write(tmp_path, "a.xml", text))
    one_error(
        problems,
        "a.xml",
        "/Invoice/cac:LegalMonetaryTotal/cbc:ChargeTotalAmount",
        'currencyID="EUR"',
        "'USD'",
    )


def test_entities_and_doctypes_are_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol2;</Invoice>'
    )
    problems = errors(write(tmp_path, "bomb.xml", bomb), "ubl")
    assert problems[0].file == "bomb.xml" and "DOCTYPE" in problems[0].message
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xxe = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY s SYSTEM "file://{secret}">]><x>&s;</x>'
    with pytest.raises(InputError) as info:
        load_export(write(tmp_path, "xxe.xml", xxe), LoadOptions(today=TODAY), format="ubl")
    assert "TOP SECRET" not in str(info.value)


def test_a_folder_with_no_invoice(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    problems = errors(tmp_path / "empty", "ubl")
    assert "expected UBL invoice files (*.xml), found none" in problems[0].message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        "one.xml",
        replace_once(
            UBL.read_text(), "<cbc:DocumentCurrencyCode>EUR<", "<cbc:DocumentCurrencyCode>XYZ1<"
        ),
    )
    write(
        tmp_path, "two.xml", re.sub(r"<cbc:ID>CN-002</cbc:ID>", "", UBL_CREDIT.read_text(), count=1)
    )
    problems = errors(tmp_path / "in", "ubl", tmp_path)
    assert {p.file for p in problems} == {"one.xml", "two.xml"}


def test_conflicting_invoices_with_one_number(tmp_path: Path) -> None:
    write(tmp_path, "a.xml", UBL.read_text())
    write(
        tmp_path,
        "b.xml",
        replace_once(UBL.read_text(), "<cbc:IssueDate>2024-05-15<", "<cbc:IssueDate>2024-05-16<"),
    )
    problems = errors(tmp_path / "in", "ubl", tmp_path)
    one_error(
        problems,
        "b.xml",
        "/Invoice",
        "invoice number 'CHARGE-001' is also in a.xml, /Invoice with different content (issue_date)",
    )


def embedded_pdf_invoice(pdf: bytes) -> str:
    attachment = (
        "<cac:AdditionalDocumentReference><cbc:ID>CHARGE-001</cbc:ID>"
        '<cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" '
        f'filename="CHARGE-001.pdf">{base64.b64encode(pdf).decode()}'
        "</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>\n"
        "  <cac:AccountingSupplierParty>"
    )
    return replace_once(UBL.read_text(), "<cac:AccountingSupplierParty>", attachment)


def test_embedded_pdf_becomes_the_original(tmp_path: Path) -> None:
    pdf = tiny_pdf("Factura CHARGE-001", ["Original del programa de facturación"])
    path = write(tmp_path, "with-pdf.xml", embedded_pdf_invoice(pdf))
    cache = tmp_path / "cache"
    (invoice,) = load_export(path, LoadOptions(today=TODAY, cache_dir=cache)).export.invoices
    assert invoice.original_pdf is not None and invoice.original_pdf.parent == cache
    assert invoice.original_pdf.read_bytes() == pdf
    again = load_export(path, LoadOptions(today=TODAY, cache_dir=cache)).export.invoices[0]
    assert again.original_pdf == invoice.original_pdf  # content-addressed: same path each night


def test_an_embedded_file_that_is_not_a_pdf(tmp_path: Path) -> None:
    path = write(tmp_path, "bad-pdf.xml", embedded_pdf_invoice(b"GIF89a not a pdf"))
    problems = errors(path)
    one_error(
        problems,
        "bad-pdf.xml",
        "/Invoice/cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject",
        "expected a PDF file",
    )


def test_facturae_batch_gives_several_invoices(tmp_path: Path) -> None:
    text = FACTURAE.read_text()
    start, end = text.index("<Invoice>"), text.index("</Invoice>") + len("</Invoice>")
    second = text[start:end].replace("TEST01001F", "TEST01002F").replace("2021-12-08", "2021-12-09")
    batch = text[:end] + "\n" + second + text[end:]
    batch = batch.replace("<Modality>I</Modality>", "<Modality>L</Modality>")
    batch = batch.replace("<InvoicesCount>1</InvoicesCount>", "<InvoicesCount>2</InvoicesCount>")
    batch = batch.replace(
        "<TotalAmount>5084.42</TotalAmount>", "<TotalAmount>10168.84</TotalAmount>"
    )
    export = load_export(write(tmp_path, "batch.xml", batch), LoadOptions(today=TODAY)).export
    assert [i.number for i in export.invoices] == ["TEST01001F", "TEST01002F"]
    assert [p.number for p in export.payments] == ["TEST01001F-1", "TEST01002F-1"]
    wrong = batch.replace("<InvoicesCount>2</InvoicesCount>", "<InvoicesCount>3</InvoicesCount>")
    one_error(
        errors(write(tmp_path, "wrong.xml", wrong)),
        "wrong.xml",
        "/fe:Facturae/FileHeader/Batch/InvoicesCount",
        "expected 2 (the Invoice elements in the file), found 3",
    )
