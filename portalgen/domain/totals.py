"""Document totals from lines: the tax breakdown per rate, as Spanish invoices show it.

Lines are netted (quantity × price − discount, rounded to cents); taxes are computed per
rate on the sum of the bases of that rate and rounded once, which is what invoicing
programs do. A declared total may therefore differ from a line-by-line computation by a
cent per rate; `totals_mismatch` allows for exactly that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from portalgen.domain.model import AnyDocument, Line, Money, TaxGroup, TaxKind, Totals, round_money

__all__ = [
    "TaxGroup",
    "TaxKind",
    "compute_totals",
    "document_taxes",
    "tax_breakdown",
    "totals_mismatch",
]


def _rate(rate: Decimal) -> Decimal:
    """21.00 and 21 are the same rate; keep it readable (21, not 2.1E+1)."""
    return rate.quantize(Decimal(1)) if rate == rate.to_integral() else rate.normalize()


def document_taxes(doc: AnyDocument) -> tuple[TaxGroup, ...]:
    """The breakdown a document shows: the invoicing program's own, else from its lines."""
    return doc.taxes or tax_breakdown(doc.lines, doc.currency)


def tax_breakdown(
    lines: Iterable[Line], currency: str, *, by_category: bool = True
) -> tuple[TaxGroup, ...]:
    """Group line bases by tax, surcharge and withholding rate (zero rates included for VAT).

    Disbursements (suplidos) are outside every tax: they are in no group. VAT rows are
    also split by VAT category (an exempt and a reverse-charge row at 0 % are two rows)
    and carry their lines' exemption reasons; `by_category=False` gives one row per rate,
    as e-invoices declare their totals per rate."""
    bases: dict[tuple[TaxKind, Decimal, str], Decimal] = defaultdict(Decimal)
    reasons: dict[tuple[TaxKind, Decimal, str], dict[str, None]] = defaultdict(dict)
    for line in lines:
        if line.disbursement:
            continue
        net = line.net
        vat: tuple[TaxKind, Decimal, str] = (
            "vat",
            _rate(line.tax_rate),
            line.tax_category if by_category else "",
        )
        bases[vat] += net
        if line.tax_exemption and by_category:
            reasons[vat][line.tax_exemption] = None
        if line.surcharge_rate:
            bases["surcharge", _rate(line.surcharge_rate), ""] += net
        if line.withholding_rate:
            bases["withholding", _rate(line.withholding_rate), ""] += net
    order = {"vat": 0, "surcharge": 1, "withholding": 2}
    return tuple(
        TaxGroup(
            key[0],
            key[1],
            Money(round_money(base), currency),
            Money(round_money(base * key[1] / 100), currency),
            tuple(reasons.get(key, ())),
            key[2],
        )
        for key, base in sorted(bases.items(), key=lambda kv: (order[kv[0][0]], *kv[0][1:]))
    )


def compute_totals(
    lines: Iterable[Line], currency: str, groups: tuple[TaxGroup, ...] | None = None
) -> Totals:
    lines = tuple(lines)
    groups = tax_breakdown(lines, currency) if groups is None else groups

    def total_of(kind: TaxKind) -> Money:
        amount = sum((g.amount.amount for g in groups if g.kind == kind), Decimal("0.00"))
        return Money(amount, currency)

    taxed = Decimal("0.00")
    disbursed = Decimal("0.00")
    for line in lines:
        if line.disbursement:
            disbursed += line.net
        else:
            taxed += line.net
    base, expenses = Money(taxed, currency), Money(disbursed, currency)
    tax, surcharge, withholding = total_of("vat"), total_of("surcharge"), total_of("withholding")
    total = base + tax + surcharge - withholding + expenses
    return Totals(base, tax, surcharge, withholding, total, expenses if disbursed else None)


def totals_mismatch(declared: Totals, lines: Iterable[Line]) -> list[tuple[str, Money, Money]]:
    """The totals fields whose declared value differs from the lines beyond rounding.

    Returns ``(field, declared, computed)`` for each. Rounding tolerance: one cent per
    tax group, because programs round per line or per rate as they please.
    """
    lines = tuple(lines)
    currency = declared.total.currency
    groups = tax_breakdown(lines, currency)
    computed = compute_totals(lines, currency, groups)
    tolerance = Decimal("0.01") * max(1, len(groups))
    out = []
    rounding = declared.rounding or Money.zero(currency)
    for name in ("base", "tax", "surcharge", "withholding", "total"):
        d, c = getattr(declared, name), getattr(computed, name)
        if name == "total":
            c = c + rounding
        if abs(d.amount - c.amount) > tolerance:
            out.append((name, d, c))
    return out
