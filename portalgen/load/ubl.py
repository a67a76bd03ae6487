"""UBL 2.1 Invoice and CreditNote files (Peppol BIS Billing 3.0, EN 16931).

A file or a folder of ``*.xml`` files, one document each. docs/readers.md has the full
mapping. In short: the buyer (``AccountingCustomerParty``) becomes a customer coded by
its tax id; each file becomes an invoice whose lines, document-level allowances and
charges (as lines of their own), tax subtotals and totals are checked against each other
to the cent; a prepaid amount becomes a paid receipt, so what is left to pay is exactly
the ``PayableAmount``; an embedded PDF becomes the invoice's original PDF. A CreditNote
becomes an invoice with negative amounts (quantities negated), linked to the invoice it
corrects. Peppol has no place for withholdings (IRPF): UBL invoices never carry one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from portalgen.domain.model import (
    Export,
    Invoice,
    Line,
    Money,
    Payment,
    Totals,
)
from portalgen.domain.totals import tax_breakdown
from portalgen.load import fields as f
from portalgen.load.einvoice import (
    adjustment_line,
    plain,
    priced_line,
    rate_key,
    sum_of,
    xml_files,
)
from portalgen.load.einvoice_files import (
    EinvoiceFormat,
    FileInvoices,
    export_of,
    read_einvoice_files,
)
from portalgen.load.options import LoadOptions
from portalgen.load.problems import ProblemLog
from portalgen.load.ubl_parts import (
    attribute_of,
    check_supplier,
    original_pdf,
    payment_terms,
    read_customer,
    with_exemptions,
)
from portalgen.load.xmlsafe import Element, XmlFile, local_name, namespace
from portalgen.load.xmlsafe import sniff_root as _sniff

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
ROOTS = {(INVOICE_NS, "Invoice"), (CREDIT_NOTE_NS, "CreditNote")}
PREFIXES = {INVOICE_NS: "", CREDIT_NOTE_NS: "", CAC: "cac", CBC: "cbc", EXT: "ext"}
CREDIT_TYPE_CODES = {"381", "396", "532"}
CORRECTIVE_TYPE_CODES = {"384"}  # UNTDID 1001 "corrected invoice"
# xs:boolean's lexical space (read case-insensitively, as before: some senders write TRUE).
XS_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}


class UblReader:
    """Reads UBL 2.1 invoices and credit notes. See docs/readers.md."""

    name = "ubl"
    issued_documents = True  # sent documents: see portalgen.load.combine

    def detect(self, path: Path) -> bool:
        files = xml_files(path) if path.exists() else []
        return any(_sniff(p) in ROOTS for p in files[:50])

    def read(self, path: Path, options: LoadOptions, log: ProblemLog) -> Export:
        def read_file(_data: bytes, root: Element, name: str) -> FileInvoices | None:
            return _UblDocument(XmlFile(name, root, PREFIXES, log), options).read()

        fmt = EinvoiceFormat(
            what="UBL invoice",
            expected=f"a UBL 2.1 Invoice ({INVOICE_NS}) or CreditNote ({CREDIT_NOTE_NS})",
            accepts=lambda root: (namespace(root), local_name(root)) in ROOTS,
            read=read_file,
        )
        results, files = read_einvoice_files(path, fmt, log)
        return export_of(results, f"UBL in {path} ({len(results)} of {files} files)")


@dataclass(frozen=True)
class _DeclaredTotals:
    """What cac:LegalMonetaryTotal and cac:TaxTotal declare (document currency, unsigned)."""

    line_extension: Decimal
    exclusive: Decimal
    inclusive: Decimal
    payable: Decimal
    tax: Decimal
    allowances: Decimal | None  # optional in EN 16931: checked only when given
    charges: Decimal | None
    prepaid: Decimal
    rounding: Decimal


class _UblDocument:
    def __init__(self, xf: XmlFile, options: LoadOptions) -> None:
        self.xf = xf
        self.root = xf.root
        self.options = options
        self.is_credit_note = local_name(self.root) == "CreditNote"
        self.sign = Decimal(1)
        self.currency = ""
        self._tax_element: Element | None = None  # the TaxTotal in the document currency

    # -- the pieces -------------------------------------------------------------------------

    def read(self) -> FileInvoices | None:
        xf, root = self.xf, self.root
        number = xf.text(root, "cbc:ID", required=True, what="the invoice number")
        issue_date = xf.date(root, "cbc:IssueDate", required=True)
        type_code = xf.text(
            root, "cbc:CreditNoteTypeCode" if self.is_credit_note else "cbc:InvoiceTypeCode"
        )
        credit_note = self.is_credit_note or type_code in CREDIT_TYPE_CODES
        if credit_note:
            self.sign = Decimal(-1)
        self.currency = xf.parse(root, "cbc:DocumentCurrencyCode", f.currency, required=True) or ""
        customer = read_customer(self.xf, self.root)
        check_supplier(self.xf, self.root, self.options.company_tax_id)
        lines = self._lines()
        if not self.currency:
            return None
        adjustments = self._allowances_and_charges()
        totals, prepaid = self._totals(lines, adjustments)
        if issue_date is None or customer is None or totals is None or not lines:
            return None
        all_lines = with_exemptions(self.xf, self._tax_element, (*lines, *adjustments))
        self._check_tax_subtotals(all_lines)
        method, terms = payment_terms(self.xf, self.root)
        invoice = Invoice(
            number=number,
            customer_code=customer.code,
            issue_date=issue_date,
            currency=self.currency,
            lines=all_lines,
            totals=totals,
            reference=xf.text(root, "cbc:BuyerReference")
            or xf.text(root, "cac:OrderReference/cbc:ID"),
            notes="\n".join(n.text.strip() for n in xf.findall(root, "cbc:Note") if n.text),
            original_pdf=original_pdf(self.xf, root, number, self.options.cache_dir),
            due_date=xf.date(root, "cbc:DueDate")
            or xf.date(root, "cac:PaymentMeans/cbc:PaymentDueDate"),
            corrects=xf.text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
            corrective=type_code in CORRECTIVE_TYPE_CODES,
            credit_note=credit_note,
            payment_terms=terms,
            payment_method=method,
            origin=xf.origin(root, FIELDS),
        )
        payments: tuple[Payment, ...] = ()
        if prepaid and self.sign > 0:
            payments = (
                Payment(
                    number=f"{number}-prepaid",
                    invoice=number,
                    customer_code=customer.code,
                    amount=Money(prepaid, self.currency),
                    due_date=issue_date,
                    paid_date=issue_date,
                    method=method,
                    origin=xf.origin(xf.find(root, "cac:LegalMonetaryTotal/cbc:PrepaidAmount")),
                ),
            )
        return FileInvoices(customer, ((invoice, payments),))

    def _amount(self, element: Element, path: str, *, required: bool = False) -> Decimal | None:
        found = self.xf.require(element, path) if required else self.xf.find(element, path)
        if found is None:
            return None
        value = self.xf.decimal(element, path, required=required)
        currency = found.get("currencyID")
        if value is not None and self.currency and currency != self.currency:
            self.xf.error(
                found,
                f'expected the amount in the document currency (currencyID="{self.currency}"), '
                f"found {'currencyID=' + repr(currency) if currency else 'no currencyID'}",
            )
        return value

    def _lines(self) -> tuple[Line, ...]:
        xf = self.xf
        tag = "cac:CreditNoteLine" if self.is_credit_note else "cac:InvoiceLine"
        elements = xf.findall(self.root, tag)
        if not elements:
            xf.error(self.root, "expected at least one line", child=tag)
        lines = []
        for element in elements:
            line = self._line(element)
            if line is not None:
                lines.append(line)
        return tuple(lines)

    def _line(self, el: Element) -> Line | None:
        xf = self.xf
        qty_tag = "cbc:CreditedQuantity" if self.is_credit_note else "cbc:InvoicedQuantity"
        quantity = xf.decimal(el, qty_tag, required=True)
        net = self._amount(el, "cbc:LineExtensionAmount", required=True)
        price = self._amount(el, "cac:Price/cbc:PriceAmount", required=True)
        base_quantity = xf.decimal(el, "cac:Price/cbc:BaseQuantity") or Decimal(1)
        name = xf.text(el, "cac:Item/cbc:Name", required=True, what="the item's name")
        rate = self._rate(el, "cac:Item/cac:ClassifiedTaxCategory")
        flags = [(a, self._is_charge(a)) for a in xf.findall(el, "cac:AllowanceCharge")]
        allowances = [self._amount(a, "cbc:Amount", required=True) for a, c in flags if c is False]
        charges = [self._amount(a, "cbc:Amount", required=True) for a, c in flags if c is True]
        if quantity is None or net is None or price is None or rate is None or not name:
            return None
        unit_price = price / base_quantity
        expected = quantity * unit_price - sum_of(allowances) + sum_of(charges)
        if abs(expected - net) >= Decimal("0.01"):
            xf.error(
                el,
                f"expected {plain(expected)} (quantity × price − allowances + charges), "
                f"found {plain(net)}",
                child="cbc:LineExtensionAmount",
            )
            return None
        description = xf.text(el, "cac:Item/cbc:Description")
        line = priced_line(
            description=f"{name}\n{description}" if description and description != name else name,
            quantity=quantity * self.sign,
            unit_price=unit_price,
            net=net * self.sign,
            tax_rate=rate,
            unit=attribute_of(xf.find(el, qty_tag), "unitCode"),
            reference=xf.text(el, "cac:Item/cac:SellersItemIdentification/cbc:ID"),
            tax_category=xf.text(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID").upper(),
            origin=xf.origin(el, LINE_FIELDS),
        )
        if line is None:
            xf.error(
                el,
                "the line amount cannot follow from a zero price",
                child="cbc:LineExtensionAmount",
            )
        return line

    def _is_charge(self, item: Element) -> bool | None:
        """The xs:boolean ChargeIndicator: ``true``/``1`` a charge, ``false``/``0`` an allowance."""
        indicator = self.xf.text(item, "cbc:ChargeIndicator", required=True).lower()
        if indicator in XS_BOOLEAN:
            return XS_BOOLEAN[indicator]
        if indicator:
            self.xf.error(
                item,
                f"expected true, false, 1 or 0, found {indicator!r}",
                child="cbc:ChargeIndicator",
            )
        return None

    def _rate(self, el: Element, path: str) -> Decimal | None:
        category = self.xf.find(el, path)
        if category is None:
            self.xf.error(el, "this mandatory element is missing (the VAT category)", child=path)
            return None
        percent = self.xf.decimal(category, "cbc:Percent")
        code = self.xf.text(category, "cbc:ID")
        if percent is None and code in ("S", "L", "M"):
            self.xf.error(
                category, f"expected the VAT rate of category {code}", child="cbc:Percent"
            )
            return None
        return rate_key(percent or Decimal(0))

    def _allowances_and_charges(self) -> tuple[Line, ...]:
        result = []
        for el in self.xf.findall(self.root, "cac:AllowanceCharge"):
            is_charge = self._is_charge(el)
            if is_charge is None:
                continue
            amount = self._amount(el, "cbc:Amount", required=True)
            rate = self._rate(el, "cac:TaxCategory")
            if amount is None or rate is None:
                continue
            reason = self.xf.text(el, "cbc:AllowanceChargeReason") or self.xf.text(
                el, "cbc:AllowanceChargeReasonCode"
            )
            line = adjustment_line(
                reason or ("Charge" if is_charge else "Allowance"),
                (amount if is_charge else -amount) * self.sign,
                rate,
                "CHARGE" if is_charge else "ALLOWANCE",
                self.xf.origin(el, LINE_FIELDS),
            )
            category = self.xf.text(el, "cac:TaxCategory/cbc:ID").upper()
            result.append(replace(line, tax_category=category))
        return tuple(result)

    def _totals(
        self, lines: tuple[Line, ...], adjustments: tuple[Line, ...]
    ) -> tuple[Totals | None, Decimal]:
        """The document totals as declared (None if missing or not what the lines and the
        document-level allowances and charges add up to), and the prepaid amount."""
        total = self.xf.require(self.root, "cac:LegalMonetaryTotal")
        if total is None:
            return None, Decimal(0)
        declared = self._declared_totals(total)
        if declared is None or not lines:
            return None, declared.prepaid if declared else Decimal(0)
        if not self._totals_add_up(total, declared, lines, adjustments):
            return None, declared.prepaid
        zero = Money.zero(self.currency)
        return Totals(
            self._money(declared.exclusive),
            self._money(declared.tax),
            zero,
            zero,
            self._money(declared.inclusive + declared.rounding),
            rounding=self._money(declared.rounding) if declared.rounding else None,
        ), declared.prepaid

    def _declared_totals(self, total: Element) -> _DeclaredTotals | None:
        """cac:LegalMonetaryTotal and the tax total; None when a mandatory one is missing
        (each missing one is reported)."""
        amount = functools.partial(self._amount, total)
        line_ext = amount("cbc:LineExtensionAmount", required=True)
        exclusive = amount("cbc:TaxExclusiveAmount", required=True)
        inclusive = amount("cbc:TaxInclusiveAmount", required=True)
        allowances, charges = amount("cbc:AllowanceTotalAmount"), amount("cbc:ChargeTotalAmount")
        prepaid = amount("cbc:PrepaidAmount") or Decimal(0)
        rounding = amount("cbc:PayableRoundingAmount") or Decimal(0)
        payable = amount("cbc:PayableAmount", required=True)
        tax = self._tax_total()
        if line_ext is None or exclusive is None or inclusive is None or payable is None:
            return None
        if tax is None:
            return None
        return _DeclaredTotals(
            line_ext, exclusive, inclusive, payable, tax, allowances, charges, prepaid, rounding
        )

    def _totals_add_up(
        self,
        total: Element,
        declared: _DeclaredTotals,
        lines: tuple[Line, ...],
        adjustments: tuple[Line, ...],
    ) -> bool:
        """Whether every declared total is what EN 16931's rules compute; each that is not
        is reported with the rule."""
        d = declared
        allowances = -sum_of(a.unit_price for a in adjustments if a.reference == "ALLOWANCE")
        charges = sum_of(a.unit_price for a in adjustments if a.reference == "CHARGE")
        allowances, charges = allowances * self.sign, charges * self.sign
        checks = [
            (
                "cbc:LineExtensionAmount",
                d.line_extension,
                sum_of(x.net for x in lines) * self.sign,
                "the sum of the lines' cbc:LineExtensionAmount",
            ),
            (
                "cbc:AllowanceTotalAmount",
                d.allowances,
                allowances,
                "the sum of the document-level allowances",
            ),
            (
                "cbc:ChargeTotalAmount",
                d.charges,
                charges,
                "the sum of the document-level charges",
            ),
            (
                "cbc:TaxExclusiveAmount",
                d.exclusive,
                d.line_extension - allowances + charges,
                "cbc:LineExtensionAmount − cbc:AllowanceTotalAmount + cbc:ChargeTotalAmount",
            ),
            (
                "cbc:TaxInclusiveAmount",
                d.inclusive,
                d.exclusive + d.tax,
                "cbc:TaxExclusiveAmount + cac:TaxTotal/cbc:TaxAmount",
            ),
            (
                "cbc:PayableAmount",
                d.payable,
                d.inclusive - d.prepaid + d.rounding,
                "cbc:TaxInclusiveAmount − cbc:PrepaidAmount + cbc:PayableRoundingAmount",
            ),
        ]
        ok = True
        for path, found, expected, how in checks:
            if found is not None and found != expected:
                message = f"expected {plain(expected)} ({how}), found {plain(found)}"
                self.xf.error(total, message, child=path)
                ok = False
        return ok

    def _money(self, amount: Decimal) -> Money:
        return Money(amount * self.sign, self.currency)

    def _tax_total(self) -> Decimal | None:
        """The TaxTotal in the document currency (a second one may be in the tax currency)."""
        totals = self.xf.findall(self.root, "cac:TaxTotal")
        if not totals:
            self.xf.error(self.root, "this mandatory element is missing", child="cac:TaxTotal")
            return None
        for element in totals:
            amount = self.xf.find(element, "cbc:TaxAmount")
            if amount is not None and amount.get("currencyID") == self.currency:
                self._tax_element = element
                declared = self._amount(element, "cbc:TaxAmount", required=True)
                subtotals = [
                    self._amount(s, "cbc:TaxAmount", required=True)
                    for s in self.xf.findall(element, "cac:TaxSubtotal")
                ]
                if declared is not None and subtotals and sum_of(subtotals) != declared:
                    self.xf.error(
                        element,
                        f"expected {plain(sum_of(subtotals))} (the sum of the "
                        f"cac:TaxSubtotal/cbc:TaxAmount), found {plain(declared)}",
                        child="cbc:TaxAmount",
                    )
                    return None
                return declared
        self._amount(totals[0], "cbc:TaxAmount", required=True)  # reports the currency
        return None

    def _check_tax_subtotals(self, lines: tuple[Line, ...]) -> None:
        """Each declared subtotal must be what the portal will show for that rate."""
        element = self._tax_element
        if element is None:
            return
        computed = {
            g.rate: g
            for g in tax_breakdown(lines, self.currency, by_category=False)
            if g.kind == "vat"
        }
        declared: dict[Decimal, tuple[Decimal, Decimal, Element]] = {}
        for sub in self.xf.findall(element, "cac:TaxSubtotal"):
            rate = self._rate(sub, "cac:TaxCategory")
            taxable = self._amount(sub, "cbc:TaxableAmount", required=True)
            tax = self._amount(sub, "cbc:TaxAmount", required=True)
            if rate is None or taxable is None or tax is None:
                return
            before = declared.get(rate, (Decimal(0), Decimal(0), sub))
            declared[rate] = (before[0] + taxable * self.sign, before[1] + tax * self.sign, sub)
        for rate, (taxable, tax, sub) in declared.items():
            group = computed.get(rate)
            base = group.base.amount if group else Decimal(0)
            amount = group.amount.amount if group else Decimal(0)
            if base != taxable:
                self.xf.error(
                    sub,
                    f"expected {plain(base * self.sign)} (the lines, allowances and charges "
                    f"at {rate} %), found {plain(taxable * self.sign)}",
                    child="cbc:TaxableAmount",
                )
            elif abs(amount - tax) > Decimal("0.01"):
                self.xf.error(
                    sub,
                    f"expected {plain(amount * self.sign)} ({rate} % of "
                    f"{plain(base * self.sign)}), found {plain(tax * self.sign)}",
                    child="cbc:TaxAmount",
                )
        for rate, group in computed.items():
            if rate not in declared and group.base.amount:
                self.xf.error(
                    element,
                    f"expected a cac:TaxSubtotal for the lines at {rate} % "
                    f"(taxable {plain(group.base.amount * self.sign)}), found none",
                )


FIELDS = {
    "number": "cbc:ID",
    "customer": "cac:AccountingCustomerParty",
    "issue_date": "cbc:IssueDate",
    "currency": "cbc:DocumentCurrencyCode",
    "corrects": "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID",
    "due_date": "cbc:DueDate",
    "base": "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount",
    "tax": "cac:TaxTotal/cbc:TaxAmount",
    "total": "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
}
LINE_FIELDS = {
    "quantity": "cbc:InvoicedQuantity",
    "unit_price": "cac:Price/cbc:PriceAmount",
    "tax_rate": "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent",
}


__all__ = ["UblReader"]
