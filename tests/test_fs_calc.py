"""FacturaScripts' arithmetic, rule by rule (portalgen/load/facturascripts/calc.py).

Each case names the FacturaScripts source it mirrors (NeoRazorX/facturascripts at
defd68f4, the commit /work/shared/FORMATS.md was read from). Where FacturaScripts' own
test has the case, its expected values are used as they are.
"""

from __future__ import annotations

from decimal import Decimal

from portalgen.load.facturascripts.calc import CLASSIC, PRICE_ADJUSTED, FsLine, calculate
from portalgen.load.facturascripts.states import order_status, quote_status


def line(qty: str, price: str, iva: str = "21", **extra: object) -> FsLine:
    values = {k: Decimal(str(v)) if not isinstance(v, bool) else v for k, v in extra.items()}
    return FsLine(Decimal(qty), Decimal(price), iva=Decimal(iva), **values)  # type: ignore[arg-type]


def totals(lines: list[FsLine], d1: str = "0", d2: str = "0", method: str = CLASSIC) -> dict:
    result = calculate(lines, Decimal(d1), Decimal(d2), "EUR", method)
    return {k: str(v) for k, v in result.columns().items()} | {"netosindto": str(result.netosindto)}


def test_line_totals_stay_unrounded_and_each_rate_rounds_once() -> None:
    # Core/Lib/Calculator.php: calculateLine keeps pvptotal unrounded; getSubtotals rounds
    # neto and totaliva per (iva, recargo) group. Rounding each line would give 12.30/2.58.
    result = totals([line("1", "1.234") for _ in range(10)])
    assert (result["neto"], result["totaliva"], result["total"]) == ("12.34", "2.59", "14.93")


def test_header_discounts_compound_on_the_sum() -> None:
    # Test/Core/Lib/CalculatorTest.php, testDiscounts: dtopor1 5, dtopor2 3 over a line
    # of 100 at 21 % and one of 2 × 10 (−10 %, −5 %) at 4 %.
    lines = [line("1", "100"), line("2", "10", "4", dtopor=10, dtopor2=5)]
    result = totals(lines, "5", "3")
    assert result == {
        "neto": "107.91",
        "netosindto": "117.10",
        "totaliva": "19.98",
        "totalrecargo": "0.00",
        "totalirpf": "0.00",
        "totalsuplidos": "0.00",
        "total": "127.89",
    }


def test_suplidos_are_outside_vat_and_withholding_even_with_iva() -> None:
    # Calculator.php accumulate: "los suplidos no tienen IVA ni IRPF" — the line keeps
    # iva=21 and irpf, and still only adds to totalsuplidos (CalculatorTest, testSupplied).
    lines = [
        line("3", "50"),
        line("1", "20", suplido=True, irpf=15),
        line("2", "15", suplido=True),
    ]
    result = totals(lines)
    assert (result["neto"], result["totaliva"], result["totalirpf"]) == ("150.00", "31.50", "0.00")
    assert (result["totalsuplidos"], result["total"]) == ("50.00", "231.50")


def test_suplidos_take_the_header_discount() -> None:
    # accumulate: $pvpTotal = $line->pvptotal * $doc->getEUDiscount() before the suplido test.
    result = totals([line("1", "100"), line("1", "45.50", suplido=True)], "5", "3")
    assert result["totalsuplidos"] == "41.93"  # 45.50 × 0.95 × 0.97 = 41.92725


def test_withholding_is_summed_over_lines_and_rounded_once() -> None:
    # CalculatorTest, testRetention.
    lines = [line("1", "100", irpf=15), line("2", "10", "4", irpf=15), line("5", "11")]
    result = totals(lines)
    assert (result["neto"], result["totaliva"], result["totalirpf"], result["total"]) == (
        "175.00",
        "33.35",
        "18.00",
        "190.35",
    )
    # Rounded once over the lines, not per line: 3 × 0.0075 is 0.02, not 3 × 0.01.
    assert totals([line("1", "0.05", irpf=15) for _ in range(3)])["totalirpf"] == "0.02"


def test_surcharge_per_group() -> None:
    # CalculatorTest, testCustomerRe: recargo 5.2 on two lines, none on the third.
    lines = [line("1", "100", recargo=5.2), line("2", "10", recargo=5.2), line("5", "11")]
    result = totals(lines)
    assert (result["totaliva"], result["totalrecargo"], result["total"]) == (
        "36.75",
        "6.24",
        "217.99",
    )
    rows = calculate(lines, Decimal(0), Decimal(0), "EUR").groups
    assert [(g.kind, str(g.rate), str(g.base.amount), str(g.amount.amount)) for g in rows] == [
        ("vat", "21", "175.00", "36.75"),
        ("surcharge", "5.2", "120.00", "6.24"),
    ]


def test_price_adjusted_method_takes_vat_from_the_price_with_vat() -> None:
    # CalculatorTest, testProductPriceWithTax4: 0.65 with 4 % VAT is a net 0.625; classic
    # gives 0.63 + 0.03 = 0.66, price-adjusted round(0.65) − round(0.625) = 0.02 → 0.65.
    lines = [line("1", "0.625", "4")]
    assert totals(lines)["total"] == "0.66"
    adjusted = totals(lines, method=PRICE_ADJUSTED)
    assert (adjusted["totaliva"], adjusted["total"]) == ("0.02", "0.65")


def test_fixed_value_tax_is_per_unit() -> None:
    # CalculatorTest, testFixedValueTax: impuestos.tipo 2, iva 5 → 3 × 5 + 2 × 5.
    lines = [line("3", "100", "5", fixed_tax=True), line("2", "50", "5", fixed_tax=True)]
    result = totals(lines)
    assert (result["neto"], result["totaliva"], result["total"]) == ("400.00", "25.00", "425.00")


def test_rounding_is_half_up_like_php_round() -> None:
    # Tools::round is PHP round(): half away from zero, never to even.
    result = totals([line("1", "2.5", "21"), line("1", "0.125", "0")])
    assert (result["neto"], result["totaliva"]) == ("2.63", "0.53")  # 0.125 → 0.13, 0.525 → 0.53
    negative = totals([line("-1", "2.5", "21")])
    assert negative["totaliva"] == "-0.53"


def test_a_zero_line_adds_nothing() -> None:
    # accumulate: `if (empty($line->pvptotal)) continue;` — no empty 10 % row appears.
    rows = calculate([line("1", "10"), line("1", "0", "10")], Decimal(0), Decimal(0), "EUR")
    assert [str(g.rate) for g in rows.groups] == ["21"]


def test_states_are_read_by_their_flags_in_any_language() -> None:
    # Core/Data/Lang/eu_ES/estados_documentos.csv: a Basque install's quote states.
    basque = {
        1: ("Berria", True, None),
        2: ("Onartua", False, "PedidoCliente"),
        3: ("Baztertua", False, None),
        23: ("Denbora muga", False, None),
        24: ("Sartu", False, "FacturaCliente"),
    }
    read = {
        i: quote_status({"idestado": i, "nombre": n, "editable": e, "generadoc": g})
        for i, (n, e, g) in basque.items()
    }
    assert read == {
        1: ("pending", False),
        2: ("accepted", False),
        3: ("rejected", False),
        23: ("expired", False),
        24: ("accepted", False),
    }
    # A Basque install's own expired state, by its name.
    made_up = {"idestado": 41, "nombre": "Denbora muga", "editable": False}
    assert quote_status(made_up) == ("expired", False)
    # FacturaScripts' expired state is id 23, whatever it is called.
    renamed = {"idestado": 23, "nombre": "Sin respuesta", "editable": False}
    assert quote_status(renamed) == ("expired", False)
    # Flags win over a name: an editable state named "Pedido" is still open.
    assert quote_status({"idestado": 40, "nombre": "Pedido", "editable": True}) == (
        "pending",
        False,
    )
    assert order_status({"nombre": "Onartua", "editable": False, "generadoc": "AlbaranCliente"})[
        0
    ] == ("shipped")
    assert order_status({"nombre": "Bertan behera", "editable": False}) == ("cancelled", False)
    assert order_status({"nombre": "En preparación", "editable": True}) == (
        "in_preparation",
        False,
    )
