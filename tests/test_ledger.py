"""Statuses and balances derived from payments and dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from portalgen.domain.ledger import (
    customer_balance,
    invoice_dues,
    invoice_status,
    quote_status,
    statement,
)
from portalgen.domain.model import Customer, CustomerData, Invoice, Line, Money, Payment, Quote
from portalgen.domain.totals import compute_totals, tax_breakdown, totals_mismatch

TODAY = date(2026, 6, 15)
EUR = "EUR"


def invoice(number: str, amount: str, issued: date, due: date | None = None) -> Invoice:
    lines = (Line(description="x", quantity=Decimal(1), unit_price=Decimal(amount)),)
    return Invoice(
        number=number,
        customer_code="C1",
        issue_date=issued,
        currency=EUR,
        lines=lines,
        totals=compute_totals(lines, EUR),
        due_date=due,
    )


def receipt(number: str, inv: str, amount: str, due: date, paid: date | None = None) -> Payment:
    return Payment(
        number=number,
        invoice=inv,
        customer_code="C1",
        amount=Money(Decimal(amount), EUR),
        due_date=due,
        paid_date=paid,
    )


def test_invoice_statuses() -> None:
    inv = invoice("F1", "100.00", date(2026, 5, 1), due=date(2026, 6, 1))
    half = receipt("R1", "F1", "50.00", date(2026, 6, 1), paid=date(2026, 5, 20))
    rest_later = receipt("R2", "F1", "50.00", date(2026, 7, 1))
    assert invoice_status(inv, [], TODAY) == "overdue"
    assert invoice_status(inv, [], date(2026, 5, 31)) == "unpaid"
    assert (
        invoice_status(
            inv, [half, receipt("R2", "F1", "50.00", date(2026, 6, 1), date(2026, 6, 2))], TODAY
        )
        == "paid"
    )
    no_due = invoice("F2", "100.00", date(2026, 5, 1))
    assert invoice_status(no_due, [half, rest_later], TODAY) == "partially_paid"
    # A payment dated in the future has not happened yet.
    assert (
        invoice_status(
            no_due, [receipt("R3", "F2", "100.00", date(2026, 7, 1), date(2026, 7, 1))], TODAY
        )
        == "unpaid"
    )
    assert invoice_status(invoice("A1", "-20.00", date(2026, 5, 1)), [], TODAY) == "paid"


def test_a_late_receipt_makes_the_invoice_overdue() -> None:
    inv = invoice("F1", "100.00", date(2026, 5, 1))
    receipts = [
        receipt("R1", "F1", "50.00", TODAY - timedelta(days=1)),
        receipt("R2", "F1", "50.00", TODAY + timedelta(days=30)),
    ]
    assert invoice_status(inv, receipts, TODAY) == "overdue"


def test_with_receipts_each_receipt_is_the_unit() -> None:
    """The invoice's own due date has passed, but only one receipt has: only that receipt
    is overdue, and the page can say what is due next."""
    inv = invoice("F1", "300.00", date(2026, 4, 1), due=date(2026, 5, 1))
    receipts = [
        receipt("R1", "F1", "100.00", date(2026, 5, 1), paid=date(2026, 5, 1)),
        receipt("R2", "F1", "100.00", TODAY - timedelta(days=5)),
        receipt("R3", "F1", "100.00", TODAY + timedelta(days=7)),
    ]
    dues = invoice_dues(inv, receipts, TODAY)
    assert dues.status == "overdue"
    assert dues.outstanding == Money(Decimal("200.00"), EUR)
    assert dues.overdue == Money(Decimal("100.00"), EUR)
    assert dues.next_due is not None
    assert (dues.next_due.number, dues.next_due.due_date) == ("R3", TODAY + timedelta(days=7))
    assert dues.due_date == TODAY - timedelta(days=5)  # the earliest unpaid receipt
    # Once R2 is paid nothing is overdue, though the invoice's own due date has passed.
    receipts[1] = receipt("R2", "F1", "100.00", TODAY - timedelta(days=5), paid=TODAY)
    dues = invoice_dues(inv, receipts, TODAY)
    assert (dues.status, dues.overdue.amount) == ("partially_paid", Decimal("0.00"))
    assert dues.due_date == TODAY + timedelta(days=7)


def test_a_receipt_is_overdue_only_once_its_day_has_passed() -> None:
    inv = invoice("F1", "100.00", date(2026, 4, 1), due=date(2026, 5, 1))
    inv = replace(inv, payment_method="direct_debit")
    charge = receipt("R1", "F1", "100.00", TODAY)
    assert invoice_dues(inv, [charge], TODAY).status == "unpaid"  # charged today
    late = invoice_dues(inv, [charge], TODAY + timedelta(days=1))
    assert (late.status, late.overdue.amount, late.direct_debit) == (
        "overdue",
        Decimal("100.00"),
        True,
    )


def test_the_part_no_receipt_covers_falls_due_with_the_invoice() -> None:
    inv = invoice("F1", "300.00", date(2026, 4, 1), due=TODAY - timedelta(days=1))
    receipts = [receipt("R1", "F1", "100.00", TODAY + timedelta(days=30))]
    dues = invoice_dues(inv, receipts, TODAY)
    assert (dues.status, dues.overdue.amount) == ("overdue", Decimal("200.00"))
    assert dues.outstanding.amount == Decimal("300.00")


def test_overdue_never_exceeds_what_is_owed() -> None:
    inv = invoice("F1", "100.00", date(2026, 4, 1))
    receipts = [  # receipts adding up to more than the invoice (a data error upstream)
        receipt("R1", "F1", "80.00", TODAY - timedelta(days=3), paid=TODAY - timedelta(days=3)),
        receipt("R2", "F1", "80.00", TODAY - timedelta(days=2)),
    ]
    dues = invoice_dues(inv, receipts, TODAY)
    assert (dues.outstanding.amount, dues.overdue.amount) == (Decimal("20.00"), Decimal("20.00"))


def test_quote_expires_unless_decided() -> None:
    quote = Quote(
        number="P1",
        customer_code="C1",
        issue_date=date(2026, 5, 1),
        currency=EUR,
        lines=(),
        totals=compute_totals((), EUR),
        valid_until=date(2026, 6, 1),
    )
    assert quote_status(quote, TODAY) == "expired"
    assert quote_status(quote, date(2026, 6, 1)) == "pending"
    assert quote_status(quote, TODAY, decided="accepted") == "accepted"


def test_balance_and_statement() -> None:
    old = invoice("F1", "100.00", date(2026, 4, 1), due=date(2026, 5, 1))
    new = invoice("F2", "200.00", date(2026, 6, 1), due=date(2026, 7, 1))
    data = CustomerData(
        Customer(code="C1", name="X", tax_id="B98765431", emails=("a@b.example",)),
        invoices=(old, new),
        payments=(receipt("R1", "F1", "30.00", date(2026, 5, 1), paid=date(2026, 5, 2)),),
    )
    balance = customer_balance(data, EUR, TODAY)
    assert balance.outstanding == Money(Decimal("270.00"), EUR)
    assert balance.overdue == Money(Decimal("70.00"), EUR)
    entries = statement(data, EUR, TODAY)
    assert [(e.reference, e.balance.amount) for e in entries] == [
        ("F1", Decimal("100.00")),
        ("R1", Decimal("70.00")),
        ("F2", Decimal("270.00")),
    ]


def test_tax_breakdown_with_surcharge_and_withholding() -> None:
    lines = (
        Line(
            description="a",
            quantity=Decimal(3),
            unit_price=Decimal("10.00"),
            tax_rate=Decimal(21),
            surcharge_rate=Decimal("5.2"),
        ),
        Line(
            description="b",
            quantity=Decimal(1),
            unit_price=Decimal("100.00"),
            discount=Decimal(10),
            tax_rate=Decimal(10),
            withholding_rate=Decimal(15),
        ),
    )
    groups = [
        (g.kind, str(g.rate), g.base.amount, g.amount.amount) for g in tax_breakdown(lines, EUR)
    ]
    assert groups == [
        ("vat", "10", Decimal("90.00"), Decimal("9.00")),
        ("vat", "21", Decimal("30.00"), Decimal("6.30")),
        ("surcharge", "5.2", Decimal("30.00"), Decimal("1.56")),
        ("withholding", "15", Decimal("90.00"), Decimal("13.50")),
    ]
    totals = compute_totals(lines, EUR)
    assert totals.total.amount == Decimal("120.00") + Decimal("15.30") + Decimal("1.56") - Decimal(
        "13.50"
    )
    assert totals_mismatch(totals, lines) == []


def test_sums_are_the_amounts_added_in_order_and_refuse_another_currency() -> None:
    import pytest

    from portalgen.domain.money import sum_money

    amounts = [Money(Decimal(a), "EUR") for a in ("10", "0.5", "-3.25", "1.000")]
    total = sum_money(amounts, "EUR")
    assert total == Money(Decimal("8.250"), "EUR")
    assert str(total.amount) == "8.250"  # the exponent `+` gives: 0.00 + 10 + 0.5 ...
    assert str(sum_money([], "EUR").amount) == "0.00" == str(Money.zero("EUR").amount)
    assert sum_money([], "USD") == Money.zero("USD") != Money.zero("EUR")
    with pytest.raises(ValueError, match="cannot combine EUR and USD"):
        sum_money([*amounts, Money(Decimal(1), "USD")], "EUR")
