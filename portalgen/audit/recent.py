"""Quick reads of the audit log: the newest summary plus the open file's lines after it.

What `access list` (last visits), `notify` and `audit pull`'s follow-up (recent
decisions and comments), `audit pull` (is this event id in the log?) and `audit tail`
(the newest events) need, in a time that does not grow with the log: the open file is
at most a month or `ROLL_BYTES` (and mostly read already: prefix.py), the summary holds
a fixed window (summary.py). A
question reaching further back than the summary keeps (a look-back longer than its
window) is answered by reading the older segments, so the answer is always whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from portalgen.audit.events import ACTION_TYPES, VISIT_TYPES, AuditEvent
from portalgen.audit.log import AuditLog
from portalgen.audit.prefix import read_log
from portalgen.audit.segments import Snapshot, lines_backwards
from portalgen.audit.summary import Summary, id_floor, is_ulid, note_visit, visit_time


@dataclass
class LogView:
    """A summary of the log up to some point (the closed segments, and perhaps the open
    file's first lines: prefix.py) and the open file's records after it, at one moment."""

    log: AuditLog
    summary: Summary | None
    tail: list[dict[str, Any]] = field(default_factory=list)

    def complete_since(self, when: datetime) -> bool:
        """Whether the summary keeps everything from `when` on."""
        start = self.summary.since() if self.summary else None
        return start is None or start <= when


def view(log: AuditLog) -> LogView:
    with log.snapshot() as snap:
        summary, tail = read_log(log.path, snap)
        return LogView(log, summary, tail)


class KnownIds:
    """Whether an event id is in the log: the recent ids at hand, older ones looked up
    in the older segments (read once, and only if such an id is asked about)."""

    def __init__(self, seen: LogView) -> None:
        self._view = seen
        kept = seen.summary.recent_ids if seen.summary else []
        tail = [str(r["id"]) for r in seen.tail]
        self._recent = {*kept, *tail}
        self._all: set[str] | None = None
        start = seen.summary.since() if seen.summary else None
        self._floor = id_floor(start) if start else ""  # ids not below it: all at hand
        newest = seen.summary.newest if seen.summary else ""
        self.newest = max([newest, *(i for i in tail if is_ulid(i))])

    def __contains__(self, event_id: object) -> bool:
        if not isinstance(event_id, str):
            return False
        if event_id in self._recent:
            return True
        if not is_ulid(event_id) or event_id[:10] >= self._floor:
            return False  # every such id is at hand (summaries keep the odd ones too)
        return event_id in self._everything()

    def __bool__(self) -> bool:
        return bool(self._recent) or bool(self._view.summary and self._view.summary.lines)

    def _everything(self) -> set[str]:
        if self._all is None:
            self._all = self._view.log.ids()
        return self._all


def known_ids(log: AuditLog) -> KnownIds:
    return KnownIds(view(log))


def recent_actions(log: AuditLog, since: datetime) -> list[AuditEvent]:
    """The decisions and comments (ACTION_TYPES) recorded since `since`, in log order."""
    seen = view(log)
    if not seen.complete_since(since):
        return [e for e in log.events() if e.type in ACTION_TYPES and e.when >= since]
    kept = seen.summary.actions if seen.summary else []
    records = [*kept, *(r for r in seen.tail if r.get("type") in ACTION_TYPES)]
    events = (AuditEvent.from_dict(r) for r in records)
    return [e for e in events if e.when >= since]


def last_visits(log: AuditLog) -> dict[str, datetime]:
    """Customer code → the time of their latest visit (as access.grants.last_visits
    finds reading every event)."""
    seen = view(log)
    visits = dict(seen.summary.visits) if seen.summary else {}
    for record in seen.tail:
        if record.get("type") in VISIT_TYPES:
            note_visit(visits, str(record.get("customer", "")), str(record["ts"]))
    return {customer: visit_time(ts) for customer, ts in visits.items()}


def newest_events(
    log: AuditLog, count: int, keep: Callable[[AuditEvent], bool]
) -> list[AuditEvent]:
    """The last `count` events that `keep` accepts, oldest first: read from the end of
    the open file backwards, into the closed segments only if it holds too few."""
    found: list[AuditEvent] = []
    with log.snapshot() as snap:
        for event in _backwards(snap):
            if keep(event):
                found.append(event)
                if len(found) == count:
                    break
    return found[::-1]


def _backwards(snap: Snapshot) -> Iterator[AuditEvent]:
    if snap.head is not None:
        for raw in lines_backwards(snap.head, snap.size):
            if raw.strip():
                yield AuditEvent.from_dict(json.loads(raw))
    for segment in reversed(snap.closed):
        try:
            fh = segment.open("rb")
        except FileNotFoundError:
            continue
        with fh:
            size = segment.stat().st_size
            for raw in lines_backwards(fh, size):
                if raw.strip():
                    yield AuditEvent.from_dict(json.loads(raw))
