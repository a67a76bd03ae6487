"""The demo made customer by customer, in a few passes over one random stream.

The random stream is drawn in this order: every customer, every customer's documents,
the receipts of every invoice, every customer's shared documents. Each pass replays the
part of the stream it needs from a saved state, so no pass holds more than one
customer's documents (plus a small key per document and per receipt): the customers are
remade from the start of the stream whenever a pass needs them again.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
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
from portalgen.demo.numbering import DocKey, Numbering, series_of
from portalgen.demo.people import new_customer
from portalgen.demo.tables import RankedTable, ReceiptsTable, write_csv

State = tuple[Any, ...]


@dataclass(frozen=True)
class Plan:
    out: Path
    customers: int
    today: date
    originals: bool
    start: State  # the random stream's state before the first customer


def people(plan: Plan) -> Iterator[dict[str, Any]]:
    """The customers, remade from the start of the stream by a generator of their own."""
    rng = random.Random()  # noqa: S311 - reproducible fake data, not security
    rng.setstate(plan.start)
    for index in range(1, plan.customers + 1):
        yield new_customer(rng, index)


def write_customers(plan: Plan, rng: random.Random) -> None:
    """customers.csv, drawing the customers from `rng` (left after the last customer)."""
    made = (new_customer(rng, index) for index in range(1, plan.customers + 1))
    write_csv(plan.out / "customers.csv", CUSTOMER_COLUMNS, made)


def number_all(plan: Plan, rng: random.Random) -> Numbering:
    """Every document's number, from a first pass over the documents (`rng` is left after
    the last customer's documents, where the receipts begin)."""
    keys: list[DocKey] = []
    for person in people(plan):
        for doc in customer_documents(rng, person, plan.today):
            keys.append(DocKey(doc.issue, doc.kind, doc.customer, len(keys), series_of(doc.extra)))
    return Numbering(keys)


def write_documents(
    plan: Plan, numbering: Numbering, docs_rng: random.Random, rng: random.Random
) -> int:
    """The document tables and receipts: each customer's documents made again from
    `docs_rng`, numbered, given their receipts from `rng`; returns the receipts' count."""
    with ExitStack() as stack:
        tables = {kind: _tables(plan, kind, numbering.counts[kind]) for kind in TABLES}
        receipts_table = ReceiptsTable(plan.out)
        for pair in tables.values():
            stack.callback(pair[0].close)
            stack.callback(pair[1].close)
        stack.callback(receipts_table.close)
        made = 0
        for person in people(plan):
            docs = customer_documents(docs_rng, person, plan.today)
            for doc in docs:
                doc.number = numbering.numbers[made]
                doc.extra["series"] = series_of(doc.extra)
                made += 1
            for doc in docs:
                if doc.kind == "invoice":
                    for receipt in receipts(rng, doc, plan.today):
                        receipts_table.add(receipt)
            for row, doc in zip(numbering.rows[made - len(docs) : made], docs, strict=True):
                _add(plan, tables[doc.kind], row, doc)
        for kind, (documents, lines) in tables.items():
            documents.write(plan.out / f"{TABLES[kind]}.csv")
            lines.write(plan.out / f"{kind}_lines.csv")
        receipts_table.write(plan.out / "payments.csv")
        return len(receipts_table)


def _tables(plan: Plan, kind: str, size: int) -> tuple[RankedTable, RankedTable]:
    return (
        RankedTable(plan.out, document_columns(kind), size),
        RankedTable(plan.out, line_columns(), size),
    )


def _add(plan: Plan, tables: tuple[RankedTable, RankedTable], row: int, doc: Doc) -> None:
    documents, lines = tables
    documents.add(row, [document_row(doc)])
    lines.add(row, line_rows(doc))
    if plan.originals:
        write_original(plan.out, doc)


def write_all_shared(plan: Plan, rng: random.Random) -> None:
    for person in people(plan):
        write_shared(rng, plan.out, person, plan.today)
