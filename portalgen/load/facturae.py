"""Facturae 3.2, 3.2.1 and 3.2.2 files (the Spanish public-sector e-invoice).

A file or a folder of ``*.xml`` files; a batch file (Modality ``L``) gives several
invoices. Only the root element is namespaced (files that namespace every element are
accepted too). docs/readers.md has the full mapping. In short: the BuyerParty becomes a
customer coded by its tax id; each Invoice becomes an invoice whose lines, taxes output
(IVA, IGIC or IPSI, with the equivalence surcharge), taxes withheld (IRPF), general
discounts and charges (as lines of their own, one per tax rate) and totals are checked
against each other; instalments become receipts with their due dates; a corrective
invoice links to the invoice it corrects. A XAdES signature is checked when present
(portalgen.load.signature) and reported in the source description.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import Decimal
from pathlib import Path

from portalgen.domain.identifiers import format_iban, iban_problem
from portalgen.domain.model import Address, Customer, Export
from portalgen.load import fields as f
from portalgen.load.einvoice import (
    country_alpha2,
    tax_key,
    xml_files,
)
from portalgen.load.einvoice_files import (
    EinvoiceFormat,
    FileInvoices,
    export_of,
    read_einvoice_files,
)
from portalgen.load.facturae_invoice import read_invoice
from portalgen.load.options import LoadOptions
from portalgen.load.problems import ProblemLog
from portalgen.load.signature import SignatureCheck, check_signature
from portalgen.load.xmlsafe import Element, XmlFile, local_name, namespace
from portalgen.load.xmlsafe import sniff_root as _sniff
from portalgen.presentation.languages import is_offered

NAMESPACES = {
    "http://www.facturae.es/Facturae/2009/v3.2/Facturae": "3.2",
    "http://www.facturae.es/Facturae/2014/v3.2.1/Facturae": "3.2.1",
    "http://www.facturae.gob.es/formato/Versiones/Facturaev3_2_2.xml": "3.2.2",
}
DS = "http://www.w3.org/2000/09/xmldsig#"


class FacturaeReader:
    """Reads Facturae 3.2.x files. See docs/readers.md."""

    name = "facturae"
    issued_documents = True  # sent documents: see portalgen.load.combine

    def detect(self, path: Path) -> bool:
        files = xml_files(path) if path.exists() else []
        for file in files[:50]:
            sniffed = _sniff(file)
            if sniffed and sniffed[0] in NAMESPACES and sniffed[1] == "Facturae":
                return True
        return False

    def read(self, path: Path, options: LoadOptions, log: ProblemLog) -> Export:
        fmt = EinvoiceFormat(
            what="Facturae",
            expected="a Facturae 3.2, 3.2.1 or 3.2.2 file (root element Facturae in "
            f"namespace {' or '.join(NAMESPACES)})",
            accepts=lambda root: local_name(root) == "Facturae" and namespace(root) in NAMESPACES,
            read=lambda data, root, name: _read_file(data, root, name, options, log),
        )
        results, files = read_einvoice_files(path, fmt, log)
        invoices = sum(len(r.invoices) for r in results)
        signatures = Counter(r.note for r in results)
        return export_of(results, f"Facturae in {path} ({_describe(invoices, files, signatures)})")


def _describe(invoices: int, files: int, signatures: Counter[str]) -> str:
    text = f"{invoices} invoice{'s' * (invoices != 1)} in {files} file{'s' * (files != 1)}"
    signed = {k: v for k, v in signatures.items() if k != "unsigned"}
    if signed:
        text += "; signatures: " + ", ".join(f"{v} {k}" for k, v in sorted(signed.items()))
    return text


def _read_file(
    data: bytes, root: Element, name: str, options: LoadOptions, log: ProblemLog
) -> FileInvoices | None:
    ns = namespace(root)
    signature = check_signature(data, root)
    for element in root.iterdescendants():  # files that namespace every element
        if isinstance(element.tag, str) and namespace(element) == ns:
            element.tag = local_name(element)
    xf = XmlFile(name, root, {ns: "fe", DS: "ds"}, log)
    result = _read_facturae(xf, NAMESPACES[ns], signature, options)
    if signature.status == "broken":
        xf.warning(root, f"the XAdES signature is broken: {signature.detail}", child="ds:Signature")
    return result


def _read_facturae(
    xf: XmlFile, version: str, signature: SignatureCheck, options: LoadOptions
) -> FileInvoices | None:
    root = xf.root
    header = xf.require(root, "FileHeader")
    declared = xf.text(root, "FileHeader/SchemaVersion", required=True)
    if declared and declared != version:
        xf.warning(
            root,
            f"expected SchemaVersion {version} (the namespace's version), found {declared}",
            child="FileHeader/SchemaVersion",
        )
    _check_seller(xf, options)
    customer = _buyer(xf)
    elements = xf.findall(root, "Invoices/Invoice")
    if not elements:
        xf.error(root, "expected at least one invoice", child="Invoices/Invoice")
    language = ""
    results = []
    for element in elements:
        parts = read_invoice(xf, element, customer.code if customer else "", options)
        if parts is not None:
            results.append(parts)
            language = language or parts.language
    if header is not None:
        _check_batch(xf, header, elements)
    if customer is None:
        return None
    if is_offered(language) and not customer.language:
        customer = dataclasses.replace(customer, language=language)
    pairs = tuple((parts.invoice, parts.payments) for parts in results)
    return FileInvoices(customer, pairs, note=signature.status)


def _check_seller(xf: XmlFile, options: LoadOptions) -> None:
    seller = xf.require(xf.root, "Parties/SellerParty", "the seller")
    if seller is None:
        return
    tax_id = xf.text(seller, "TaxIdentification/TaxIdentificationNumber", required=True)
    company = options.company_tax_id
    if company and tax_id and tax_key(tax_id) != tax_key(company):
        xf.error(
            seller,
            f"the seller's tax id is {tax_id!r}, not the company's ({company!r} in the "
            "configuration); is this a purchase invoice?",
            child="TaxIdentification/TaxIdentificationNumber",
        )


def _buyer(xf: XmlFile) -> Customer | None:
    buyer = xf.require(xf.root, "Parties/BuyerParty", "the buyer")
    if buyer is None:
        return None
    tax_id = xf.text(buyer, "TaxIdentification/TaxIdentificationNumber", required=True)
    entity = xf.find(buyer, "LegalEntity")
    person = xf.find(buyer, "Individual")
    holder = entity if entity is not None else person
    if holder is None:
        xf.error(buyer, "expected LegalEntity or Individual", child="LegalEntity")
        return None
    if entity is not None:
        name = xf.text(entity, "CorporateName", required=True)
        trade = xf.text(entity, "TradeName")
    else:
        parts = (
            xf.text(person, p, required=p != "SecondSurname")
            for p in ("Name", "FirstSurname", "SecondSurname")
        )
        name, trade = " ".join(p for p in parts if p), ""
    address = _address(xf, holder)
    emails = []
    raw = xf.text(holder, "ContactDetails/ElectronicMail")
    if raw:
        try:
            emails.append(f.email(raw))
        except f.FieldError as exc:
            xf.warning(
                holder, f"{exc}; the address is not used", child="ContactDetails/ElectronicMail"
            )
    iban = _debited_iban(xf)
    if not tax_id or not name or address is None:
        return None
    return Customer(
        code=tax_key(tax_id),
        name=name,
        trade_name=trade if trade != name else "",
        tax_id=tax_id,
        emails=tuple(emails),
        address=address,
        phone=xf.text(holder, "ContactDetails/Telephone"),
        iban=iban,
        origin=xf.origin(buyer, CUSTOMER_FIELDS),
    )


def _address(xf: XmlFile, holder: Element) -> Address | None:
    spain = xf.find(holder, "AddressInSpain")
    if spain is not None:
        return Address(
            street=xf.text(spain, "Address"),
            postal_code=xf.text(spain, "PostCode"),
            city=xf.text(spain, "Town"),
            province=xf.text(spain, "Province"),
            country="ES",
        )
    overseas = xf.find(holder, "OverseasAddress")
    if overseas is None:
        xf.error(holder, "expected AddressInSpain or OverseasAddress", child="AddressInSpain")
        return None
    code = xf.text(overseas, "CountryCode", required=True)
    country = country_alpha2(code) if code else None
    if code and country is None:
        xf.error(
            overseas,
            f"expected an ISO 3166 country code like FRA, found {code!r}",
            child="CountryCode",
        )
        return None
    return Address(
        street=xf.text(overseas, "Address"),
        city=xf.text(overseas, "PostCodeAndTown"),
        province=xf.text(overseas, "Province"),
        country=country or "ES",
    )


def _debited_iban(xf: XmlFile) -> str:
    """The buyer's account for direct debits, from the first instalment that names one."""
    for account in xf.findall(
        xf.root, "Invoices/Invoice/PaymentDetails/Installment/AccountToBeDebited"
    ):
        iban = xf.text(account, "IBAN")
        if iban:
            if problem := iban_problem(iban):
                xf.error(account, problem, child="IBAN")
                return ""
            return format_iban(iban)
    return ""


def _check_batch(xf: XmlFile, header: Element, invoices: list[Element]) -> None:
    batch = xf.require(header, "Batch")
    if batch is None:
        return
    count = xf.parse(batch, "InvoicesCount", f.integer, required=True)
    if count is not None and count != len(invoices):
        xf.error(
            batch,
            f"expected {len(invoices)} (the Invoice elements in the file), found {count}",
            child="InvoicesCount",
        )
    modality = xf.text(header, "Modality", required=True)
    if modality == "I" and len(invoices) > 1:
        xf.error(
            header,
            f"expected L (a batch) for a file of {len(invoices)} invoices, found I",
            child="Modality",
        )
    for path, total in (
        ("TotalInvoicesAmount", "InvoiceTotals/InvoiceTotal"),
        ("TotalOutstandingAmount", "InvoiceTotals/TotalOutstandingAmount"),
        ("TotalExecutableAmount", "InvoiceTotals/TotalExecutableAmount"),
    ):
        declared = xf.decimal(batch, f"{path}/TotalAmount", required=True)
        values = [xf.decimal(i, total) for i in invoices]
        if declared is None or None in values:
            continue
        expected = sum((v for v in values if v is not None), Decimal(0))
        if declared != expected:
            xf.error(
                batch,
                f"expected {expected} (the sum of the invoices' {total.split('/')[-1]}), "
                f"found {declared}",
                child=f"{path}/TotalAmount",
            )


CUSTOMER_FIELDS = {
    "code": "TaxIdentification/TaxIdentificationNumber",
    "tax_id": "TaxIdentification/TaxIdentificationNumber",
    "name": "LegalEntity/CorporateName",
    "iban": "AccountToBeDebited/IBAN",
}

__all__ = ["FacturaeReader"]
