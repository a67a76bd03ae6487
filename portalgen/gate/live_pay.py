"""Payments made in the portal, shown on the pages the gate serves (slots.py).

An invoice paid in the portal says "Payment received on <date> — awaiting confirmation"
in place of its "Pay now" form, and the home page says it under the balance, until the
export shows the payment: the published invoice index no longer lists the invoice (or,
for an instalment, its receipt among the unpaid ones), and the notice goes.
"""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING

from portalgen import slots
from portalgen.gate.fragments import fragment
from portalgen.payments.records import PaidRecord, load_paid

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import Visit


def has_paid_slots(text: str) -> bool:
    return slots.PAID_LIST in text or "<!--pg:paid:" in text


def pending_payments(gate: Gate, visit: Visit) -> dict[str, PaidRecord]:
    """slug → the latest payment made in the portal that the published portal does not
    show yet (see the module's docstring)."""
    from portalgen.gate.views_pay import invoice_index

    manifest = gate.manifest(visit)
    if manifest is None:
        return {}
    payable = invoice_index(gate, visit, manifest)
    unpaid = unpaid_receipts(gate, visit)
    found: dict[str, PaidRecord] = {}
    for slug, records in load_paid(gate.storage, visit.customer_key).items():
        if slug not in payable:
            continue
        standing = [r for r in records if not r.receipt or r.receipt in unpaid.get(slug, ())]
        if standing:
            found[slug] = standing[-1]
    return found


def unpaid_receipts(gate: Gate, visit: Visit) -> dict[str, tuple[str, ...]]:
    """slug → the receipts the published index lists as unpaid."""
    import json

    from portalgen.publish.manifest import blob_key

    manifest = gate.manifest(visit)
    entry = manifest.get(slots.INVOICES_INDEX) if manifest else None
    raw = gate.storage.get(blob_key(visit.customer_key, entry.sha256)) if entry else None
    try:
        data = json.loads(raw) if raw else {}
        return {s: tuple(v.get("unpaid") or ()) for s, v in data.get("invoices", {}).items()}
    except (ValueError, AttributeError, TypeError):
        return {}


def fill_paid(gate: Gate, visit: Visit, html: str) -> str:

    pending = pending_payments(gate, visit)
    template = fragment(gate, visit, slots.LIVE_PAID) if pending else None
    if template is None:
        return html.replace(slots.PAID_LIST, "")

    def notice(record: PaidRecord) -> str:
        day = gate.local_time(record.when).strftime("%d/%m/%Y")
        return template.replace(slots.DATE_PLACEHOLDER, day).replace(
            slots.NUMBER_PLACEHOLDER, escape(record.invoice)
        )

    def region(match: re.Match[str]) -> str:
        record = pending.get(match.group(1))
        return f'<div id="payment">{notice(record)}</div>' if record else match.group(0)

    html = slots.PAID_RE.sub(region, html)
    listed = "".join(notice(r) for r in sorted(pending.values(), key=lambda r: r.ts))
    return html.replace(slots.PAID_LIST, listed)
