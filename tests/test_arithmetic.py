"""The arithmetic a customer sees, pinned with values where a wrong rule shows.

Each test reads a bundle through `load_export` (the path every command takes) and looks
at what the portal shows: a document's totals, its rendered page and PDF.
- Money rounds half up (0.125 → 0.13, 1.005 → 1.01, 2.665 → 2.67); banker's rounding
  (half even) would give 0.12, 1.00 and 2.66.
- Declared totals may differ from the lines by one cent per tax group, not more.
- The VERI*FACTU QR's `fecha` is day-month-year (05-03-2026 is 5 March, not 3 May).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from portalgen.domain.model import Money
from portalgen.domain.verifactu import parse_qr_url
from portalgen.errors import InputError
from portalgen.load import LoadOptions, load_export
from portalgen.render import build_context, plan_portal
from tests.bundles import CUSTOMERS, write_small_bundle
from tests.conftest import TODAY
from tests.render_fixtures import render_settings
from tests.test_render_pdf import decode_qr_codes, pdf_text

OPTIONS = LoadOptions(today=TODAY)
QR = "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR"

# Half up and half even differ on every one of these.
LINES = [
    {"description": "Arandelas", "quantity": "3", "unit_price": "0.335", "tax_rate": "21"},
    {"description": "Tacos", "quantity": "1", "unit_price": "1.25", "tax_rate": "10"},
    {"description": "Brocas", "quantity": "1", "unit_price": "2.665", "tax_rate": "0"},
]
# 1.005 → 1.01 (IVA 21 %: 0.2121 → 0.21); 1.25 at 10 % → 0.125 → 0.13; 2.665 → 2.67.
BASE, TAX, TOTAL = "4.93", "0.34", "5.27"


def bundle(directory: Path, **invoice: str) -> Path:
    row = {"number": "F2026-050", "customer": "C1", "issue_date": "2026-03-05", **invoice}
    lines = [{"document": "F2026-050", **line} for line in LINES]
    tables: dict[str, list[dict[str, Any]]] = {
        "customers": CUSTOMERS[:1],
        "invoices": [row],
        "invoice_lines": lines,
    }
    return write_small_bundle(directory, tables)


def files_of(export_dir: Path, demo_dir: Path) -> dict[str, bytes]:
    export = load_export(export_dir, OPTIONS).export
    context = build_context(render_settings(demo_dir), today=TODAY)
    return {f.path: f.render() for f in plan_portal(export.customer_data("C1"), context)}


def test_totals_computed_from_lines_round_half_up(tmp_path: Path) -> None:
    invoice = load_export(bundle(tmp_path), OPTIONS).export.invoices[0]
    assert [line.net for line in invoice.lines] == [
        Decimal("1.01"),
        Decimal("1.25"),
        Decimal("2.67"),
    ]
    totals = invoice.totals
    assert (totals.base, totals.tax, totals.total) == tuple(
        Money(Decimal(v), "EUR") for v in (BASE, TAX, TOTAL)
    )


def test_the_page_shows_amounts_rounded_half_up(tmp_path: Path, demo_dir: Path) -> None:
    # Totals declared as the invoicing program issued them; the breakdown comes from lines.
    export_dir = bundle(tmp_path, base=BASE, tax=TAX, surcharge="0", withholding="0", total=TOTAL)
    page = lxml_html.fromstring(files_of(export_dir, demo_dir)["invoices/F2026-050.html"])
    amounts = [a.replace("\u00a0", " ") for a in page.xpath("//td[@class='num']/text()")]
    assert {"1,01 €", "1,25 €", "2,67 €"} <= set(amounts)  # each line's amount
    rows = [" ".join(r.text_content().split()) for r in page.xpath("//table[@class='taxes']//tr")]
    assert any("10 %" in r and "1,25 €" in r and "0,13 €" in r for r in rows), rows
    assert any("21 %" in r and "1,01 €" in r and "0,21 €" in r for r in rows), rows


@pytest.mark.parametrize(
    ("tax", "warned"),
    [
        ("0.37", False),  # 3 cents off with 3 tax groups (0 %, 10 %, 21 %): rounding
        ("0.31", False),
        ("0.38", True),  # 4 cents off: the lines do not add up to the invoice
        ("0.30", True),
    ],
)
def test_declared_totals_may_differ_by_one_cent_per_tax_group(
    tmp_path: Path, tax: str, warned: bool
) -> None:
    total = str(Decimal(BASE) + Decimal(tax))
    export_dir = bundle(tmp_path, base=BASE, tax=tax, surcharge="0", withholding="0", total=total)
    result = load_export(export_dir, OPTIONS)
    messages = [f"{p.field}: {p.message}" for p in result.warnings]
    if warned:
        assert messages == [
            f"tax: the tax is {tax} EUR but the lines add up to {TAX} EUR",
            f"total: the total is {total} EUR but the lines add up to {TOTAL} EUR",
        ]
    else:
        assert messages == []
    assert result.export.invoices[0].totals.tax == Money(Decimal(tax), "EUR")  # shown as issued


def test_the_verifactu_date_is_day_month_year(tmp_path: Path, demo_dir: Path) -> None:
    url = f"{QR}?nif=B98765431&numserie=F2026-050&fecha=05-03-2026&importe={TOTAL}"
    export_dir = bundle(tmp_path, verifactu_qr_url=url)
    pdf = files_of(export_dir, demo_dir)["invoices/F2026-050.pdf"]
    scanned = decode_qr_codes(pdf, tmp_path)[0]
    assert scanned == url
    assert parse_qr_url(scanned).fecha.isoformat() == "2026-03-05"  # the invoice's date
    assert "5 mar 2026" in pdf_text(pdf)


def test_a_verifactu_date_with_day_and_month_swapped_is_refused(tmp_path: Path) -> None:
    url = f"{QR}?nif=B98765431&numserie=F2026-050&fecha=03-05-2026&importe={TOTAL}"
    with pytest.raises(InputError) as info:
        load_export(bundle(tmp_path, verifactu_qr_url=url), OPTIONS)
    assert [str(p) for p in info.value.problems] == [
        "invoices.csv, row 2, field 'verifactu_qr_url': "
        "the QR date 03-05-2026 is not the issue date 05-03-2026"
    ]
