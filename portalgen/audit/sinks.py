"""Where the gate records events: the local audit.jsonl, or one object per event in storage.

S3 has no append, so on S3 each event is its own object `_events/YYYY/MM/DD/<ulid>.json`
(created if absent: an event is never overwritten), and `portalgen audit pull` merges
them into the staff's audit.jsonl. Each object carries ``mac``, the event's MAC under a
key derived from the newest signing secret: `audit pull` refuses an object without a
valid one, so whoever can write to the bucket but does not hold the secret cannot add
events to the log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from portalgen.audit.anchor import SecretSource, mac
from portalgen.audit.events import AuditEvent, event_time
from portalgen.audit.log import AuditLog

if TYPE_CHECKING:
    from portalgen.storage import Storage

EVENTS_PREFIX = "_events/"


class AuditSink(Protocol):
    """Where events go. Sinks may also offer ``record_many(events)`` to write a batch in
    one go (the gate's view recorder uses it when present)."""

    def record(self, event: AuditEvent) -> None: ...


def record_all(sink: AuditSink, events: Sequence[AuditEvent]) -> None:
    """Write events through a sink, in one go when it can (audit.jsonl: one fsync)."""
    many: Callable[[Sequence[AuditEvent]], None] | None = getattr(sink, "record_many", None)
    if many is not None:
        many(events)
    else:
        for event in events:
            sink.record(event)


class LocalAuditSink:
    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def record(self, event: AuditEvent) -> None:
        self.log.append(event)

    def record_many(self, events: Sequence[AuditEvent]) -> None:
        """One lock and one fsync for the whole batch."""
        self.log.append_many(events)


def event_key(event_id: str) -> str:
    when = event_time(event_id)
    return f"{EVENTS_PREFIX}{when:%Y/%m/%d}/{event_id}.json"


EVENT_MAC = "audit-event"  # the purpose the MAC's key is derived for


class StorageAuditSink:
    def __init__(self, storage: Storage, secrets: Sequence[str] | SecretSource) -> None:
        self.storage = storage
        self._secrets: SecretSource = secrets if callable(secrets) else lambda: tuple(secrets)

    def record(self, event: AuditEvent) -> None:
        record = event.to_dict()
        record["mac"] = mac(self._secrets()[-1], EVENT_MAC, event.to_dict())
        body = json.dumps(record, ensure_ascii=False, sort_keys=True).encode()
        self.storage.put_if_absent(event_key(event.id), body, "application/json")
