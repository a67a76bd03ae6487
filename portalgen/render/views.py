"""View models: the plain data each page or PDF shows, computed before anything renders.

Everything a template needs about the customer's data is here, already derived for
today (statuses, balances, what is open). A render key is the fingerprint of its view
model, so a key changes exactly when what the page shows changes — `today` matters only
through what it changes (an invoice becoming overdue), never by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from portalgen.config import Settings
from portalgen.ledger import (
    customer_balance,
    due_date,
    invoice_status,
    outstanding,
    payments_by_invoice,
    quote_is_open,
    quote_status,
    statement,
)
from portalgen.model import (
    AnyDocument,
    CustomerData,
    DocumentKind,
    Invoice,
    Money,
    Order,
    Payment,
    Quote,
    QuoteStatus,
    sum_money,
)
from portalgen.render.qr import epc_qr, verifactu_qr
from portalgen.totals import document_taxes

View = dict[str, Any]

FOLDER = {
    "quote": "quotes",
    "order": "orders",
    "delivery_note": "delivery-notes",
    "invoice": "invoices",
}
SECTION = {
    "quote": "quotes",
    "order": "orders",
    "delivery_note": "delivery_notes",
    "invoice": "invoices",
}
HAS_PDF = ("quote", "delivery_note", "invoice")
ORDER_STEPS = ("received", "in_preparation", "shipped", "delivered")
OPEN_ORDER = ("received", "in_preparation", "shipped")


def page_path(doc: AnyDocument) -> str:
    return f"{FOLDER[doc.kind]}/{doc.slug}.html"


def pdf_path(doc: AnyDocument) -> str:
    return f"{FOLDER[doc.kind]}/{doc.slug}.pdf"


@dataclass
class Facts:
    """Phase one: what the whole portal knows about the customer on `today`."""

    data: CustomerData
    settings: Settings
    today: date
    # Decisions made in the portal (quote number -> "accepted"/"rejected"): they win over
    # an export that still says "pending" (see ledger.quote_status).
    decided: Mapping[str, QuoteStatus] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._balances: list[View] | None = None
        self.receipts = payments_by_invoice(self.data.payments)
        sections = self.settings.portal.sections
        self.enabled = {kind for kind, name in SECTION.items() if getattr(sections, name)}
        self.numbers = {
            (doc.kind, doc.number): doc
            for doc in self.data.all_documents()
            if doc.kind in self.enabled
        }
        self.currencies = sorted(
            {i.currency for i in self.data.invoices} | {self.settings.currency},
            key=lambda c: (c != self.settings.currency, c),
        )

    def invoice_receipts(self, invoice: Invoice) -> tuple[Payment, ...]:
        return self.receipts.get(invoice.number, ())

    def link(self, kind: DocumentKind, number: str) -> View:
        """A reference to another document: linked when its page exists in this portal."""
        doc = self.numbers.get((kind, number))
        return {"kind": kind, "number": number, "path": page_path(doc) if doc else None}

    def status(self, doc: AnyDocument) -> str:
        if isinstance(doc, Quote):
            return quote_status(doc, self.today, self.decided.get(doc.number))
        if isinstance(doc, Order):
            return doc.status
        if isinstance(doc, Invoice):
            return invoice_status(doc, self.invoice_receipts(doc), self.today)
        return "delivered"

    def row(self, doc: AnyDocument) -> View:
        """One line of a list: enough to find, recognise and open the document."""
        row: View = {
            "kind": doc.kind,
            "number": doc.number,
            "slug": doc.slug,
            "path": page_path(doc),
            "pdf": pdf_path(doc) if doc.kind in HAS_PDF else None,
            "issue_date": doc.issue_date,
            "total": doc.totals.total,
            "status": self.status(doc),
            "reference": doc.reference,
            "year": doc.issue_date.year,
            "corrective": False,
            "open": False,
        }
        if isinstance(doc, Quote):
            row["valid_until"] = doc.valid_until
            row["open"] = quote_is_open(doc, self.today, self.decided.get(doc.number))
        elif isinstance(doc, Invoice):
            receipts = self.invoice_receipts(doc)
            row["due_date"] = due_date(doc, receipts)
            row["outstanding"] = outstanding(doc, receipts, self.today)
            row["corrective"] = doc.is_corrective
        elif isinstance(doc, Order):
            row["expected"] = doc.expected_delivery_date
            row["delivered"] = doc.delivered_date
        return row

    def rows(self, docs: Iterable[AnyDocument]) -> list[View]:
        ordered = sorted(docs, key=lambda d: (d.issue_date, d.number), reverse=True)
        return [self.row(d) for d in ordered]

    def balances(self) -> list[View]:
        if self._balances is not None:
            return self._balances
        out = []
        for currency in self.currencies:
            balance = customer_balance(self.data, currency, self.today)
            if currency == self.settings.currency or not balance.outstanding.is_zero():
                out.append({"outstanding": balance.outstanding, "overdue": balance.overdue})
        self._balances = out
        return out


def home_view(facts: Facts) -> View:
    data, enabled = facts.data, facts.enabled
    docs = [d for d in data.all_documents() if d.kind in enabled]
    latest = sorted(docs, key=lambda d: (d.issue_date, d.number), reverse=True)
    return {
        "balances": facts.balances() if "invoice" in enabled else [],
        "open_quotes": [r for r in facts.rows(data.quotes) if r["open"]]
        if "quote" in enabled
        else [],
        "open_orders": [r for r in facts.rows(data.orders) if r["status"] in OPEN_ORDER]
        if "order" in enabled
        else [],
        "latest": [facts.row(d) for d in latest[: facts.settings.portal.latest_documents]],
        "shared": len(data.documents),
    }


def list_view(facts: Facts, kind: str) -> View:
    docs = [d for d in facts.data.all_documents() if d.kind == kind]
    rows = facts.rows(docs)
    view: View = {"kind": kind, "rows": rows}
    if kind == "invoice":
        view["years"] = sorted({r["year"] for r in rows}, reverse=True)
        view["statuses"] = [
            s
            for s in ("unpaid", "overdue", "partially_paid", "paid")
            if any(r["status"] == s for r in rows)
        ]
    return view


def document_body(doc: AnyDocument) -> View:
    """Lines, taxes and totals: shared by a document's page and its PDF."""
    return {
        "kind": doc.kind,
        "number": doc.number,
        "slug": doc.slug,
        "series": doc.series,
        "issue_date": doc.issue_date,
        "reference": doc.reference,
        "notes": doc.notes,
        "currency": doc.currency,
        "lines": doc.lines,
        "taxes": document_taxes(doc),
        "totals": doc.totals,
        "has_discount": any(line.discount for line in doc.lines if line.show_price),
    }


def document_details(facts: Facts, doc: AnyDocument, for_pdf: bool) -> View:
    """Kind-specific facts. For a PDF: nothing that changes with time or payments."""
    view: View = {}
    if isinstance(doc, Quote):
        view["valid_until"] = doc.valid_until
        view["terms"] = doc.terms
    elif isinstance(doc, Order):
        view["expected"] = doc.expected_delivery_date
        view["quote"] = facts.link("quote", doc.quote) if doc.quote else None
    elif isinstance(doc, Invoice):
        view.update(invoice_details(facts, doc, for_pdf))
    else:
        view["delivery_date"] = doc.delivery_date
        view["order"] = facts.link("order", doc.order) if doc.order else None
    return view


def invoice_details(facts: Facts, invoice: Invoice, for_pdf: bool) -> View:
    qr = verifactu_qr(invoice.verifactu_qr_url)
    receipts = facts.invoice_receipts(invoice)
    view: View = {
        "due_date": invoice.due_date or due_date(invoice, receipts),
        "payment_terms": invoice.payment_terms,
        "payment_method": invoice.payment_method,
        "corrects": facts.link("invoice", invoice.corrects) if invoice.corrects else None,
        "order": facts.link("order", invoice.order) if invoice.order else None,
        "delivery_notes": [facts.link("delivery_note", n) for n in invoice.delivery_notes],
        "verifactu": qr,
        "pay_terms": facts.settings.payments.terms,
        "iban": facts.settings.payments.iban,
    }
    # A direct debit is charged to the customer's account: inviting a transfer too would
    # invite paying twice.
    by_transfer = invoice.payment_method != "direct_debit"
    if for_pdf:
        total = invoice.totals.total
        payable = by_transfer and total.amount > 0
        view["epc"] = epc_qr(facts.settings, total, invoice.number) if payable else None
        return view
    rest = outstanding(invoice, receipts, facts.today)
    status = invoice_status(invoice, receipts, facts.today)
    view["status"] = status
    view["outstanding"] = rest
    view["receipts"] = [
        {
            "number": p.number,
            "due_date": p.due_date,
            "paid_date": p.paid_date
            if p.paid_date is not None and p.paid_date <= facts.today
            else None,
            "amount": p.amount,
        }
        for p in receipts
    ]
    unpaid = status != "paid" and rest.amount > 0
    view["by_transfer"] = by_transfer
    view["customer_iban"] = facts.data.customer.iban
    view["epc"] = epc_qr(facts.settings, rest, invoice.number) if unpaid and by_transfer else None
    view["pay_online"] = pay_online_url(facts, invoice, rest) if unpaid else ""
    return view


def pay_online_url(facts: Facts, invoice: Invoice, amount: Money) -> str:
    from urllib.parse import quote

    template = facts.settings.payments.pay_online_url
    if not template:
        return ""
    values = {
        "invoice": invoice.number,
        "amount": f"{amount.amount:.2f}",
        "currency": amount.currency,
        "customer": facts.data.customer.code,
    }
    url = template
    for name, value in values.items():
        url = url.replace("{" + name + "}", quote(value, safe=""))
    return url


def order_timeline(order: Order) -> list[View]:
    """received → in preparation → shipped → delivered, with what is done and when."""
    if order.status == "cancelled":
        return []
    reached = ORDER_STEPS.index(order.status)
    when = {
        "received": order.issue_date,
        "shipped": order.shipped_date,
        "delivered": order.delivered_date,
    }
    return [
        {"step": step, "done": i <= reached, "current": i == reached, "date": when.get(step)}
        for i, step in enumerate(ORDER_STEPS)
    ]


def payments_view(facts: Facts) -> View:
    receipts = sorted(facts.data.payments, key=lambda p: (p.due_date, p.number), reverse=True)
    invoices = {i.number: i for i in facts.data.invoices}
    rows = []
    for p in receipts:
        paid = p.paid_date is not None and p.paid_date <= facts.today
        invoice = invoices.get(p.invoice)
        rows.append(
            {
                "number": p.number,
                "invoice": facts.link("invoice", p.invoice)
                if invoice
                else {"number": p.invoice, "path": None},
                "amount": p.amount,
                "due_date": p.due_date,
                "paid_date": p.paid_date if paid else None,
                "overdue": not paid and p.due_date < facts.today,
                "method": p.method,
            }
        )
    return {
        "receipts": rows,
        "balances": facts.balances(),
        "statements": statement_view(facts),
        "pending_total": [
            sum_money(
                (
                    p.amount
                    for p in facts.data.payments
                    if p.amount.currency == c and not (p.paid_date and p.paid_date <= facts.today)
                ),
                c,
            )
            for c in facts.currencies
        ],
    }


def statement_view(facts: Facts) -> list[View]:
    """The account statement per currency (one for almost every customer)."""
    out = []
    for currency in facts.currencies:
        entries = statement(facts.data, currency, facts.today)
        if entries or currency == facts.settings.currency:
            out.append(
                {
                    "currency": currency,
                    "entries": [
                        {**vars(e), "link": facts.link("invoice", e.invoice)} for e in entries
                    ],
                    "balance": entries[-1].balance if entries else Money.zero(currency),
                    "until": entries[-1].when if entries else None,
                }
            )
    return out


def shared_view(facts: Facts) -> View:
    docs = sorted(facts.data.documents, key=lambda d: d.name.lower())
    return {
        "files": [
            {
                "name": d.name,
                "path": f"documents/files/{d.name}",
                "size": d.size,
                "modified": d.modified,
                "content_type": d.content_type,
            }
            for d in docs
        ]
    }
