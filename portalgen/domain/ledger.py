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
from typing import Literal

from portalgen.domain.model import (
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


@dataclass(frozen=True)
class Instalment:
    """An amount an invoice asks for on a date: one of its receipts, or, without
    receipts, the invoice itself (``number`` empty; also the part no receipt covers)."""

    number: str
    amount: Money
    due_date: date | None
    paid_date: date | None  # when it was paid, if that day has come
    overdue: bool  # unpaid and its due date has passed
    direct_debit: bool  # charged to the customer's account on its due date
    source_id: str = ""  # the receipt's id in the invoicing program (Payment.source_id)

    @property
    def is_paid(self) -> bool:
        return self.paid_date is not None


@dataclass(frozen=True)
class InvoiceDues:
    """What an invoice asks for on `today`: the one answer every page, PDF, email and
    command uses (see `invoice_dues`)."""

    status: InvoiceStatus
    paid: Money
    outstanding: Money  # still to pay, never negative
    overdue: Money  # the part of `outstanding` whose due date has passed
    instalments: tuple[Instalment, ...]
    direct_debit: bool

    @property
    def unpaid(self) -> tuple[Instalment, ...]:
        if self.outstanding.is_zero():
            return ()
        return tuple(i for i in self.instalments if not i.is_paid)

    def owed(self, instalment: Instalment) -> Money:
        """What is still asked for `instalment`: its amount, never more than the invoice's
        outstanding (a part payment not tied to a receipt lowers the last ones)."""
        return min(instalment.amount, self.outstanding, key=lambda m: m.amount)

    @property
    def next_due(self) -> Instalment | None:
        """The next unpaid instalment whose due date has not passed: what is due next."""
        return next((i for i in self.unpaid if not i.overdue), None)

    @property
    def due_date(self) -> date | None:
        """The due date to show: the earliest unpaid instalment's, else the last one's."""
        dated = [i.due_date for i in self.unpaid if i.due_date is not None]
        if dated:
            return min(dated)
        every = [i.due_date for i in self.instalments if i.due_date is not None]
        return max(every) if every else None


def _method(payment_method: str) -> bool:
    return payment_method == "direct_debit"


def _instalments(
    invoice: Invoice, receipts: tuple[Payment, ...], today: date
) -> tuple[Instalment, ...]:
    """The receipts as instalments, plus the part of the total no receipt covers (due on
    the invoice's due date); without receipts, the invoice is one instalment."""
    debit = _method(invoice.payment_method)
    out = []
    for p in receipts:
        paid = p.paid_date if p.paid_date is not None and p.paid_date <= today else None
        late = paid is None and p.due_date < today
        out.append(
            Instalment(
                p.number,
                p.amount,
                p.due_date,
                paid,
                late,
                _method(p.method) or debit,
                p.source_id,
            )
        )
    rest = invoice.totals.total - sum_money((p.amount for p in receipts), invoice.currency)
    if rest.amount > 0:
        late = invoice.due_date is not None and invoice.due_date < today
        out.append(Instalment("", rest, invoice.due_date, None, late, debit))
    return tuple(sorted(out, key=lambda i: (i.due_date is None, i.due_date or today, i.number)))


def invoice_dues(invoice: Invoice, receipts: Iterable[Payment], today: date) -> InvoiceDues:
    """Status, outstanding and overdue amounts of an invoice on `today`.

    With receipts, each receipt is the unit: the overdue amount is the sum of the unpaid
    receipts past their own due date, and the invoice is overdue only if one of them is.
    Without receipts, the invoice's due date decides. A direct debit is overdue only once
    its charge date (its due date) has passed unpaid. Credit notes owe nothing.
    """
    receipts = tuple(receipts)
    currency = invoice.currency
    zero = Money.zero(currency)
    instalments = _instalments(invoice, receipts, today)
    paid = sum_money((i.amount for i in instalments if i.is_paid), currency)
    rest = invoice.totals.total - paid
    outstanding = rest if rest.amount > 0 else zero
    late = sum_money((i.amount for i in instalments if i.overdue), currency)
    overdue = min(late, outstanding, key=lambda m: m.amount)
    status: InvoiceStatus
    if invoice.totals.total.amount <= 0 or outstanding.is_zero():
        status, outstanding, overdue = "paid", zero, zero
    elif not overdue.is_zero():
        status = "overdue"
    else:
        status = "partially_paid" if paid.amount > 0 else "unpaid"
    debit = _method(invoice.payment_method) or any(i.direct_debit for i in instalments)
    return InvoiceDues(status, paid, outstanding, overdue, instalments, debit)


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


def invoice_status(invoice: Invoice, receipts: Iterable[Payment], today: date) -> InvoiceStatus:
    """`invoice_dues(...).status`."""
    return invoice_dues(invoice, receipts, today).status


def outstanding(invoice: Invoice, receipts: Iterable[Payment], today: date) -> Money:
    """`invoice_dues(...).outstanding`: what is still to pay (never negative)."""
    return invoice_dues(invoice, receipts, today).outstanding


def dues_by_invoice(data: CustomerData, today: date) -> dict[str, InvoiceDues]:
    """`invoice_dues` of each of the customer's invoices, by Invoice.key (its number)."""
    receipts = payments_by_invoice(data.payments)
    return {i.key: invoice_dues(i, receipts.get(i.key, ()), today) for i in data.invoices}


def balances(invoices: Iterable[Invoice], dues: Mapping[str, InvoiceDues]) -> dict[str, Balance]:
    """Outstanding and overdue amounts per currency (every currency invoiced, in order)."""
    out: dict[str, Balance] = {}
    for invoice in invoices:
        zero = Money.zero(invoice.currency)
        before = out.get(invoice.currency, Balance(zero, zero))
        mine = dues[invoice.key]
        out[invoice.currency] = Balance(
            before.outstanding + mine.outstanding, before.overdue + mine.overdue
        )
    return dict(sorted(out.items()))


def customer_balance(data: CustomerData, currency: str, today: date) -> Balance:
    """Outstanding and overdue amounts over the customer's invoices in `currency`."""
    zero = Money.zero(currency)
    found = balances(data.invoices, dues_by_invoice(data, today))
    return found.get(currency, Balance(zero, zero))


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
            events.append((invoice.issue_date, 0, invoice.number, invoice.key, debit, credit))
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
