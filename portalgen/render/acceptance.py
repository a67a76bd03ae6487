"""The acceptance certificate of a quote accepted in the portal (issue 17): what it shows.

A PDF rendered with the others (pdf/acceptance.html, through the same engine, so sealed
like every PDF portalgen renders), at `slots.certificate_path(slug)`, linked from the
quote's page. It states the quote (number, date, total, the fingerprint of its PDF), the
evidence the gate kept (interact/evidence.py), the drawn signature, and the terms shown
before the button. The view holds plain strings; the signature image enters the render
key by its SHA-256 and the template as a ``data:`` URL beside the view.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from portalgen.domain.model import Quote
from portalgen.interact.evidence import Acceptance
from portalgen.render.views import View, page_path


def certificate_view(quote: Quote, acceptance: Acceptance) -> View:
    evidence = acceptance.evidence
    return {
        "quote": {
            "number": quote.number,
            "issue_date": quote.issue_date,
            "valid_until": quote.valid_until,
            "total": quote.totals.total,
            "page": page_path(quote),
        },
        "evidence": evidence.to_dict(),
        "utc_text": _utc_text(evidence.utc),
        "local_text": _local_text(evidence.local, evidence.timezone),
        "event_id": acceptance.event_id,
        "comment": acceptance.comment,
        "signature_missing": evidence.signature == "drawn" and not acceptance.signature,
    }


def signature_uri(acceptance: Acceptance) -> str:
    """The drawn signature as an inline image for WeasyPrint ("" without one)."""
    if not acceptance.signature:
        return ""
    return "data:image/png;base64," + base64.b64encode(acceptance.signature).decode("ascii")


def _utc_text(value: str) -> str:
    """``2026-06-15 08:30:00.123 UTC`` from the event's ISO 8601 time."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return value
    return when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d} UTC"


def _local_text(value: str, zone: str) -> str:
    """``2026-06-15 10:30:00 (Europe/Madrid, UTC+02:00)``."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = when.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else ""
    label = ", ".join(part for part in (zone, offset) if part)
    return f"{when:%Y-%m-%d %H:%M:%S} ({label})" if label else f"{when:%Y-%m-%d %H:%M:%S}"
