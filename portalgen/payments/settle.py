"""A verified notification matched against its attempt, and recorded once.

`settle` decides what a notification means; the gate records the audit event it
returns (``payment.received``, ``payment.denied`` or ``payment.refused``) and answers
the provider. A transaction is claimed (created if absent) before anything is
recorded, so a provider that notifies twice gets "already" the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from portalgen.payments.records import (
    PaidRecord,
    PaymentAttempt,
    claim_transaction,
    read_attempt,
    store_paid,
)

if TYPE_CHECKING:
    from portalgen.payments.notice import Notice
    from portalgen.storage import Storage


@dataclass(frozen=True)
class Settlement:
    """What to record: `kind` is the audit event type, or "" for nothing (a replay, a
    pending SEPA debit, an event portalgen does not act on)."""

    kind: str
    attempt: PaymentAttempt | None
    data: dict[str, Any]
    reason: str = ""


def refusal(
    notice: Notice | None, provider: str, reason: str, attempt: PaymentAttempt | None = None
) -> Settlement:
    data: dict[str, Any] = {"provider": provider, "reason": reason}
    if notice is not None:
        data.update(
            order=notice.order,
            transaction=notice.transaction,
            amount=str(notice.amount) if notice.amount is not None else "",
            currency=notice.currency,
        )
    if attempt is not None:
        data.update(invoice=attempt.invoice, expected=attempt.amount)
    return Settlement("payment.refused", attempt, data, reason)


def mismatch(notice: Notice, attempt: PaymentAttempt) -> str:
    """Why a notification does not match its attempt, or ""."""
    if notice.provider != attempt.provider:
        return f"an attempt with {attempt.provider}, notified by {notice.provider}"
    if notice.currency != attempt.currency:
        return f"currency {notice.currency}, the attempt's is {attempt.currency}"
    if notice.amount is None or notice.amount != attempt.value:
        return f"amount {notice.amount}, the attempt's is {attempt.amount}"
    return ""


def settle(storage: Storage, notice: Notice, event_id: str, ts: str) -> Settlement:
    """The settlement of a verified `notice`; `event_id` and `ts` are those of the event
    the gate will record (kept in the transaction's record and the paid record)."""
    if notice.outcome in ("ignored", "pending"):
        return Settlement("", None, {}, notice.outcome)
    attempt = read_attempt(storage, notice.order)
    if attempt is None:
        return refusal(notice, notice.provider, "unknown order")
    reason = mismatch(notice, attempt)
    if reason:
        return refusal(notice, notice.provider, reason, attempt)
    claim = {"event": event_id, "order": attempt.order, "outcome": notice.outcome, "ts": ts}
    if not claim_transaction(storage, notice.provider, notice.transaction, claim):
        return Settlement("", attempt, {}, "replay")
    data: dict[str, Any] = {
        "invoice": attempt.invoice,
        "receipt": attempt.receipt,
        "amount": attempt.amount,
        "currency": attempt.currency,
        "provider": attempt.provider,
        "method": notice.method or attempt.method,
        "transaction": notice.transaction,
        "order": attempt.order,
        **({"receipt_id": attempt.receipt_id} if attempt.receipt_id else {}),
        **({"receipts": [r.to_dict() for r in attempt.receipts]} if attempt.receipts else {}),
    }
    if notice.outcome == "denied":
        return Settlement("payment.denied", attempt, {**data, "code": notice.code})
    record = PaidRecord(
        attempt.order,
        attempt.slug,
        attempt.invoice,
        attempt.amount,
        attempt.currency,
        ts,
        attempt.provider,
        data["method"],
        event_id,
        attempt.receipt,
    )
    store_paid(storage, attempt.customer_key, record)
    return Settlement("payment.received", attempt, data)
