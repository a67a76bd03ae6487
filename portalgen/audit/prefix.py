"""What earlier readers already read of the open file: ``audit/open.summary.json``.

It sums up the log through the first N bytes of audit.jsonl (the summary through the
closed segments, then those lines), as summary.py does for a closed segment. A reader
checks that the line ending at byte N of the open file still has the hash it records
(once the file is closed and renamed, the new open file has no such line there), then
reads only the lines after N; when those are many (`KEEP_EVERY`), it stores the summary
through them for the next reader. So a staff command run every few minutes reads a
few lines, not the whole month. Like every summary, it is derived data: `audit verify`
removes it and the next reader builds it again.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from portalgen.audit.segments import Snapshot, archive_dir, complete_lines, lines_backwards
from portalgen.audit.summary import Summary, extend, read, through, write

KEEP_EVERY = 500  # new lines that make a reader store the summary through them


def prefix_path(path: Path) -> Path:
    """Where the summary through the open file `path`'s first bytes is kept."""
    return archive_dir(path) / "open.summary.json"


def read_log(path: Path, snap: Snapshot) -> tuple[Summary | None, list[dict[str, Any]]]:
    """The summary of everything up to some point, and the open file's records after it."""
    stored = read(prefix_path(path))
    base: Summary | None = None
    if stored is not None and _fits(stored, path, snap):
        base, start = stored, stored.size
    else:
        base, start = through(snap.closed), 0
    records, end = _records_from(snap, start)
    if len(records) < KEEP_EVERY:
        return base, records
    fresh = extend(base, path.name, records)
    fresh.size = end
    archive_dir(path).mkdir(exist_ok=True)
    write(prefix_path(path), fresh)
    return fresh, []


def forget(path: Path) -> None:
    """Remove it (`audit verify`, after rebuilding the closed segments' summaries)."""
    with contextlib.suppress(OSError):
        prefix_path(path).unlink()


def _fits(stored: Summary, path: Path, snap: Snapshot) -> bool:
    """Whether it sums up the first bytes of this very open file."""
    head = snap.head
    if head is None or stored.name != path.name or not 0 < stored.size <= snap.size:
        return False
    head.seek(stored.size - 1)
    if head.read(1) != b"\n":
        return False
    for raw in lines_backwards(head, stored.size):
        try:
            return bool(json.loads(raw).get("hash") == stored.head)
        except (ValueError, AttributeError):
            return False
    return False


def _records_from(snap: Snapshot, start: int) -> tuple[list[dict[str, Any]], int]:
    """The open file's records from byte `start`, and where the last one ends."""
    records: list[dict[str, Any]] = []
    end = start
    if snap.head is None:
        return records, end
    for raw in complete_lines(snap.head, start, snap.size):
        end += len(raw)
        if raw.strip():
            records.append(json.loads(raw))
    return records, end
