"""`portalgen audit pull`: bring the events the gate wrote to storage into audit.jsonl.

Exactly once, however often it runs or wherever it was interrupted: an event whose id is
already in the log is skipped (recent.KnownIds: the recent ids at hand, whatever the
log's length), and events are appended in small fsync'd batches, so a
killed pull leaves a valid log holding a prefix of the new events and the next pull adds
the rest. Events younger than `settle` are left for the next pull, so one still being
written by a gate at this moment cannot end up out of order.

An object whose MAC does not verify under the active secrets (none, a wrong one, or one
signed with a secret dropped since) is refused: it is not added, and it is reported
(`refused`) at every pull until someone removes it. An object that is not an event at
all is `unreadable`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from portalgen.audit.anchor import mac_matches
from portalgen.audit.events import AuditEvent, event_time
from portalgen.audit.log import AuditLog
from portalgen.audit.recent import KnownIds, known_ids
from portalgen.audit.sinks import EVENT_MAC, EVENTS_PREFIX

if TYPE_CHECKING:
    from portalgen.storage import Storage

BATCH = 200


@dataclass
class PullResult:
    added: int = 0
    already_present: int = 0
    waiting: int = 0  # too recent; the next pull takes them
    unreadable: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # MAC missing or wrong: not the gate's


def pull_events(
    storage: Storage,
    log: AuditLog,
    *,
    now: datetime | None = None,
    settle: timedelta = timedelta(seconds=30),
    lookback: timedelta = timedelta(days=2),
) -> PullResult:
    """Needs an anchored log (`open_audit_log`): its secrets check each event's MAC."""
    if log.anchor is None:
        raise ValueError("audit pull needs an anchored audit log")
    secrets = log.anchor.secrets
    now = now or datetime.now(UTC)
    known = known_ids(log)
    since = _since(known, lookback)
    result = PullResult()
    pending: list[AuditEvent] = []
    for key in sorted(_event_keys(storage, since, now)):
        event_id = key.rsplit("/", 1)[-1].removesuffix(".json")
        if event_id in known:
            result.already_present += 1
            continue
        try:
            created = event_time(event_id)
        except ValueError:
            result.unreadable.append(key)
            continue
        if created > now - settle:
            result.waiting += 1
            continue
        event = _read_event(storage, key, event_id, secrets)
        if not isinstance(event, AuditEvent):
            (result.refused if event == REFUSED else result.unreadable).append(key)
            continue
        pending.append(event)
        if len(pending) >= BATCH:
            result.added += log.append_many(pending)
            pending.clear()
    result.added += log.append_many(pending)
    return result


def count_unpulled(
    storage: Storage,
    log: AuditLog,
    *,
    now: datetime | None = None,
    lookback: timedelta = timedelta(days=2),
) -> int:
    """How many events the gate stored that are not in audit.jsonl yet: the listing a
    pull starts with (cheap), nothing read or written."""
    now = now or datetime.now(UTC)
    known = known_ids(log)
    since = _since(known, lookback)
    return sum(
        1
        for key in _event_keys(storage, since, now)
        if key.rsplit("/", 1)[-1].removesuffix(".json") not in known
    )


def _since(known: KnownIds, lookback: timedelta) -> datetime | None:
    """From when the gate's events are listed: `lookback` before the newest in the log."""
    try:
        return event_time(known.newest) - lookback if known.newest else None
    except ValueError:
        return None


def _event_keys(storage: Storage, since: datetime | None, now: datetime) -> Iterator[str]:
    if since is None:
        for info in storage.list(EVENTS_PREFIX):
            yield info.key
        return
    day = since.date()
    while day <= now.date():
        for info in storage.list(f"{EVENTS_PREFIX}{day:%Y/%m/%d}/"):
            yield info.key
        day += timedelta(days=1)


REFUSED = "refused"


def _read_event(
    storage: Storage, key: str, event_id: str, secrets: Sequence[str]
) -> AuditEvent | str | None:
    """The event; REFUSED if its MAC does not verify; None if it is not an event."""
    body = storage.get(key)
    if body is None:
        return None
    try:
        raw = json.loads(body)
        claimed = raw.pop("mac", None)
        event = AuditEvent.from_dict(raw)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if event.id != event_id:
        return None
    return event if mac_matches(secrets, EVENT_MAC, event.to_dict(), claimed) else REFUSED
