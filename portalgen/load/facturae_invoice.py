"""One Facturae ``Invoice`` element → an invoice, its receipts, checked to the cent.

See portalgen.load.facturae for the file around it and docs/readers.md for the mapping.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from portalgen.domain.identifiers import format_iban, iban_problem
from portalgen.domain.model import Invoice, Line, Money, Payment, PaymentMethod, Totals, round_money
from portalgen.load import fields as f
from portalgen.load.einvoice import adjustment_line, plain, priced_line, rate_key, sum_of
from portalgen.load.facturae_totals import CENT, Tax, check_breakdown, check_totals
from portalgen.load.options import LoadOptions
from portalgen.load.xmlsafe import Element, XmlFile

# TaxTypeCode values read as the invoice's VAT-like tax; others cannot be shown correctly.
OUTPUT_TAXES = {"01": "IVA", "02": "IPSI", "03": "IGIC"}
WITHHELD_TAXES = {"04": "IRPF"}
PAYMENT_MEANS: dict[str, PaymentMethod] = {
    "01": "cash",
    "02": "direct_debit",
    "04": "transfer",
    "11": "cheque",
    "16": "cheque",
    "19": "card",
}
CORRECTIVE_CLASSES = {"OR", "OC", "CR", "CC"}
# Facturae's UnitOfMeasure codes as UN/ECE Rec. 20/21 codes, which the portal shows in
# words (05 "other" shows no unit; 27 six-packs has no code and stays as it is).
FACTURAE_UNITS = {
    "01": "C62",
    "02": "HUR",
    "03": "KGM",
    "04": "LTR",
    "05": "",
    "06": "XBX",
    "07": "XDS",
    "08": "XBA",
    "09": "XJY",
    "10": "XBG",
    "11": "XCO",
    "12": "XBO",
    "13": "XCI",
    "14": "XCT",
    "15": "CLT",
    "16": "CMT",
    "17": "XBI",
    "18": "DZN",
    "19": "XCS",
    "20": "XDJ",
    "21": "GRM",
    "22": "KMT",
    "23": "XCA",
    "24": "XBH",
    "25": "MTR",
    "26": "MMT",
    "28": "XPK",
    "29": "PTN",
    "30": "XRO",
    "31": "XEN",
    "32": "XTB",
    "33": "MTQ",
    "34": "SEC",
    "35": "WTT",
    "36": "KWH",
}
# SpecialTaxableEventCode → UNCL 5305 VAT category: 01 "sujeta y exenta", 02 "no sujeta".
SPECIAL_TAXABLE_EVENTS = {"01": "E", "02": "O"}


@dataclass(frozen=True)
class InvoiceParts:
    invoice: Invoice
    payments: tuple[Payment, ...]
    language: str


def read_invoice(
    xf: XmlFile, el: Element, customer: str, options: LoadOptions
) -> InvoiceParts | None:
    before = len(xf.log.errors)
    header = xf.require(el, "InvoiceHeader")
    issue = xf.require(el, "InvoiceIssueData")
    if header is None or issue is None:
        return None
    series = xf.text(header, "InvoiceSeriesCode")
    raw_number = xf.text(header, "InvoiceNumber", required=True, what="the invoice number")
    number = raw_number if not series or raw_number.startswith(series) else series + raw_number
    issue_date = xf.date(issue, "IssueDate", required=True)
    currency = xf.parse(issue, "InvoiceCurrencyCode", f.currency, required=True) or ""
    outputs = _taxes(xf, el, "TaxesOutputs", OUTPUT_TAXES, required=True)
    withheld = _taxes(xf, el, "TaxesWithheld", WITHHELD_TAXES, required=False)
    withheld_rates = {t.rate for t in withheld}
    lines = _lines(xf, el, withheld_rates)
    adjustments = _general_adjustments(xf, el, lines, outputs)
    all_lines = (*lines, *adjustments)
    totals = check_totals(xf, el, lines, outputs, withheld, currency)
    if len(xf.log.errors) != before or totals is None or issue_date is None:
        return None
    check_breakdown(xf, all_lines, outputs, withheld, currency)
    corrects = _corrects(xf, header)
    payments, method, terms = _instalments(xf, el, number, customer, currency, totals)
    payments = (*_prepaid(xf, el, number, customer, currency, issue_date), *payments)
    if len(xf.log.errors) != before:
        return None
    invoice = Invoice(
        number=number,
        customer_code=customer,
        issue_date=issue_date,
        currency=currency,
        lines=all_lines,
        totals=totals,
        series=series,
        reference=xf.text(issue, "ReceiverTransactionReference") or xf.text(issue, "FileReference"),
        notes=_notes(xf, el, header, issue),
        corrects=corrects,
        corrective=xf.text(header, "InvoiceClass") in CORRECTIVE_CLASSES,
        payment_terms=terms,
        payment_method=method,
        origin=xf.origin(el, FIELDS),
    )
    language = xf.text(issue, "LanguageName").lower()[:2]
    return InvoiceParts(invoice, payments, language)


def _prepaid(
    xf: XmlFile, el: Element, number: str, customer: str, currency: str, issued: date
) -> tuple[Payment, ...]:
    """TotalPaymentsOnAccount as a receipt paid on the issue date (nothing if zero)."""
    prepaid = xf.decimal(el, "InvoiceTotals/TotalPaymentsOnAccount") or Decimal(0)
    if not prepaid:
        return ()
    return (
        Payment(
            number=f"{number}-prepaid",
            invoice=number,
            customer_code=customer,
            amount=Money(prepaid, currency),
            due_date=issued,
            paid_date=issued,
            origin=xf.origin(xf.find(el, "InvoiceTotals/TotalPaymentsOnAccount")),
        ),
    )


def _notes(xf: XmlFile, el: Element, header: Element, issue: Element) -> str:
    """The texts a customer should read with the invoice, one per line."""
    notes = [
        xf.text(header, "Corrective/ReasonDescription"),
        xf.text(header, "Corrective/CorrectionMethodDescription"),
        xf.text(issue, "InvoiceDescription"),
        xf.text(el, "AdditionalData/InvoiceAdditionalInformation"),
        *(xf.text(ref, ".") for ref in xf.findall(el, "LegalLiterals/LegalReference")),
    ]
    return "\n".join(n for n in notes if n)


def _taxes(
    xf: XmlFile, el: Element, section: str, known: dict[str, str], *, required: bool
) -> list[Tax]:
    found = xf.findall(el, f"{section}/Tax")
    if required and not found:
        xf.error(el, "expected at least one tax", child=f"{section}/Tax")
    taxes = []
    for tax in found:
        code = xf.text(tax, "TaxTypeCode", required=True)
        if code and code not in known:
            listed = ", ".join(f"{k} ({v})" for k, v in known.items())
            xf.error(tax, f"expected TaxTypeCode {listed}, found {code!r}", child="TaxTypeCode")
        rate = xf.decimal(tax, "TaxRate", required=True)
        base = xf.decimal(tax, "TaxableBase/TotalAmount", required=True)
        amount = xf.decimal(tax, "TaxAmount/TotalAmount")
        surcharge_rate = xf.decimal(tax, "EquivalenceSurcharge") or Decimal(0)
        surcharge = xf.decimal(tax, "EquivalenceSurchargeAmount/TotalAmount") or Decimal(0)
        if rate is None or base is None:
            continue
        if amount is None:
            amount = round_money(base * rate / 100)
        taxes.append(Tax(rate_key(rate), base, amount, rate_key(surcharge_rate), surcharge, tax))
    return taxes


def _line_rates(xf: XmlFile, line: Element) -> tuple[Decimal, Decimal] | None:
    taxes = xf.findall(line, "TaxesOutputs/Tax")
    if not taxes:
        xf.error(line, "expected the line's tax", child="TaxesOutputs/Tax")
        return None
    if len(taxes) > 1:
        xf.error(line, "expected one output tax per line, found several", child="TaxesOutputs")
        return None
    rate = xf.decimal(taxes[0], "TaxRate", required=True)
    surcharge = xf.decimal(taxes[0], "EquivalenceSurcharge") or Decimal(0)
    return (rate_key(rate), rate_key(surcharge)) if rate is not None else None


def _lines(xf: XmlFile, el: Element, withheld_rates: set[Decimal]) -> tuple[Line, ...]:
    elements = xf.findall(el, "Items/InvoiceLine")
    if not elements:
        xf.error(el, "expected at least one line", child="Items/InvoiceLine")
    default_withholding = next(iter(withheld_rates)) if len(withheld_rates) == 1 else Decimal(0)
    lines = (_line(xf, line, default_withholding) for line in elements)
    return tuple(line for line in lines if line is not None)


def _line(xf: XmlFile, line: Element, default_withholding: Decimal) -> Line | None:
    """One InvoiceLine, its amounts checked; None (with the error reported) if unusable."""
    description = xf.text(line, "ItemDescription", required=True)
    quantity = xf.decimal(line, "Quantity", required=True)
    price = xf.decimal(line, "UnitPriceWithoutTax", required=True)
    cost = xf.decimal(line, "TotalCost", required=True)
    gross = xf.decimal(line, "GrossAmount", required=True)
    adjusted = _adjusted_cost(xf, line, cost)
    rates = _line_rates(xf, line)
    withholding = xf.decimal(line, "TaxesWithheld/Tax/TaxRate")
    if quantity is None or price is None or cost is None or gross is None:
        return None
    if rates is None or not description or adjusted is None:
        return None
    if abs(quantity * price - cost) >= CENT:
        message = (
            f"expected {plain(quantity * price)} (Quantity × UnitPriceWithoutTax), found {cost}"
        )
        xf.error(line, message, child="TotalCost")
        return None
    if abs(adjusted - gross) >= CENT:
        message = f"expected {plain(adjusted)} (TotalCost − discounts + charges), found {gross}"
        xf.error(line, message, child="GrossAmount")
        return None
    unit = xf.text(line, "UnitOfMeasure")
    made = priced_line(
        description=description,
        quantity=quantity,
        unit_price=price,
        net=round_money(gross),
        tax_rate=rates[0],
        surcharge_rate=rates[1],
        withholding_rate=rate_key(withholding) if withholding is not None else default_withholding,
        unit=FACTURAE_UNITS.get(unit, unit),
        reference=xf.text(line, "ArticleCode"),
        origin=xf.origin(line, LINE_FIELDS),
    )
    if made is not None:
        made = _with_special_event(xf, line, made)
    if made is None:
        xf.error(line, "the line amount cannot follow from a zero price", child="GrossAmount")
    return made


def _adjusted_cost(xf: XmlFile, line: Element, cost: Decimal | None) -> Decimal | None:
    """TotalCost − the line's discounts + its charges (each amount required)."""
    discounts = [
        xf.decimal(d, "DiscountAmount", required=True)
        for d in xf.findall(line, "DiscountsAndRebates/Discount")
    ]
    charges = [
        xf.decimal(c, "ChargeAmount", required=True) for c in xf.findall(line, "Charges/Charge")
    ]
    if cost is None:
        return None
    return cost - sum_of(discounts) + sum_of(charges)


def _with_special_event(xf: XmlFile, element: Element, line: Line) -> Line:
    """The line's SpecialTaxableEvent: why it bears no tax (01 exempt, 02 not subject).

    The codes become the UNCL 5305 categories the portal names (E, O), the reason is kept
    as the invoice words it; a line at 0 % that does not say why is a warning.
    """
    event = xf.find(element, "SpecialTaxableEvent")
    if event is None:
        if line.tax_rate == 0:
            xf.warning(
                element,
                "the line bears no tax and does not say why; the portal shows it without "
                "an exemption reason",
                child="SpecialTaxableEvent",
            )
        return line
    code = xf.text(event, "SpecialTaxableEventCode")
    category = SPECIAL_TAXABLE_EVENTS.get(code)
    if category is None:
        xf.warning(
            event,
            f"expected SpecialTaxableEventCode 01 or 02, found {code!r}",
            child="SpecialTaxableEventCode",
        )
    return replace(
        line,
        tax_category=category or "",
        tax_exemption=xf.text(event, "SpecialTaxableEventReason"),
    )


def _general_adjustments(
    xf: XmlFile, el: Element, lines: tuple[Line, ...], outputs: list[Tax]
) -> tuple[Line, ...]:
    """General discounts and charges as one line per tax rate.

    Facturae states them for the whole invoice; the taxable base it declares per rate
    tells how they spread over the rates, so each rate gets the difference between its
    declared base and its lines.
    """
    discount_total = xf.decimal(el, "InvoiceTotals/TotalGeneralDiscounts") or Decimal(0)
    charge_total = xf.decimal(el, "InvoiceTotals/TotalGeneralSurcharges") or Decimal(0)
    if not discount_total and not charge_total:
        return ()
    discounts = xf.findall(el, "InvoiceTotals/GeneralDiscounts/Discount")
    charges = xf.findall(el, "InvoiceTotals/GeneralSurcharges/Charge")
    reasons = [xf.text(d, "DiscountReason") for d in discounts]
    reasons += [xf.text(c, "ChargeReason") for c in charges]
    description = "; ".join(r for r in reasons if r) or "General discount / charge"
    declared: dict[Decimal, Decimal] = defaultdict(Decimal)
    for tax in outputs:
        declared[tax.rate] += tax.base
    from_lines: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in lines:
        from_lines[line.tax_rate] += line.net
    origin = xf.origin(el)
    adjustments = tuple(
        adjustment_line(description, declared[rate] - from_lines[rate], rate, "GENERAL", origin)
        for rate in sorted(set(declared) | set(from_lines))
        if declared[rate] != from_lines[rate]
    )
    total = sum_of(a.unit_price for a in adjustments)
    if total != charge_total - discount_total:
        xf.error(
            el,
            f"expected the taxable bases of TaxesOutputs to differ from the lines by "
            f"{plain(charge_total - discount_total)} (TotalGeneralSurcharges − "
            f"TotalGeneralDiscounts), found {plain(total)}",
            child="TaxesOutputs",
        )
    return adjustments


def _corrects(xf: XmlFile, header: Element) -> str:
    corrective = xf.find(header, "Corrective")
    invoice_class = xf.text(header, "InvoiceClass")
    if corrective is None:
        if invoice_class in CORRECTIVE_CLASSES:
            xf.warning(
                header,
                f"a corrective invoice (class {invoice_class}) without Corrective data",
                child="Corrective",
            )
        return ""
    series = xf.text(corrective, "InvoiceSeriesCode")
    number = xf.text(corrective, "InvoiceNumber", required=True)
    return number if not series or number.startswith(series) else series + number


def _instalments(
    xf: XmlFile,
    el: Element,
    number: str,
    customer: str,
    currency: str,
    totals: Totals,
) -> tuple[tuple[Payment, ...], PaymentMethod, str]:
    payments = []
    terms: list[str] = []
    method: PaymentMethod = ""
    instalments = xf.findall(el, "PaymentDetails/Installment")
    for index, inst in enumerate(instalments, start=1):
        due = xf.date(inst, "InstallmentDueDate", required=True)
        amount = xf.decimal(inst, "InstallmentAmount", required=True)
        means = xf.text(inst, "PaymentMeans", required=True)
        iban = xf.text(inst, "AccountToBeCredited/IBAN")
        if iban and (problem := iban_problem(iban)):
            xf.error(inst, problem, child="AccountToBeCredited/IBAN")
        if index == 1:
            method = PAYMENT_MEANS.get(means, "other") if means else ""
            terms = [
                xf.text(inst, "CollectionAdditionalInformation"),
                f"IBAN {format_iban(iban)}" if iban and not iban_problem(iban) else "",
                f"Ref. {ref}" if (ref := xf.text(inst, "PaymentReconciliationReference")) else "",
            ]
        if due is None or amount is None:
            continue
        payments.append(
            Payment(
                number=f"{number}-{index}",
                invoice=number,
                customer_code=customer,
                amount=Money(amount, currency),
                due_date=due,
                method=PAYMENT_MEANS.get(means, "other") if means else "",
                origin=xf.origin(
                    inst, {"amount": "InstallmentAmount", "due_date": "InstallmentDueDate"}
                ),
            )
        )
    executable = xf.decimal(el, "InvoiceTotals/TotalExecutableAmount")
    if payments and executable is not None:
        scheduled = sum_of(p.amount.amount for p in payments)
        if scheduled != executable:
            xf.error(
                el,
                f"expected the instalments to add up to the TotalExecutableAmount "
                f"{plain(executable)}, found {plain(scheduled)}",
                child="PaymentDetails",
            )
    return tuple(payments), method, " · ".join(t for t in terms if t)


FIELDS = {
    "number": "InvoiceHeader/InvoiceNumber",
    "customer": "BuyerParty",
    "issue_date": "InvoiceIssueData/IssueDate",
    "currency": "InvoiceIssueData/InvoiceCurrencyCode",
    "corrects": "InvoiceHeader/Corrective/InvoiceNumber",
    "base": "InvoiceTotals/TotalGrossAmountBeforeTaxes",
    "tax": "InvoiceTotals/TotalTaxOutputs",
    "surcharge": "TaxesOutputs/Tax/EquivalenceSurchargeAmount",
    "withholding": "InvoiceTotals/TotalTaxesWithheld",
    "total": "InvoiceTotals/InvoiceTotal",
}
LINE_FIELDS = {
    "quantity": "Quantity",
    "unit_price": "UnitPriceWithoutTax",
    "tax_rate": "TaxesOutputs/Tax/TaxRate",
}
