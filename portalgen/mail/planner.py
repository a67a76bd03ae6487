"""What to tell each contact tonight: pure functions from the customer's data and the record.

`customer_items` lists everything a digest can mention, each under a stable id:

- ``invoice:<number>``            a new invoice
- ``quote:<number>``              a quote awaiting the customer's decision
- ``order:<number>:shipped``      an order shipped (or already delivered)
- ``payment:<number>``            a payment received
- ``reminder:<number>:<day>``     an unpaid invoice coming due or overdue, ``day`` being the
                                  step of ``mail.reminders`` (-3, 0, 7, 30...) it is at
- ``reminder:<number>:<receipt>:<day>``  the same for one receipt of an invoice paid in
                                  receipts: each receipt is reminded of by its own due date

`plan_contact` compares them with what the contact was already told and decides what
goes into tonight's message. An item is only announced once its page is in the
customer's published portal, so a message never points at something the portal does
not show yet (it waits for the next run).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from portalgen.domain.ledger import Instalment, InvoiceDues, dues_by_invoice, quote_is_open
from portalgen.domain.model import AnyDocument, CustomerData, Invoice, QuoteStatus

ItemKind = Literal["reminder", "quote", "invoice", "order", "payment"]
KIND_ORDER: tuple[ItemKind, ...] = ("reminder", "quote", "invoice", "order", "payment")
_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}
PAYMENTS_PAGE = "payments/index.html"
_FOLDER = {"quote": "quotes", "order": "orders", "invoice": "invoices"}


@dataclass(frozen=True)
class Item:
    id: str
    kind: ItemKind
    when: date  # when it happened (or when the reminder falls due)
    path: str  # the portal page that shows it
    view: Mapping[str, Any]  # what the message says about it


@dataclass(frozen=True)
class ContactPlan:
    contact: str
    send: tuple[Item, ...]  # tonight's message (empty: no message)
    settle: tuple[tuple[str, str], ...]  # (item id, how) recorded without a message


def _page(doc: AnyDocument) -> str:
    return f"{_FOLDER[doc.kind]}/{doc.slug}.html"


def customer_items(
    data: CustomerData,
    today: date,
    schedule: Iterable[int],
    decided: Mapping[str, QuoteStatus] | None = None,
) -> list[Item]:
    """Every item the customer's digests can mention, as of `today`.

    `decided` maps a quote's slug to a decision made in the portal (it is no longer
    awaiting one, whatever the export says).
    """
    return [
        *_quote_items(data, today, decided or {}),
        *_invoice_items(data, today, tuple(schedule)),
        *_order_items(data),
        *_payment_items(data, today),
    ]


def _quote_items(
    data: CustomerData, today: date, decided: Mapping[str, QuoteStatus]
) -> Iterator[Item]:
    for quote in data.quotes:
        if quote.issue_date <= today and quote_is_open(quote, today, decided.get(quote.slug)):
            view = {
                "number": quote.number,
                "issued": quote.issue_date,
                "total": quote.totals.total,
                "valid_until": quote.valid_until,
            }
            yield Item(f"quote:{quote.number}", "quote", quote.issue_date, _page(quote), view)


def _invoice_items(data: CustomerData, today: date, schedule: tuple[int, ...]) -> Iterator[Item]:
    dues = dues_by_invoice(data, today)
    for invoice in data.invoices:
        if invoice.issue_date > today:
            continue
        mine = dues[invoice.key]
        view = {
            "number": invoice.number,
            "issued": invoice.issue_date,
            "total": invoice.totals.total,
            "due": mine.due_date,
            "outstanding": mine.outstanding,
            "corrective": invoice.is_corrective,
            "title": invoice.title,
        }
        page = _page(invoice)
        yield Item(f"invoice:{invoice.key}", "invoice", invoice.issue_date, page, view)
        for instalment in mine.unpaid:
            yield from _reminder(invoice, page, mine, instalment, view, today, schedule)


def _reminder(
    invoice: Invoice,
    page: str,
    dues: InvoiceDues,
    instalment: Instalment,
    view: Mapping[str, Any],
    today: date,
    schedule: tuple[int, ...],
) -> Iterator[Item]:
    """The reminder of one unpaid instalment (a receipt, or the invoice) at its step."""
    due = instalment.due_date
    step = _reminder_step(due, today, schedule)
    if due is None or step is None:
        return
    reminder = {
        **view,
        "due": due,
        "outstanding": dues.owed(instalment),
        "receipt": instalment.number,
        "direct_debit": instalment.direct_debit,
        "days": (due - today).days,
    }
    key = f"{invoice.key}:{instalment.number}" if instalment.number else invoice.key
    when = due + timedelta(days=step)
    yield Item(f"reminder:{key}:{step}", "reminder", when, page, reminder)


def _order_items(data: CustomerData) -> Iterator[Item]:
    for order in data.orders:
        if order.status in ("shipped", "delivered"):
            shipped = order.shipped_date or order.delivered_date or order.issue_date
            view = {
                "number": order.number,
                "shipped": shipped,
                "delivered": order.delivered_date if order.status == "delivered" else None,
                "expected": order.expected_delivery_date,
            }
            yield Item(f"order:{order.number}:shipped", "order", shipped, _page(order), view)


def _payment_items(data: CustomerData, today: date) -> Iterator[Item]:
    for payment in data.payments:
        paid = payment.paid_date
        if paid is not None and paid <= today and payment.amount.amount > 0:
            view = {
                "number": payment.number,
                "invoice": payment.invoice,
                "amount": payment.amount,
                "paid": paid,
            }
            yield Item(f"payment:{payment.number}", "payment", paid, PAYMENTS_PAGE, view)


def _reminder_step(due: date | None, today: date, schedule: Iterable[int]) -> int | None:
    """The latest step of the schedule that has come (only the latest is ever sent)."""
    if due is None:
        return None
    reached = [day for day in schedule if due + timedelta(days=day) <= today]
    return max(reached) if reached else None


def plan_contact(
    contact: str,
    items: Iterable[Item],
    known: Collection[str],
    *,
    baseline: date,
    published: Collection[str],
    opted_out: bool = False,
) -> ContactPlan:
    """What to send `contact` now, and what to record as settled without a message.

    `known`: item ids already settled for this contact. `baseline`: the day the contact
    got access; what happened up to that day was in the invitation (the day itself too:
    items carry only a date, and the portal the invitation opened showed them).
    `published`: the portal paths of the customer's published portal.
    """
    send: list[Item] = []
    settle: list[tuple[str, str]] = []
    for item in items:
        if item.id in known or item.path not in published:
            continue
        if opted_out:
            settle.append((item.id, "opted-out"))
        elif item.when <= baseline:  # the grant's day too: the invitation showed it
            settle.append((item.id, "baseline"))
        else:
            send.append(item)
    announced = {i.view["number"] for i in send if i.kind == "invoice"}
    for item in [i for i in send if i.kind == "reminder" and i.view["number"] in announced]:
        send.remove(item)  # a new invoice already says when it is due
        settle.append((item.id, f"with:invoice:{item.view['number']}"))
    send.sort(key=lambda i: (_KIND_RANK[i.kind], i.when, i.id))
    return ContactPlan(contact, tuple(send), tuple(settle))


def digest_sections(items: Iterable[Item]) -> dict[str, list[Mapping[str, Any]]]:
    """The message's sections: kind → the views of its items, in order."""
    sections: dict[str, list[Mapping[str, Any]]] = {kind: [] for kind in KIND_ORDER}
    for item in items:
        sections[item.kind].append(item.view)
    return sections
