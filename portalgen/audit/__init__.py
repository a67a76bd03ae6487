"""The audit trail: events, the hash-chained audit.jsonl, sinks, pull, queries."""

from portalgen.audit.events import ACTION_TYPES, EVENT_TYPES, AuditEvent, hash_ip, new_event
from portalgen.audit.log import AuditLog, ChainBreak

__all__ = [
    "ACTION_TYPES",
    "EVENT_TYPES",
    "AuditEvent",
    "AuditLog",
    "ChainBreak",
    "hash_ip",
    "new_event",
]
