"""The proof-of-payment slot of an unpaid invoice's page, filled as it is served.

Once the customer has uploaded a proof the gate accepted, ``<!--pg:proof:<slug>-->``
becomes the published fragment ``_live/proof-received.html`` ("Proof of payment received
on {date}", in the portal's language) with the latest one's date, before the next
nightly publish and until the invoice is paid (then the page has no slot).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from portalgen import slots
from portalgen.uploads.records import RECEIVED, customer_records

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import Visit


def fill_proofs(gate: Gate, visit: Visit, html: str) -> str:
    from portalgen.gate.fragments import fragment

    latest: dict[str, str] = {}
    for record in customer_records(gate.storage, visit.customer_key):
        if record.status == RECEIVED:
            latest[record.invoice] = gate.local_time(record.when).strftime("%d/%m/%Y")
    if not latest:
        return html
    template = fragment(gate, visit, slots.LIVE_PROOF)
    if template is None:
        return html

    def filled(match: re.Match[str]) -> str:
        day = latest.get(match.group(1))
        return match.group(0) if day is None else template.replace(slots.DATE_PLACEHOLDER, day)

    return slots.PROOF_RE.sub(filled, html)
