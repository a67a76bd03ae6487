"""Paying an invoice from the portal through the gate, with the providers' stand-ins
(tests/payment_fixtures.py: the protocols as Redsys and Stripe document them; the real
gateways are never contacted): the amount comes from the published portal, the attempt
is stored, the notification is verified and recorded once, and every refusal."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import urlencode

import pytest

from portalgen.payments.records import read_attempt
from tests.gate_fixtures import csrf_of
from tests.payment_fixtures import (
    MERCHANT,
    UNPAID,
    PayWorld,
    check_redsys_request,
    redsys_notification,
    stripe_event,
    stripe_signature,
)

PAGE = f"/portal/invoices/{UNPAID}.html"
NOTIFY = "/pay/redsys/notify"
WEBHOOK = "/pay/stripe/webhook"


def start_payment(world: PayWorld, method: str, **extra: str) -> tuple[int, str, dict[str, str]]:
    """Press "Pay now" on the invoice's page: (status, Location or page, form fields)."""
    csrf = csrf_of(world.client.get(PAGE).get_data(as_text=True))
    answer = world.client.post(
        f"/portal/invoices/{UNPAID}/pay", {"csrf_token": csrf, "method": method, **extra}
    )
    html = answer.get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    return (
        answer.status_code,
        answer.headers.get("Location") or html,
        {k: unescape(v) for k, v in fields.items()},
    )


def redsys_request(world: PayWorld, method: str = "redsys:card", **extra: str) -> dict[str, object]:
    status, page, fields = start_payment(world, method, **extra)
    assert status == 200, page
    assert f'action="{world.stand.url}/sis/realizarPago"' in page
    return check_redsys_request(fields)  # signed with HMAC_SHA512_V2 and the merchant key


def notify(world: PayWorld, fields: dict[str, str]) -> int:
    body = urlencode(fields)
    answer = world.client.client.post(
        NOTIFY, data=body, content_type="application/x-www-form-urlencoded"
    )
    return answer.status_code


def test_redsys_card_pays_the_published_amount_and_is_recorded_once(pay_world: PayWorld) -> None:
    world = pay_world
    params = redsys_request(world, amount="0.01")  # a form amount is never read
    assert params["Ds_Merchant_Amount"] == 2721  # the outstanding 27,21 € as published
    assert params["Ds_Merchant_MerchantCode"] == MERCHANT
    assert params["Ds_Merchant_Currency"] == 978
    assert params["Ds_Merchant_PayMethods"] == "C"
    assert params["Ds_Merchant_MerchantURL"] == "http://127.0.0.1:8000/pay/redsys/notify"
    order = str(params["Ds_Merchant_Order"])
    attempt = read_attempt(world.storage, order)
    assert attempt is not None
    assert (attempt.invoice, attempt.amount, attempt.currency, attempt.method) == (
        UNPAID,
        "27.21",
        "EUR",
        "card",
    )
    assert attempt.contact == "c00007@example.com"

    # Redsys signs notifications with HMAC_SHA256_V1 too: accepted
    fields = redsys_notification(params)
    assert notify(world, fields) == 200
    assert notify(world, fields) == 200  # Redsys notifies again: answered, nothing recorded
    events = world.events()
    assert [e["type"] for e in events] == ["payment.received"]
    data = events[0]["data"]
    assert data == {
        "invoice": UNPAID,
        "receipt": "R2026-000051",
        "amount": "27.21",
        "currency": "EUR",
        "provider": "redsys",
        "method": "card",
        "transaction": order,
        "order": order,
    }
    assert events[0]["customer"] == "C00007"
    assert events[0]["document"] == f"invoices/{UNPAID}.html"

    page = world.client.get(PAGE).get_data(as_text=True)
    assert "Pago recibido el 15/06/2026 — pendiente de confirmación" in page
    assert f"/portal/invoices/{UNPAID}/pay" not in page  # no second "Pay now"
    home = world.client.get("/portal/").get_data(as_text=True)
    assert "Pago recibido el 15/06/2026 — pendiente de confirmación" in home


def test_bizum_goes_to_redsys_with_bizum_selected(pay_world: PayWorld) -> None:
    params = redsys_request(pay_world, "redsys:bizum")
    assert params["Ds_Merchant_PayMethods"] == "z"
    assert notify(pay_world, redsys_notification(params, version="HMAC_SHA512_V2")) == 200
    [event] = pay_world.events()
    assert (event["type"], event["data"]["method"]) == ("payment.received", "bizum")


@pytest.mark.parametrize(
    ("tamper", "status", "reason"),
    [
        ("signature", 400, "bad signature"),
        ("key", 400, "bad signature"),
        ("amount", 200, "amount 0.01, the attempt's is 27.21"),
        ("order", 200, "unknown order"),
    ],
)
def test_redsys_notifications_that_do_not_match_record_only_a_refusal(
    pay_world: PayWorld, tamper: str, status: int, reason: str
) -> None:
    world = pay_world
    params = redsys_request(world)
    if tamper == "signature":
        fields = redsys_notification(params)
        fields["Ds_Signature"] = redsys_notification(params, response="0001")["Ds_Signature"]
    elif tamper == "key":
        fields = redsys_notification(params, key="Mk9m98IfEblmPfrpsawt7BmxObt98Jev")
    elif tamper == "amount":
        fields = redsys_notification(params, amount="1")
    else:
        fields = redsys_notification(params, order="9999abcdefgh")
    assert notify(world, fields) == status
    events = world.events()
    assert [e["type"] for e in events] == ["payment.refused"]
    assert events[0]["data"]["reason"] == reason
    page = world.client.get(PAGE).get_data(as_text=True)
    assert "Pago recibido" not in page


def test_a_denied_redsys_payment_is_recorded_as_denied(pay_world: PayWorld) -> None:
    params = redsys_request(pay_world)
    assert notify(pay_world, redsys_notification(params, response="0190")) == 200
    [event] = pay_world.events()
    assert (event["type"], event["data"]["code"]) == ("payment.denied", "0190")
    assert "Pago recibido" not in pay_world.client.get(PAGE).get_data(as_text=True)


def test_an_attempt_cannot_pay_another_invoice(pay_world: PayWorld) -> None:
    """The order is the attempt's: a notification for it settles its own invoice only,
    and a 'Pay now' for an invoice that is not payable is refused."""
    world = pay_world
    csrf = csrf_of(world.client.get(PAGE).get_data(as_text=True))
    other = world.client.post(
        "/portal/invoices/F2026A-00001/pay", {"csrf_token": csrf, "method": "redsys:card"}
    )
    assert other.status_code == 404
    params = redsys_request(world)
    assert notify(world, redsys_notification(params)) == 200
    [event] = world.events()
    assert event["data"]["invoice"] == UNPAID


def test_pay_needs_session_csrf_and_an_offered_method(pay_world: PayWorld) -> None:
    world = pay_world
    url = f"/portal/invoices/{UNPAID}/pay"
    assert world.client.post(url, {"method": "redsys:card"}).status_code == 403  # no CSRF
    csrf = csrf_of(world.client.get(PAGE).get_data(as_text=True))
    bad = world.client.post(url, {"csrf_token": csrf, "method": "paypal:card"})
    assert bad.status_code == 400
    assert world.storage.list("_payments/orders/").__next__ is not None
    assert list(world.storage.list("_payments/orders/")) == []


def test_oversized_and_bursts_of_notifications_are_refused(pay_world: PayWorld) -> None:
    world = pay_world
    big = world.client.client.post(
        NOTIFY, data="x=" + "a" * 20000, content_type="application/x-www-form-urlencoded"
    )
    assert big.status_code == 413
    codes = [
        notify(world, {"Ds_Signature": "x", "Ds_MerchantParameters": "e30"}) for _ in range(61)
    ]
    assert codes[:60] == [400] * 60 and codes[-1] == 429
    # each was refused, but staff hear of the first five only (an event, an email each)
    assert [e["data"]["reason"] for e in world.events()] == ["bad signature"] * 5


def stripe_session(world: PayWorld, method: str = "stripe:card") -> dict[str, object]:
    status, location, _fields = start_payment(world, method)
    assert status == 303
    sid = location.rsplit("/", 1)[1]
    assert location == f"{world.stand.url}/stripe/pay/{sid}"
    return world.stand.sessions[sid]


def webhook(world: PayWorld, body: bytes, header: str) -> int:
    answer = world.client.client.post(
        WEBHOOK, data=body, headers={"Stripe-Signature": header}, content_type="application/json"
    )
    return answer.status_code


def test_stripe_checkout_and_its_webhook(pay_world: PayWorld) -> None:
    world = pay_world
    session = stripe_session(world)
    [request] = world.stand.stripe_requests
    assert request["line_items"]["0"]["price_data"]["unit_amount"] == "2721"
    assert request["payment_method_types"] == {"0": "card"}
    paid = dict(session, payment_status="paid", status="complete")
    body = stripe_event(paid)
    now = int(world.clock())
    assert webhook(world, body, stripe_signature(body, now)) == 200
    assert webhook(world, body, stripe_signature(body, now)) == 200  # a retry: nothing new
    [event] = world.events()
    assert event["type"] == "payment.received"
    assert event["data"]["transaction"] == session["id"]
    assert "Pago recibido el 15/06/2026" in world.client.get(PAGE).get_data(as_text=True)


def test_stripe_sepa_debit_is_received_when_it_succeeds(pay_world: PayWorld) -> None:
    world = pay_world
    session = stripe_session(world, "stripe:sepa_debit")
    now = int(world.clock())
    pending = stripe_event(dict(session, status="complete"))  # SEPA: completed, unpaid
    assert webhook(world, pending, stripe_signature(pending, now)) == 200
    assert world.events() == []
    done = stripe_event(
        dict(session, payment_status="paid"), "checkout.session.async_payment_succeeded"
    )
    assert webhook(world, done, stripe_signature(done, now)) == 200
    [event] = world.events()
    assert (event["type"], event["data"]["method"]) == ("payment.received", "sepa_debit")


@pytest.mark.parametrize("tamper", ["secret", "stale", "amount"])
def test_stripe_webhooks_refused(pay_world: PayWorld, tamper: str) -> None:
    world = pay_world
    session = stripe_session(world)
    paid = dict(session, payment_status="paid")
    now = int(world.clock())
    if tamper == "amount":
        paid["amount_total"] = 1
    body = stripe_event(paid)
    header = stripe_signature(body, now - 301 if tamper == "stale" else now)
    if tamper == "secret":
        header = stripe_signature(body, now, "whsec_other")
    assert webhook(world, body, header) == (200 if tamper == "amount" else 400)
    [event] = world.events()
    assert event["type"] == "payment.refused"
    assert json.dumps(event["data"])  # staff see why
    assert "Pago recibido" not in world.client.get(PAGE).get_data(as_text=True)
