"""The native export bundle's tables and columns: one definition for CSV, JSON and YAML.

docs/export-format.md documents exactly these; a test keeps the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from portalgen.domain.model import ORDER_STATUSES, PAYMENT_METHODS, QUOTE_STATUSES, DocumentKind
from portalgen.load import fields as f


@dataclass(frozen=True)
class Column:
    name: str
    parse: f.Parser
    required: bool = False
    default: Any = None


def _code(value: Any) -> str:
    """Customer codes become folder names and URLs: keep them plain."""
    raw = f.text(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}", raw):
        raise f.FieldError(
            "expected a code of up to 40 letters, digits, dots, hyphens or underscores "
            f"(starting with a letter or digit), found {f.found(raw)}"
        )
    return raw


def _number(value: Any) -> str:
    raw = f.text(value)
    if not raw or len(raw) > 60:
        raise f.FieldError(f"expected a document number of 1-60 characters, found {f.found(raw)}")
    return raw


customer_code = _code
document_number = _number

PAYMENT_METHOD = f.choice(
    PAYMENT_METHODS,
    aliases={
        "bank_transfer": "transfer",
        "transferencia": "transfer",
        "domiciliacion": "direct_debit",
        "domiciliación": "direct_debit",
        "sepa_direct_debit": "direct_debit",
        "tarjeta": "card",
        "efectivo": "cash",
        "cheque": "cheque",
    },
)

CUSTOMERS = (
    Column("code", _code, required=True),
    Column("name", f.text, required=True),
    Column("tax_id", f.text, required=True),
    Column("emails", f.email_list, required=True),
    Column("language", f.language, default=""),
    Column("trade_name", f.text, default=""),
    Column("street", f.text, default=""),
    Column("postal_code", f.text, default=""),
    Column("city", f.text, default=""),
    Column("province", f.text, default=""),
    Column("country", f.country, default="ES"),
    Column("phone", f.text, default=""),
    Column("iban", f.text, default=""),
    Column("account_manager", f.email, default=""),
    Column("notify", f.boolean, default=True),
)

# Columns every document kind has.
DOCUMENT = (
    Column("number", _number, required=True),
    Column("customer", _code, required=True),
    Column("issue_date", f.iso_date, required=True),
    Column("series", f.text, default=""),
    Column("currency", f.currency),  # default: the configured currency
    Column("reference", f.text, default=""),
    Column("notes", f.text, default=""),
    # Declared totals; each one left out is computed from the lines.
    Column("base", f.money_amount),
    Column("tax", f.money_amount),
    Column("surcharge", f.money_amount),
    Column("withholding", f.money_amount),
    Column("total", f.money_amount),
)

QUOTES = (
    *DOCUMENT,
    Column("status", f.choice(QUOTE_STATUSES), default="pending"),
    Column("valid_until", f.iso_date),
    Column("terms", f.text, default=""),
)

ORDERS = (
    *DOCUMENT,
    Column(
        "status",
        f.choice(ORDER_STATUSES, aliases={"preparing": "in_preparation"}),
        default="received",
    ),
    Column("expected_delivery_date", f.iso_date),
    Column("shipped_date", f.iso_date),
    Column("delivered_date", f.iso_date),
    Column("quote", _number, default=""),
)

DELIVERY_NOTES = (
    *DOCUMENT,
    Column("delivery_date", f.iso_date),
    Column("order", _number, default=""),
)

INVOICES = (
    *DOCUMENT,
    Column("due_date", f.iso_date),
    Column("corrects", _number, default=""),
    Column("verifactu_qr_url", f.text, default=""),
    Column("payment_terms", f.text, default=""),
    Column("payment_method", PAYMENT_METHOD, default=""),
    Column("order", _number, default=""),
    Column("delivery_notes", f.text_list, default=()),
)

LINES = (
    Column("document", _number, required=True),
    Column("position", f.integer, default=0),
    Column("description", f.text, required=True),
    Column("quantity", f.quantity, required=True),
    Column("unit_price", f.decimal, required=True),
    Column("discount", f.percent, default=f.decimal("0")),
    Column("tax_rate", f.percent, default=f.decimal("0")),
    Column("surcharge_rate", f.percent, default=f.decimal("0")),
    Column("withholding_rate", f.percent, default=f.decimal("0")),
    Column("unit", f.text, default=""),
    Column("reference", f.text, default=""),
)

# Delivery notes often carry quantities only.
DELIVERY_NOTE_LINES = tuple(
    Column(c.name, c.parse, required=False, default=f.decimal("0")) if c.name == "unit_price" else c
    for c in LINES
)

PAYMENTS = (
    Column("number", _number, required=True),
    Column("invoice", _number, required=True),
    Column("amount", f.money_amount, required=True),
    Column("due_date", f.iso_date, required=True),
    Column("paid_date", f.iso_date),
    Column("method", PAYMENT_METHOD, default=""),
    Column("customer", _code),  # optional: it follows from the invoice
    Column("currency", f.currency),  # optional: it follows from the invoice
)


@dataclass(frozen=True)
class Table:
    name: str  # the CSV file stem and the JSON key
    columns: tuple[Column, ...]
    required: bool = False

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


CUSTOMERS_TABLE = Table("customers", CUSTOMERS, required=True)
DOCUMENT_TABLES: dict[DocumentKind, Table] = {
    "quote": Table("quotes", QUOTES),
    "order": Table("orders", ORDERS),
    "delivery_note": Table("delivery_notes", DELIVERY_NOTES),
    "invoice": Table("invoices", INVOICES),
}
LINE_TABLES: dict[DocumentKind, Table] = {
    "quote": Table("quote_lines", LINES),
    "order": Table("order_lines", LINES),
    "delivery_note": Table("delivery_note_lines", DELIVERY_NOTE_LINES),
    "invoice": Table("invoice_lines", LINES),
}
PAYMENTS_TABLE = Table("payments", PAYMENTS)

TABLES = (
    CUSTOMERS_TABLE,
    *DOCUMENT_TABLES.values(),
    *LINE_TABLES.values(),
    PAYMENTS_TABLE,
)
