"""Document totals from lines: the tax breakdown per rate, as Spanish invoices show it.

Lines are netted (quantity × price − discount, rounded to cents); taxes are computed per
rate on the sum of the bases of that rate and rounded once, which is what invoicing
programs do. A declared total may therefore differ from a line-by-line computation by a
cent per rate; `totals_mismatch` allows for exactly that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from portalgen.model import Line, Money, Totals, round_money

TaxKind = Literal["vat", "surcharge", "withholding"]


@dataclass(frozen=True)
class TaxGroup:
    """One row of the tax breakdown: e.g. IVA 21 % on a base of 1.000,00 € is 210,00 €."""

    kind: TaxKind
    rate: Decimal
    base: Money
    amount: Money


def _rate(rate: Decimal) -> Decimal:
    """21.00 and 21 are the same rate; keep it readable (21, not 2.1E+1)."""
    return rate.quantize(Decimal(1)) if rate == rate.to_integral() else rate.normalize()


def tax_breakdown(lines: Iterable[Line], currency: str) -> tuple[TaxGroup, ...]:
    """Group line bases by tax, surcharge and withholding rate (zero rates included for VAT)."""
    bases: dict[tuple[TaxKind, Decimal], Decimal] = defaultdict(Decimal)
    for line in lines:
        net = line.net
        bases["vat", _rate(line.tax_rate)] += net
        if line.surcharge_rate:
            bases["surcharge", _rate(line.surcharge_rate)] += net
        if line.withholding_rate:
            bases["withholding", _rate(line.withholding_rate)] += net
    order = {"vat": 0, "surcharge": 1, "withholding": 2}
    return tuple(
        TaxGroup(
            kind,
            rate,
            Money(round_money(base), currency),
            Money(round_money(base * rate / 100), currency),
        )
        for (kind, rate), base in sorted(bases.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))
    )


def compute_totals(
    lines: Iterable[Line], currency: str, groups: tuple[TaxGroup, ...] | None = None
) -> Totals:
    lines = tuple(lines)
    groups = tax_breakdown(lines, currency) if groups is None else groups

    def total_of(kind: TaxKind) -> Money:
        amount = sum((g.amount.amount for g in groups if g.kind == kind), Decimal("0.00"))
        return Money(amount, currency)

    base = Money(sum((line.net for line in lines), Decimal("0.00")), currency)
    tax, surcharge, withholding = total_of("vat"), total_of("surcharge"), total_of("withholding")
    return Totals(base, tax, surcharge, withholding, base + tax + surcharge - withholding)


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
    for name in ("base", "tax", "surcharge", "withholding", "total"):
        d, c = getattr(declared, name), getattr(computed, name)
        if abs(d.amount - c.amount) > tolerance:
            out.append((name, d, c))
    return out
