"""What readers need from the closed segments, kept beside each one: its summary.

``audit/2026-11.summary.json`` sums up the log from its first line to the end of
``audit/2026-11.jsonl``: where that segment ends (lines, bytes, last hash), the greatest
event id, every customer's latest visit, and the ids and the decisions/comments
(ACTION_TYPES) of the last `WINDOW` before its newest event. A reader takes the newest
closed segment's summary and reads only the open file after it (recent.py), whatever
the log's length.

A summary is derived data, like a cache: the first reader that finds one missing (a
segment just closed, or a log from before segments) builds it from the summary before
and the segment's lines, and writes it (atomically; a reader that may not write just
keeps it in memory). One whose segment's size is not the size it records is rebuilt.
`audit verify` rebuilds them all from the lines and says if one did not match.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ulid import ULID

from portalgen.audit.events import ACTION_TYPES, VISIT_TYPES, AuditEvent, event_time
from portalgen.audit.log import GENESIS, segment_records

VERSION = 1
# Ids and actions kept: at least the longest look back of a reader (the webhook's and
# the decision recovery's 7 days; pull: 2 days and the day it starts in), and a margin.
WINDOW = timedelta(days=9)


@dataclass
class Summary:
    name: str  # the closed segment's file name
    size: int  # its size in bytes
    lines: int  # lines of the log up to its end
    head: str  # its last line's hash
    newest: str = ""  # the greatest event id so far ("" before the first)
    recent_from: str = ""  # ISO time: every id and action since is below ("" = all are)
    recent_ids: list[str] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)  # event dicts, log order
    visits: dict[str, str] = field(default_factory=dict)  # customer → latest visit's ts

    def since(self) -> datetime | None:
        return datetime.fromisoformat(self.recent_from) if self.recent_from else None


def summary_path(segment: Path) -> Path:
    return segment.with_name(segment.name.removesuffix(".jsonl") + ".summary.json")


def summarize(previous: Summary | None, segment: Path) -> Summary:
    """The summary through `segment`, from the one through the segment before it."""
    summary = extend(previous, segment.name, segment_records(segment))
    summary.size = segment.stat().st_size if segment.exists() else 0
    return summary


def extend(previous: Summary | None, name: str, records: Iterable[Mapping[str, Any]]) -> Summary:
    """`previous` (a copy) with `records` added, trimmed to the window; size left as is."""
    base = previous or Summary("", 0, 0, GENESIS)
    summary = Summary(
        name,
        base.size,
        base.lines,
        base.head,
        base.newest,
        base.recent_from,
        list(base.recent_ids),
        list(base.actions),
        dict(base.visits),
    )
    for record in records:
        _add(summary, record)
    _trim(summary)
    return summary


def _add(summary: Summary, record: Mapping[str, Any]) -> None:
    summary.lines += 1
    summary.head = str(record.get("hash", ""))
    event_id = str(record.get("id", ""))
    summary.recent_ids.append(event_id)
    if is_ulid(event_id) and event_id > summary.newest:
        summary.newest = event_id
    kind = record.get("type")
    if kind in ACTION_TYPES:
        summary.actions.append(AuditEvent.from_dict(record).to_dict())
    elif kind in VISIT_TYPES:
        note_visit(summary.visits, str(record.get("customer", "")), str(record.get("ts", "")))


def note_visit(visits: dict[str, str], customer: str, ts: str) -> None:
    """Keep `ts` as the customer's latest visit if it is later than the one known."""
    known = visits.get(customer)
    if known is None or _later(ts, known):
        visits[customer] = ts


def _later(ts: str, than: str) -> bool:
    if len(ts) == len(than) == 24 and ts[-1] == than[-1] == "Z":
        return ts > than  # both as new_event writes them: the text orders like the time
    return visit_time(than) < visit_time(ts)


def visit_time(ts: str) -> datetime:
    """An event's ``ts`` as a datetime (AuditEvent.when)."""
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def id_floor(when: datetime) -> str:
    """The time part of the ULIDs created at `when`: an id whose first 10 characters are
    not below it was created then or later."""
    return str(ULID.from_datetime(when))[:10]


def is_ulid(event_id: str) -> bool:
    return len(event_id) == 26 and event_id.isalnum()


def _trim(summary: Summary) -> None:
    """Keep the ids and actions of the last WINDOW before the newest event."""
    if not summary.newest:
        return
    cutoff = event_time(summary.newest) - WINDOW
    floor = id_floor(cutoff)
    summary.recent_from = cutoff.isoformat()
    summary.recent_ids = [i for i in summary.recent_ids if not is_ulid(i) or i[:10] >= floor]
    summary.actions = [a for a in summary.actions if visit_time(str(a["ts"])) >= cutoff]


def load(segment: Path) -> Summary | None:
    """The stored summary of a closed segment, if it is there and fits the segment."""
    summary = read(summary_path(segment))
    try:
        current = segment.stat().st_size
    except OSError:
        return None
    if summary is None or (summary.name, summary.size) != (segment.name, current):
        return None
    return summary


def read(path: Path) -> Summary | None:
    try:
        body = json.loads(path.read_bytes())
        if body.pop("version") != VERSION:
            return None
        ids = body.get("recent_ids")
        if isinstance(ids, str):  # one text: many times quicker to read than a list
            body["recent_ids"] = ids.split(",") if ids else []
        return Summary(**body)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def store(segment: Path, summary: Summary) -> None:
    """Write it beside the segment, atomically; a reader that may not write skips it."""
    write(summary_path(segment), summary)


def write(target: Path, summary: Summary) -> None:
    body = {"version": VERSION, **asdict(summary)}
    if not any("," in i for i in summary.recent_ids):  # ULIDs never have one
        body["recent_ids"] = ",".join(summary.recent_ids)
    data = json.dumps(body, ensure_ascii=False).encode()
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".summary-")
    except OSError:
        return
    try:
        os.fchmod(fd, 0o640)  # as readable as the log's files, no more
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(name, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)


def through(closed: Iterable[Path]) -> Summary | None:
    """The summary through the last of the `closed` segments (None if there is none):
    stored, or built from the newest stored one before it."""
    segments = list(closed)
    start, summary = len(segments), None
    while start > 0:
        summary = load(segments[start - 1])
        if summary is not None:
            break
        start -= 1
    for segment in segments[start:]:
        summary = summarize(summary, segment)
        store(segment, summary)
    return summary


def rebuild(closed: Iterable[Path]) -> list[Path]:
    """Build every summary again from the lines (`audit verify`, once the chain is
    intact) and store it; returns the stored ones that did not match (changed by hand)."""
    wrong, summary = [], None
    for segment in closed:
        summary = summarize(summary, segment)
        path = summary_path(segment)
        stored = read(path) if path.exists() else None  # missing: written now, no note
        if stored != summary:
            if path.exists():
                wrong.append(path)
            store(segment, summary)
    return wrong
