"""Stripe Checkout: a Checkout Session per attempt, and the signed webhook.

The `stripe` library makes the API request (``POST /v1/checkout/sessions``) and checks
``Stripe-Signature`` (HMAC-SHA256 of ``<t>.<body>`` with the endpoint's secret). The
tolerance on ``t`` is checked against the gate's clock here (the library would read
the machine's). Card and SEPA debit details are typed on Stripe's page, never on
portalgen's. SEPA debits succeed days later: ``checkout.session.completed`` comes with
``payment_status: unpaid`` and ``checkout.session.async_payment_succeeded`` (or
``..._failed``) follows; only a paid session records a payment.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from portalgen.payments.notice import BadNotification, Notice

if TYPE_CHECKING:
    from portalgen.payments.records import PaymentAttempt

TOLERANCE = 300  # seconds, Stripe's default for webhook timestamps
ZERO_DECIMAL = {"JPY", "KRW", "CLP", "VND", "ISK", "HUF", "TWD", "UGX", "XAF", "XOF"}
EVENTS = {
    "checkout.session.completed": "",  # paid or pending, by its payment_status
    "checkout.session.async_payment_succeeded": "paid",
    "checkout.session.async_payment_failed": "denied",
}


def minor_units(amount: Decimal, currency: str) -> int:
    if currency.upper() in ZERO_DECIMAL:
        return int(amount)
    return int((amount * 100).to_integral_value())


def major_units(amount: int, currency: str) -> Decimal:
    if currency.upper() in ZERO_DECIMAL:
        return Decimal(amount)
    return Decimal(amount).scaleb(-2)


class StripeGateway:
    provider = "stripe"

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str | None = None) -> None:
        from stripe import StripeClient

        addresses: Any = {"api": api_base} if api_base else None
        self.webhook_secret = webhook_secret
        self._client = StripeClient(secret_key, base_addresses=addresses, max_network_retries=1)

    def checkout(
        self,
        attempt: PaymentAttempt,
        *,
        success_url: str,
        cancel_url: str,
        description: str,
        language: str,
    ) -> tuple[str, str]:
        """(session id, the URL to send the customer to) of a new Checkout Session."""
        params: Any = {
            "mode": "payment",
            "payment_method_types": [attempt.method],
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": attempt.currency.lower(),
                        "unit_amount": minor_units(attempt.value, attempt.currency),
                        "product_data": {"name": description},
                    },
                }
            ],
            "client_reference_id": attempt.order,
            "metadata": {"order": attempt.order, "invoice": attempt.invoice},
            "customer_email": attempt.contact,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "locale": language if language in ("es", "en", "fr", "pt", "de", "it") else "auto",
        }
        options: Any = {"idempotency_key": f"portalgen-{attempt.order}"}
        session = self._client.v1.checkout.sessions.create(params, options)
        if not session.url:
            raise ValueError("Stripe answered a Checkout Session without a URL")
        return str(session.id), str(session.url)

    def verify(self, body: bytes, header: str, now: float) -> Notice:
        """The webhook's event, its signature checked; BadNotification if not Stripe's
        or older than the tolerance."""
        from stripe import SignatureVerificationError, WebhookSignature

        try:
            text = body.decode("utf-8")
            WebhookSignature.verify_header(text, header, self.webhook_secret, tolerance=None)
        except (SignatureVerificationError, UnicodeDecodeError) as exc:
            raise BadNotification(f"Stripe-Signature refused: {exc}") from None
        stamps = [p[2:] for p in header.split(",") if p.startswith("t=")]
        if not stamps or not stamps[0].isdigit() or abs(now - int(stamps[0])) > TOLERANCE:
            raise BadNotification("Stripe-Signature outside the tolerance")
        try:
            event = json.loads(text)
            return _notice(event)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadNotification(f"not a Stripe event: {exc}") from None


def _notice(event: dict[str, Any]) -> Notice:
    kind = str(event["type"])
    session = event["data"]["object"]
    order = str(session.get("client_reference_id") or "")
    if kind not in EVENTS or session.get("object") != "checkout.session":
        return Notice("stripe", order, "", "ignored", None, "", code=kind)
    outcome = EVENTS[kind] or ("paid" if session.get("payment_status") == "paid" else "pending")
    currency = str(session.get("currency") or "").upper()
    total = session.get("amount_total")
    types = session.get("payment_method_types") or []
    return Notice(
        provider="stripe",
        order=order,
        transaction=str(session["id"]),
        outcome=outcome,
        amount=major_units(int(total), currency) if total is not None else None,
        currency=currency,
        code=kind,
        method=str(types[0]) if len(types) == 1 else "",
    )
