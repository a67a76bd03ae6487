"""What a digest announces: items and their ids, reminders on the schedule, what is new."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

from portalgen.domain.model import Money, Order, Payment
from portalgen.mail.planner import customer_items, plan_contact
from tests.conftest import TODAY
from tests.render_fixtures import small_customer, t0001_receipt

SCHEDULE = (-3, 0, 7, 30)
DUE = date(2026, 6, 19)  # the small customer's invoice F2026/007, 493.82 € still to pay


def ids(items):
    return sorted(i.id for i in items)


def test_items_of_a_customer_with_one_of_each() -> None:
    data = small_customer()
    items = {i.id: i for i in customer_items(data, TODAY, SCHEDULE)}
    assert sorted(items) == [
        "invoice:F2026/007",
        "payment:R-1",
        "quote:P2026-001",
    ]  # the order is in preparation: not shipped yet; the invoice is due in 4 days
    invoice = items["invoice:F2026/007"]
    assert invoice.path == "invoices/F2026-007.html"  # the page the portal shows it on
    assert invoice.view["outstanding"] == Money(Decimal("493.82"), "EUR")
    assert items["payment:R-1"].path == "payments/index.html"
    assert items["quote:P2026-001"].path == "quotes/P2026-001.html"


def test_a_quote_decided_in_the_portal_or_expired_awaits_nothing() -> None:
    data = small_customer()
    assert "quote:P2026-001" not in ids(
        customer_items(data, TODAY, SCHEDULE, decided={"P2026-001": "accepted"})
    )
    later = TODAY + timedelta(days=40)  # past its valid-until date
    assert "quote:P2026-001" not in ids(customer_items(data, later, SCHEDULE))


def test_shipped_and_delivered_orders_are_announced_once_under_one_id() -> None:
    data = small_customer()
    order = data.orders[0]
    shipped = dataclasses.replace(order, status="shipped", shipped_date=TODAY)
    delivered = dataclasses.replace(shipped, status="delivered", delivered_date=TODAY)
    for changed in (shipped, delivered):
        items = customer_items(dataclasses.replace(data, orders=(changed,)), TODAY, SCHEDULE)
        assert "order:PED2026-001:shipped" in ids(items)
    cancelled = dataclasses.replace(order, status="cancelled")
    items = customer_items(dataclasses.replace(data, orders=(cancelled,)), TODAY, SCHEDULE)
    assert not [i for i in items if i.kind == "order"]


def reminders(data, today):
    return [i for i in customer_items(data, today, SCHEDULE) if i.kind == "reminder"]


def test_reminders_follow_the_schedule_and_only_the_latest_step_is_due() -> None:
    data = small_customer()
    assert reminders(data, DUE - timedelta(days=4)) == []
    (before,) = reminders(data, DUE - timedelta(days=3))
    assert (before.id, before.view["days"], before.when) == (
        "reminder:F2026/007:-3",
        3,
        DUE - timedelta(days=3),
    )
    (late,) = reminders(data, DUE + timedelta(days=10))  # a run missed: the latest step only
    assert (late.id, late.view["days"]) == ("reminder:F2026/007:7", -10)
    (very_late,) = reminders(data, DUE + timedelta(days=400))
    assert very_late.id == "reminder:F2026/007:30"


def test_no_reminder_for_a_paid_invoice_or_a_credit_note() -> None:
    data = small_customer()
    invoice = data.invoices[0]
    rest = Payment(
        number="R-2",
        invoice=invoice.number,
        customer_code="T0001",
        amount=Money(Decimal("493.82"), "EUR"),
        due_date=DUE,
        paid_date=DUE - timedelta(days=5),
    )
    paid = dataclasses.replace(data, payments=(*data.payments, rest))
    assert reminders(paid, DUE + timedelta(days=8)) == []
    credit = dataclasses.replace(data, invoices=(dataclasses.replace(invoice, corrects="F1"),))
    credit_total = dataclasses.replace(
        credit.invoices[0].totals, total=Money(Decimal("-10.00"), "EUR")
    )
    credit = dataclasses.replace(
        credit, invoices=(dataclasses.replace(credit.invoices[0], totals=credit_total),)
    )
    assert reminders(credit, DUE + timedelta(days=8)) == []


def plan(items, known=(), baseline=date(2026, 1, 1), published=None, opted_out=False):
    published = {i.path for i in items} if published is None else published
    return plan_contact(
        "a@t.example",
        items,
        set(known),
        baseline=baseline,
        published=published,
        opted_out=opted_out,
    )


def test_known_items_are_not_sent_again_and_unpublished_ones_wait() -> None:
    items = customer_items(small_customer(), TODAY, SCHEDULE)
    first = plan(items)
    assert ids(first.send) == ids(items)
    assert [i.kind for i in first.send] == ["quote", "invoice", "payment"]  # digest order
    assert plan(items, known=ids(items)).send == ()
    waiting = plan(items, published={"payments/index.html"})
    assert ids(waiting.send) == ["payment:R-1"] and waiting.settle == ()


def test_what_came_before_the_contact_had_access_is_settled_silently() -> None:
    items = customer_items(small_customer(), TODAY, SCHEDULE)
    result = plan(items, baseline=date(2026, 6, 5))  # granted after the invoice and payment
    assert ids(result.send) == ["quote:P2026-001"]
    assert sorted(result.settle) == [
        ("invoice:F2026/007", "baseline"),
        ("payment:R-1", "baseline"),
    ]


def test_an_opted_out_customer_gets_nothing_and_it_is_recorded() -> None:
    items = customer_items(small_customer(), TODAY, SCHEDULE)
    result = plan(items, opted_out=True)
    assert result.send == ()
    assert {how for _, how in result.settle} == {"opted-out"}


def test_a_new_invoice_carries_its_own_reminder() -> None:
    data = small_customer()
    today = DUE  # the invoice is due today and has not been announced yet
    items = customer_items(data, today, SCHEDULE)
    result = plan(items)
    assert "reminder:F2026/007:0" not in ids(result.send)
    assert ("reminder:F2026/007:0", "with:invoice:F2026/007") in result.settle
    # Once the invoice was announced, the next step is a reminder of its own.
    later = customer_items(data, DUE + timedelta(days=7), SCHEDULE)
    result = plan(later, known=ids(items))
    assert [i.id for i in result.send if i.kind == "reminder"] == ["reminder:F2026/007:7"]


def test_shipped_order_date_decides_whether_it_is_new() -> None:
    data = small_customer()
    order: Order = dataclasses.replace(data.orders[0], status="shipped", shipped_date=TODAY)
    items = customer_items(dataclasses.replace(data, orders=(order,)), TODAY, SCHEDULE)
    result = plan(items, baseline=TODAY - timedelta(days=1))
    assert ids(result.send) == ["order:PED2026-001:shipped"]
    # shipped on the day of the grant: the invitation's portal showed it already
    result = plan(items, baseline=TODAY)
    assert ids(result.send) == []
    assert ("order:PED2026-001:shipped", "baseline") in result.settle


def test_each_receipt_is_reminded_of_by_its_own_due_date() -> None:
    data = small_customer()
    receipts = (
        t0001_receipt("R-1", "1000.00", date(2026, 6, 1), paid=date(2026, 6, 1)),
        t0001_receipt("R-2", "250.00", date(2026, 6, 5)),
        t0001_receipt("R-3", "243.82", date(2026, 7, 10)),
    )
    data = dataclasses.replace(data, payments=receipts)  # the invoice itself is due 19 June
    found = {i.id: i for i in reminders(data, date(2026, 7, 7))}
    assert sorted(found) == ["reminder:F2026/007:R-2:30", "reminder:F2026/007:R-3:-3"]
    late, coming = found["reminder:F2026/007:R-2:30"], found["reminder:F2026/007:R-3:-3"]
    assert (late.view["receipt"], late.view["outstanding"], late.view["days"]) == (
        "R-2",
        Money(Decimal("250.00"), "EUR"),
        -32,
    )
    assert (coming.view["outstanding"], coming.view["due"]) == (
        Money(Decimal("243.82"), "EUR"),
        date(2026, 7, 10),
    )
    # The invoice's own due date has passed, yet no reminder speaks for the whole invoice.
    assert not [i for i in found if i.count(":") == 2]


def test_a_reminder_says_what_a_direct_debit_will_charge_and_when() -> None:
    from portalgen.mail.sentences import Sentences
    from portalgen.presentation.catalogs import translations

    data = small_customer()
    invoice = dataclasses.replace(data.invoices[0], payment_method="direct_debit")
    data = dataclasses.replace(data, invoices=(invoice,))
    (coming,) = reminders(data, DUE - timedelta(days=3))
    (late,) = reminders(data, DUE + timedelta(days=7))
    sentences = Sentences(
        translations("es"),
        money=lambda m: f"{m.amount} {m.currency}",
        day=lambda d: d.isoformat(),
        company="X",
        new_link_url="https://portal.example/link",
    )
    assert sentences.reminder(coming.view) == (
        "Cargaremos 493.82 EUR de la factura F2026/007 en su cuenta bancaria por "
        "domiciliación el 2026-06-19; no tiene que hacer nada."
    )
    assert sentences.reminder(late.view) == (
        "La factura F2026/007, con 493.82 EUR pendientes de pago, venció el 2026-06-19, "
        "hace 7 días."
    )
    receipt = {**late.view, "receipt": "R-2", "direct_debit": False}
    assert sentences.reminder(receipt) == (
        "El recibo R-2 de la factura F2026/007, por 493.82 EUR, venció el 2026-06-19, hace 7 días."
    )
