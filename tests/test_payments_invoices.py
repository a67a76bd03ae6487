"""What "Pay now" may charge: the renderer publishes each unpaid invoice's outstanding
amount and next instalment from `InvoiceDues` (the figures the page shows), and the gate
reads them back (payments/invoices.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

from portalgen.config import load_settings
from portalgen.domain.model import CustomerData
from portalgen.payments.invoices import PayableInvoice, ReceiptShare, parse_invoice_index
from portalgen.render.views import Facts, payable_invoices
from tests.conftest import TODAY
from tests.render_fixtures import small_customer, t0001_receipt


def index_of(data: CustomerData) -> dict[str, PayableInvoice]:
    facts = Facts(data, load_settings(overrides={}, environ={}), TODAY)
    body = {"version": 1, "invoices": payable_invoices(facts)}
    return parse_invoice_index(json.dumps(body).encode())


def test_an_invoice_in_receipts_offers_the_next_one_or_everything() -> None:
    data = small_customer(
        payments=(
            t0001_receipt("R-1", "1000.00", date(2026, 6, 1), date(2026, 6, 1)),
            t0001_receipt("R-2", "300.00", date(2026, 6, 19)),
            t0001_receipt("R-3", "193.82", date(2026, 7, 19)),
        )
    )
    [invoice] = index_of(data).values()
    assert invoice.number == "F2026/007"
    assert invoice.amount_for("next") == (Decimal("300.00"), "R-2")
    assert invoice.amount_for("all") == (Decimal("493.82"), "")


def test_paying_everything_names_each_unpaid_receipt_with_its_amount() -> None:
    """What `push` marks paid in the invoicing program for a payment of "all"."""
    data = small_customer(
        payments=(
            t0001_receipt("R-1", "1000.00", date(2026, 6, 1), date(2026, 6, 1)),
            replace(t0001_receipt("R-2", "300.00", date(2026, 6, 19)), source_id="57"),
            replace(t0001_receipt("R-3", "193.82", date(2026, 7, 19)), source_id="58"),
        )
    )
    [invoice] = index_of(data).values()
    assert invoice.shares_for("all") == (
        ReceiptShare("R-2", "57", "300.00"),
        ReceiptShare("R-3", "58", "193.82"),
    )
    assert invoice.shares_for("next") == ()  # one receipt: the attempt's receipt_id
    # an index published before it gave the amounts: no list (push skips, as before)
    old = replace(invoice, receipt_amounts={})
    assert old.amount_for("all") == (Decimal("493.82"), "") and old.shares_for("all") == ()


def test_paid_and_direct_debit_invoices_are_not_payable() -> None:
    paid = small_customer(payments=(t0001_receipt("R-1", "1493.82", date(2026, 6, 1), TODAY),))
    assert index_of(paid) == {}
    data = small_customer()
    debit = replace(data, invoices=(replace(data.invoices[0], payment_method="direct_debit"),))
    assert index_of(debit) == {}
