"""FacturaScripts documents as the customer sees them: FacturaScripts' own totals, to the cent.

The fixture's invoices (tests/fs_fixture.py, ``add_arithmetic_invoices``) carry totals
computed in doubles the way FacturaScripts does; the page and the PDF must show exactly
those, with a breakdown that adds up to them, suplidos outside VAT, the document's
discounts, the reason an invoice is exempt, and no hidden quantity or price.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from portalgen.domain.formatting import format_money
from portalgen.domain.model import Export, Invoice, Money
from portalgen.load import LoadOptions, LoadResult, load_export
from portalgen.render import build_context, plan_portal
from tests.conftest import TODAY
from tests.fs_fixture import fixture_tables, write_csv, write_json
from tests.render_fixtures import render_settings, text_of
from tests.test_render_pdf import pdf_text

LOCALES = {"1": "es_ES", "2": "en_GB"}  # the fixture customers' languages
STORED = ("neto", "totalsuplidos", "totaliva", "totalrecargo", "totalirpf", "total")


@pytest.fixture(scope="module")
def csv_export(tmp_path_factory: pytest.TempPathFactory) -> LoadResult:
    return load_export(write_csv(tmp_path_factory.mktemp("fs") / "csv"), LoadOptions(today=TODAY))


def invoices(export: Export) -> dict[str, Invoice]:
    return {i.number: i for i in export.invoices}


def rendered_invoices(
    export: Export, demo_dir: Path, numbers: tuple[str, ...] = ()
) -> dict[str, tuple[str, str]]:
    """Each invoice's page (its lines and totals) and PDF, as text (all without `numbers`)."""
    context = build_context(render_settings(demo_dir), today=TODAY)
    out = {}
    for code in LOCALES:
        files = {f.path: f for f in plan_portal(export.customer_data(code), context)}
        for invoice in export.invoices:
            if invoice.customer_code != code or (numbers and invoice.number not in numbers):
                continue
            page = lxml_html.fromstring(files[f"invoices/{invoice.slug}.html"].render())
            parts = page.xpath("//table[contains(@class,'lines')] | //div[@class='totals-grid']")
            pdf = pdf_text(files[f"invoices/{invoice.slug}.pdf"].render())
            out[invoice.number] = (" ".join(text_of(p) for p in parts), " ".join(pdf.split()))
    assert context.render_warnings == []
    return out


def assert_facturascripts_totals(export: Export, rendered: dict[str, tuple[str, str]]) -> None:
    """Every stored total of every invoice, on its page and in its PDF; the breakdown rows
    add up to them."""
    headers = {h["codigo"]: h for h in fixture_tables()["facturascli"]}
    for number, invoice in invoices(export).items():
        if number not in rendered:
            continue
        header = headers[number]
        stored = {c: Decimal(repr(header[c])).quantize(Decimal("0.01")) for c in STORED}
        locale = LOCALES[invoice.customer_code]
        for column in STORED:
            if stored[column] or column in ("neto", "totaliva", "total"):
                shown = format_money(Money(stored[column], "EUR"), locale).replace("\xa0", " ")
                for where, text in zip(("page", "PDF"), rendered[number], strict=True):
                    assert shown in text, (number, column, where, shown, text)
        added = {kind: Decimal(0) for kind in ("vat", "surcharge", "withholding")}
        for group in invoice.taxes:
            added[group.kind] += group.amount.amount
        assert sum(g.base.amount for g in invoice.taxes if g.kind == "vat") == stored["neto"]
        assert added == {
            "vat": stored["totaliva"],
            "surcharge": stored["totalrecargo"],
            "withholding": stored["totalirpf"],
        }
        totals = invoice.totals
        assert (totals.base.amount, totals.tax.amount, totals.total.amount) == (
            stored["neto"],
            stored["totaliva"],
            stored["total"],
        )
    page, pdf = rendered["F2026A6"]  # ten lines of 1.234 at 21 %
    for text in (page, pdf):
        assert "Base imponible 12,34 €" in text and "IVA 21 % 12,34 € 2,59 €" in text
    page, pdf = rendered["F2026A7"]  # 5 % then 3 % off, a suplido with iva=21
    for text in (page, pdf):
        assert "Subtotal 117,10 € Descuento 5 % Descuento 3 % Base imponible 107,91 €" in text
        assert "IVA 4 % 15,76 € 0,63 € IVA 21 % 92,15 € 19,35 €" in text
        assert "Suplidos 41,93 € Total 169,82 €" in text
        assert "Tasa ITV (suplido) 1 45,50 € Suplido 45,50 €" in text
    page, pdf = rendered["F2026A8"]  # IRPF and recargo on odd prices
    for text in (page, pdf):
        assert "Recargo de equivalencia 0,40 €" in text and "Retención IRPF −15,00 €" in text
    page, pdf = rendered["F2026A9"]  # exempt, for the English-speaking customer
    for text in (page, pdf):
        assert "VAT 0%: Exempt from VAT under Article 20 of the Spanish VAT Act" in text
    page, pdf = rendered["F2026A10"]  # reverse charge, in Spanish
    for text in (page, pdf):
        assert "IVA 0 %: Inversión del sujeto pasivo: el destinatario es el sujeto pasivo" in text
    page, pdf = rendered["F2026A11"]  # an export: the operation gives the reason
    for text in (page, pdf):
        assert "Exempt from VAT under Article 21 of the Spanish VAT Act" in text
    page, pdf = rendered["F2026A12"]  # quantity and price not printed
    for text in (page, pdf):
        assert "Montaje 1 50,00 € 21 % 50,00 €" in text
        assert "7,77" not in text and "23,31" not in text
        assert "Tornillería 3" not in text


def test_csv_export_shows_facturascripts_totals(csv_export: LoadResult, demo_dir: Path) -> None:
    assert not [w for w in csv_export.warnings if "FacturaScripts' rules" in w.message]
    assert_facturascripts_totals(csv_export.export, rendered_invoices(csv_export.export, demo_dir))


def test_suplidos_header_discounts_and_hidden_columns_in_the_model(
    csv_export: LoadResult,
) -> None:
    f7 = invoices(csv_export.export)["F2026A7"]
    suplido = f7.lines[2]
    assert (suplido.disbursement, suplido.tax_rate) == (True, Decimal(21))
    assert f7.totals.disbursements == Money(Decimal("41.93"), "EUR")
    assert f7.totals.discounts == (Decimal(5), Decimal(3))
    assert f7.totals.subtotal == Money(Decimal("117.10"), "EUR")
    hidden = invoices(csv_export.export)["F2026A12"].lines[1]
    assert (hidden.show_quantity, hidden.show_price) == (False, False)


def test_exemptions_come_from_the_line_else_the_operation(csv_export: LoadResult) -> None:
    found = {
        n: [(str(g.rate), g.exemptions) for g in invoices(csv_export.export)[n].taxes]
        for n in ("F2026A9", "F2026A10", "F2026A11")
    }
    assert found == {
        "F2026A9": [("0", ("ES_20",))],  # lineasfacturascli.excepcioniva
        "F2026A10": [("0", ("ES_84",))],
        "F2026A11": [("0", ("ES_21",))],  # operacion exportacion (CalculatorModSpain)
    }


def rewrite(folder: Path, resource: str, change: Any) -> None:
    path = folder / f"{resource}.json"
    rows = json.loads(path.read_text())
    change(rows)
    path.write_text(json.dumps(rows))


def test_the_tax_method_setting_and_the_other_method(tmp_path: Path) -> None:
    folder = write_json(tmp_path / "x")
    result = load_export(folder, LoadOptions(today=TODAY))
    # F2026A13 was saved under price-adjusted; the setting says classic: the other
    # method gives its stored totals, so its breakdown is the price-adjusted one.
    (vat,) = invoices(result.export)["F2026A13"].taxes
    assert (vat.base.amount, vat.amount.amount) == (Decimal("0.63"), Decimal("0.02"))
    assert not [w for w in result.warnings if "FacturaScripts' rules" in w.message]


def test_stored_totals_win_and_check_warns(tmp_path: Path) -> None:
    folder = write_json(tmp_path / "x")

    def edit(rows: list[dict[str, Any]]) -> None:
        f6 = next(r for r in rows if r["codigo"] == "F2026A6")
        f6["totaliva"], f6["total"] = 2.58, 14.92  # what rounding each line would give

    rewrite(folder, "facturaclientes", edit)
    result = load_export(folder, LoadOptions(today=TODAY))
    f6 = invoices(result.export)["F2026A6"]
    assert (f6.totals.tax.amount, f6.totals.total.amount) == (Decimal("2.58"), Decimal("14.92"))
    (vat,) = f6.taxes
    assert vat.amount.amount == Decimal("2.58")  # the one VAT row shows the stored total
    (warning,) = [w for w in result.warnings if "FacturaScripts' rules" in w.message]
    assert warning.field == "totaliva" and "totaliva 2.59" in warning.message
    assert "the portal shows the document's totals" in warning.message


def test_the_tax_method_is_read_from_the_settings(tmp_path: Path) -> None:
    folder = write_json(tmp_path / "x")

    def adjusted(rows: list[dict[str, Any]]) -> None:
        rows[0]["properties"] = json.dumps({"taxcalculationmethod": "price-adjusted"})

    def edit(rows: list[dict[str, Any]]) -> None:
        f6 = next(r for r in rows if r["codigo"] == "F2026A6")
        f6["totaliva"], f6["total"] = 2.58, 14.92

    rewrite(folder, "settings", adjusted)
    rewrite(folder, "facturaclientes", edit)
    result = load_export(folder, LoadOptions(today=TODAY))
    (warning,) = [w for w in result.warnings if "FacturaScripts' rules" in w.message]
    # Price-adjusted: ten times round(1.234 × 1.21) − round(1.234) = 10 × 0.26.
    assert "totaliva 2.60" in warning.message and "(price-adjusted tax method)" in warning.message


def test_an_untaxed_line_without_a_reason_is_a_warning(tmp_path: Path) -> None:
    folder = write_json(tmp_path / "x")

    def drop_reason(rows: list[dict[str, Any]]) -> None:
        next(r for r in rows if r["excepcioniva"] == "ES_20")["excepcioniva"] = None

    rewrite(folder, "lineafacturaclientes", drop_reason)
    result = load_export(folder, LoadOptions(today=TODAY))
    (warning,) = [w for w in result.warnings if "0 % VAT" in w.message]
    assert warning.message.startswith("F2026A9: lines at 0 % VAT with no excepcioniva")
    (vat,) = invoices(result.export)["F2026A9"].taxes
    assert vat.exemptions == ()


def test_withholding_rows_that_cannot_add_up_are_a_warning(tmp_path: Path) -> None:
    # Calculator.php rounds totalirpf once over every line; rows per IRPF rate rounded
    # apart can miss it by a cent: 0.0045 + 0.0049 is 0.01, but each row rounds to 0.00.
    folder = write_json(tmp_path / "x")

    def two_rates(rows: list[dict[str, Any]]) -> None:
        f9 = [r for r in rows if r["idfactura"] == 9]
        f9[0].update(cantidad=1.0, pvpunitario=0.03, pvpsindto=0.03, pvptotal=0.03, irpf=15.0)
        extra = dict(f9[0], idlinea=999, pvpunitario=0.07, pvpsindto=0.07, pvptotal=0.07)
        rows.append(extra | {"irpf": 7.0})

    def totals(rows: list[dict[str, Any]]) -> None:
        f9 = next(r for r in rows if r["codigo"] == "F2026A9")
        f9.update(neto=0.1, netosindto=0.1, totalirpf=0.01, total=0.09)

    rewrite(folder, "lineafacturaclientes", two_rates)
    rewrite(folder, "facturaclientes", totals)
    result = load_export(folder, LoadOptions(today=TODAY))
    assert not [w for w in result.warnings if "FacturaScripts' rules" in w.message]
    (warning,) = [w for w in result.warnings if "rows per rate" in w.message]
    assert warning.field == "totalirpf" and "add up to totalirpf 0.00" in warning.message
    assert invoices(result.export)["F2026A9"].totals.withholding.amount == Decimal("0.01")
