"""Counts and amounts that describe an export, for `portalgen check` and publish reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from portalgen.ledger import (
    Balance,
    customer_balance,
    invoice_status,
    payments_by_invoice,
    quote_status,
)
from portalgen.model import Export, Money, sum_money


@dataclass(frozen=True)
class ExportSummary:
    customers: int
    quotes: Counter[str]
    orders: Counter[str]
    delivery_notes: int
    invoices: Counter[str]
    payments_paid: int
    payments_pending: int
    shared_documents: int
    invoiced: Money
    balance: Balance


def summarize(export: Export, currency: str, today: date) -> ExportSummary:
    receipts = payments_by_invoice(export.payments)
    balances = [customer_balance(data, currency, today) for data in export.by_customer().values()]
    return ExportSummary(
        customers=len(export.customers),
        quotes=Counter(quote_status(q, today) for q in export.quotes),
        orders=Counter(o.status for o in export.orders),
        delivery_notes=len(export.delivery_notes),
        invoices=Counter(
            invoice_status(i, receipts.get(i.number, ()), today) for i in export.invoices
        ),
        payments_paid=sum(1 for p in export.payments if p.is_paid),
        payments_pending=sum(1 for p in export.payments if not p.is_paid),
        shared_documents=len(export.documents),
        invoiced=sum_money(
            (i.totals.total for i in export.invoices if i.currency == currency), currency
        ),
        balance=Balance(
            sum_money((b.outstanding for b in balances), currency),
            sum_money((b.overdue for b in balances), currency),
        ),
    )
