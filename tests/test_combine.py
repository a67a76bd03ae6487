# ruff: noqa: E501 - long XML and table literals read better whole
"""Several sources in one export: FacturaScripts for customers, quotes and receipts plus a
folder of Facturae invoices; customers matched by tax id; duplicates merged or refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portalgen.errors import InputError
from portalgen.load import LoadOptions, load_export
from tests.conftest import TODAY
from tests.fs_fixture import write_csv, write_json
from tests.test_facturae import facturae, line, tax

NS = "http://www.facturae.gob.es/formato/Versiones/Facturaev3_2_2.xml"
BUYER = """<TaxIdentification><PersonTypeCode>J</PersonTypeCode><ResidenceTypeCode>R</ResidenceTypeCode>
<TaxIdentificationNumber>ESB12345674</TaxIdentificationNumber></TaxIdentification>
<LegalEntity><CorporateName>Talleres Perez SL</CorporateName><AddressInSpain><Address>C/ Mayor 1</Address>
<PostCode>28013</PostCode><Town>Madrid</Town><Province>Madrid</Province><CountryCode>ESP</CountryCode>
</AddressInSpain><ContactDetails><ElectronicMail>facturas@talleresperez.example</ElectronicMail>
</ContactDetails></LegalEntity>"""


def invoice_xml(number: str, issued: str) -> str:
    body = f"""<InvoiceHeader><InvoiceNumber>{number}</InvoiceNumber><InvoiceDocumentType>FC</InvoiceDocumentType>
<InvoiceClass>OO</InvoiceClass></InvoiceHeader><InvoiceIssueData><IssueDate>{issued}</IssueDate>
<InvoiceCurrencyCode>EUR</InvoiceCurrencyCode><TaxCurrencyCode>EUR</TaxCurrencyCode><LanguageName>es</LanguageName>
</InvoiceIssueData><TaxesOutputs>{tax("01", "21.00", "855.00", "179.55")}</TaxesOutputs>
<InvoiceTotals><TotalGrossAmount>855.00</TotalGrossAmount><TotalGrossAmountBeforeTaxes>855.00</TotalGrossAmountBeforeTaxes>
<TotalTaxOutputs>179.55</TotalTaxOutputs><TotalTaxesWithheld>0.00</TotalTaxesWithheld><InvoiceTotal>1034.55</InvoiceTotal>
<TotalOutstandingAmount>1034.55</TotalOutstandingAmount><TotalExecutableAmount>1034.55</TotalExecutableAmount></InvoiceTotals>
<Items>{line("Pintura completa", "1", "950.00", "950.00", "855.00", tax("01", "21.00", "855.00", "179.55"), "95.00")}</Items>
<PaymentDetails><Installment><InstallmentDueDate>2026-05-30</InstallmentDueDate><InstallmentAmount>1034.55</InstallmentAmount>
<PaymentMeans>04</PaymentMeans></Installment></PaymentDetails>"""
    return facturae(NS, "3.2.2", BUYER, body, "1034.55")


def folder_of(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for filename, text in files.items():
        (folder / filename).write_text(text, encoding="utf-8")
    return folder


def test_facturae_invoices_join_the_facturascripts_customer(tmp_path: Path) -> None:
    fs = write_json(tmp_path / "fs")
    # F2026A1 is also in FacturaScripts (the same invoice, sent as Facturae); FE-100 is not.
    einvoices = folder_of(
        tmp_path,
        "facturae",
        {
            "F2026A1.xml": invoice_xml("F2026A1", "2026-04-30"),
            "FE-100.xml": invoice_xml("FE-100", "2026-06-01"),
        },
    )
    result = load_export([fs, einvoices], LoadOptions(today=TODAY))
    assert result.formats == ("facturascripts", "facturae")
    export = result.export
    # The buyer ESB12345674 is FacturaScripts customer 1 (cifnif B12345674): no new customer.
    assert sorted(c.code for c in export.customers) == ["1", "2"]
    invoices = {i.number: i for i in export.invoices}
    assert invoices["FE-100"].customer_code == "1"
    # F2026A1 agrees in customer, date and totals: one invoice, FacturaScripts' record and
    # its receipts (paid); the Facturae instalment for it is dropped.
    assert [i.number for i in export.invoices].count("F2026A1") == 1
    assert invoices["F2026A1"].origin.file == "facturaclientes.json"
    f1_receipts = [p for p in export.payments if p.invoice == "F2026A1"]
    assert [(p.number, p.is_paid) for p in f1_receipts] == [("F2026A1-1", True)]
    assert [p.number for p in export.payments if p.invoice == "FE-100"] == ["FE-100-1"]


def test_a_conflicting_duplicate_is_an_error_naming_both(tmp_path: Path) -> None:
    fs = write_json(tmp_path / "fs")
    einvoices = folder_of(
        tmp_path, "facturae", {"F2026A1.xml": invoice_xml("F2026A1", "2026-05-01")}
    )
    with pytest.raises(InputError) as info:
        load_export([fs, einvoices], LoadOptions(today=TODAY))
    (problem,) = [p for p in info.value.problems if p.severity == "error"]
    assert (problem.file, problem.location) == ("F2026A1.xml", "/fe:Facturae/Invoices/Invoice")
    assert "invoice number 'F2026A1' is also in facturaclientes.json, $[0]" in problem.message
    assert "(issue_date)" in problem.message


def test_the_same_export_twice_is_read_once(tmp_path: Path) -> None:
    json_form, csv_form = write_json(tmp_path / "j"), write_csv(tmp_path / "c")
    once = load_export(json_form, LoadOptions(today=TODAY)).export
    twice = load_export([json_form, csv_form], LoadOptions(today=TODAY)).export
    for part in (
        "customers",
        "quotes",
        "orders",
        "delivery_notes",
        "invoices",
        "payments",
        "documents",
    ):
        assert len(getattr(twice, part)) == len(getattr(once, part)), part


def test_same_customer_code_with_different_content(tmp_path: Path) -> None:
    json_form, csv_form = write_json(tmp_path / "j"), write_csv(tmp_path / "c")
    path = json_form / "clientes.json"
    rows = json.loads(path.read_text())
    rows[0]["razonsocial"] = "Talleres Pérez e Hijos S.L."
    path.write_text(json.dumps(rows))
    with pytest.raises(InputError) as info:
        load_export([csv_form, json_form], LoadOptions(today=TODAY))
    (problem,) = [p for p in info.value.problems if p.severity == "error"]
    assert (problem.file, problem.location) == ("clientes.json", "$[0]")
    assert (
        "customer code '1' is also in clientes.csv, row 2 with different content (name)"
        in problem.message
    )
