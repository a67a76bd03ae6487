"""Writing the demo: the CSV rows, shared documents and stand-in original PDFs."""

from __future__ import annotations

import os
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from portalgen.demo.company import COMPANY_CIF, QR_TEST_ENDPOINT
from portalgen.demo.documents import Doc
from portalgen.demo.papers import COMPANY, contract_blocks, report_blocks
from portalgen.demo.tinypdf import text_pdf, tiny_pdf
from portalgen.domain.model import Line, slugify_number
from portalgen.domain.totals import compute_totals

_SHARED = [
    ("Contrato de suministro {year}.pdf", "Contrato de suministro"),
    ("Certificado de calidad ISO 9001.pdf", "Certificado de calidad ISO 9001"),
    ("Fichas técnicas/Ficha de seguridad detergente.pdf", "Ficha de datos de seguridad"),
    ("Tarifa de precios {year}.pdf", "Tarifa de precios"),
]


_DOC_COLUMNS = [
    "number",
    "series",
    "customer",
    "issue_date",
    "currency",
    "reference",
    "notes",
    "base",
    "tax",
    "surcharge",
    "withholding",
    "total",
]
_KIND_COLUMNS = {
    "quote": ["status", "valid_until", "terms"],
    "order": ["status", "expected_delivery_date", "shipped_date", "delivered_date", "quote"],
    "delivery_note": ["delivery_date", "order"],
    "invoice": [
        "due_date",
        "corrects",
        "verifactu_qr_url",
        "payment_terms",
        "payment_method",
        "order",
        "delivery_notes",
    ],
}
_LINE_COLUMNS = [
    "document",
    "position",
    "reference",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount",
    "tax_rate",
    "surcharge_rate",
    "withholding_rate",
]
TABLES = {
    "quote": "quotes",
    "order": "orders",
    "delivery_note": "delivery_notes",
    "invoice": "invoices",
}


def _plain(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        )
    return "" if value is None else str(value)


CUSTOMER_COLUMNS = [
    "code",
    "name",
    "trade_name",
    "tax_id",
    "emails",
    "language",
    "street",
    "postal_code",
    "city",
    "province",
    "country",
    "phone",
    "iban",
    "account_manager",
    "notify",
]


def document_columns(kind: str) -> list[str]:
    return _DOC_COLUMNS + _KIND_COLUMNS[kind]


def line_columns() -> list[str]:
    return list(_LINE_COLUMNS)


def document_row(doc: Doc) -> dict[str, str]:
    totals = compute_totals(doc.lines, "EUR")
    row = {
        "number": doc.number,
        "series": doc.extra.get("series", ""),
        "customer": doc.customer,
        "issue_date": doc.issue,
        "currency": "EUR",
        "base": f"{totals.base.amount:.2f}",
        "tax": f"{totals.tax.amount:.2f}",
        "surcharge": f"{totals.surcharge.amount:.2f}",
        "withholding": f"{totals.withholding.amount:.2f}",
        "total": f"{totals.total.amount:.2f}",
        **{k: v for k, v in doc.extra.items() if k in _KIND_COLUMNS[doc.kind]},
    }
    for name, target in doc.links.items():
        column = {"delivery_note": "delivery_notes"}.get(name, name)
        row[column] = target.number
    if doc.kind == "invoice":
        row["verifactu_qr_url"] = _qr_url(doc.number, doc.issue, totals.total.amount)
        if "corrects" in doc.links:
            row["notes"] = "Factura rectificativa por devolución de mercancía."
    return {k: _plain(v) for k, v in row.items()}


def line_rows(doc: Doc) -> list[dict[str, Any]]:
    return [_line_row(doc, i, line) for i, line in enumerate(doc.lines, 1)]


def _line_row(doc: Doc, position: int, line: Line) -> dict[str, Any]:
    return {
        "document": doc.number,
        "position": position,
        "reference": line.reference,
        "description": line.description,
        "quantity": _plain(line.quantity),
        "unit": line.unit,
        "unit_price": f"{line.unit_price:.2f}",
        "discount": _plain(line.discount),
        "tax_rate": _plain(line.tax_rate),
        "surcharge_rate": _plain(line.surcharge_rate),
        "withholding_rate": _plain(line.withholding_rate),
    }


def _qr_url(number: str, issued: date, total: Decimal) -> str:
    query = urlencode(
        {
            "nif": COMPANY_CIF,
            "numserie": number,
            "fecha": f"{issued:%d-%m-%Y}",
            "importe": f"{total:.2f}",
        }
    )
    return f"{QR_TEST_ENDPOINT}?{query}"


def write_shared(rng: random.Random, out: Path, person: dict[str, Any], today: date) -> None:
    """One customer's shared documents (one in five customers has some)."""
    if rng.random() >= 0.2:
        return
    for template, title in rng.sample(_SHARED, k=rng.randint(1, 3)):
        modified = today - timedelta(days=rng.randint(1, 200))
        content = _shared_pdf(title, person, modified)
        _write_dated(
            out / "documents" / person["code"] / template.format(year=today.year),
            content,
            modified,
        )
    _write_report(out, person, today)


def _shared_pdf(title: str, person: dict[str, Any], modified: date) -> bytes:
    if title == "Contrato de suministro":
        return text_pdf(title, contract_blocks(person, modified), footer=COMPANY)
    return tiny_pdf(title, [person["name"], f"{modified:%d/%m/%Y}", COMPANY])


def _write_report(out: Path, person: dict[str, Any], today: date) -> None:
    """The last preventive maintenance visit's report. Its own random generator, seeded
    from the customer and the date, leaves the demo's main stream (every other file) as is."""
    rng = random.Random(f"{person['code']} {today.isoformat()}")  # noqa: S311 - fake data
    visit = today - timedelta(days=rng.randint(2, 28))
    title = "Informe de mantenimiento preventivo"
    content = text_pdf(title, report_blocks(rng, person, visit), footer=COMPANY)
    name = f"Informes/Informe de mantenimiento {visit:%Y}.pdf"
    _write_dated(out / "documents" / person["code"] / name, content, visit)


def _write_dated(path: Path, content: bytes, modified: date) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    stamp = datetime.combine(modified, time(12)).timestamp()
    os.utime(path, (stamp, stamp))


def write_original(out: Path, doc: Doc) -> None:
    """A stand-in for the invoicing program's own PDF (`portalgen demo --originals`)."""
    folder = out / "pdf" / TABLES[doc.kind]
    folder.mkdir(parents=True, exist_ok=True)
    totals = compute_totals(doc.lines, "EUR")
    body = [
        f"Cliente {doc.customer}",
        f"Fecha {doc.issue:%d/%m/%Y}",
        *(f"{line.quantity} x {line.description}" for line in doc.lines),
        f"Total {totals.total.amount:.2f} EUR",
    ]
    (folder / f"{slugify_number(doc.number)}.pdf").write_bytes(tiny_pdf(doc.number, body))
