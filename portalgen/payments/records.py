"""Payment attempts and what the providers said about them, in storage.

- ``_payments/orders/<order>.json``: the attempt, created if absent when the customer
  presses "Pay now" (the order id is its own: 4 digits and 8 letters or digits, as
  Redsys wants ``Ds_Merchant_Order``); it names the customer, contact, invoice, amount,
  currency, provider and method, and the receipt or receipts it pays. A notification
  is matched against it, never trusted.
- ``_payments/transactions/<provider>/<transaction>.json``: created if absent when a
  provider's notification is first settled, so a transaction is recorded once however
  many times the provider notifies it.
- ``_payments/paid/<customer_key>/<invoice slug>/<order>.json``: a payment received,
  which the invoice page and the home page show until the export has it paid.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from portalgen.errors import PortalgenError
from portalgen.payments.invoices import ReceiptShare

if TYPE_CHECKING:
    from portalgen.storage import Storage

PAYMENTS_PREFIX = "_payments/"
ORDERS = f"{PAYMENTS_PREFIX}orders/"
TRANSACTIONS = f"{PAYMENTS_PREFIX}transactions/"
PAID = f"{PAYMENTS_PREFIX}paid/"
RECORD_VERSION = 1
_ALNUM = string.ascii_lowercase + string.digits


class PaymentError(PortalgenError):
    """A payment that cannot go ahead (`kind` names why, for the gate's page)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind


def new_order_id() -> str:
    """12 characters: 4 digits then 8 lower-case letters or digits (Redsys' rule)."""
    digits = "".join(secrets.choice(string.digits) for _ in range(4))
    return digits + "".join(secrets.choice(_ALNUM) for _ in range(8))


def is_order_id(value: str) -> bool:
    return (
        len(value) == 12
        and value[:4].isdigit()
        and all(c in _ALNUM for c in value[4:])
        and value.isascii()
    )


@dataclass(frozen=True)
class PaymentAttempt:
    order: str
    provider: str  # redsys | stripe
    method: str  # card | bizum | sepa_debit
    customer_key: str
    customer: str  # the customer's code
    contact: str
    invoice: str  # its number as issued
    slug: str  # its page: invoices/<slug>.html
    amount: str  # decimal string, as published
    currency: str  # ISO 4217
    receipt: str = ""  # the instalment's receipt, when paying one
    ts: str = ""  # UTC ISO 8601
    session: str = ""  # the provider's id for the attempt (a Stripe Checkout Session)
    receipt_id: str = ""  # that receipt's id in the invoicing program (FacturaScripts' idrecibo)
    # paying everything outstanding of an invoice in receipts: each receipt settled,
    # with its id and amount as published (`receipt` is then "")
    receipts: tuple[ReceiptShare, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> Decimal:
        return Decimal(self.amount)

    @property
    def document(self) -> str:
        return f"invoices/{self.slug}.html"

    def to_json(self) -> bytes:
        body = {**self.extra, **asdict(self), "version": RECORD_VERSION}
        body.pop("extra")
        body.pop("receipts")
        if self.receipts:
            body["receipts"] = [share.to_dict() for share in self.receipts]
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> PaymentAttempt:
        try:
            data = json.loads(raw)
            if data.get("version") != RECORD_VERSION:
                raise ValueError("not a version 1 payment attempt")
            names = [n for n in cls.__dataclass_fields__ if n not in ("extra", "receipts")]
            known = {**{n: str(data.get(n, "")) for n in names}}
            shares = tuple(ReceiptShare.from_dict(r) for r in data.get("receipts") or ())
            skip = {*names, "receipts", "version"}
            extra = {k: v for k, v in data.items() if k not in skip}
            return cls(**known, receipts=shares, extra=extra)
        except (TypeError, AttributeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a payment attempt: {exc}") from None


def order_key(order: str) -> str:
    return f"{ORDERS}{order}.json"


def store_attempt(storage: Storage, attempt: PaymentAttempt) -> bool:
    """Create the attempt; False if its order id is taken (draw another)."""
    return storage.put_if_absent(order_key(attempt.order), attempt.to_json(), "application/json")


def read_attempt(storage: Storage, order: str) -> PaymentAttempt | None:
    """The attempt of an order id, or None (unknown, malformed id, damaged record)."""
    if not is_order_id(order):
        return None
    raw = storage.get(order_key(order))
    if raw is None:
        return None
    try:
        return PaymentAttempt.from_json(raw)
    except ValueError:
        return None


def transaction_key(provider: str, transaction: str) -> str:
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in transaction)[:200]
    return f"{TRANSACTIONS}{provider}/{safe or 'none'}.json"


def claim_transaction(
    storage: Storage, provider: str, transaction: str, record: dict[str, Any]
) -> bool:
    """True if this transaction is recorded now, False if it was already (a replay).

    A conditional write retried after a network error may answer False although it
    landed: the record is read back, and if it carries our event id, it is ours."""
    key = transaction_key(provider, transaction)
    body = json.dumps(record, ensure_ascii=False, sort_keys=True).encode()
    if storage.put_if_absent(key, body, "application/json"):
        return True
    standing = storage.get(key)
    try:
        return standing is not None and json.loads(standing).get("event") == record.get("event")
    except ValueError:
        return False


@dataclass(frozen=True)
class PaidRecord:
    """A payment received in the portal: what the invoice page shows until the export
    has the invoice paid."""

    order: str
    slug: str
    invoice: str
    amount: str
    currency: str
    ts: str
    provider: str
    method: str
    event: str = ""
    receipt: str = ""  # the instalment paid, when it was one

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.ts.replace("Z", "+00:00"))

    def to_json(self) -> bytes:
        return json.dumps({**asdict(self), "version": RECORD_VERSION}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> PaidRecord:
        try:
            data = json.loads(raw)
            names = list(cls.__dataclass_fields__)
            record = cls(**{n: str(data.get(n, "")) for n in names})
            record.when  # noqa: B018 - its date must parse too
            return record
        except (TypeError, AttributeError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a payment record: {exc}") from None


def paid_key(customer_key: str, slug: str, order: str) -> str:
    return f"{PAID}{customer_key}/{slug}/{order}.json"


def store_paid(storage: Storage, customer_key: str, record: PaidRecord) -> None:
    storage.put(
        paid_key(customer_key, record.slug, record.order), record.to_json(), "application/json"
    )


def load_paid(storage: Storage, customer_key: str) -> dict[str, list[PaidRecord]]:
    """slug → the payments received in the portal for the customer's invoices, oldest
    first. A damaged record counts as none."""
    prefix = f"{PAID}{customer_key}/"
    found: dict[str, list[PaidRecord]] = {}
    for info in storage.list(prefix):
        raw = storage.get(info.key)
        if raw is None:
            continue
        try:
            record = PaidRecord.from_json(raw)
        except ValueError:
            continue
        found.setdefault(record.slug, []).append(record)
    for records in found.values():
        records.sort(key=lambda r: r.ts)
    return found
