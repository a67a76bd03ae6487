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
from portalgen.domain.ledger import (
    Balance,
    Instalment,
    InvoiceDues,
    StatementEntry,
    balances,
    dues_by_invoice,
    payments_by_invoice,
    quote_is_open,
    quote_status,
    statement,
)
from portalgen.domain.model import (
    AnyDocument,
    CustomerData,
    DocumentKind,
    Invoice,
    Money,
    Order,
    Payment,
    Quote,
    QuoteStatus,
)
from portalgen.domain.totals import document_taxes
from portalgen.render.qr import EpcQr, epc_qr, verifactu_qr

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
        self.dues = dues_by_invoice(self.data, self.today)
        sections = self.settings.portal.sections
        self.enabled = {kind for kind, name in SECTION.items() if getattr(sections, name)}
        self.numbers = {
            (doc.kind, doc.key): doc
            for doc in self.data.all_documents()
            if doc.kind in self.enabled
        }
        self.currencies = sorted(
            {i.currency for i in self.data.invoices} | {self.settings.currency},
            key=lambda c: (c != self.settings.currency, c),
        )

    def invoice_receipts(self, invoice: Invoice) -> tuple[Payment, ...]:
        return self.receipts.get(invoice.key, ())

    def invoice_dues(self, invoice: Invoice) -> InvoiceDues:
        return self.dues[invoice.key]

    def link(self, kind: DocumentKind, key: str) -> View:
        """A reference to another document (by its number, or Invoice.key): linked when its
        page exists in this portal, with what it is called (model.InvoiceTitle)."""
        doc = self.numbers.get((kind, key))
        if doc is None:
            return {"kind": kind, "title": kind, "number": key, "path": None}
        title = doc.title if isinstance(doc, Invoice) else kind
        return {"kind": kind, "title": title, "number": doc.number, "path": page_path(doc)}

    def status(self, doc: AnyDocument) -> str:
        if isinstance(doc, Quote):
            return quote_status(doc, self.today, self.decided.get(doc.number))
        if isinstance(doc, Order):
            return doc.status
        if isinstance(doc, Invoice):
            return self.invoice_dues(doc).status
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
            "title": doc.title if isinstance(doc, Invoice) else doc.kind,
            "open": False,
        }
        if isinstance(doc, Quote):
            row["valid_until"] = doc.valid_until
            row["open"] = quote_is_open(doc, self.today, self.decided.get(doc.number))
        elif isinstance(doc, Invoice):
            dues = self.invoice_dues(doc)
            row["due_date"] = dues.due_date
            row["outstanding"] = dues.outstanding
            row["overdue"] = dues.overdue
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
        found = balances(self.data.invoices, self.dues)
        for currency in self.currencies:
            zero = Money.zero(currency)
            balance = found.get(currency, Balance(zero, zero))
            if currency == self.settings.currency or not balance.outstanding.is_zero():
                out.append(
                    {
                        "currency": currency,
                        "outstanding": balance.outstanding,
                        "overdue": balance.overdue,
                    }
                )
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
        "title": doc.title if isinstance(doc, Invoice) else doc.kind,
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
    """An invoice's facts. The PDF shows the invoice as issued, and its scan-to-pay code
    asks for what is still owed, as the page's does (its render key holds the amount)."""
    receipts = facts.invoice_receipts(invoice)
    dues = facts.invoice_dues(invoice)
    epc = scan_to_pay(facts, invoice, dues)
    view: View = {
        # the PDF keeps the due date as issued; the page shows what the list shows
        "due_date": (invoice.due_date or (receipts[0].due_date if receipts else None))
        if for_pdf
        else dues.due_date,
        "payment_terms": invoice.payment_terms,
        "payment_method": invoice.payment_method,
        "corrects": facts.link("invoice", invoice.corrects) if invoice.corrects else None,
        "order": facts.link("order", invoice.order) if invoice.order else None,
        "delivery_notes": [facts.link("delivery_note", n) for n in invoice.delivery_notes],
        "verifactu": verifactu_qr(invoice.verifactu_qr_url),
        "pay_terms": facts.settings.payments.terms,
        "iban": facts.settings.payments.iban,
        "epc": epc,
        "epc_amount": dues.outstanding if epc else None,
    }
    if for_pdf:
        return view
    late = [i for i in dues.unpaid if i.overdue]
    view.update(
        {
            "status": dues.status,
            "outstanding": dues.outstanding,
            "overdue": dues.overdue,
            "overdue_since": late[0].due_date if late else None,
            "next_due": dues.next_due,
            "next_due_amount": dues.owed(dues.next_due) if dues.next_due else None,
            "instalments": len(dues.instalments),
            "receipts": [receipt_view(i) for i in dues.instalments if i.number],
            "by_transfer": not dues.direct_debit,
            "customer_iban": facts.data.customer.iban,
            "pay_online": pay_online_url(facts, invoice, dues.outstanding)
            if not dues.outstanding.is_zero()
            else "",
            "pay_now": pay_now(facts, invoice, dues),
            # "I have paid by transfer": the proof-of-payment upload (docs/payments.md)
            "proof_upload": facts.settings.uploads.enabled
            and not dues.direct_debit
            and dues.status != "paid"
            and not dues.outstanding.is_zero(),
        }
    )
    return view


def payable_invoices(facts: Facts) -> dict[str, Any]:
    """slug → what an unpaid invoice asks for today (payments/invoices.py): its
    outstanding amount and, when it is paid in receipts, the first unpaid one as
    `InvoiceDues.owed` caps it. A direct debit is charged, never paid from the portal."""
    from portalgen.payments.invoices import index_entry

    found: dict[str, Any] = {}
    for invoice in facts.data.invoices:
        dues = facts.invoice_dues(invoice)
        if dues.outstanding.is_zero() or dues.outstanding.amount < 0 or dues.direct_debit:
            continue
        unpaid = dues.unpaid
        first = None
        if len(dues.instalments) > 1 and unpaid:
            owed = dues.owed(unpaid[0])
            due = unpaid[0].due_date.isoformat() if unpaid[0].due_date else ""
            first = (unpaid[0].number, owed.amount, due)
        entry = index_entry(
            invoice.number, invoice.currency, dues.status, dues.outstanding.amount, first
        )
        entry["unpaid"] = [i.number for i in unpaid if i.number]
        ids = {i.number: i.source_id for i in unpaid if i.number and i.source_id}
        if ids:
            entry["receipt_ids"] = ids
        amounts = {i.number: str(i.amount.amount) for i in unpaid if i.number}
        if amounts:
            entry["receipt_amounts"] = amounts
        found[invoice.slug] = entry
    return dict(sorted(found.items()))


def pay_now(facts: Facts, invoice: Invoice, dues: InvoiceDues) -> View | None:
    """The "Pay now" form of an unpaid invoice's page, when online payment is set up."""
    methods = facts.settings.payments.online.methods
    if not methods or dues.direct_debit or dues.outstanding.amount <= 0:
        return None
    unpaid = dues.unpaid
    first = dues.owed(unpaid[0]) if len(dues.instalments) > 1 and unpaid else None
    return {
        "methods": [f"{provider}:{method}" for provider, method in methods],
        "outstanding": dues.outstanding,
        "next": first if first is not None and first != dues.outstanding else None,
    }


def receipt_view(instalment: Instalment) -> View:
    return {
        "number": instalment.number,
        "due_date": instalment.due_date,
        "paid_date": instalment.paid_date,
        "amount": instalment.amount,
        "overdue": instalment.overdue,
    }


def scan_to_pay(facts: Facts, invoice: Invoice, dues: InvoiceDues) -> EpcQr | None:
    """The EPC transfer code for what is still owed. None when nothing is owed, and for a
    direct debit: it is charged to the customer's account, and a transfer too would be
    paying twice."""
    if dues.direct_debit or dues.outstanding.is_zero():
        return None
    return epc_qr(facts.settings, dues.outstanding, invoice.number)


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
    instalments = {
        (number, i.number): i for number, dues in facts.dues.items() for i in dues.instalments
    }
    rows = []
    for p in receipts:
        instalment = instalments.get((p.invoice, p.number))
        rows.append(
            {
                "number": p.number,
                "invoice": facts.link("invoice", p.invoice)
                if instalment
                else {"number": p.invoice, "path": None},
                "amount": p.amount,
                "due_date": p.due_date,
                "paid_date": instalment.paid_date if instalment else None,
                "overdue": instalment.overdue if instalment else False,
                "method": p.method,
            }
        )
    return {
        "receipts": rows,
        "balances": facts.balances(),
        "statements": statement_view(facts),
    }


def statement_view(facts: Facts) -> list[View]:
    """The account statement per currency (one for almost every customer): the movements
    with the running balance, each invoice with its due date and overdue amount today."""
    out = []
    found = balances(facts.data.invoices, facts.dues)
    for currency in facts.currencies:
        entries = statement(facts.data, currency, facts.today)
        if entries or currency == facts.settings.currency:
            zero = Money.zero(currency)
            out.append(
                {
                    "currency": currency,
                    "entries": [statement_entry(facts, e) for e in entries],
                    "balance": entries[-1].balance if entries else zero,
                    "overdue": found.get(currency, Balance(zero, zero)).overdue,
                    "until": entries[-1].when if entries else None,
                }
            )
    return out


def statement_entry(facts: Facts, entry: StatementEntry) -> View:
    dues = facts.dues.get(entry.invoice) if entry.kind == "invoice" else None
    return {
        **vars(entry),
        "link": facts.link("invoice", entry.invoice),
        "due_date": dues.due_date if dues is not None and entry.debit.amount > 0 else None,
        "overdue": dues.overdue if dues is not None else None,
    }


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
