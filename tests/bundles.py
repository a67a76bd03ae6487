"""Small, known-good bundles written by tests, and helpers to damage them on purpose."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

CUSTOMERS = [
    {
        "code": "C1",
        "name": "Ferretería García S.L.",
        "tax_id": "B98765431",
        "emails": "admin@garcia.example; compras@garcia.example",
        "language": "es",
        "street": "Calle Mayor 1",
        "postal_code": "46001",
        "city": "Valencia",
        "province": "Valencia",
        "country": "ES",
        "iban": "ES9121000418450200051332",
    },
    {
        "code": "C2",
        "name": "Coastal Lettings Ltd",
        "tax_id": "12345678Z",
        "emails": "office@coastal.example",
        "language": "en",
        "country": "ES",
    },
]
INVOICES = [
    {
        "number": "F2026-001",
        "customer": "C1",
        "issue_date": "2026-05-01",
        "due_date": "2026-05-31",
        "base": "100.00",
        "tax": "21.00",
        "surcharge": "0.00",
        "withholding": "0.00",
        "total": "121.00",
    },
    {
        "number": "F2026-002",
        "customer": "C2",
        "issue_date": "2026-06-01",
        "due_date": "2026-07-01",
        "total": "1020.00",
    },
]
INVOICE_LINES = [
    {
        "document": "F2026-001",
        "description": "Tornillos",
        "quantity": "10",
        "unit_price": "10.00",
        "tax_rate": "21",
    },
    {
        "document": "F2026-002",
        "description": "Alquiler",
        "quantity": "1",
        "unit_price": "1000.00",
        "tax_rate": "21",
        "withholding_rate": "19",
    },
]
QUOTES = [
    {
        "number": "P2026-001",
        "customer": "C1",
        "issue_date": "2026-06-01",
        "valid_until": "2026-07-01",
        "status": "pending",
    },
]
QUOTE_LINES = [
    {
        "document": "P2026-001",
        "description": "Pintura",
        "quantity": "2",
        "unit_price": "35.50",
        "tax_rate": "21",
        "discount": "10",
    },
]
PAYMENTS = [
    {
        "number": "R-1",
        "invoice": "F2026-001",
        "amount": "121.00",
        "due_date": "2026-05-31",
        "paid_date": "2026-05-20",
        "method": "transfer",
    },
]

TABLES: dict[str, list[dict[str, Any]]] = {
    "customers": CUSTOMERS,
    "invoices": INVOICES,
    "invoice_lines": INVOICE_LINES,
    "quotes": QUOTES,
    "quote_lines": QUOTE_LINES,
    "payments": PAYMENTS,
}


def write_csv(path: Path, rows: list[dict[str, Any]], delimiter: str = ",") -> None:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns, delimiter=delimiter, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_small_bundle(
    directory: Path, tables: dict[str, list[dict[str, Any]]] | None = None
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in (tables or TABLES).items():
        write_csv(directory / f"{name}.csv", rows)
    return directory


def small_bundle_json(tables: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The same data as export.json: lines nested in their documents, lists for emails."""
    tables = tables or TABLES
    data: dict[str, Any] = {}
    for name, rows in tables.items():
        if name.endswith("_lines"):
            continue
        data[name] = [dict(row) for row in rows]
    for kind in ("quote", "order", "delivery_note", "invoice"):
        for doc in data.get(f"{kind}s", []):
            doc["lines"] = [
                {k: v for k, v in line.items() if k != "document"}
                for line in tables.get(f"{kind}_lines", [])
                if line["document"] == doc["number"]
            ]
    for customer in data["customers"]:
        customer["emails"] = [e.strip() for e in customer["emails"].split(";")]
    return data


def write_json_bundle(directory: Path, data: dict[str, Any] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "export.json"
    path.write_text(
        json.dumps(data or small_bundle_json(), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return path


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Change one cell; `row` is the spreadsheet row number (the header is row 1)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    columns = list(rows[0].keys())
    if column not in columns:
        columns.append(column)
    rows[row - 2][column] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
