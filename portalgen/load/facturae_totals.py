"""Facturae invoice totals and tax breakdown, checked to the cent (see facturae_invoice)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from portalgen.domain.model import Line, Money, Totals
from portalgen.domain.totals import tax_breakdown
from portalgen.load.einvoice import plain, sum_of
from portalgen.load.xmlsafe import Element, XmlFile

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Tax:
    rate: Decimal
    base: Decimal
    amount: Decimal
    surcharge_rate: Decimal
    surcharge: Decimal
    element: Element


def check_totals(
    xf: XmlFile,
    el: Element,
    lines: tuple[Line, ...],  # the invoice's own lines, without general discounts/charges
    outputs: list[Tax],
    withheld: list[Tax],
    currency: str,
) -> Totals | None:
    """The invoice's Totals when InvoiceTotals is present and adds up; each sum that does
    not is reported, and amounts the portal does not carry over are warned about."""
    t = xf.require(el, "InvoiceTotals")
    if t is None or not currency:
        return None
    v = _declared(xf, t)
    if v is None:
        return None
    ok = _sums_hold(xf, t, v, _expected_sums(v, lines, outputs, withheld))
    _warn_not_carried(xf, t, v)
    if not ok:
        return None
    return Totals(
        Money(v["TotalGrossAmountBeforeTaxes"], currency),
        Money(sum_of(o.amount for o in outputs), currency),
        Money(sum_of(o.surcharge for o in outputs), currency),
        Money(v["TotalTaxesWithheld"], currency),
        Money(v["InvoiceTotal"], currency),
    )


def _declared(xf: XmlFile, t: Element) -> dict[str, Decimal] | None:
    """InvoiceTotals' amounts by element name (absent optional ones as 0); None when a
    required one is missing (reported)."""
    value = {
        name: xf.decimal(t, name, required=name in _REQUIRED_TOTALS)
        for name in (*_REQUIRED_TOTALS, *_OPTIONAL_TOTALS)
    }
    value["Subsidies"] = sum_of(
        xf.decimal(s, "SubsidyAmount") for s in xf.findall(t, "Subsidies/Subsidy")
    )
    value["AmountsWithheld"] = xf.decimal(t, "AmountsWithheld/WithholdingAmount")
    if any(value[name] is None for name in _REQUIRED_TOTALS):
        return None
    return {name: amount or Decimal(0) for name, amount in value.items()}


def _expected_sums(
    v: dict[str, Decimal], lines: tuple[Line, ...], outputs: list[Tax], withheld: list[Tax]
) -> list[tuple[str, Decimal, str]]:
    """(element, what it must be, the rule in words) for each total Facturae defines."""
    return [
        (
            "TotalGrossAmount",
            sum_of(line.net for line in lines),
            "the sum of the lines' GrossAmount",
        ),
        (
            "TotalGrossAmountBeforeTaxes",
            v["TotalGrossAmount"] - v["TotalGeneralDiscounts"] + v["TotalGeneralSurcharges"],
            "TotalGrossAmount − TotalGeneralDiscounts + TotalGeneralSurcharges",
        ),
        (
            "TotalTaxOutputs",
            sum_of(o.amount + o.surcharge for o in outputs),
            "the sum of TaxesOutputs' TaxAmount and EquivalenceSurchargeAmount",
        ),
        (
            "TotalTaxesWithheld",
            sum_of(w.amount for w in withheld),
            "the sum of TaxesWithheld's TaxAmount",
        ),
        (
            "InvoiceTotal",
            v["TotalGrossAmountBeforeTaxes"] + v["TotalTaxOutputs"] - v["TotalTaxesWithheld"],
            "TotalGrossAmountBeforeTaxes + TotalTaxOutputs − TotalTaxesWithheld",
        ),
        (
            "TotalOutstandingAmount",
            v["InvoiceTotal"] - v["Subsidies"] - v["TotalPaymentsOnAccount"],
            "InvoiceTotal − subsidies − TotalPaymentsOnAccount",
        ),
        (
            "TotalExecutableAmount",
            v["TotalOutstandingAmount"]
            - v["AmountsWithheld"]
            + v["TotalReimbursableExpenses"]
            + v["TotalFinancialExpenses"],
            "TotalOutstandingAmount − AmountsWithheld + TotalReimbursableExpenses + "
            "TotalFinancialExpenses",
        ),
    ]


def _sums_hold(
    xf: XmlFile, t: Element, v: dict[str, Decimal], sums: list[tuple[str, Decimal, str]]
) -> bool:
    ok = True
    for name, expected, how in sums:
        if abs(v[name] - expected) >= CENT:
            xf.error(t, f"expected {plain(expected)} ({how}), found {v[name]}", child=name)
            ok = False
    return ok


def _warn_not_carried(xf: XmlFile, t: Element, v: dict[str, Decimal]) -> None:
    """Amounts the portal does not show: what it shows is the InvoiceTotal."""
    for name in (
        "Subsidies",
        "AmountsWithheld",
        "TotalReimbursableExpenses",
        "TotalFinancialExpenses",
    ):
        if v[name]:
            xf.warning(
                t,
                f"not carried over: the portal shows the InvoiceTotal {v['InvoiceTotal']}; "
                f"the amount to pay is TotalExecutableAmount {v['TotalExecutableAmount']}",
                child=name,
            )


_REQUIRED_TOTALS = (
    "TotalGrossAmount",
    "TotalGrossAmountBeforeTaxes",
    "TotalTaxOutputs",
    "TotalTaxesWithheld",
    "InvoiceTotal",
    "TotalOutstandingAmount",
    "TotalExecutableAmount",
)
_OPTIONAL_TOTALS = (
    "TotalGeneralDiscounts",
    "TotalGeneralSurcharges",
    "TotalPaymentsOnAccount",
    "TotalReimbursableExpenses",
    "TotalFinancialExpenses",
)


def check_breakdown(
    xf: XmlFile,
    lines: tuple[Line, ...],
    outputs: list[Tax],
    withheld: list[Tax],
    currency: str,
) -> None:
    """Each declared tax must be what the portal will show for that rate."""
    groups = tax_breakdown(lines, currency, by_category=False)
    for kind, declared in (("vat", outputs), ("withholding", withheld)):
        computed = {g.rate: g for g in groups if g.kind == kind}
        by_rate: dict[Decimal, list[Tax]] = defaultdict(list)
        for tax in declared:
            by_rate[tax.rate].append(tax)
        for rate, taxes in by_rate.items():
            group = computed.get(rate)
            base = group.base.amount if group else Decimal(0)
            amount = group.amount.amount if group else Decimal(0)
            declared_base = sum_of(t.base for t in taxes)
            if abs(declared_base - base) >= CENT:
                xf.error(
                    taxes[0].element,
                    f"expected {plain(base)} (the lines at {rate} %), found {plain(declared_base)}",
                    child="TaxableBase/TotalAmount",
                )
            elif abs(sum_of(t.amount for t in taxes) - amount) > CENT:
                xf.error(
                    taxes[0].element,
                    f"expected {plain(amount)} ({rate} % of {plain(base)}), "
                    f"found {plain(sum_of(t.amount for t in taxes))}",
                    child="TaxAmount/TotalAmount",
                )
        for rate, group in computed.items():
            if rate not in by_rate and group.base.amount:
                section = "TaxesOutputs" if kind == "vat" else "TaxesWithheld"
                xf.error(
                    xf.root,
                    f"expected a {section}/Tax at {rate} % for lines with a base of "
                    f"{plain(group.base.amount)}, found none",
                )
    surcharges = {g.rate: g.amount.amount for g in groups if g.kind == "surcharge"}
    declared_surcharge: dict[Decimal, Decimal] = defaultdict(Decimal)
    for tax in outputs:
        if tax.surcharge_rate:
            declared_surcharge[tax.surcharge_rate] += tax.surcharge
    for rate in set(surcharges) | set(declared_surcharge):
        if abs(surcharges.get(rate, Decimal(0)) - declared_surcharge[rate]) > CENT:
            where = next((t.element for t in outputs if t.surcharge_rate == rate), xf.root)
            xf.error(
                where,
                f"expected an equivalence surcharge of {plain(surcharges.get(rate, Decimal(0)))} "
                f"at {rate} %, found {plain(declared_surcharge[rate])}",
                child="EquivalenceSurchargeAmount/TotalAmount",
            )
