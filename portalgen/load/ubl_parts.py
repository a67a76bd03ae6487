"""UBL parties, payment terms and the embedded original PDF (see portalgen.load.ubl)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from portalgen.domain.identifiers import format_iban
from portalgen.domain.model import Address, Customer, Line, PaymentMethod
from portalgen.load import fields as f
from portalgen.load.einvoice import rate_key, store_original_pdf, tax_key
from portalgen.load.xmlsafe import Element, XmlFile

# UNCL 4461 payment means codes.
PAYMENT_MEANS: dict[str, PaymentMethod] = {
    "10": "cash",
    "20": "cheque",
    "30": "transfer",
    "31": "transfer",
    "42": "transfer",
    "58": "transfer",
    "48": "card",
    "54": "card",
    "55": "card",
    "49": "direct_debit",
    "59": "direct_debit",
}
MAX_PDF_BYTES = 20 * 1024 * 1024

# VAT categories whose breakdown must say why no VAT is charged (EN 16931 BR-E-10 etc.).
NEEDS_REASON = {"E", "AE", "K", "G", "O"}


def read_customer(xf: XmlFile, root: Element) -> Customer | None:
    """The buyer (AccountingCustomerParty) as a customer coded by its tax id."""
    party = xf.require(root, "cac:AccountingCustomerParty/cac:Party", "the buyer")
    if party is None:
        return None
    tax_id = party_tax_id(xf, party)
    if not tax_id:
        xf.error(
            party,
            "expected the buyer's tax id in cac:PartyTaxScheme/cbc:CompanyID, "
            "cac:PartyLegalEntity/cbc:CompanyID or cbc:EndpointID; the customer "
            "cannot be identified without it",
        )
    legal = xf.text(party, "cac:PartyLegalEntity/cbc:RegistrationName")
    trade = xf.text(party, "cac:PartyName/cbc:Name")
    if not (legal or trade):
        xf.error(
            party,
            "expected the buyer's name",
            child="cac:PartyLegalEntity/cbc:RegistrationName",
        )
    address = _buyer_address(xf, party)
    emails = _buyer_emails(xf, party)
    if not tax_id or not (legal or trade):
        return None
    return Customer(
        code=tax_key(tax_id),
        name=legal or trade,
        trade_name=trade if trade and trade != legal else "",
        tax_id=tax_id,
        emails=emails,
        address=address,
        phone=xf.text(party, "cac:Contact/cbc:Telephone"),
        iban=xf.text(root, "cac:PaymentMeans/cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID"),
        origin=xf.origin(party, CUSTOMER_FIELDS),
    )


def _buyer_address(xf: XmlFile, party: Element) -> Address:
    postal = xf.find(party, "cac:PostalAddress")
    country = ""
    if postal is not None:
        country = xf.parse(postal, "cac:Country/cbc:IdentificationCode", f.country) or ""
    lines = (
        xf.text(party, f"cac:PostalAddress/cbc:{n}") for n in ("StreetName", "AdditionalStreetName")
    )
    return Address(
        street=" ".join(filter(None, lines)),
        postal_code=xf.text(party, "cac:PostalAddress/cbc:PostalZone"),
        city=xf.text(party, "cac:PostalAddress/cbc:CityName"),
        province=xf.text(party, "cac:PostalAddress/cbc:CountrySubentity"),
        country=country or "ES",
    )


def _buyer_emails(xf: XmlFile, party: Element) -> tuple[str, ...]:
    """The buyer's contact and e-mail endpoint; an invalid one is reported and left out."""
    emails = []
    for path in ("cac:Contact/cbc:ElectronicMail", "cbc:EndpointID[@schemeID='EM']"):
        raw = xf.text(party, path)
        if raw:
            try:
                emails.append(f.email(raw))
            except f.FieldError as exc:
                xf.warning(party, f"{exc}; the address is not used", child=path)
    return tuple(dict.fromkeys(emails))


def check_supplier(xf: XmlFile, root: Element, company: str) -> None:
    """The seller must be the configured company, when one is configured."""
    party = xf.require(root, "cac:AccountingSupplierParty/cac:Party", "the seller")
    if party is None or not company:
        return
    tax_id = party_tax_id(xf, party)
    if tax_id and tax_key(tax_id) != tax_key(company):
        xf.error(
            party,
            f"the seller's tax id is {tax_id!r}, not the company's ({company!r} in the "
            "configuration); is this a purchase invoice?",
        )


def party_tax_id(xf: XmlFile, party: Element) -> str:
    schemes = xf.findall(party, "cac:PartyTaxScheme")
    schemes.sort(key=lambda s: xf.text(s, "cac:TaxScheme/cbc:ID") != "VAT")
    for scheme in schemes:
        if value := xf.text(scheme, "cbc:CompanyID"):
            return value
    for path in ("cac:PartyLegalEntity/cbc:CompanyID", "cac:PartyIdentification/cbc:ID"):
        if value := xf.text(party, path):
            return value
    endpoint = xf.find(party, "cbc:EndpointID")
    if endpoint is not None and endpoint.get("schemeID") != "EM":
        return (endpoint.text or "").strip()
    return ""


def payment_terms(xf: XmlFile, root: Element) -> tuple[PaymentMethod, str]:
    """The payment method and the terms shown with the invoice (note · IBAN · reference)."""
    means = xf.find(root, "cac:PaymentMeans")
    method: PaymentMethod = ""
    parts = [xf.text(root, "cac:PaymentTerms/cbc:Note")]
    if means is not None:
        code = xf.text(means, "cbc:PaymentMeansCode")
        method = PAYMENT_MEANS.get(code, "other") if code else ""
        iban = xf.text(means, "cac:PayeeFinancialAccount/cbc:ID")
        if iban:
            parts.append(f"IBAN {format_iban(iban)}")
        reference = xf.text(means, "cbc:PaymentID")
        if reference:
            parts.append(f"Ref. {reference}")
    return method, " · ".join(p for p in parts if p)


def original_pdf(xf: XmlFile, root: Element, number: str, cache_dir: Path | None) -> Path | None:
    """The embedded PDF that is this invoice: the one named by its number, else the first."""
    candidates: list[tuple[bool, int, Element]] = []
    for ref in xf.findall(root, "cac:AdditionalDocumentReference"):
        blob = xf.find(ref, "cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
        if blob is None or (blob.get("mimeCode") or "").lower() != "application/pdf":
            continue
        named = number in (xf.text(ref, "cbc:ID"), blob.get("filename", ""))
        candidates.append((not named, len(candidates), blob))
    if not candidates:
        return None
    blob = min(candidates, key=lambda c: (c[0], c[1]))[2]
    data = _decode_pdf(xf, blob)
    return store_original_pdf(data, cache_dir) if data else None


def _decode_pdf(xf: XmlFile, blob: Element) -> bytes | None:
    raw = re.sub(r"\s+", "", blob.text or "")
    if len(raw) > MAX_PDF_BYTES * 4 // 3 + 4:
        xf.error(blob, f"the embedded PDF is larger than {MAX_PDF_BYTES // (1024 * 1024)} MB")
        return None
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        xf.error(blob, "expected the PDF in base64, found text that is not base64")
        return None
    if not data.startswith(b"%PDF-"):
        xf.error(blob, "expected a PDF file (starting with %PDF-), found other content")
        return None
    return data


CUSTOMER_FIELDS = {
    "code": "cac:PartyTaxScheme/cbc:CompanyID",
    "tax_id": "cac:PartyTaxScheme/cbc:CompanyID",
    "name": "cac:PartyLegalEntity/cbc:RegistrationName",
    "iban": "cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID",
}


def with_exemptions(
    xf: XmlFile, tax_total: Element | None, lines: tuple[Line, ...]
) -> tuple[Line, ...]:
    """Each line with the exemption reason (BT-120, else BT-121) of its VAT breakdown.

    EN 16931 states the reason once per VAT category (cac:TaxSubtotal); the lines of
    that category and rate carry it, so the portal's breakdown row shows it.
    """
    reasons: dict[tuple[Decimal, str], str] = {}
    for sub in xf.findall(tax_total, "cac:TaxSubtotal") if tax_total is not None else ():
        category = xf.find(sub, "cac:TaxCategory")
        if category is None:
            continue
        rate = rate_key(xf.decimal(category, "cbc:Percent") or Decimal(0))
        code = xf.text(category, "cbc:ID").upper()
        reason = (
            xf.text(category, "cbc:TaxExemptionReason")
            or xf.text(category, "cbc:TaxExemptionReasonCode").upper()
        )
        if reason:
            reasons[rate, code] = reason
        elif code in NEEDS_REASON:
            xf.warning(
                category,
                f"VAT category {code} should state its exemption reason; the portal "
                "shows the category's name as the reason",
                child="cbc:TaxExemptionReason",
            )
    return tuple(
        replace(line, tax_exemption=reasons.get((line.tax_rate, line.tax_category), ""))
        for line in lines
    )


def attribute_of(element: Element | None, name: str) -> str:
    """An attribute's trimmed value ("" when the element or the attribute is absent)."""
    return "" if element is None else str(element.get(name) or "").strip()
