"""Every real sample e-invoice reads, and the model says what the file says.

Expected values are taken from each file by XPath here, never typed by hand, so the
test checks the reader against the file itself (tests/data/samples, see SOURCES.md).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from portalgen.domain.ledger import outstanding, payments_by_invoice
from portalgen.domain.model import Export, Invoice
from portalgen.domain.totals import tax_breakdown
from portalgen.load import LoadOptions, load_export
from tests.conftest import TODAY

SAMPLES = Path(__file__).parent / "data" / "samples"
UBL_FILES = sorted((SAMPLES / "ubl").glob("*.xml"))
FACTURAE_FILES = sorted((SAMPLES / "facturae").glob("*.xml"))
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def xpath_text(node: etree._Element, path: str) -> str:
    found = node.xpath(path, namespaces=NS)
    assert found, f"the sample has no {path}"
    return str(found[0]).strip()


def xpath_decimal(node: etree._Element, path: str) -> Decimal:
    return Decimal(xpath_text(node, path))


def read(path: Path, tmp_path: Path) -> Export:
    return load_export(path, LoadOptions(today=TODAY, cache_dir=tmp_path / "cache")).export


def vat_groups(invoice: Invoice) -> dict[Decimal, tuple[Decimal, Decimal]]:
    return {
        g.rate: (g.base.amount, g.amount.amount)
        for g in tax_breakdown(invoice.lines, invoice.currency)
        if g.kind == "vat"
    }


SHARED = Path(__file__).resolve().parents[2] / "shared" / "samples"


@pytest.mark.skipif(
    not SHARED.is_dir(), reason="the project's shared samples are not beside the repo"
)
def test_every_shared_sample_reads_without_error(tmp_path: Path) -> None:
    """Samples added to ../shared/samples later are read too (the copies above are checked)."""
    files = sorted(SHARED.rglob("*.xml"))
    assert files
    for path in files:
        result = load_export(path, LoadOptions(today=TODAY, cache_dir=tmp_path))
        assert result.export.invoices, path


def test_the_samples_are_all_there() -> None:
    assert len(UBL_FILES) == 5 and len(FACTURAE_FILES) == 2
    shared = Path("/work/shared/samples")
    if shared.is_dir():  # the copies are the files the project was given, unchanged
        for copy in [*UBL_FILES, *FACTURAE_FILES]:
            original = shared / copy.parent.name / copy.name
            assert copy.read_bytes() == original.read_bytes()


@pytest.mark.parametrize("path", UBL_FILES, ids=lambda p: p.name)
def test_ubl_sample(path: Path, tmp_path: Path) -> None:
    export = read(path, tmp_path)
    doc = etree.parse(str(path)).getroot()
    credit = etree.QName(doc).localname == "CreditNote"
    sign = Decimal(-1) if credit else Decimal(1)
    (invoice,) = export.invoices
    assert invoice.number == xpath_text(doc, "cbc:ID/text()")
    assert invoice.issue_date.isoformat() == xpath_text(doc, "cbc:IssueDate/text()")
    assert invoice.currency == xpath_text(doc, "cbc:DocumentCurrencyCode/text()")
    due = doc.xpath("cbc:DueDate/text()", namespaces=NS)
    assert (invoice.due_date.isoformat() if invoice.due_date else None) == (due[0] if due else None)
    party = doc.xpath("cac:AccountingCustomerParty/cac:Party", namespaces=NS)[0]
    (customer,) = export.customers
    assert customer.tax_id == xpath_text(party, "cac:PartyTaxScheme/cbc:CompanyID/text()")
    assert invoice.customer_code == customer.code
    assert customer.name == xpath_text(party, "cac:PartyLegalEntity/cbc:RegistrationName/text()")
    assert customer.emails == (xpath_text(party, "cac:Contact/cbc:ElectronicMail/text()"),)
    # Lines: one per InvoiceLine/CreditNoteLine, plus one per document-level allowance/charge.
    line_tag = "cac:CreditNoteLine" if credit else "cac:InvoiceLine"
    own = [line for line in invoice.lines if line.reference not in ("ALLOWANCE", "CHARGE")]
    assert len(own) == len(doc.xpath(line_tag, namespaces=NS))
    assert len(invoice.lines) - len(own) == len(doc.xpath("cac:AllowanceCharge", namespaces=NS))
    for line, element in zip(own, doc.xpath(line_tag, namespaces=NS), strict=True):
        assert line.net == sign * xpath_decimal(element, "cbc:LineExtensionAmount/text()")
        assert line.description.startswith(xpath_text(element, "cac:Item/cbc:Name/text()"))
    # Each tax subtotal is exactly what the portal's tax breakdown shows.
    groups = vat_groups(invoice)
    subtotals = doc.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
    assert len(groups) == len(subtotals)
    for sub in subtotals:
        rate = xpath_decimal(sub, "cac:TaxCategory/cbc:Percent/text()").normalize()
        assert groups[rate] == (
            sign * xpath_decimal(sub, "cbc:TaxableAmount/text()"),
            sign * xpath_decimal(sub, "cbc:TaxAmount/text()"),
        )
    totals = doc.xpath("cac:LegalMonetaryTotal", namespaces=NS)[0]
    assert invoice.totals.base.amount == sign * xpath_decimal(
        totals, "cbc:TaxExclusiveAmount/text()"
    )
    assert invoice.totals.total.amount == sign * xpath_decimal(
        totals, "cbc:TaxInclusiveAmount/text()"
    )
    payable = xpath_decimal(totals, "cbc:PayableAmount/text()")
    receipts = payments_by_invoice(export.payments).get(invoice.number, ())
    if credit:
        assert invoice.totals.total.amount == -payable
        assert invoice.corrects == xpath_text(
            doc, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID/text()"
        )
    else:  # what is left to pay after the prepaid amount is exactly the PayableAmount
        assert outstanding(invoice, receipts, TODAY).amount == payable


@pytest.mark.parametrize("path", FACTURAE_FILES, ids=lambda p: p.name)
def test_facturae_sample(path: Path, tmp_path: Path) -> None:
    export = read(path, tmp_path)
    doc = etree.parse(str(path)).getroot()
    elements = doc.xpath("Invoices/Invoice")
    assert (
        len(export.invoices)
        == len(elements)
        == int(xpath_text(doc, "FileHeader/Batch/InvoicesCount/text()"))
    )
    buyer = doc.xpath("Parties/BuyerParty")[0]
    (customer,) = export.customers
    assert customer.tax_id == xpath_text(buyer, "TaxIdentification/TaxIdentificationNumber/text()")
    assert customer.name == xpath_text(buyer, "LegalEntity/CorporateName/text()")
    receipts = payments_by_invoice(export.payments)
    for invoice, el in zip(export.invoices, elements, strict=True):
        assert invoice.number == xpath_text(el, "InvoiceHeader/InvoiceNumber/text()")
        assert invoice.issue_date.isoformat() == xpath_text(el, "InvoiceIssueData/IssueDate/text()")
        assert invoice.currency == xpath_text(el, "InvoiceIssueData/InvoiceCurrencyCode/text()")
        assert invoice.customer_code == customer.code
        assert len(invoice.lines) == len(el.xpath("Items/InvoiceLine"))
        groups = vat_groups(invoice)
        taxes = el.xpath("TaxesOutputs/Tax")
        assert len(groups) == len(taxes)
        for tax in taxes:
            rate = xpath_decimal(tax, "TaxRate/text()").normalize()
            assert groups[rate] == (
                xpath_decimal(tax, "TaxableBase/TotalAmount/text()"),
                xpath_decimal(tax, "TaxAmount/TotalAmount/text()"),
            )
        t = el.xpath("InvoiceTotals")[0]
        assert invoice.totals.base.amount == xpath_decimal(t, "TotalGrossAmountBeforeTaxes/text()")
        assert invoice.totals.withholding.amount == xpath_decimal(t, "TotalTaxesWithheld/text()")
        assert invoice.totals.total.amount == xpath_decimal(t, "InvoiceTotal/text()")
        mine = receipts.get(invoice.number, ())
        instalments = el.xpath("PaymentDetails/Installment")
        assert len(mine) == len(instalments)
        for receipt, inst in zip(mine, instalments, strict=True):
            assert receipt.due_date.isoformat() == xpath_text(inst, "InstallmentDueDate/text()")
            assert receipt.amount.amount == xpath_decimal(inst, "InstallmentAmount/text()")
        if instalments:
            payable = xpath_decimal(t, "TotalExecutableAmount/text()")
            assert sum(r.amount.amount for r in mine) == payable
            iban = xpath_text(instalments[0], "AccountToBeCredited/IBAN/text()")
            assert iban.replace(" ", "") in invoice.payment_terms.replace(" ", "")
        corrective = el.xpath("InvoiceHeader/Corrective/InvoiceNumber/text()")
        assert invoice.corrects == (corrective[0] if corrective else "")


def test_the_whole_samples_folder_reads_as_one_export(tmp_path: Path) -> None:
    result = load_export(
        [SAMPLES / "ubl", SAMPLES / "facturae"],
        LoadOptions(today=TODAY, cache_dir=tmp_path),
    )
    assert result.formats == ("ubl", "facturae") and result.detected
    numbers = [i.number for i in result.export.invoices]
    # Two UBL samples are the same invoice SAMPLE-001: read once, with a warning.
    assert sorted(numbers) == sorted(set(numbers))
    assert any("SAMPLE-001" in p.message and "read once" in p.message for p in result.warnings)
    # The Facturae credit note's corrected invoice is the other Facturae sample.
    by_number = {i.number: i for i in result.export.invoices}
    credit = next(i for i in result.export.invoices if i.corrects in by_number)
    assert by_number[credit.corrects].customer_code == credit.customer_code


def test_the_seller_must_be_the_company_when_configured(tmp_path: Path) -> None:
    for path, seller_path in (
        (
            UBL_FILES[0],
            "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID/text()",
        ),
        (FACTURAE_FILES[0], "Parties/SellerParty/TaxIdentification/TaxIdentificationNumber/text()"),
    ):
        seller = xpath_text(etree.parse(str(path)).getroot(), seller_path)
        ours = LoadOptions(today=TODAY, cache_dir=tmp_path, company_tax_id=seller)
        assert load_export(path, ours).export.invoices
        other = LoadOptions(today=TODAY, cache_dir=tmp_path, company_tax_id="B12345674")
        with pytest.raises(Exception, match="is this a purchase invoice") as info:
            load_export(path, other)
        assert seller in str(info.value)
