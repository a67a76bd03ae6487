"""Paying an invoice from the portal, and the providers' notifications.

``POST /portal/invoices/<slug>/pay`` (session, Origin, CSRF token like every POST)
takes what to pay from the published portal (``_live/invoices.json``, never the form),
records the attempt (created if absent, portalgen/payments/records.py), then answers
with the form that takes the customer to Redsys, or a 303 to a Stripe Checkout Session.

``POST /pay/redsys/notify`` and ``POST /pay/stripe/webhook`` take no session and no
CSRF token: each is signature-verified, size-limited and rate-limited per client
address, and settled once per provider transaction (portalgen/payments/settle.py).
A bad signature records a ``payment.refused`` event and answers 400; a notification
that does not match its attempt records ``payment.refused`` and answers 200 (it is the
provider's, and sending it again changes nothing); a replay answers 200 and records
nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from portalgen.gate import errors
from portalgen.gate.fragments import published_index
from portalgen.gate.views_interact import limit_actions
from portalgen.payments.invoices import PayableInvoice, parse_invoice_index
from portalgen.payments.notice import BadNotification
from portalgen.payments.records import PaymentAttempt, new_order_id, store_attempt
from portalgen.slots import INVOICES_INDEX

if TYPE_CHECKING:
    from portalgen.audit.events import AuditEvent
    from portalgen.gate.app import Gate
    from portalgen.gate.request import GateRequest, Visit
    from portalgen.payments.notice import Notice
    from portalgen.payments.providers import Providers
    from portalgen.payments.settle import Settlement
    from portalgen.publish.manifest import Manifest

log = logging.getLogger("portalgen.gate")
MAX_NOTIFICATION = 16 * 1024  # bytes: a notification is a few hundred
NOTIFICATIONS_PER_ADDRESS = (60, 60)  # hits, seconds
# Bad signatures recorded (an event, a staff email, a webhook) per address: someone
# probing the endpoint must not become a flood of emails; the rest are only logged.
BAD_SIGNATURES_RECORDED = (5, 600)


def pay(gate: Gate, request: GateRequest, slug: str) -> Response:
    visit = gate.require_visit(request)
    gate.check_post(request, visit)
    page = f"invoices/{slug}.html"
    providers = gate.payments
    if providers is None:
        raise errors.NotFound("online payment is not set up")
    limit_actions(gate, visit, page)
    gate.caches.forget(visit.customer_key)  # pay what is published right now
    manifest = gate.manifest(visit)
    if manifest is None:
        raise errors.PortalNotReady("no manifest")
    invoice = invoice_index(gate, visit, manifest).get(slug)
    if invoice is None:
        raise errors.Refused("invoice-unknown", f"{slug} is not payable", back=page)
    provider, _sep, method = request.form.get("method", "").partition(":")
    if not providers.offers(provider, method):
        raise errors.Refused("method-unknown", f"{provider}:{method} not offered", back=page)
    attempt = start_attempt(gate, visit, invoice, provider, method, request.form.get("part", ""))
    language = manifest.language or gate.branding.language
    try:
        return send_to_provider(gate, request, providers, attempt, language)
    except errors.GateError:
        raise
    except Exception as exc:  # the provider's library: network, API errors
        log.error("gate: payment %s could not start with %s: %s", attempt.order, provider, exc)
        raise errors.Refused("payment-unavailable", str(exc)[:200], back=page) from None


def start_attempt(
    gate: Gate, visit: Visit, invoice: PayableInvoice, provider: str, method: str, part: str
) -> PaymentAttempt:
    """The attempt, stored under an order id of its own (drawn again if taken)."""
    amount, receipt = invoice.amount_for(part)
    for _try in range(5):
        attempt = PaymentAttempt(
            order=new_order_id(),
            provider=provider,
            method=method,
            customer_key=visit.customer_key,
            customer=visit.customer,
            contact=visit.contact.email,
            invoice=invoice.number,
            slug=invoice.slug,
            amount=str(amount),
            currency=invoice.currency,
            receipt=receipt,
            receipt_id=invoice.receipt_ids.get(receipt, "") if receipt else "",
            receipts=invoice.shares_for(part),
            ts=gate.now().isoformat(timespec="seconds").replace("+00:00", "Z"),
        )
        if store_attempt(gate.storage, attempt):
            return attempt
    raise errors.ServerError("no free payment order id after 5 draws")


def send_to_provider(
    gate: Gate, request: GateRequest, providers: Providers, attempt: PaymentAttempt, language: str
) -> Response:
    from portalgen.gate.pages_pay import redsys_page

    back = f"{gate.base_url}/portal/{attempt.document}"
    page = gate.page_context(request, language)
    description = page._("Invoice %(number)s") % {"number": attempt.invoice}
    if attempt.provider == "redsys" and providers.redsys is not None:
        form = providers.redsys.form(
            attempt,
            notify_url=f"{gate.base_url}/pay/redsys/notify",
            return_url=f"{back}#payment",
            language=language,
            description=description,
            merchant_name=gate.branding.company,
        )
        amount = f"{attempt.amount} {attempt.currency}"
        return gate.html(redsys_page(page, form.action, form.fields, amount))
    if attempt.provider == "stripe" and providers.stripe is not None:
        _session, url = providers.stripe.checkout(
            attempt,
            success_url=f"{back}#payment",
            cancel_url=back,
            description=description,
            language=language,
        )
        return Response("", status=303, headers={"Location": url})
    raise errors.Refused("method-unknown", f"{attempt.provider} not configured")


def invoice_index(gate: Gate, visit: Visit, manifest: Manifest) -> dict[str, PayableInvoice]:
    """The customer's payable invoices as published, parsed once per content."""
    return published_index(gate, visit, manifest, INVOICES_INDEX, parse_invoice_index)


# -- notifications ------------------------------------------------------------------------------


def redsys_notify(gate: Gate, request: GateRequest) -> Response:
    gateway = gate.payments.redsys if gate.payments is not None else None
    if gateway is None:
        raise errors.NotFound("Redsys is not set up")
    check_notification(gate, request)
    try:
        notice = gateway.verify(request.form)
    except BadNotification as exc:
        return bad_signature(gate, request, "redsys", str(exc))
    settle_notice(gate, request, notice)
    return Response("OK", status=200, content_type="text/plain; charset=utf-8")


def stripe_webhook(gate: Gate, request: GateRequest) -> Response:
    gateway = gate.payments.stripe if gate.payments is not None else None
    if gateway is None:
        raise errors.NotFound("Stripe is not set up")
    check_notification(gate, request)
    body = request.get_data(cache=False)
    try:
        notice = gateway.verify(body, request.headers.get("Stripe-Signature", ""), gate.clock())
    except BadNotification as exc:
        return bad_signature(gate, request, "stripe", str(exc))
    settle_notice(gate, request, notice)
    return Response('{"received": true}', status=200, content_type="application/json")


def check_notification(gate: Gate, request: GateRequest) -> None:
    """A notification's size and rate, before any signature is computed."""
    length = request.content_length
    if length is None or length > MAX_NOTIFICATION:
        raise errors.TooLarge(f"notification of {length} bytes")
    limit, window = NOTIFICATIONS_PER_ADDRESS
    if not gate.limiter.hit(f"notify:{request.remote_addr}", limit, window):
        raise errors.TooManyRequests("notifications over the limit", retry_after=window)


def bad_signature(gate: Gate, request: GateRequest, provider: str, detail: str) -> Response:
    from portalgen.payments.settle import refusal

    log.warning("gate: %s notification refused: %s", provider, detail)
    limit, window = BAD_SIGNATURES_RECORDED
    if gate.limiter.hit(f"bad-signature:{request.remote_addr}", limit, window):
        record(gate, request, draft_event(gate, request), refusal(None, provider, "bad signature"))
    return Response("bad signature", status=400, content_type="text/plain; charset=utf-8")


def settle_notice(gate: Gate, request: GateRequest, notice: Notice) -> None:
    from portalgen.payments.settle import settle

    draft = draft_event(gate, request)
    settlement = settle(gate.storage, notice, draft.id, draft.ts)
    if not settlement.kind:
        log.info("gate: %s notification %s: %s", notice.provider, notice.order, settlement.reason)
        return
    record(gate, request, draft, settlement)


def draft_event(gate: Gate, request: GateRequest) -> AuditEvent:
    from portalgen.audit.events import hash_ip, new_event

    return new_event(
        "payment.refused",
        "",
        ip_hash=hash_ip(request.remote_addr or "", gate.signer.derived_key("ip")),
        user_agent=request.headers.get("User-Agent", ""),
        now=gate.now(),
    )


def record(gate: Gate, request: GateRequest, draft: AuditEvent, settlement: Settlement) -> None:
    """The settlement's event, with the attempt's customer, contact and invoice page."""
    attempt = settlement.attempt
    who: dict[str, Any] = {}
    if attempt is not None:
        who = {
            "customer": attempt.customer,
            "contact": attempt.contact,
            "document": attempt.document,
        }
    event = dataclasses.replace(draft, type=settlement.kind, data=settlement.data, **who)
    if settlement.kind != "payment.received":
        log.warning("gate: %s %s", settlement.kind, settlement.data)
    if gate.audit is not None:
        gate.audit.record(event)


def script(gate: Gate, request: GateRequest) -> Response:
    """The script that submits the form to Redsys (CSP: the gate's own scripts only)."""
    from pathlib import Path

    code = (Path(__file__).resolve().parent / "static" / "pay.js").read_bytes()
    response = Response(code, content_type="text/javascript; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
