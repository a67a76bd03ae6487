"""Realistic synthetic billing data: a Spanish wholesaler and its customers.

`generate_demo` writes a native CSV bundle (docs/export-format.md) that passes
`portalgen check`: valid NIF/CIF numbers, IVA at 21/10/4 %, recargo de equivalencia for
retailers, IRPF withheld on warehouse rentals, invoices paid / partly paid / unpaid /
overdue, quotes in every state, orders in every status (an open order is still expected,
a delivered one has its date), credit notes, shared files (a multi-page supply contract
and maintenance report among them).
Everything follows from the seed and `today`: the same pair gives the same bytes.
Email addresses use the reserved ``.example`` domain, so a demo never mails anyone.
It is made customer by customer (portalgen/demo/stream.py), so its memory does not grow
with the number of customers' documents.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from portalgen.demo.company import COMPANY_CIF, COMPANY_IBAN, demo_config_text
from portalgen.demo.stream import (
    Plan,
    number_all,
    write_all_shared,
    write_customers,
    write_documents,
)

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
    rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not security
    plan = Plan(out, customers, today or date.today(), originals, rng.getstate())
    out.mkdir(parents=True, exist_ok=True)
    write_customers(plan, rng)
    documents_start = rng.getstate()
    numbering = number_all(plan, rng)
    docs_rng = random.Random()  # noqa: S311 - as above
    docs_rng.setstate(documents_start)
    payments = write_documents(plan, numbering, docs_rng, rng)
    write_all_shared(plan, rng)
    return DemoSummary(customers, {**numbering.counts, "payment": payments}, out)
