"""What loading does to hold a large export in less memory (docs/publish.md, "Memory at
scale") changes nothing a user sees.

A CSV bundle is read one table at a time, yet its problems are reported in the order they
were when every table was read first: what reading finds (files, headers, ragged rows)
table by table, then what building finds, each naming file, row and field. Equal amounts
share one object, yet every amount stays exactly as the export wrote it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portalgen.errors import InputError
from portalgen.load import LoadOptions, load_export
from tests.bundles import PAYMENTS, TABLES, write_small_bundle
from tests.conftest import TODAY

OPTIONS = LoadOptions(today=TODAY)


def damaged() -> dict[str, list[dict[str, Any]]]:
    """Problems in early tables found while building, in later ones while reading."""
    out = {name: [dict(row) for row in rows] for name, rows in TABLES.items()}
    out["customers"][1]["tax_id"] = "X"  # building customers.csv
    out["invoices"][0]["issue_date"] = "31/05/2026"  # building invoices.csv
    out["invoices"][1]["colour"] = "blue"  # reading: an unknown column
    out["invoice_lines"].append({"document": "F2026-999", "description": "Stray"})
    out["invoice_lines"][1]["quantity"] = "1,5"  # building invoice_lines.csv
    out["quote_lines"][0]["unit_price"] = "cheap"  # building quote_lines.csv
    out["quotes"][0]["valid_until"] = "2026-05-01"  # validation: before its issue date
    for payment in out["payments"]:  # reading: a required column missing
        del payment["due_date"]
    return out


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_export(path, OPTIONS)
    return [str(p) for p in info.value.problems]


EXPECTED = [
    # What reading finds, table by table in schema.TABLES' order:
    "warning: invoices.csv, header, field 'colour': unknown column, ignored",
    "invoices.csv, row 4: the row has 33 cells but the header has 10",
    "payments.csv, header, field 'due_date': this required column is missing",
    # then what building finds: quotes' lines, quotes, invoices' lines, invoices...
    "quote_lines.csv, row 2, field 'unit_price': expected a number like 1234.56, found 'cheap'",
    "note: quotes.csv, row 2: the totals were not compared with the lines "
    "because of the error in quote_lines.csv, row 2",
    "invoice_lines.csv, row 3, field 'quantity': expected a number with a dot for decimals "
    "like 1234.56, found '1,5'",
    "note: invoices.csv, row 3: the totals were not compared with the lines "
    "because of the error in invoice_lines.csv, row 3",
    "invoice_lines.csv, row 4, field 'quantity': this field is required but empty",
    "invoice_lines.csv, row 4, field 'unit_price': this field is required but empty",
    "invoice_lines.csv, field 'document': no invoice numbered 'F2026-999' in invoices.csv",
    "invoices.csv, row 2, field 'issue_date': expected a date as YYYY-MM-DD "
    "(day-month-year is not accepted), found '31/05/2026'",
    # ...and validating.
    "customers.csv, row 3, field 'tax_id': 'X' is not a valid Spanish NIF/CIF/NIE "
    "(wrong format or check letter)",
    "quotes.csv, row 2, field 'valid_until': the quote expires before it was issued",
]


def test_problems_keep_their_order_when_tables_are_read_one_at_a_time(tmp_path: Path) -> None:
    folder = write_small_bundle(tmp_path / "export", damaged())
    with (folder / "invoices.csv").open("a", encoding="utf-8") as fh:
        fh.write("F2026-003,C1,2026-06-02,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n")  # too many cells
    assert problems(folder) == EXPECTED


def test_equal_amounts_written_differently_stay_as_written(tmp_path: Path) -> None:
    receipts = [
        {**PAYMENTS[0], "number": "R-1", "amount": "0.00"},
        {**PAYMENTS[0], "number": "R-2", "amount": "-0.00"},  # equal to 0.00, not the same
        {**PAYMENTS[0], "number": "R-3", "amount": "0.00"},
        {**PAYMENTS[0], "number": "R-4", "amount": "121.00"},
    ]
    folder = write_small_bundle(tmp_path / "export", {**TABLES, "payments": receipts})
    payments = load_export(folder, OPTIONS).export.payments
    assert [str(p.amount.amount) for p in payments] == ["0.00", "-0.00", "0.00", "121.00"]


def test_a_number_and_an_amount_written_alike_each_keep_their_own_form(tmp_path: Path) -> None:
    # An amount is parsed without the table of shared numbers (only its 2-decimal form is
    # kept), and the tables are dropped after each load: an amount "0" read first (a
    # quote's withholding) becomes 0.00 and a discount "0" read later stays 0, in this
    # load and in the next one of the same process.
    quotes = [{**TABLES["quotes"][0], "withholding": "0"}]
    lines = [{**TABLES["invoice_lines"][0], "discount": "0"}, *TABLES["invoice_lines"][1:]]
    folder = write_small_bundle(
        tmp_path / "export", {**TABLES, "quotes": quotes, "invoice_lines": lines}
    )
    for _ in range(2):
        export = load_export(folder, OPTIONS).export
        assert str(export.quotes[0].totals.withholding.amount) == "0.00"
        assert str(export.invoices[0].lines[0].discount) == "0"
