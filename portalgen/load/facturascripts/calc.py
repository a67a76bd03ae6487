"""FacturaScripts' arithmetic: a document's tax breakdown and totals, as it computes them.

The rules, re-expressed from FacturaScripts' own calculator (``Core/Lib/Calculator.php``:
``calculateLine``, ``accumulate``, ``getSubtotals``; ``Core/Mod/CalculatorModSpain.php``
accumulates the same way for a Spanish company):

- a line's ``pvptotal = cantidad × pvpunitario × (1 − dtopor/100) × (1 − dtopor2/100)``,
  never rounded;
- the document's discounts compound over it: ``× (1 − dtopor1/100) × (1 − dtopor2/100)``
  (``BusinessDocument::getEUDiscount``);
- a line whose ``pvptotal`` is zero adds nothing; a ``suplido`` line adds to
  ``totalsuplidos`` only (no VAT, surcharge or withholding, whatever its ``iva``);
- the others are grouped by their (``iva``, ``recargo``) pair; per group the base, VAT
  and surcharge are summed unrounded and rounded once (``Tools::round``: PHP ``round``, half
  away from zero); ``neto``, ``totaliva`` and ``totalrecargo`` are the sums of the rounded
  groups;
- the withholding is summed over every line and rounded once (``totalirpf``);
- ``total = round(neto + totalsuplidos + totaliva + totalrecargo − totalirpf)``;
- with the ``taxcalculationmethod`` setting ``price-adjusted``, a line's VAT is the
  rounded total with VAT (its unit price with VAT rounded, times the quantity and every
  discount) minus its rounded base;
- a fixed-value tax (``impuestos.tipo`` 2) is ``cantidad × iva`` (and ``× recargo``).

Decimal arithmetic on the exported values stands in for PHP's doubles: PHP's ``round``
rounds a double that is a hair below a half as that half, which is what exact decimals do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from portalgen.domain.model import Money, TaxGroup, round_money

CLASSIC = "classic"
PRICE_ADJUSTED = "price-adjusted"
METHODS = (CLASSIC, PRICE_ADJUSTED)
ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class FsLine:
    """The columns of a line that its taxes depend on."""

    cantidad: Decimal
    pvpunitario: Decimal
    dtopor: Decimal = ZERO
    dtopor2: Decimal = ZERO
    iva: Decimal = ZERO
    recargo: Decimal = ZERO
    irpf: Decimal = ZERO
    suplido: bool = False
    fixed_tax: bool = False  # impuestos.tipo = 2 (Impuesto::TYPE_FIXED_VALUE)
    exemption: str = ""  # excepcioniva

    @property
    def pvptotal(self) -> Decimal:
        return self.cantidad * self.pvpunitario * _keep(self.dtopor) * _keep(self.dtopor2)


@dataclass(frozen=True)
class FsTotals:
    """The header's total columns, and the breakdown rows that add up to them."""

    neto: Decimal
    netosindto: Decimal
    totaliva: Decimal
    totalrecargo: Decimal
    totalirpf: Decimal
    totalsuplidos: Decimal
    total: Decimal
    groups: tuple[TaxGroup, ...] = ()

    def columns(self) -> dict[str, Decimal]:
        return {
            "neto": self.neto,
            "totalsuplidos": self.totalsuplidos,
            "totaliva": self.totaliva,
            "totalrecargo": self.totalrecargo,
            "totalirpf": self.totalirpf,
            "total": self.total,
        }


@dataclass
class _Group:
    neto: Decimal = ZERO
    netosindto: Decimal = ZERO
    iva: Decimal = ZERO
    recargo: Decimal = ZERO
    exemptions: list[str] = field(default_factory=list)


def _keep(discount: Decimal) -> Decimal:
    """What a discount of `discount` % leaves: 10 → 0.9."""
    return (HUNDRED - discount) / HUNDRED


def calculate(
    lines: Iterable[FsLine],
    dtopor1: Decimal,
    dtopor2: Decimal,
    currency: str,
    method: str = CLASSIC,
) -> FsTotals:
    """The totals FacturaScripts stores for a document with these lines and discounts."""
    document = _keep(dtopor1) * _keep(dtopor2)
    groups: dict[tuple[Decimal, Decimal], _Group] = defaultdict(_Group)
    withheld: dict[Decimal, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    suplidos = ZERO
    for line in lines:
        line_total = line.pvptotal
        if not line_total:
            continue
        base = line_total * document
        if line.suplido:
            suplidos += base
            continue
        if line.irpf:
            withheld[line.irpf][0] += base
            withheld[line.irpf][1] += base * line.irpf / HUNDRED
        group = groups[line.iva.normalize(), line.recargo.normalize()]
        group.neto += base
        group.netosindto += line_total
        group.iva += _vat(line, base, document, method)
        if line.recargo > 0:
            group.recargo += (
                line.cantidad * line.recargo if line.fixed_tax else base * line.recargo / HUNDRED
            )
        if line.exemption and line.exemption not in group.exemptions:
            group.exemptions.append(line.exemption)
    return _totals(groups, withheld, suplidos, currency)


def _vat(line: FsLine, base: Decimal, document: Decimal, method: str) -> Decimal:
    if line.iva <= 0:
        return ZERO
    if line.fixed_tax:
        return line.cantidad * line.iva
    if method == PRICE_ADJUSTED:
        unit_with_vat = round_money(line.pvpunitario * (HUNDRED + line.iva) / HUNDRED)
        keep = _keep(line.dtopor) * _keep(line.dtopor2) * document
        return round_money(line.cantidad * unit_with_vat * keep) - round_money(base)
    return base * line.iva / HUNDRED


def _totals(
    groups: dict[tuple[Decimal, Decimal], _Group],
    withheld: dict[Decimal, list[Decimal]],
    suplidos: Decimal,
    currency: str,
) -> FsTotals:
    rounded = {key: _rounded(g) for key, g in groups.items()}
    neto = sum((g.neto for g in rounded.values()), ZERO)
    netosindto = sum((g.netosindto for g in rounded.values()), ZERO)
    totaliva = sum((g.iva for g in rounded.values()), ZERO)
    totalrecargo = sum((g.recargo for g in rounded.values()), ZERO)
    totalirpf = round_money(sum((amount for _, amount in withheld.values()), ZERO))
    totalsuplidos = round_money(suplidos)
    total = round_money(neto + totalsuplidos + totaliva + totalrecargo - totalirpf)
    rows = _rows(rounded, withheld, currency)
    return FsTotals(
        round_money(neto),
        round_money(netosindto),
        round_money(totaliva),
        round_money(totalrecargo),
        totalirpf,
        totalsuplidos,
        total,
        rows,
    )


def _rounded(group: _Group) -> _Group:
    return _Group(
        round_money(group.neto),
        round_money(group.netosindto),
        round_money(group.iva),
        round_money(group.recargo),
        group.exemptions,
    )


def _rows(
    groups: dict[tuple[Decimal, Decimal], _Group],
    withheld: dict[Decimal, list[Decimal]],
    currency: str,
) -> tuple[TaxGroup, ...]:
    """One VAT row per rate and one surcharge row per rate (sums of FacturaScripts'
    rounded groups, so they add up to its totals), one withholding row per rate."""
    vat: dict[Decimal, _Group] = defaultdict(_Group)
    surcharge: dict[Decimal, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for (iva, recargo), group in sorted(groups.items()):
        row = vat[iva]
        row.neto += group.neto
        row.iva += group.iva
        row.exemptions.extend(e for e in group.exemptions if e not in row.exemptions)
        if recargo > 0:
            surcharge[recargo][0] += group.neto
            surcharge[recargo][1] += group.recargo

    def money(value: Decimal) -> Money:
        return Money(round_money(value), currency)

    rows = [
        TaxGroup("vat", _plain(rate), money(g.neto), money(g.iva), tuple(g.exemptions))
        for rate, g in sorted(vat.items())
    ]
    rows += [
        TaxGroup("surcharge", _plain(rate), money(base), money(amount))
        for rate, (base, amount) in sorted(surcharge.items())
    ]
    rows += [
        TaxGroup("withholding", _plain(rate), money(base), money(amount))
        for rate, (base, amount) in sorted(withheld.items())
    ]
    return tuple(rows)


def _plain(rate: Decimal) -> Decimal:
    """21.000000 → 21, 5.20 → 5.2 (as the other readers give rates)."""
    return rate.quantize(Decimal(1)) if rate == rate.to_integral() else rate.normalize()


def differences(computed: FsTotals, stored: dict[str, Decimal]) -> dict[str, Decimal]:
    """The header columns whose stored value is not what the lines give."""
    return {c: v for c, v in computed.columns().items() if stored.get(c, ZERO) != v}


def fit(groups: tuple[TaxGroup, ...], stored: dict[str, Decimal]) -> tuple[TaxGroup, ...]:
    """Breakdown rows that show the stored totals where they can: the only row of its kind
    carries that kind's stored total (and the only VAT row the stored ``neto``)."""
    column = {"vat": "totaliva", "surcharge": "totalrecargo", "withholding": "totalirpf"}
    out = []
    for group in groups:
        if sum(1 for g in groups if g.kind == group.kind) == 1:
            currency = group.amount.currency
            base = stored["neto"] if group.kind == "vat" else group.base.amount
            amount = stored[column[group.kind]]
            group = TaxGroup(
                group.kind,
                group.rate,
                Money(base, currency),
                Money(amount, currency),
                group.exemptions,
            )
        out.append(group)
    return tuple(out)


def unbalanced(groups: tuple[TaxGroup, ...], stored: dict[str, Decimal]) -> dict[str, Decimal]:
    """The stored tax columns that the rows of their kind do not add up to (rounding
    per rate can differ by a cent where FacturaScripts rounds once, as for IRPF)."""
    column = {"vat": "totaliva", "surcharge": "totalrecargo", "withholding": "totalirpf"}
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for group in groups:
        sums[column[group.kind]] += group.amount.amount
    return {c: v for c, v in sums.items() if v != stored.get(c, ZERO)}
