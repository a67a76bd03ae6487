"""Reading the audit log for staff: filters, CSV/JSON export, a readable tail."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from portalgen.audit.events import AuditEvent
from portalgen.textsafe import escape_controls, spreadsheet_cell


@dataclass(frozen=True)
class EventFilter:
    since: date | None = None
    types: Sequence[str] = ()
    customers: Sequence[str] = ()

    def matches(self, event: AuditEvent, zone: ZoneInfo) -> bool:
        if self.since is not None and event.when.astimezone(zone).date() < self.since:
            return False
        if self.types and not any(_type_matches(event.type, t) for t in self.types):
            return False
        return not (self.customers and event.customer not in self.customers)


def _type_matches(event_type: str, wanted: str) -> bool:
    """`quote` matches every quote.* event; `quote.accepted` only itself."""
    return event_type == wanted or event_type.startswith(wanted.rstrip(".") + ".")


def select(
    events: Iterable[AuditEvent], where: EventFilter, zone: ZoneInfo
) -> Iterator[AuditEvent]:
    return (e for e in events if where.matches(e, zone))


CSV_COLUMNS = ("time", "type", "customer", "contact", "document", "name", "comment", "id")


def export_csv(events: Iterable[AuditEvent], zone: ZoneInfo) -> str:
    """One row per event, times in the business's time zone, the details staff enter.

    Every cell goes through `spreadsheet_cell`: a comment such as ``=HYPERLINK(...)``
    comes out as text (``'=HYPERLINK(...)``), not as a live formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: quotes a lone \r too
    writer.writerow(CSV_COLUMNS)
    for e in events:
        cells = (
            _local(e.when, zone),
            e.type,
            e.customer,
            e.contact,
            e.document,
            e.data.get("name", ""),
            payment_summary(e) or e.data.get("comment", e.data.get("text", "")),
            e.id,
        )
        writer.writerow([spreadsheet_cell(str(cell)) for cell in cells])
    return out.getvalue()


def payment_summary(event: AuditEvent) -> str:
    """A payment event's details in one cell: ``27.21 EUR redsys 1234abcdefgh (reason)``."""
    if not event.type.startswith("payment."):
        return ""
    d = event.data
    parts = [str(d.get(k) or "") for k in ("amount", "currency", "provider", "transaction")]
    text = " ".join(p for p in parts if p)
    why = str(d.get("reason") or d.get("code") or "")
    return f"{text} ({why})" if why else text


def export_json(events: Iterable[AuditEvent]) -> str:
    return "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in events)


_VERBS = {
    "quote.accepted": "accepted quote",
    "quote.rejected": "rejected quote",
    "comment.added": "commented on",
    "document.viewed": "viewed",
    "document.downloaded": "downloaded",
    "staff.viewed": "previewed (staff)",
    "session.started": "opened the portal",
    "session.ended": "logged out",
    "code.failed": "typed a wrong access code",
    "code.locked": "was locked out after wrong access codes",
    "code.slowed": "made every contact wait: too many wrong access codes for this customer",
    "code.changed": "changed the access code",
    "link.requested": "asked for a new link",
    "access.granted": "was granted access",
    "access.revoked": "lost access",
    "access.reset": "got a new link (reset)",
    "payment.received": "paid online",
    "payment.denied": "had an online payment declined",
    "payment.refused": "was named in a payment notification portalgen refused",
    "push.sent": "pushed to the invoicing program",
    "push.skipped": "not pushed to the invoicing program",
    "access.signed_out": "was signed out everywhere",
    "upload.received": "uploaded a proof of payment for",
    "upload.quarantined": "uploaded a file ClamAV flagged (quarantined) for",
}


def describe(event: AuditEvent, zone: ZoneInfo) -> str:
    """``2026-06-15 10:32  C00042 compras@x.es accepted quote quotes/P2026A-00012.html``

    One line whatever the event holds: control characters (a newline in a comment) are
    escaped, so no text a customer typed can pass for an event of its own, and a long
    text is shortened at a word boundary with "…". Staff actions name staff as who did
    them: ``staff granted access to C00021``."""
    staff = _STAFF_VERBS.get(event.type) if event.contact == "staff" else None
    if staff is not None:
        what = staff.format(customer=event.customer, document=event.document or "a document")
        line = f"{_local(event.when, zone)}  staff {what}"
    else:
        who = " ".join(p for p in (event.customer, event.contact) if p)
        line = f"{_local(event.when, zone)}  {who} {_VERBS.get(event.type, event.type)}"
        if event.document:
            line += f" {event.document}"
    return escape_controls(line) + _texts(event)


# Staff actions (contact "staff"): what staff did, to which customer.
_STAFF_VERBS = {
    "access.granted": "granted access to {customer}",
    "access.revoked": "revoked access of {customer}",
    "access.reset": "sent a new link to {customer} (reset)",
    "access.signed_out": "signed {customer} out everywhere",
    "staff.viewed": "previewed {customer}'s {document}",
    "push.sent": "pushed {customer}'s {document} to the invoicing program",
    "push.skipped": "did not push {customer}'s {document} to the invoicing program",
}
TEXT_LIMIT = 80  # characters of a comment or reason `audit tail` shows


def _texts(event: AuditEvent) -> str:
    """``: "text"``, or ``: reason "...", comment "..."`` when there are several."""
    texts = [
        (key, str(event.data[key])) for key in ("reason", "comment", "text") if event.data.get(key)
    ]
    if not texts:
        return ""
    if len(texts) == 1:
        return f': "{_shown(texts[0][1])}"'
    return ": " + ", ".join(f'{key} "{_shown(text)}"' for key, text in texts)


def _shown(text: str) -> str:
    """`text` shortened to TEXT_LIMIT characters at a word boundary (with "…"), then
    its control characters escaped."""
    if len(text) > TEXT_LIMIT:
        cut = text[: TEXT_LIMIT - 1]
        space = max(cut.rfind(blank) for blank in " \n\t")
        if space > TEXT_LIMIT // 2:
            cut = cut[:space]
        text = cut.rstrip() + "…"
    return escape_controls(text)


def _local(when: datetime, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M")
