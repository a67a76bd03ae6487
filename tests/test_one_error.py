"""One problem, one error: a bad cell is reported once, where it is, and what could not be
checked because of it is said in a note — while independent problems are all reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portalgen.errors import InputError
from portalgen.load import LoadOptions, load_export
from tests.bundles import TABLES, small_bundle_json, write_json_bundle, write_small_bundle
from tests.conftest import TODAY
from tests.fs_fixture import write_json as write_facturascripts

OPTIONS = LoadOptions(today=TODAY)
SECOND_RECEIPT = {
    "number": "R-2",
    "invoice": "F2026-001",
    "amount": "0.00",
    "due_date": "2026-06-30",
}


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_export(path, OPTIONS)
    return [str(p) for p in info.value.problems]


def tables(**changes: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The small bundle with a second receipt for F2026-001 and cells changed by table."""
    out = {name: [dict(row) for row in rows] for name, rows in TABLES.items()}
    out["payments"].append(dict(SECOND_RECEIPT))
    for name, change in changes.items():
        table, _, index = name.rpartition("_")
        out[table][int(index)].update(change)
    return out


def test_payments_of_an_unreadable_invoice_are_one_note(tmp_path: Path) -> None:
    bad = tables(invoices_0={"issue_date": "31/05/2026"}, customers_1={"tax_id": "X"})
    found = problems(write_small_bundle(tmp_path, bad))
    assert found == [
        "invoices.csv, row 2, field 'issue_date': expected a date as YYYY-MM-DD "
        "(day-month-year is not accepted), found '31/05/2026'",
        "note: payments.csv, rows 2, 3: 2 payments of invoice 'F2026-001' not checked "
        "against it because of the error in invoices.csv, row 2",
        # An independent problem is still reported.
        "customers.csv, row 3, field 'tax_id': 'X' is not a valid Spanish NIF/CIF/NIE "
        "(wrong format or check letter)",
    ]


def test_the_same_in_json_names_each_payment(tmp_path: Path) -> None:
    data = small_bundle_json(tables())
    data["invoices"][0]["issue_date"] = "yesterday"
    found = problems(write_json_bundle(tmp_path, data))
    assert found[1:] == [
        "note: export.json, $.payments[0], $.payments[1]: 2 payments of invoice 'F2026-001' "
        "not checked against it because of the error in export.json, $.invoices[0]",
    ]


def test_a_bad_price_is_one_error_not_a_line_sum_too(tmp_path: Path) -> None:
    bad = tables(invoice_lines_0={"unit_price": "1.500,00"})
    found = problems(write_small_bundle(tmp_path, bad))
    assert found == [
        "invoice_lines.csv, row 2, field 'unit_price': expected a number with a dot for "
        "decimals like 1234.56, found '1.500,00'",
        "note: invoices.csv, row 2: the totals were not compared with the lines because of "
        "the error in invoice_lines.csv, row 2",
    ]


def test_documents_of_an_unreadable_customer_are_one_note(tmp_path: Path) -> None:
    found = problems(write_small_bundle(tmp_path, tables(customers_0={"emails": "nobody"})))
    assert found[0].startswith("customers.csv, row 2, field 'emails': expected an email")
    assert found[1:] == [
        "note: quotes.csv, row 2: 1 quote of customer 'C1' not checked against it "
        "because of the error in customers.csv, row 2",
        "note: invoices.csv, row 2: 1 invoice of customer 'C1' not checked against it "
        "because of the error in customers.csv, row 2",
    ]


def test_an_invoice_of_an_unknown_customer_is_one_error(tmp_path: Path) -> None:
    found = problems(write_small_bundle(tmp_path, tables(invoices_0={"customer": "C9"})))
    assert found == [
        "invoices.csv, row 2, field 'customer': no customer with code 'C9'",
        "note: payments.csv, rows 2, 3: 2 payments of invoice 'F2026-001' not checked "
        "against it because of the error in invoices.csv, row 2",
    ]


def test_facturascripts_a_bad_total_is_one_error(tmp_path: Path) -> None:
    folder = write_facturascripts(tmp_path / "fs")
    path = folder / "facturaclientes.json"
    rows = json.loads(path.read_text())
    rows[0]["neto"] = "855,00"  # F2026A1, which has a receipt
    path.write_text(json.dumps(rows))
    found = [p for p in problems(folder) if not p.startswith("warning: ")]
    assert found == [
        "facturaclientes.json, $[0], field 'neto': expected a number like 1234.56, found '855,00'",
        # Its credit note and its receipt, not reported as pointing at nothing.
        "note: facturaclientes.json, $[2]: 1 corrective invoice of invoice 'F2026A1' not checked "
        "against it because of the error in facturaclientes.json, $[0]",
        "note: reciboclientes.json, $[0]: 1 payment of invoice 'F2026A1' not checked "
        "against it because of the error in facturaclientes.json, $[0]",
    ]


def test_strict_turns_warnings_not_notes_into_errors(tmp_path: Path) -> None:
    bad = tables(invoice_lines_0={"unit_price": "x"})
    with pytest.raises(InputError) as info:
        load_export(write_small_bundle(tmp_path, bad), LoadOptions(today=TODAY, strict=True))
    assert [p.severity for p in info.value.problems] == ["error", "note"]
    assert info.value.summary == "the export has 1 error"


def test_a_broken_lines_header_is_one_error_and_one_note(tmp_path: Path) -> None:
    export_dir = write_small_bundle(tmp_path)
    path = export_dir / "invoice_lines.csv"
    path.write_text(path.read_text().replace("unit_price", "price", 1))
    found = problems(export_dir)
    assert found == [
        "invoice_lines.csv, header, field 'unit_price': this required column is missing",
        "warning: invoice_lines.csv, header, field 'price': unknown column, ignored; "
        "did you mean 'unit_price'?",
        "note: invoices.csv, rows 2, 3: the totals of 2 documents were not compared with "
        "their lines because of the error in invoice_lines.csv, header",
    ]
