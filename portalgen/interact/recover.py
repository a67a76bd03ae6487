"""A decision whose audit event was lost gets it back, once.

The gate stores a decision, then writes its event. A crash (or a full disk, an S3 outage)
between the two leaves a decision without its event. The decision record carries the
event's id, time, contact, name and comment, so `portalgen audit pull` rebuilds the
event from it (``data.recovered: true``; the client address's hash, the browser and how it
was signed come from the record's evidence, which records written before issue 17 lack)
and appends it: the id is the one the gate chose, so it is never added twice.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from portalgen.audit.events import AuditEvent
from portalgen.interact.decisions import DECISIONS_PREFIX, LOOKBACK, SETTLE, DecisionRecord

if TYPE_CHECKING:
    from portalgen.audit.log import AuditLog
    from portalgen.storage import Storage


def decision_event(record: DecisionRecord, customer: str) -> AuditEvent:
    data: dict[str, object] = {
        "quote": record.quote,
        "slug": record.slug,
        "name": record.name,
        "comment": record.comment,
        "pdf_sha256": record.pdf_sha256,
        "recovered": True,
    }
    evidence = record.evidence
    if evidence is not None:  # how it was signed, as the lost event said (issue 17)
        data["signature"] = evidence.signature
        if evidence.signature_sha256:
            data["signature_sha256"] = evidence.signature_sha256
    return AuditEvent(
        id=record.event_id,
        ts=record.ts,
        type=f"quote.{record.decision}",
        customer=customer,
        contact=record.contact,
        document=f"quotes/{record.slug}.html",
        data=data,
        ip_hash=evidence.ip_hash if evidence is not None else "",
        user_agent=evidence.user_agent if evidence is not None else "",
    )


def recover_decision_events(
    storage: Storage,
    log: AuditLog,
    known: Container[str],
    *,
    now: datetime | None = None,
    lookback: timedelta = LOOKBACK,
) -> list[AuditEvent]:
    """Append the events of recent decisions that have none in the log (`known`: the ids
    it holds); returns them."""
    from portalgen.access.registry import AccessRegistry

    now = now or datetime.now(UTC)
    registry = AccessRegistry(storage)
    customers: dict[str, str | None] = {}
    missing = []
    for info in storage.list(DECISIONS_PREFIX):
        parts = info.key.split("/")
        recent = now - lookback <= info.last_modified <= now - SETTLE
        raw = storage.get(info.key) if len(parts) == 3 and recent else None
        try:
            record = DecisionRecord.from_json(raw) if raw is not None else None
        except ValueError:  # json.JSONDecodeError too
            record = None
        if record is None or not record.event_id or record.event_id in known:
            continue
        key = parts[1]
        if key not in customers:
            entry = registry.load(key)
            customers[key] = entry.customer if entry is not None else None
        customer = customers[key]
        if customer is not None:
            missing.append(decision_event(record, customer))
    missing.sort(key=lambda e: e.id)
    log.append_many(missing)
    return missing
