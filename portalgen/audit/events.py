"""Audit events: what a customer (or staff) did, when, on which document.

One frozen dataclass for every event, with a fixed `type` from EVENT_TYPES; `data`
carries the details of that type (a comment's text, the quote PDF's SHA-256...).
Events are JSON objects: ``{id, ts, customer, contact, type, document, data, ip_hash,
user_agent}``; the staff's audit log adds ``prev`` and ``hash`` (see log.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ulid import ULID

EVENT_TYPES = (
    "quote.accepted",
    "quote.rejected",
    "comment.added",
    "document.viewed",
    "document.downloaded",
    "staff.viewed",  # a staff preview opened a page or a file (contact "staff")
    "session.started",
    "session.ended",
    "code.failed",
    "code.locked",
    "code.slowed",
    "code.changed",
    "link.requested",
    "access.granted",
    "access.revoked",
    "access.reset",
    "payment.received",  # an online payment (docs/facturascripts.md: its data)
    "payment.denied",  # the provider declined it (data: code), docs/payments.md
    "payment.refused",  # a notification portalgen did not take (data: reason)
    "push.sent",  # `portalgen push` wrote a decision, comment or payment into the program
    "push.skipped",  # ... or did not: the record changed there (data: reason)
    "access.signed_out",
    "upload.received",  # a proof of payment, checked and kept (docs/payments.md)
    "upload.quarantined",  # ... that ClamAV flagged: kept apart, never served
)

# Events staff act on (feed back into the invoicing program, notify by webhook/email).
ACTION_TYPES = (
    "quote.accepted",
    "quote.rejected",
    "comment.added",
    "payment.received",
    "payment.denied",
    "payment.refused",
    "upload.received",  # a proof of payment, checked and kept (docs/payments.md)
    "upload.quarantined",  # ... that ClamAV flagged: kept apart, never served
)
# A customer's visit: what `access list` shows as their last one.
VISIT_TYPES = ("session.started", "document.viewed", "document.downloaded")
PAYMENT_TYPES = ("payment.received", "payment.denied", "payment.refused")


@dataclass(frozen=True)
class AuditEvent:
    id: str  # ULID: unique and sortable by time
    ts: str  # UTC, ISO 8601 with milliseconds and Z
    type: str
    customer: str  # the customer's code
    contact: str = ""  # the contact's email, or "staff" for staff actions
    document: str = ""  # portal path of the document concerned ("invoices/F2026A-00001.html")
    data: Mapping[str, Any] = field(default_factory=dict)
    ip_hash: str = ""
    user_agent: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": self.ts,
            "customer": self.customer,
            "contact": self.contact,
            "type": self.type,
            "document": self.document,
            "data": dict(self.data),
            "ip_hash": self.ip_hash,
            "user_agent": self.user_agent,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AuditEvent:
        return cls(
            id=str(raw["id"]),
            ts=str(raw["ts"]),
            type=str(raw["type"]),
            customer=str(raw.get("customer", "")),
            contact=str(raw.get("contact", "")),
            document=str(raw.get("document", "")),
            data=dict(raw.get("data") or {}),
            ip_hash=str(raw.get("ip_hash", "")),
            user_agent=str(raw.get("user_agent", "")),
        )

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.ts.replace("Z", "+00:00"))


def new_event(
    type: str,
    customer: str,
    *,
    contact: str = "",
    document: str = "",
    data: Mapping[str, Any] | None = None,
    ip_hash: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> AuditEvent:
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown audit event type {type!r}")
    now = now or datetime.now(UTC)
    event_id = ULID.from_datetime(now)
    return AuditEvent(
        id=str(event_id),
        ts=now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        type=type,
        customer=customer,
        contact=contact,
        document=document,
        data=dict(data or {}),
        ip_hash=ip_hash,
        user_agent=user_agent[:300],
    )


def hash_ip(ip: str, key: bytes) -> str:
    """A keyed hash of the client's address: equal visits match, the address stays private."""
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()[:16]


def event_time(event_id: str) -> datetime:
    """When an event was created, from its ULID."""
    return ULID.from_str(event_id).datetime
