"""The staff's audit.jsonl: one event per line, hash-chained, appended under a file lock.

Each line is the event's JSON plus ``prev`` (the previous line's hash) and ``hash``
(SHA-256 over ``prev`` and the event's canonical JSON). Editing, deleting, inserting or
reordering a line breaks the chain at that line, which `verify` reports.

Appends take an exclusive file lock (many gate processes and threads may write at once),
write one whole line with a single write, and fsync before releasing the lock. A line
left incomplete by a crash (no final newline) was never acknowledged: it is cut off
before the next append.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from portalgen.audit.events import AuditEvent

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev: str, event: dict[str, Any]) -> str:
    return hashlib.sha256(prev.encode() + b"\n" + canonical(event)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    line: int  # 1-based line number in the file
    reason: str


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path) + ".lock")

    # -- writing ------------------------------------------------------------------------------

    def append(self, event: AuditEvent) -> None:
        self.append_many([event])

    def append_many(self, events: Iterable[AuditEvent]) -> int:
        """Append events in the order given; returns how many were written."""
        events = list(events)
        if not events:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            prev = self._repair_and_last_hash()
            chunk = bytearray()
            for event in events:
                record = event.to_dict()
                digest = chain_hash(prev, record)
                chunk += canonical({**record, "prev": prev, "hash": digest}) + b"\n"
                prev = digest
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                view = memoryview(bytes(chunk))
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
        return len(events)

    def _repair_and_last_hash(self) -> str:
        """The last complete line's hash, cutting off an incomplete last line if any."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return GENESIS
        if size == 0:
            return GENESIS
        with self.path.open("rb+") as fh:
            tail = b""
            position = size
            while position > 0 and tail.count(b"\n") < 2:
                step = min(4096, position)
                position -= step
                fh.seek(position)
                tail = fh.read(step) + tail
            if not tail.endswith(b"\n"):
                cut = tail.rfind(b"\n") + 1  # 0 when the file has no complete line
                fh.truncate(position + cut)
                fh.flush()
                os.fsync(fh.fileno())
                tail = tail[:cut]
            lines = tail.rstrip(b"\n").split(b"\n")
            if not lines or not lines[-1]:
                return GENESIS
            return str(json.loads(lines[-1])["hash"])

    # -- reading ------------------------------------------------------------------------------

    def records(self) -> Iterator[dict[str, Any]]:
        """Every complete line as a dict (with prev and hash)."""
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            for raw in fh:
                if raw.endswith(b"\n") and raw.strip():
                    yield json.loads(raw)

    def events(self) -> Iterator[AuditEvent]:
        for record in self.records():
            yield AuditEvent.from_dict(record)

    def ids(self) -> set[str]:
        return {str(r["id"]) for r in self.records()}

    def verify(self) -> tuple[int, ChainBreak | None]:
        """Check the chain: (lines checked, the first break or None)."""
        prev = GENESIS
        count = 0
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return 0, None
        with fh:
            for number, raw in enumerate(fh, start=1):
                count = number
                try:
                    record = json.loads(raw)
                    claimed_prev, claimed_hash = record.pop("prev"), record.pop("hash")
                except (ValueError, KeyError, AttributeError):
                    return count, ChainBreak(number, "the line is not an audit record")
                if claimed_prev != prev:
                    return count, ChainBreak(
                        number,
                        "the line does not follow the one before it "
                        "(a line was deleted, inserted or moved here)",
                    )
                if chain_hash(prev, record) != claimed_hash:
                    return count, ChainBreak(number, "the line was changed after it was written")
                prev = claimed_hash
        return count, None
