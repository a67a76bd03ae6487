"""The export as portalgen read it, as plain JSON data: what `portalgen check --json` prints.

Staff compare it with their invoicing program; scripts read it. Every record keeps the
model's field names; amounts, quantities and rates are strings holding the exact decimal
(never floats); dates are ISO 8601. Each document's lines, tax breakdown and totals are
taken from `portalgen.render.views.document_body`, the very function the pages and PDFs
are rendered from, so what is printed here is what the customer will see — not a second
computation. The shape is documented in docs/export-format.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from portalgen.domain.ledger import invoice_status, outstanding, payments_by_invoice, quote_status
from portalgen.domain.model import (
    DOCUMENT_KINDS,
    AnyDocument,
    Export,
    Invoice,
    Line,
    Money,
    Origin,
    Payment,
    Quote,
)
from portalgen.errors import Problem
from portalgen.render.views import document_body

READOUT_VERSION = 1
SECTIONS = {
    "quote": "quotes",
    "order": "orders",
    "delivery_note": "delivery_notes",
    "invoice": "invoices",
}
# Fields a document's body (lines, taxes, totals) replaces, and where each record came from.
_BODY_FIELDS = ("lines", "taxes", "totals", "origin")


def plain(value: Any) -> Any:
    """A model value as JSON data: exact decimal strings, ISO dates, lists, objects."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, Money):
        return decimal_text(value.amount)
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Origin):
        return origin_text(value)
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


def decimal_text(value: Decimal) -> str:
    """The exact decimal, positional (``1500.00``, never ``1.5E+3``)."""
    return format(value, "f")


def origin_text(origin: Origin) -> str:
    """Where a record was read: ``invoices.csv, row 3``."""
    return ", ".join(p for p in (origin.file, origin.location) if p)


def _record(record: Any, leave_out: Sequence[str] = ("origin",)) -> dict[str, Any]:
    """Every field of a model record but `leave_out`, then where it was read from."""
    out = {
        f.name: plain(getattr(record, f.name))
        for f in dataclasses.fields(record)
        if f.name not in leave_out
    }
    out["source"] = origin_text(record.origin)
    return out


def line_readout(line: Line) -> dict[str, Any]:
    """A line with `net`, the amount the page and PDF print in its last column."""
    return {**_record(line), "net": decimal_text(line.net)}


def document_readout(doc: AnyDocument, receipts: Sequence[Payment], today: date) -> dict[str, Any]:
    """A document with its lines, tax breakdown and totals exactly as rendered."""
    body = document_body(doc)
    out = {"kind": doc.kind, **_record(doc, _BODY_FIELDS)}
    if isinstance(doc, Quote):
        out["status"] = quote_status(doc, today)
    if isinstance(doc, Invoice):
        out["status"] = invoice_status(doc, receipts, today)
        out["outstanding"] = plain(outstanding(doc, receipts, today))
    out["lines"] = [line_readout(line) for line in body["lines"]]
    out["taxes"] = [plain(group) for group in body["taxes"]]
    out["totals"] = plain(body["totals"])
    return out


def payment_readout(payment: Payment) -> dict[str, Any]:
    return {**_record(payment), "currency": payment.amount.currency}


def problem_readout(problem: Problem) -> dict[str, str]:
    return dataclasses.asdict(problem)


def export_readout(
    export: Export,
    today: date,
    formats: Sequence[str] = (),
    problems: Iterable[Problem] = (),
) -> dict[str, Any]:
    """The whole export, ready for `json.dumps` (see docs/export-format.md)."""
    receipts = payments_by_invoice(export.payments)
    out: dict[str, Any] = {
        "portalgen_readout": READOUT_VERSION,
        "ok": True,
        "formats": list(formats),
        "source": export.source,
        "today": today.isoformat(),
        "problems": [problem_readout(p) for p in problems],
        "customers": [_record(c) for c in export.customers],
    }
    for kind in DOCUMENT_KINDS:
        out[SECTIONS[kind]] = [
            document_readout(doc, receipts.get(doc.key, ()), today)
            for doc in export.documents_of_kind(kind)
        ]
    out["payments"] = [payment_readout(p) for p in export.payments]
    out["documents"] = [_record(d, ("origin", "path")) for d in export.documents]
    return out


def failed_readout(problems: Iterable[Problem]) -> dict[str, Any]:
    """What --json prints when the export cannot be used: every problem, nothing read."""
    listed = [problem_readout(p) for p in problems]
    return {
        "portalgen_readout": READOUT_VERSION,
        "ok": False,
        "errors": sum(1 for p in listed if p["severity"] == "error"),
        "problems": listed,
    }
