"""The audit trail: events, the hash-chained audit.jsonl, sinks, pull, queries."""

from portalgen.audit.events import ACTION_TYPES, EVENT_TYPES, AuditEvent, hash_ip, new_event
from portalgen.audit.log import AuditLog, ChainBreak
from portalgen.audit.sinks import AuditSink, LocalAuditSink, StorageAuditSink

__all__ = [
    "ACTION_TYPES",
    "EVENT_TYPES",
    "AuditEvent",
    "AuditLog",
    "AuditSink",
    "ChainBreak",
    "LocalAuditSink",
    "StorageAuditSink",
    "hash_ip",
    "new_event",
]
