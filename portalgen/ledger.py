"""What a customer owes: invoice statuses, balances and the statement, derived on a date.

Statuses that depend on time (an invoice becomes overdue, a quote expires) are never
stored: they are computed from the export and `today`, so the same export renders the
truth on the day it is published.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from portalgen.model import (
    CustomerData,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    Quote,
    QuoteStatus,
    sum_money,
)


def payments_by_invoice(payments: Iterable[Payment]) -> dict[str, tuple[Payment, ...]]:
    grouped: dict[str, list[Payment]] = defaultdict(list)
    for payment in payments:
        grouped[payment.invoice].append(payment)
    return {k: tuple(sorted(v, key=lambda p: (p.due_date, p.number))) for k, v in grouped.items()}


def amount_paid(invoice: Invoice, receipts: Iterable[Payment], today: date) -> Money:
    return sum_money(
        (p.amount for p in receipts if p.paid_date is not None and p.paid_date <= today),
        invoice.currency,
    )


def outstanding(invoice: Invoice, receipts: Iterable[Payment], today: date) -> Money:
    """What is still to pay on the invoice (never negative; credit notes owe nothing)."""
    rest = invoice.totals.total - amount_paid(invoice, receipts, today)
    return rest if rest.amount > 0 else Money.zero(invoice.currency)


def due_date(invoice: Invoice, receipts: Iterable[Payment]) -> date | None:
    """The invoice's due date, or else the earliest due date of its unpaid receipts."""
    if invoice.due_date is not None:
        return invoice.due_date
    receipts = tuple(receipts)
    unpaid = [p.due_date for p in receipts if not p.is_paid]
    dates = unpaid or [p.due_date for p in receipts]
    return min(dates) if dates else None


def invoice_status(invoice: Invoice, receipts: Iterable[Payment], today: date) -> InvoiceStatus:
    receipts = tuple(receipts)
    if invoice.totals.total.amount <= 0:
        return "paid"  # a credit note: nothing to pay
    paid = amount_paid(invoice, receipts, today)
    if paid.amount >= invoice.totals.total.amount:
        return "paid"
    late_receipt = any(not p.is_paid and p.due_date < today for p in receipts)
    due = due_date(invoice, receipts)
    if late_receipt or (due is not None and due < today):
        return "overdue"
    return "partially_paid" if paid.amount > 0 else "unpaid"


def quote_status(quote: Quote, today: date, decided: QuoteStatus | None = None) -> QuoteStatus:
    """A quote's status today. A decision made in the portal wins over a stale export."""
    if decided in ("accepted", "rejected"):
        return decided
    if quote.status == "pending" and quote.valid_until is not None and quote.valid_until < today:
        return "expired"
    return quote.status


def quote_is_open(quote: Quote, today: date, decided: QuoteStatus | None = None) -> bool:
    """Whether the customer can still accept or reject the quote."""
    return quote_status(quote, today, decided) == "pending"


@dataclass(frozen=True)
class Balance:
    outstanding: Money
    overdue: Money


def customer_balance(data: CustomerData, currency: str, today: date) -> Balance:
    """Outstanding and overdue amounts over the customer's invoices in `currency`."""
    receipts = payments_by_invoice(data.payments)
    total_out = Money.zero(currency)
    total_overdue = Money.zero(currency)
    for invoice in data.invoices:
        if invoice.currency != currency:
            continue
        mine = receipts.get(invoice.number, ())
        rest = outstanding(invoice, mine, today)
        total_out = total_out + rest
        if invoice_status(invoice, mine, today) == "overdue":
            total_overdue = total_overdue + rest
    return Balance(total_out, total_overdue)


EntryKind = Literal["invoice", "payment"]


@dataclass(frozen=True)
class StatementEntry:
    """One line of the account statement: a charge (invoice) or a payment, with the balance."""

    when: date
    kind: EntryKind
    reference: str  # invoice or receipt number
    invoice: str  # the invoice the entry belongs to
    debit: Money
    credit: Money
    balance: Money


def statement(data: CustomerData, currency: str, today: date) -> tuple[StatementEntry, ...]:
    """Invoices and paid receipts in date order with a running balance (positive = owed)."""
    zero = Money.zero(currency)
    events: list[tuple[date, int, str, str, Money, Money]] = []
    for invoice in data.invoices:
        if invoice.currency == currency:
            amount = invoice.totals.total
            debit, credit = (amount, zero) if amount.amount >= 0 else (zero, -amount)
            events.append((invoice.issue_date, 0, invoice.number, invoice.number, debit, credit))
    for p in data.payments:
        if p.paid_date is not None and p.paid_date <= today and p.amount.currency == currency:
            events.append((p.paid_date, 1, p.number, p.invoice, zero, p.amount))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    running = zero
    entries = []
    for when, order, ref, invoice_number, debit, credit in events:
        running = running + debit - credit
        kind: EntryKind = "invoice" if order == 0 else "payment"
        entries.append(StatementEntry(when, kind, ref, invoice_number, debit, credit, running))
    return tuple(entries)


def totals_by_currency(invoices: Iterable[Invoice]) -> Mapping[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        sums[invoice.currency] += invoice.totals.total.amount
    return dict(sums)
