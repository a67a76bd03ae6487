# ruff: noqa: E501 - long XML and table literals read better whole
"""Facturae specifics: IRPF, equivalence surcharge, general discounts, versions, signatures."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from portalgen.domain.totals import tax_breakdown
from portalgen.errors import InputError
from portalgen.load import LoadOptions, load_export
from tests.conftest import TODAY

SAMPLE = (
    Path(__file__).parent / "data" / "samples" / "facturae" / "facturae322_gobl_invoice-vat.xml"
)
NS_321 = "http://www.facturae.es/Facturae/2014/v3.2.1/Facturae"
NS_32 = "http://www.facturae.es/Facturae/2009/v3.2/Facturae"


def tax(code: str, rate: str, base: str, amount: str, surcharge: str = "") -> str:
    extra = (
        f"<EquivalenceSurcharge>{surcharge.split('/')[0]}</EquivalenceSurcharge>"
        f"<EquivalenceSurchargeAmount><TotalAmount>{surcharge.split('/')[1]}</TotalAmount>"
        "</EquivalenceSurchargeAmount>"
        if surcharge
        else ""
    )
    return (
        f"<Tax><TaxTypeCode>{code}</TaxTypeCode><TaxRate>{rate}</TaxRate>"
        f"<TaxableBase><TotalAmount>{base}</TotalAmount></TaxableBase>"
        f"<TaxAmount><TotalAmount>{amount}</TotalAmount></TaxAmount>{extra}</Tax>"
    )


def facturae(ns: str, version: str, buyer: str, body: str, total: str, root: str = "fe:") -> str:
    xmlns = f'xmlns:fe="{ns}"' if root else f'xmlns="{ns}"'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{root}Facturae {xmlns}>
<FileHeader><SchemaVersion>{version}</SchemaVersion><Modality>I</Modality>
<InvoiceIssuerType>EM</InvoiceIssuerType><Batch><BatchIdentifier>B12345674-A7</BatchIdentifier>
<InvoicesCount>1</InvoicesCount><TotalInvoicesAmount><TotalAmount>{total}</TotalAmount></TotalInvoicesAmount>
<TotalOutstandingAmount><TotalAmount>{total}</TotalAmount></TotalOutstandingAmount>
<TotalExecutableAmount><TotalAmount>{total}</TotalAmount></TotalExecutableAmount>
<InvoiceCurrencyCode>EUR</InvoiceCurrencyCode></Batch></FileHeader>
<Parties><SellerParty><TaxIdentification><PersonTypeCode>J</PersonTypeCode>
<ResidenceTypeCode>R</ResidenceTypeCode><TaxIdentificationNumber>B12345674</TaxIdentificationNumber>
</TaxIdentification><LegalEntity><CorporateName>Talleres Demo SL</CorporateName><AddressInSpain>
<Address>Calle Mayor 1</Address><PostCode>28013</PostCode><Town>Madrid</Town><Province>Madrid</Province>
<CountryCode>ESP</CountryCode></AddressInSpain></LegalEntity></SellerParty>
<BuyerParty>{buyer}</BuyerParty></Parties>
<Invoices><Invoice>{body}</Invoice></Invoices>
</{root}Facturae>"""


IRPF_BUYER = """<TaxIdentification><PersonTypeCode>F</PersonTypeCode><ResidenceTypeCode>R</ResidenceTypeCode>
<TaxIdentificationNumber>12345678Z</TaxIdentificationNumber></TaxIdentification>
<Individual><Name>María</Name><FirstSurname>Ruiz</FirstSurname><SecondSurname>Sanz</SecondSurname>
<AddressInSpain><Address>Calle Sol 2</Address><PostCode>41001</PostCode><Town>Sevilla</Town>
<Province>Sevilla</Province><CountryCode>ESP</CountryCode></AddressInSpain>
<ContactDetails><ElectronicMail>maria.ruiz@example.es</ElectronicMail></ContactDetails></Individual>"""


def line(
    desc: str,
    qty: str,
    price: str,
    cost: str,
    gross: str,
    taxes: str,
    discount: str = "",
    withheld: str = "",
) -> str:
    discounts = (
        f"<DiscountsAndRebates><Discount><DiscountReason>Dto.</DiscountReason><DiscountRate>10.00</DiscountRate>"
        f"<DiscountAmount>{discount}</DiscountAmount></Discount></DiscountsAndRebates>"
        if discount
        else ""
    )
    withholding = f"<TaxesWithheld>{withheld}</TaxesWithheld>" if withheld else ""
    return (
        f"<InvoiceLine><ItemDescription>{desc}</ItemDescription><Quantity>{qty}</Quantity>"
        f"<UnitOfMeasure>01</UnitOfMeasure><UnitPriceWithoutTax>{price}</UnitPriceWithoutTax>"
        f"<TotalCost>{cost}</TotalCost>{discounts}<GrossAmount>{gross}</GrossAmount>{withholding}"
        f"<TaxesOutputs>{taxes}</TaxesOutputs></InvoiceLine>"
    )


def irpf_invoice() -> str:
    withheld = tax("04", "15.00", "1400.00", "210.00")
    body = f"""<InvoiceHeader><InvoiceNumber>7</InvoiceNumber><InvoiceSeriesCode>A2024-</InvoiceSeriesCode>
<InvoiceDocumentType>FC</InvoiceDocumentType><InvoiceClass>OO</InvoiceClass></InvoiceHeader>
<InvoiceIssueData><IssueDate>2024-06-03</IssueDate><InvoiceCurrencyCode>EUR</InvoiceCurrencyCode>
<TaxCurrencyCode>EUR</TaxCurrencyCode><LanguageName>es</LanguageName></InvoiceIssueData>
<TaxesOutputs>{tax("01", "21.00", "900.00", "189.00", "5.20/46.80")}{tax("01", "21.00", "500.00", "105.00")}</TaxesOutputs>
<TaxesWithheld>{withheld}</TaxesWithheld>
<InvoiceTotals><TotalGrossAmount>1400.00</TotalGrossAmount><TotalGrossAmountBeforeTaxes>1400.00</TotalGrossAmountBeforeTaxes>
<TotalTaxOutputs>340.80</TotalTaxOutputs><TotalTaxesWithheld>210.00</TotalTaxesWithheld>
<InvoiceTotal>1530.80</InvoiceTotal><TotalOutstandingAmount>1530.80</TotalOutstandingAmount>
<TotalExecutableAmount>1530.80</TotalExecutableAmount></InvoiceTotals>
<Items>{line("Recambios", "10", "100.00", "1000.00", "900.00", tax("01", "21.00", "900.00", "189.00", "5.20/46.80"), "100.00", tax("04", "15.00", "900.00", "135.00"))}
{line("Mano de obra", "2", "250.00", "500.00", "500.00", tax("01", "21.00", "500.00", "105.00"), "", tax("04", "15.00", "500.00", "75.00"))}</Items>
<PaymentDetails>
<Installment><InstallmentDueDate>2024-07-01</InstallmentDueDate><InstallmentAmount>765.40</InstallmentAmount>
<PaymentMeans>04</PaymentMeans><AccountToBeCredited><IBAN>ES9121000418450200051332</IBAN></AccountToBeCredited></Installment>
<Installment><InstallmentDueDate>2024-08-01</InstallmentDueDate><InstallmentAmount>765.40</InstallmentAmount>
<PaymentMeans>04</PaymentMeans><AccountToBeCredited><IBAN>ES9121000418450200051332</IBAN></AccountToBeCredited></Installment>
</PaymentDetails>"""
    return facturae(NS_321, "3.2.1", IRPF_BUYER, body, "1530.80")


def load(tmp_path: Path, name: str, text: str, **options: object):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_export(path, LoadOptions(today=TODAY, **options))  # type: ignore[arg-type]


def test_irpf_surcharge_and_instalments(tmp_path: Path) -> None:
    result = load(tmp_path, "irpf.xml", irpf_invoice())
    assert result.formats == ("facturae",)
    (customer,) = result.export.customers
    assert (customer.code, customer.name, customer.tax_id) == (
        "12345678Z",
        "María Ruiz Sanz",
        "12345678Z",
    )
    assert customer.emails == ("maria.ruiz@example.es",) and customer.language == "es"
    (invoice,) = result.export.invoices
    assert (invoice.number, invoice.series) == ("A2024-7", "A2024-")
    totals = invoice.totals
    assert [
        totals.base.amount,
        totals.tax.amount,
        totals.surcharge.amount,
        totals.withholding.amount,
        totals.total.amount,
    ] == [
        Decimal("1400.00"),
        Decimal("294.00"),
        Decimal("46.80"),
        Decimal("210.00"),
        Decimal("1530.80"),
    ]
    first, _second = invoice.lines
    assert (first.discount, first.surcharge_rate, first.withholding_rate, first.net) == (
        10,
        Decimal("5.2"),
        15,
        Decimal("900.00"),
    )
    groups = {
        (g.kind, g.rate): (g.base.amount, g.amount.amount)
        for g in tax_breakdown(invoice.lines, "EUR")
    }
    assert groups == {
        ("vat", Decimal(21)): (Decimal("1400.00"), Decimal("294.00")),
        ("surcharge", Decimal("5.2")): (Decimal("900.00"), Decimal("46.80")),
        ("withholding", Decimal(15)): (Decimal("1400.00"), Decimal("210.00")),
    }
    assert [
        (p.number, str(p.due_date), p.amount.amount, p.method) for p in result.export.payments
    ] == [
        ("A2024-7-1", "2024-07-01", Decimal("765.40"), "transfer"),
        ("A2024-7-2", "2024-08-01", Decimal("765.40"), "transfer"),
    ]
    assert "IBAN ES91 2100 0418 4502 0005 1332" in invoice.payment_terms


def test_withholding_that_does_not_match_the_lines(tmp_path: Path) -> None:
    text = irpf_invoice().replace(
        tax("04", "15.00", "1400.00", "210.00"), tax("04", "15.00", "1400.00", "200.00")
    )
    text = text.replace(
        "<TotalTaxesWithheld>210.00</TotalTaxesWithheld>",
        "<TotalTaxesWithheld>200.00</TotalTaxesWithheld>",
    )
    text = text.replace("1530.80", "1540.80").replace("765.40", "770.40")
    with pytest.raises(InputError) as info:
        load(tmp_path, "bad.xml", text)
    (problem,) = [p for p in info.value.problems if p.severity == "error"]
    assert (
        problem.location == "/fe:Facturae/Invoices/Invoice/TaxesWithheld/Tax/TaxAmount/TotalAmount"
    )
    assert "expected 210.00 (15 % of 1400.00), found 200.00" in problem.message


def test_instalments_must_add_up_and_ibans_must_be_valid(tmp_path: Path) -> None:
    text = irpf_invoice().replace("<InstallmentAmount>765.40", "<InstallmentAmount>700.00", 1)
    text = text.replace("ES9121000418450200051332", "ES9921000418450200051332", 1)
    with pytest.raises(InputError) as info:
        load(tmp_path, "bad.xml", text)
    messages = {p.location: p.message for p in info.value.problems}
    assert "found 1465.40" in messages["/fe:Facturae/Invoices/Invoice/PaymentDetails"]
    assert (
        "not a valid IBAN"
        in messages[
            "/fe:Facturae/Invoices/Invoice/PaymentDetails/Installment[1]/AccountToBeCredited/IBAN"
        ]
    )


def test_general_discount_overseas_buyer_and_namespaced_children(tmp_path: Path) -> None:
    buyer = """<TaxIdentification><PersonTypeCode>J</PersonTypeCode><ResidenceTypeCode>U</ResidenceTypeCode>
<TaxIdentificationNumber>PT501964843</TaxIdentificationNumber></TaxIdentification>
<LegalEntity><CorporateName>Oficina Lisboa Lda</CorporateName><OverseasAddress><Address>Rua Augusta 10</Address>
<PostCodeAndTown>1100-053 Lisboa</PostCodeAndTown><Province>Lisboa</Province><CountryCode>PRT</CountryCode>
</OverseasAddress></LegalEntity>"""
    body = f"""<InvoiceHeader><InvoiceNumber>B-1</InvoiceNumber><InvoiceDocumentType>FC</InvoiceDocumentType>
<InvoiceClass>OO</InvoiceClass></InvoiceHeader><InvoiceIssueData><IssueDate>2024-03-01</IssueDate>
<InvoiceCurrencyCode>EUR</InvoiceCurrencyCode><TaxCurrencyCode>EUR</TaxCurrencyCode><LanguageName>pt</LanguageName></InvoiceIssueData>
<TaxesOutputs>{tax("01", "10.00", "950.00", "95.00")}</TaxesOutputs>
<InvoiceTotals><TotalGrossAmount>1000.00</TotalGrossAmount>
<GeneralDiscounts><Discount><DiscountReason>Pronto pago</DiscountReason><DiscountRate>5.00</DiscountRate><DiscountAmount>50.00</DiscountAmount></Discount></GeneralDiscounts>
<TotalGeneralDiscounts>50.00</TotalGeneralDiscounts><TotalGrossAmountBeforeTaxes>950.00</TotalGrossAmountBeforeTaxes>
<TotalTaxOutputs>95.00</TotalTaxOutputs><TotalTaxesWithheld>0.00</TotalTaxesWithheld><InvoiceTotal>1045.00</InvoiceTotal>
<TotalOutstandingAmount>1045.00</TotalOutstandingAmount><TotalExecutableAmount>1045.00</TotalExecutableAmount></InvoiceTotals>
<Items>{line("Consultoría", "1", "1000.00", "1000.00", "1000.00", tax("01", "10.00", "1000.00", "100.00"))}</Items>"""
    text = facturae(NS_32, "3.2", buyer, body, "1045.00", root="")
    export = load(tmp_path, "v32.xml", text).export
    (customer,) = export.customers
    assert customer.address.country == "PT" and customer.language == "pt"  # LanguageName
    (invoice,) = export.invoices
    assert [(line.description, line.net, line.tax_rate) for line in invoice.lines] == [
        ("Consultoría", Decimal("1000.00"), Decimal(10)),
        ("Pronto pago", Decimal("-50.00"), Decimal(10)),
    ]
    assert invoice.totals.total.amount == Decimal("1045.00")


def compact(path: Path) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    return etree.tostring(etree.parse(str(path), parser).getroot())


def test_signature_intact_reformatted_and_broken(tmp_path: Path) -> None:
    # The sample was re-indented after signing (its digests match only without the
    # layout); the compact form is byte for byte what was signed.
    intact = tmp_path / "intact"
    intact.mkdir()
    (intact / "a.xml").write_bytes(compact(SAMPLE))
    result = load_export(intact, LoadOptions(today=TODAY))
    assert "signatures: 1 intact" in result.export.source and not result.warnings
    result = load_export(SAMPLE, LoadOptions(today=TODAY))
    assert "signatures: 1 reformatted" in result.export.source and not result.warnings
    broken = tmp_path / "broken"
    broken.mkdir()
    data = compact(SAMPLE).replace(
        b"<Address>Plaza Horno, 35</Address>", b"<Address>Plaza Horno, 36</Address>"
    )
    (broken / "a.xml").write_bytes(data)
    result = load_export(broken, LoadOptions(today=TODAY))
    assert "signatures: 1 broken" in result.export.source
    (warning,) = result.warnings
    assert warning.file == "a.xml" and warning.location == "/fe:Facturae/ds:Signature"
    assert "signature is broken" in warning.message


def test_unsigned_files_say_nothing_about_signatures(tmp_path: Path) -> None:
    unsigned = re.sub(rb"<ds:Signature.*</ds:Signature>", b"", SAMPLE.read_bytes(), flags=re.S)
    result = load(tmp_path, "u.xml", unsigned.decode())
    assert "signature" not in result.export.source
