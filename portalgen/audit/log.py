"""The staff's audit.jsonl: one event per line, hash-chained, appended under a file lock.

Each line is the event's JSON plus ``prev`` (the previous line's hash) and ``hash``
(SHA-256 over ``prev`` and the event's canonical JSON). Editing, deleting, inserting or
reordering a line breaks the chain at that line, which `verify` reports. Cutting the end
or rewriting the whole file with fresh hashes leaves a valid chain: the checkpoint in
storage (anchor.py), advanced by every append, catches those (`verify_anchored`).

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

from portalgen.audit.anchor import Anchor, Checkpoint, CheckpointError, now_text
from portalgen.audit.events import AuditEvent

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev: str, event: dict[str, Any]) -> str:
    return hashlib.sha256(prev.encode() + b"\n" + canonical(event)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    line: int  # 1-based line number in the file (0: the problem is not one line's)
    reason: str


@dataclass(frozen=True)
class LineEnd:
    """Where a complete line ends: its number, the byte after its newline, its hash."""

    line: int
    size: int
    hash: str


class AuditLog:
    """The log at `path`; with an `anchor`, every append also advances the checkpoint
    (production writers always pass one; a log without is read-only in spirit)."""

    def __init__(self, path: Path, anchor: Anchor | None = None) -> None:
        self.path = path
        self.anchor = anchor
        self.lock = FileLock(str(path) + ".lock")

    # -- writing ------------------------------------------------------------------------------

    def append(self, event: AuditEvent) -> None:
        self.append_many([event])

    def append_many(self, events: Iterable[AuditEvent]) -> int:
        """Append events in the order given; returns how many were written."""
        events = list(events)
        if not events:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock:
            size, prev = self._repair_and_end()
            before = (size, prev)
            chunk = bytearray()
            for event in events:
                record = event.to_dict()
                digest = chain_hash(prev, record)
                chunk += canonical({**record, "prev": prev, "hash": digest}) + b"\n"
                prev = digest
            self._write(bytes(chunk))
            if self.anchor is not None:
                self._advance_anchor(self.anchor, before, len(events), (size + len(chunk), prev))
        return len(events)

    def _advance_anchor(
        self, anchor: Anchor, before: tuple[int, str], count: int, after: tuple[int, str]
    ) -> None:
        """Move the checkpoint over `count` lines just appended (under the log's lock):
        `before` and `after` are the file's (size, last hash) around the append."""
        try:
            checkpoint = anchor.read()
        except CheckpointError:
            return  # an append never replaces a checkpoint it cannot trust: verify reports it
        if checkpoint is None:
            lines = _count_lines(self.path, before[0])
            anchor.write(Checkpoint(lines + count, *after, since_line=lines, since=now_text()))
        elif (checkpoint.size, checkpoint.head) == before:
            anchor.write(checkpoint.advanced(checkpoint.lines + count, *after))
        else:
            late = _lines_after(self, checkpoint, before[0])
            if late is None:
                return  # the file no longer holds the anchored line: verify reports it
            last = checkpoint.lines + late
            moved = checkpoint.advanced(last + count, *after)
            anchor.write(moved.with_late(checkpoint.lines + 1, last, now_text()))

    def _write(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)

    def _repair_and_end(self) -> tuple[int, str]:
        """(size, last complete line's hash), cutting off an incomplete last line if any."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return 0, GENESIS
        if size == 0:
            return 0, GENESIS
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
                size = position + cut
            lines = tail.rstrip(b"\n").split(b"\n")
            if not lines or not lines[-1]:
                return size, GENESIS
            return size, str(json.loads(lines[-1])["hash"])

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
        count = 0
        for end in self.walk():
            if isinstance(end, ChainBreak):
                return end.line, end
            count = end.line
        return count, None

    def walk(
        self, start: LineEnd | None = None, limit: int | None = None
    ) -> Iterator[LineEnd | ChainBreak]:
        """Each complete line's end, checking the chain as it goes (from `start`, a line
        end already checked, up to byte `limit`); a ChainBreak ends it."""
        prev, number, offset = (start.hash, start.line, start.size) if start else (GENESIS, 0, 0)
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            fh.seek(offset)
            for raw in fh:
                if not raw.endswith(b"\n") or (limit is not None and offset + len(raw) > limit):
                    return  # an incomplete last line was never acknowledged
                number, offset = number + 1, offset + len(raw)
                problem = _check_line(raw, prev, number)
                if isinstance(problem, ChainBreak):
                    yield problem
                    return
                prev = problem
                yield LineEnd(number, offset, prev)


def _check_line(raw: bytes, prev: str, number: int) -> str | ChainBreak:
    """The line's hash if it follows `prev` and is unchanged, else what is wrong."""
    try:
        record = json.loads(raw)
        claimed_prev, claimed_hash = record.pop("prev"), record.pop("hash")
    except (ValueError, KeyError, AttributeError):
        return ChainBreak(number, "the line is not an audit record")
    if claimed_prev != prev:
        return ChainBreak(
            number,
            "the line does not follow the one before it "
            "(a line was deleted, inserted or moved here)",
        )
    if chain_hash(prev, record) != claimed_hash:
        return ChainBreak(number, "the line was changed after it was written")
    return str(claimed_hash)


def _count_lines(path: Path, size: int) -> int:
    count, left = 0, size
    try:
        with path.open("rb") as fh:
            while left > 0:
                block = fh.read(min(1 << 20, left))
                if not block:
                    break
                count, left = count + block.count(b"\n"), left - len(block)
    except FileNotFoundError:
        return 0
    return count


def _lines_after(log: AuditLog, checkpoint: Checkpoint, size: int) -> int | None:
    """How many intact lines follow the anchored line up to `size` (None if they do
    not follow it). The lines before are not read here: verify walks the whole file."""
    if checkpoint.size >= size:
        return None
    last = LineEnd(checkpoint.lines, checkpoint.size, checkpoint.head)
    for end in log.walk(last, limit=size):
        if isinstance(end, ChainBreak):
            return None
        last = end
    return last.line - checkpoint.lines if last.size == size else None
