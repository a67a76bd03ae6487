"""Counts and amounts that describe an export, for `portalgen check` and publish reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from portalgen.domain.ledger import Balance, balances, dues_by_invoice, quote_status
from portalgen.domain.model import Export, Money


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
    invoiced: Mapping[str, Money]  # per currency, every currency invoiced
    balances: Mapping[str, Balance]  # per currency, like `invoiced`


def summarize(export: Export, currency: str, today: date) -> ExportSummary:
    """The export's counts and amounts. Amounts are per currency: `currency` (the
    configured one) is always there, and no other currency is left out."""
    zero = Money.zero(currency)
    invoiced: dict[str, Money] = {currency: zero}
    found: dict[str, Balance] = {currency: Balance(zero, zero)}
    statuses: Counter[str] = Counter()
    for data in export.by_customer().values():
        dues = dues_by_invoice(data, today)
        statuses.update(d.status for d in dues.values())
        for code, balance in balances(data.invoices, dues).items():
            nothing = Money.zero(code)
            before = found.get(code, Balance(nothing, nothing))
            found[code] = Balance(
                before.outstanding + balance.outstanding, before.overdue + balance.overdue
            )
        for invoice in data.invoices:
            nothing = Money.zero(invoice.currency)
            invoiced[invoice.currency] = (
                invoiced.get(invoice.currency, nothing) + invoice.totals.total
            )
    return ExportSummary(
        customers=len(export.customers),
        quotes=Counter(quote_status(q, today) for q in export.quotes),
        orders=Counter(o.status for o in export.orders),
        delivery_notes=len(export.delivery_notes),
        invoices=statuses,
        payments_paid=sum(1 for p in export.payments if p.is_paid),
        payments_pending=sum(1 for p in export.payments if not p.is_paid),
        shared_documents=len(export.documents),
        invoiced=_ordered(invoiced, currency),
        balances=_ordered(found, currency),
    )


T = TypeVar("T")


def _ordered(values: Mapping[str, T], first: str) -> dict[str, T]:
    return {c: values[c] for c in sorted(values, key=lambda c: (c != first, c))}
