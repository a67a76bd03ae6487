"""Combining the exports of several sources into one, before validation.

Rules (docs/readers.md, "Combining sources"):

- Customers with a real code (native bundle, FacturaScripts) are the master data. The
  same code in two sources is one customer when the records agree, and an error when
  they differ.
- Customers from e-invoices (UBL, Facturae) have a code derived from their tax id. When
  a coded customer has the same tax id, the e-invoice's documents are filed under that
  customer's code and the e-invoice party is dropped. Otherwise the same tax id in
  several files is one customer (emails from every file are kept).
- The same document number (of one kind) in two sources is one document when customer,
  issue date, currency and all totals agree: the first source's record is kept with its
  receipts, the later one's receipts for it are dropped, and its original PDF fills in
  when the first has none. When they disagree it is an error naming both places.
- Within one e-invoice source, the same document twice (a re-sent file) is read once
  with a warning; within a native bundle or FacturaScripts export, duplicates are left
  to validation, which reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from portalgen.domain.model import (
    AnyDocument,
    Customer,
    Export,
    Origin,
    Payment,
)
from portalgen.load.einvoice import tax_key
from portalgen.load.problems import ProblemLog


@dataclass(frozen=True)
class Source:
    export: Export
    issued: bool  # documents already sent (e-invoices): see validate.Issued


@dataclass(frozen=True)
class Issued:
    """Records that come only from already-issued e-invoices.

    Validation reports some of their problems as warnings instead of errors: the document
    was sent as it is, so an invalid buyer VAT number or a credit note correcting an
    invoice that is not in the export must not stop the customer from seeing it.
    """

    customers: frozenset[str] = frozenset()
    invoices: frozenset[str] = frozenset()


_PARTS = ("quotes", "orders", "delivery_notes", "invoices")
_LABEL = {
    "quotes": "quote",
    "orders": "order",
    "delivery_notes": "delivery note",
    "invoices": "invoice",
}


def combine_sources(sources: Sequence[Source], log: ProblemLog) -> tuple[Export, Issued]:
    customers, renames, issued_customers = _customers(sources, log)
    documents = {part: _Placed() for part in _PARTS}
    payments: list[Payment] = []
    issued_invoices: set[str] = set()
    for index, source in enumerate(sources):
        rename = renames[index]
        dropped: set[str] = set()
        for part in _PARTS:
            for doc in getattr(source.export, part):
                doc = _renamed(doc, rename)
                if _place(documents[part], doc, index, source, part, log):
                    if part == "invoices" and source.issued:
                        issued_invoices.add(doc.key)
                elif part == "invoices":
                    dropped.add(doc.key)
        for payment in source.export.payments:
            if payment.invoice not in dropped:
                payments.append(_renamed(payment, rename))
    export = Export.assemble(
        customers,
        (doc for part in _PARTS for doc in documents[part].documents()),
        payments,
        _shared(sources, renames),
        " + ".join(s.export.source for s in sources),
    )
    return export, Issued(frozenset(issued_customers), frozenset(issued_invoices))


def _customers(
    sources: Sequence[Source], log: ProblemLog
) -> tuple[list[Customer], list[dict[str, str]], set[str]]:
    """The combined customers, the code renames per source, and the e-invoice-only codes."""
    kept: dict[str, tuple[Customer, int]] = {}
    repeated: list[Customer] = []  # a code twice in one source: validation reports it
    by_tax: dict[str, str] = {}
    renames: list[dict[str, str]] = [{} for _ in sources]
    for index, source in enumerate(sources):
        if source.issued:
            continue
        for customer in source.export.customers:
            first = kept.get(customer.code)
            if first is None:
                kept[customer.code] = (customer, index)
                by_tax.setdefault(tax_key(customer.tax_id), customer.code)
            elif first[1] == index:
                repeated.append(customer)
            elif not _same(first[0], customer, ("origin",)):
                _conflict(log, "customer code", customer.code, first[0], customer)
    issued: set[str] = set()
    for index, source in enumerate(sources):
        if not source.issued:
            continue
        for customer in source.export.customers:
            master = by_tax.get(tax_key(customer.tax_id))
            if master is not None:
                renames[index][customer.code] = master
                continue
            first = kept.get(customer.code)
            if first is None:
                kept[customer.code] = (customer, index)
                issued.add(customer.code)
            elif first[0].code in issued:
                emails = tuple(dict.fromkeys((*first[0].emails, *customer.emails)))
                kept[customer.code] = (replace(first[0], emails=emails), first[1])
            else:  # a coded customer whose code happens to be this tax id
                _conflict(log, "customer code", customer.code, first[0], customer)
    return [*(c for c, _ in kept.values()), *repeated], renames, issued


class _Placed:
    """The documents of one kind kept so far, found by number in constant time."""

    def __init__(self) -> None:
        self.items: list[tuple[AnyDocument, int]] = []
        self.first: dict[str, int] = {}  # key (number) → position of its first record

    def documents(self) -> tuple[AnyDocument, ...]:
        return tuple(doc for doc, _ in self.items)


def _place(
    placed: _Placed,
    doc: AnyDocument,
    index: int,
    source: Source,
    part: str,
    log: ProblemLog,
) -> bool:
    """Add `doc` unless it duplicates one already placed; False when it was dropped."""
    position = placed.first.get(doc.key)
    if position is None:
        placed.first[doc.key] = len(placed.items)
        placed.items.append((doc, index))
        return True
    other, other_index = placed.items[position]
    same_source = other_index == index
    if same_source and not source.issued:
        placed.items.append((doc, index))  # left to validation, which reports the duplicate
        return True
    if not _same_document(other, doc):
        _conflict(log, f"{_LABEL[part]} number", doc.number, other, doc)
        return False
    if same_source:
        log.warning(
            doc.origin,
            "",
            f"the same {_LABEL[part]} {doc.number} is also in {_where(other.origin)}; "
            "it is read once",
        )
    if other.original_pdf is None and doc.original_pdf is not None:
        placed.items[position] = (replace(other, original_pdf=doc.original_pdf), other_index)
    return False


_ESSENTIALS = ("customer_code", "issue_date", "currency", "totals")


def _same_document(a: AnyDocument, b: AnyDocument) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in _ESSENTIALS)


def _same(a: Any, b: Any, ignore: tuple[str, ...]) -> bool:
    return all(getattr(a, f.name) == getattr(b, f.name) for f in fields(a) if f.name not in ignore)


def _differences(a: Any, b: Any) -> list[str]:
    names = _ESSENTIALS if hasattr(a, "totals") else [f.name for f in fields(a)]
    return [n for n in names if n != "origin" and getattr(a, n) != getattr(b, n)]


def _conflict(log: ProblemLog, what: str, key: str, first: Any, later: Any) -> None:
    differ = ", ".join(_differences(first, later)) or "details"
    log.error(
        later.origin,
        "",
        f"{what} {key!r} is also in {_where(first.origin)} with different content "
        f"({differ}); keep one of them or make them agree",
    )


def _renamed(item: Any, rename: dict[str, str]) -> Any:
    code = rename.get(item.customer_code)
    return replace(item, customer_code=code) if code else item


def _shared(sources: Sequence[Source], renames: list[dict[str, str]]) -> tuple[Any, ...]:
    """Shared documents of every source; the same customer file twice is kept once."""
    seen: set[tuple[str, str]] = set()
    result = []
    for source, rename in zip(sources, renames, strict=True):
        for shared in source.export.documents:
            shared = _renamed(shared, rename)
            if (shared.customer_code, shared.name) not in seen:
                seen.add((shared.customer_code, shared.name))
                result.append(shared)
    return tuple(result)


def _where(origin: Origin) -> str:
    return ", ".join(p for p in (origin.file, origin.location) if p) or "another source"


__all__ = ["Issued", "Source", "combine_sources"]
