"""Which customers an email address may sign in to: for "email me a new link".

``_access/emails/<sha256(email)>.json`` lists the customer_keys that have the address as
a contact. It is derived data written by `grant`, like the registry's index: the
registry entry stays the truth (a listed customer whose entry no longer has the
contact enabled is ignored), so a stale file can only make the gate send nothing.
The same file remembers when a link was last sent to the address, so the gate sends
at most one per `interval` whatever the number of requests or gate instances.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portalgen.storage import Storage

PREFIX = "_access/emails/"
JSON = "application/json"


def email_key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
    return f"{PREFIX}{digest}.json"


def _read(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {"customers": [], "last_sent": None}
    try:
        data = json.loads(raw)
        customers = [str(k) for k in data.get("customers", [])]
        return {"customers": customers, "last_sent": data.get("last_sent")}
    except (ValueError, AttributeError, TypeError):
        return {"customers": [], "last_sent": None}  # damaged: rebuilt by the next grant


def _dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True).encode("utf-8")


def add_contact(storage: Storage, email: str, customer_key: str) -> None:
    """Record that `email` is a contact of `customer_key` (compare-and-swap)."""
    key = email_key(email)
    for _ in range(10):
        found = storage.get_with_version(key)
        data = _read(found[0] if found else None)
        if customer_key in data["customers"]:
            return
        data["customers"] = sorted({*data["customers"], customer_key})
        if found is None:
            if storage.put_if_absent(key, _dump(data), JSON):
                return
        elif storage.put_if_version(key, _dump(data), JSON, found[1]):
            return


def customers_of(storage: Storage, email: str) -> list[str]:
    return list(_read(storage.get(email_key(email)))["customers"])


def claim_send(storage: Storage, email: str, now: datetime, interval: timedelta) -> bool:
    """True if a link may be sent to `email` now (and records that it was): at most one
    per `interval`, across every gate process. Only called for known addresses."""
    key = email_key(email)
    for _ in range(5):
        found = storage.get_with_version(key)
        if found is None:
            return False
        data = _read(found[0])
        last = data.get("last_sent")
        if last:
            try:
                if now - datetime.fromisoformat(str(last)) < interval:
                    return False
            except ValueError:
                pass
        data["last_sent"] = now.astimezone(UTC).isoformat()
        if storage.put_if_version(key, _dump(data), JSON, found[1]):
            return True
    return False
