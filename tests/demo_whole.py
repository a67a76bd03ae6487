"""The demo as portalgen made it before it went customer by customer (44f11dc): every
customer, document and receipt held at once, numbered by one sort, each table written
whole. tests/test_demo.py checks that the streamed demo writes the same bytes. Only the
order of the work is copied here: the parts (customers, documents, receipts, rows and
files) are the package's own.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import Any

from portalgen.demo.documents import Doc, customer_documents, receipts
from portalgen.demo.files import (
    CUSTOMER_COLUMNS,
    TABLES,
    document_columns,
    document_row,
    line_columns,
    line_rows,
    write_original,
    write_shared,
)
from portalgen.demo.people import new_customer
from portalgen.demo.tables import write_csv

_PREFIX = {"quote": "P", "order": "PED", "delivery_note": "ALB", "invoice": "F"}
_RECEIPT_COLUMNS = ["number", "invoice", "customer", "amount", "due_date", "paid_date", "method"]


def number_documents(docs: list[Doc]) -> None:
    """Number each kind in date order, per year, like an invoicing program."""
    counters: dict[tuple[str, int, str], int] = {}
    for doc in sorted(docs, key=lambda d: (d.issue, d.kind, d.customer)):
        series = "R" if doc.extra.get("credit") else "A"
        key = (doc.kind, doc.issue.year, series)
        counters[key] = counters.get(key, 0) + 1
        doc.number = f"{_PREFIX[doc.kind]}{doc.issue.year}{series}-{counters[key]:05d}"
        doc.extra["series"] = series


def whole_demo(out: Path, *, customers: int, seed: int, today: date, originals: bool) -> None:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    people = [new_customer(rng, i) for i in range(1, customers + 1)]
    docs: list[Doc] = []
    payments: list[dict[str, Any]] = []
    for person in people:
        docs.extend(customer_documents(rng, person, today))
    number_documents(docs)
    for doc in docs:
        if doc.kind == "invoice":
            payments.extend(receipts(rng, doc, today))
    for i, payment in enumerate(sorted(payments, key=lambda p: (p["due_date"], p["invoice"]))):
        payment["number"] = f"R{payment['due_date'][:4]}-{i + 1:06d}"
    write_csv(out / "customers.csv", CUSTOMER_COLUMNS, people)
    for kind, table in TABLES.items():
        mine = sorted((d for d in docs if d.kind == kind), key=lambda d: d.number)
        write_csv(out / f"{table}.csv", document_columns(kind), map(document_row, mine))
        lines = [row for doc in mine for row in line_rows(doc)]
        write_csv(out / f"{kind}_lines.csv", line_columns(), lines)
    write_csv(out / "payments.csv", _RECEIPT_COLUMNS, payments)
    for person in people:
        write_shared(rng, out, person, today)
    if originals:
        for doc in docs:
            write_original(out, doc)
