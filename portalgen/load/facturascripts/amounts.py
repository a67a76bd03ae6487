"""A FacturaScripts document's lines, tax breakdown and totals, as the model shows them.

The stored header columns (``neto``, ``totalsuplidos``, ``totaliva``, ``totalrecargo``,
``totalirpf``, ``total``) are what the customer was invoiced: the portal shows them. The
breakdown rows come from the lines by FacturaScripts' own rules (`calc`),
with the ``taxcalculationmethod`` setting, else the other method when that one matches
(a document keeps the totals of the method in force when it was saved). When no method
gives the stored totals, the stored totals still win and a warning says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from portalgen.domain.model import Line, Money, Origin, TaxGroup, Totals
from portalgen.load.facturascripts import calc
from portalgen.load.facturascripts.calc import FsLine
from portalgen.load.facturascripts.tables import Row
from portalgen.load.problems import ProblemLog

ZERO = Decimal(0)
CENTS = Decimal("0.00")
STORED = ("neto", "totalsuplidos", "totaliva", "totalrecargo", "totalirpf", "total")
LINE_FIELDS = {
    "quantity": "cantidad",
    "unit_price": "pvpunitario",
    "discount": "dtopor",
    "tax_rate": "iva",
    "surcharge_rate": "recargo",
    "withholding_rate": "irpf",
    "disbursement": "suplido",
}
# The exemption FacturaScripts' Spanish rules give every line of a document with this
# `operacion` (Core/Mod/CalculatorModSpain.php, applyOperation: sales), for lines exported
# without their own `excepcioniva`.
OPERATION_EXEMPTIONS = {
    "intracomunitaria": "ES_25",
    "intracom-servicios": "ES_68_70",
    "inv-sujeto-pasivo": "ES_84",
    "exportacion": "ES_21",
}
FIXED_VALUE = "2"  # impuestos.tipo of a tax that is an amount per unit (Impuesto.php)


@dataclass(frozen=True)
class Amounts:
    totals: Totals
    taxes: tuple[TaxGroup, ...]


def tax_method(settings: list[Row], log: ProblemLog) -> str:
    """The ``taxcalculationmethod`` of the ``default`` settings (classic when absent)."""
    for row in settings:
        if row.get("name") != "default" or not row.get("properties"):
            continue
        try:
            properties = json.loads(row.get("properties"))
        except json.JSONDecodeError:
            log.warning(row.origin, "properties", "not JSON: the classic tax method is assumed")
            continue
        method = properties.get("taxcalculationmethod") if isinstance(properties, dict) else None
        if method in calc.METHODS:
            return str(method)
    return calc.CLASSIC


def fixed_value_taxes(impuestos: list[Row]) -> frozenset[str]:
    return frozenset(
        str(r.get("codimpuesto")) for r in impuestos if str(r.get("tipo", "")) == FIXED_VALUE
    )


def read_line(row: Row) -> Line:
    """A line as the customer sees it; its own two discounts compound into one percentage
    (the document's discounts show under the lines, as FacturaScripts prints them)."""
    d1, d2 = row.get("dtopor", ZERO), row.get("dtopor2", ZERO)
    discount = (100 - (100 - d1) * (100 - d2) / 100).normalize()
    if discount == discount.to_integral():
        discount = discount.quantize(Decimal(1))
    return Line(
        description=row.get("descripcion") or row.get("referencia") or "-",
        quantity=row.get("cantidad", ZERO),
        unit_price=row.get("pvpunitario", ZERO),
        discount=discount,
        tax_rate=row.get("iva", ZERO),
        surcharge_rate=row.get("recargo", ZERO),
        withholding_rate=row.get("irpf", ZERO),
        reference=row.get("referencia", ""),
        disbursement=bool(row.get("suplido", False)),
        show_quantity=bool(row.get("mostrar_cantidad", True)),
        show_price=bool(row.get("mostrar_precio", True)),
        origin=Origin(row.origin.file, row.origin.location, LINE_FIELDS),
    )


def calc_line(row: Row, fixed: frozenset[str], operation: str) -> FsLine:
    iva = row.get("iva", ZERO)
    exemption = row.get("excepcioniva", "")
    if not exemption and iva == 0:
        exemption = OPERATION_EXEMPTIONS.get(operation, "")
    return FsLine(
        cantidad=row.get("cantidad", ZERO),
        pvpunitario=row.get("pvpunitario", ZERO),
        dtopor=row.get("dtopor", ZERO),
        dtopor2=row.get("dtopor2", ZERO),
        iva=iva,
        recargo=row.get("recargo", ZERO),
        irpf=row.get("irpf", ZERO),
        suplido=bool(row.get("suplido", False)),
        fixed_tax=str(row.get("codimpuesto", "")) in fixed,
        exemption=str(exemption),
    )


def document_amounts(
    row: Row,
    lines: list[FsLine],
    currency: str,
    method: str,
    log: ProblemLog,
    origin: Origin,
) -> Amounts | None:
    """The document's totals (stored) and breakdown (computed), or None after an error."""
    if row.bad & set(STORED):
        return None  # reported where it is wrong; a sum without it would only mislead
    stored = {c: row.get(c, CENTS) for c in STORED}
    expected = sum(stored[c] for c in STORED[:4]) - stored["totalirpf"]
    if abs(expected - stored["total"]) > Decimal("0.01"):
        log.error(
            origin,
            "total",
            f"expected {expected} (neto + totalsuplidos + totaliva + totalrecargo − "
            f"totalirpf), found {stored['total']}",
        )
        return None
    d1, d2 = row.get("dtopor1", ZERO), row.get("dtopor2", ZERO)
    computed = _matching(lines, d1, d2, currency, method, stored)
    taxes = computed.groups
    wrong = calc.differences(computed, stored)
    if wrong:
        found = ", ".join(f"{c} {v}" for c, v in wrong.items())
        log.warning(
            origin,
            next(iter(wrong)),
            f"{row.get('codigo')}: FacturaScripts' rules give {found} from the lines "
            f"({method} tax method), not what the document says: the portal shows the "
            "document's totals",
        )
        taxes = calc.fit(taxes, stored)
    rows = calc.unbalanced(taxes, stored)
    if rows:
        found = ", ".join(f"{c} {v}" for c, v in rows.items())
        log.warning(
            origin,
            next(iter(rows)),
            f"{row.get('codigo')}: the breakdown's rows per rate add up to {found}, not "
            "the document's total (each rate rounded apart): the totals show the document's",
        )
    if any(g.kind == "vat" and not g.rate and g.base.amount and not g.exemptions for g in taxes):
        log.warning(
            origin,
            "operacion",
            f"{row.get('codigo')}: lines at 0 % VAT with no excepcioniva and no operacion: "
            "the page and PDF cannot say why they are not taxed",
        )
    return Amounts(_totals(row, stored, computed, currency), taxes)


def _matching(
    lines: list[FsLine],
    d1: Decimal,
    d2: Decimal,
    currency: str,
    method: str,
    stored: dict[str, Decimal],
) -> calc.FsTotals:
    """The calculation by `method`, else by the other method if only that one matches."""
    first = calc.calculate(lines, d1, d2, currency, method)
    if not calc.differences(first, stored):
        return first
    for other in calc.METHODS:
        if other != method:
            second = calc.calculate(lines, d1, d2, currency, other)
            if not calc.differences(second, stored):
                return second
    return first


def _totals(row: Row, stored: dict[str, Decimal], computed: calc.FsTotals, currency: str) -> Totals:
    def money(value: Decimal) -> Money:
        return Money(value, currency)

    discounts = tuple(d for d in (row.get("dtopor1", ZERO), row.get("dtopor2", ZERO)) if d)
    subtotal = row.get("netosindto", computed.netosindto) if discounts else None
    return Totals(
        money(stored["neto"]),
        money(stored["totaliva"]),
        money(stored["totalrecargo"]),
        money(stored["totalirpf"]),
        money(stored["total"]),
        disbursements=money(stored["totalsuplidos"]) if stored["totalsuplidos"] else None,
        subtotal=money(subtotal) if subtotal is not None else None,
        discounts=discounts,
    )
