"""Realistic synthetic billing data: a Spanish wholesaler and its customers.

`generate_demo` writes a native CSV bundle (docs/export-format.md) that passes
`portalgen check`: valid NIF/CIF numbers, IVA at 21/10/4 %, recargo de equivalencia for
retailers, IRPF withheld on warehouse rentals, invoices paid / partly paid / unpaid /
overdue, quotes in every state, orders in every status (an open order is still expected,
a delivered one has its date), credit notes, shared files (a multi-page supply contract
and maintenance report among them).
Everything follows from the seed and `today`: the same pair gives the same bytes.
Email addresses use the reserved ``.example`` domain, so a demo never mails anyone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from portalgen.demo.company import COMPANY_CIF, COMPANY_IBAN, demo_config_text
from portalgen.demo.documents import Doc, customer_documents, number_documents, receipts
from portalgen.demo.files import write_bundle, write_originals, write_shared
from portalgen.demo.people import new_customer

__all__ = ["COMPANY_CIF", "COMPANY_IBAN", "DemoSummary", "demo_config_text", "generate_demo"]


@dataclass(frozen=True)
class DemoSummary:
    customers: int
    documents: dict[str, int]
    path: Path


def generate_demo(
    out: Path,
    *,
    customers: int = 25,
    seed: int = 1,
    today: date | None = None,
    originals: bool = False,
) -> DemoSummary:
    """Write a demo bundle into `out` (created if needed). Existing data files are replaced."""
    today = today or date.today()
    rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not security
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
    write_bundle(out, people, docs, payments)
    write_shared(rng, out, people, today)
    if originals:
        write_originals(out, docs)
    counts = {
        k: sum(1 for d in docs if d.kind == k)
        for k in ("quote", "order", "delivery_note", "invoice")
    }
    counts["payment"] = len(payments)
    return DemoSummary(len(people), counts, out)
