"""The staff's audit log: one event per line, hash-chained, appended under a file lock.

The lines are in the open file (the configured audit.jsonl) and the closed segments
before it (segments.py); the chain runs through them as through one file. Each line is
the event's JSON plus ``prev`` (the previous line's hash) and ``hash`` (SHA-256 over
``prev`` and the event's canonical JSON). Editing, deleting, inserting or reordering a
line breaks the chain at that line, which `verify` reports; so does removing a closed
segment (the next one's first line no longer follows). Cutting the end or rewriting
the whole log with fresh hashes leaves a valid chain: the checkpoint in storage
(anchor.py), advanced by every append, catches those (`verify_anchored`).

Appends take an exclusive file lock (many gate processes and threads may write at once),
write one whole line with a single write, and fsync before releasing the lock. A line
left incomplete by a crash (no final newline) was never acknowledged: it is cut off
before the next append. Readers take no lock: they see the files as they were at one
moment (`snapshot`), and only complete lines.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from filelock import FileLock

from portalgen.audit import segments
from portalgen.audit.anchor import Anchor, Checkpoint, CheckpointError, now_text
from portalgen.audit.events import AuditEvent
from portalgen.audit.segments import (
    Snapshot,
    archive_dir,
    closed_segments,
    complete_lines,
    first_month,
    last_record,
    lines_backwards,
    next_name,
    take_snapshot,
)

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev: str, event: dict[str, Any]) -> str:
    return hashlib.sha256(prev.encode() + b"\n" + canonical(event)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    line: int  # 1-based line number in the whole log (0: the problem is not one line's)
    reason: str
    file: Path | None = None  # the file holding that line, when it is one line's
    file_line: int = 0  # its line number in that file

    @property
    def where(self) -> str:
        """``audit/2026-11.jsonl, line 12`` (or the log's line number alone)."""
        if self.file is not None and self.file_line:
            return f"{self.file}, line {self.file_line}"
        return f"line {self.line}" if self.line else ""


@dataclass(frozen=True)
class LineEnd:
    """Where a complete line ends: its number in the log, the byte after its newline in
    its file, its hash, and the file (None: the first one a walk reads)."""

    line: int
    size: int
    hash: str
    segment: Path | None = None


class AuditLog:
    """The log whose open file is `path` (closed segments beside it: segments.py); with
    an `anchor`, every append also advances the checkpoint (production writers always
    pass one; a log without is read-only in spirit)."""

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
            start, before = self._end_before_append(events[0].ts[:7])
            prev = before[1]
            chunk = bytearray()
            for event in events:
                record = event.to_dict()
                digest = chain_hash(prev, record)
                chunk += canonical({**record, "prev": prev, "hash": digest}) + b"\n"
                prev = digest
            self._write(bytes(chunk))
            if self.anchor is not None:
                after = (start + len(chunk), prev)
                self._advance_anchor(self.anchor, before, len(events), after, start)
        return len(events)

    def _end_before_append(self, month: str) -> tuple[int, tuple[int, str]]:
        """Where the open file ends (after a repair, and a roll if one is due before
        events of `month`), and the log's last line: (its end in its own file, its hash)."""
        size, prev = self._repair_and_end()
        if size and self._due(size, month):
            self._roll(month)
            return 0, (size, prev)
        if size:
            return size, (size, prev)
        closed = closed_segments(self.path)
        if not closed:
            return 0, (0, GENESIS)
        end, record = last_record(closed[-1])
        return 0, (end, str(record.get("hash", GENESIS)) if record else GENESIS)

    def _due(self, size: int, month: str) -> bool:
        """Whether the open file is closed before appending events of `month`: it is too
        big, or its first line is of an earlier month."""
        if size >= segments.ROLL_BYTES:
            return True
        with self.path.open("rb") as fh:
            first = first_month(fh)
        return bool(first) and first < month

    def _roll(self, month: str) -> None:
        """Close the open file: rename it into the folder of closed segments."""
        with self.path.open("rb") as fh:
            month = first_month(fh) or month
        folder = archive_dir(self.path)
        folder.mkdir(exist_ok=True)
        target = folder / next_name(closed_segments(self.path), month)
        os.rename(self.path, target)
        _fsync_dir(folder)
        _fsync_dir(self.path.parent)

    def _advance_anchor(
        self,
        anchor: Anchor,
        before: tuple[int, str],
        count: int,
        after: tuple[int, str],
        start: int,
    ) -> None:
        """Move the checkpoint over `count` lines just appended (under the log's lock):
        `before` is the last line's (end in its file, hash) before the append, `after`
        the open file's (size, last hash) after it, `start` where the append began."""
        try:
            checkpoint = anchor.read()
        except CheckpointError:
            return  # an append never replaces a checkpoint it cannot trust: verify reports it
        if checkpoint is None:
            lines = _count_lines(self, start)
            anchor.write(Checkpoint(lines + count, *after, since_line=lines, since=now_text()))
        elif (checkpoint.size, checkpoint.head) == before:
            anchor.write(checkpoint.advanced(checkpoint.lines + count, *after))
        else:
            late = _lines_after(self, checkpoint, start)
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
        """The open file's (size, last complete line's hash), cutting off an incomplete
        last line if any."""
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

    def snapshot(self) -> Snapshot:
        """The log's files as they are now (close it, or use it in a `with`)."""
        return take_snapshot(self.path)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every complete line as a dict (with prev and hash), oldest first."""
        with self.snapshot() as snap:
            for path in snap.closed:
                yield from segment_records(path)
            yield from open_records(snap)

    def events(self) -> Iterator[AuditEvent]:
        for record in self.records():
            yield AuditEvent.from_dict(record)

    def ids(self) -> set[str]:
        """Every event id in the log (reads it all; known.py has the quick way)."""
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
        self,
        start: LineEnd | None = None,
        limit: int | None = None,
        snapshot: Snapshot | None = None,
    ) -> Iterator[LineEnd | ChainBreak]:
        """Each complete line's end, checking the chain as it goes, across the closed
        segments and into the open file (from `start`, a line end already checked, up to
        byte `limit` of the open file); a ChainBreak ends it."""
        snap = snapshot or self.snapshot()
        try:
            yield from _walk(self.path, snap, start, limit)
        finally:
            if snapshot is None:
                snap.close()


def segment_records(path: Path) -> Iterator[dict[str, Any]]:
    """A closed segment's records."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return
    with fh:
        for raw in complete_lines(fh):
            if raw.strip():
                yield json.loads(raw)


def open_records(snap: Snapshot) -> Iterator[dict[str, Any]]:
    """The records of the open file, as far as it was written at the snapshot."""
    if snap.head is None:
        return
    for raw in complete_lines(snap.head, 0, snap.size):
        if raw.strip():
            yield json.loads(raw)


def _walk(
    path: Path, snap: Snapshot, start: LineEnd | None, limit: int | None
) -> Iterator[LineEnd | ChainBreak]:
    files = [*snap.closed, path]
    prev, number = (start.hash, start.line) if start else (GENESIS, 0)
    first = files.index(start.segment) if start and start.segment in files else 0
    for index in range(first, len(files)):
        offset = start.size if start and index == first else 0
        is_open = index == len(files) - 1
        fh = snap.head if is_open else _open(files[index])
        if fh is None:
            continue
        end = (snap.size if limit is None else limit) if is_open else None
        try:
            local = 0
            for raw in complete_lines(fh, offset, end):
                number, offset, local = number + 1, offset + len(raw), local + 1
                problem = _check_line(raw, prev, number)
                if isinstance(problem, ChainBreak):
                    yield replace(problem, file=files[index], file_line=local)
                    return
                prev = problem
                yield LineEnd(number, offset, prev, files[index])
        finally:
            if not is_open:
                fh.close()


def _open(path: Path) -> BinaryIO | None:
    try:
        return path.open("rb")
    except FileNotFoundError:
        return None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def _count_lines(log: AuditLog, size: int) -> int:
    """The lines of every closed segment and of the open file's first `size` bytes."""
    count = 0
    for path, limit in [*((p, None) for p in closed_segments(log.path)), (log.path, size)]:
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            continue
        with fh:
            left = os.fstat(fh.fileno()).st_size if limit is None else limit
            while left > 0:
                block = fh.read(min(1 << 20, left))
                if not block:
                    break
                count, left = count + block.count(b"\n"), left - len(block)
    return count


def _lines_after(log: AuditLog, checkpoint: Checkpoint, size: int) -> int | None:
    """How many intact lines follow the anchored line up to byte `size` of the open file
    (None if they do not follow it). The lines before are not read here: verify walks
    the whole log."""
    with log.snapshot() as snap:
        segment = _holding(log.path, snap, checkpoint)
        if segment is None:
            return None
        last = LineEnd(checkpoint.lines, checkpoint.size, checkpoint.head, segment)
        for end in log.walk(last, limit=size, snapshot=snap):
            if isinstance(end, ChainBreak):
                return None
            last = end
        if size:
            end_of_log: tuple[Path | None, int] = (log.path, size)
        else:  # just rolled (or emptied): the log ends with the last closed segment
            end_of_log = (
                (snap.closed[-1], snap.closed[-1].stat().st_size) if snap.closed else (None, 0)
            )
    if (last.segment, last.size) != end_of_log:
        return None
    return last.line - checkpoint.lines


def _holding(path: Path, snap: Snapshot, checkpoint: Checkpoint) -> Path | None:
    """The file whose line ending at byte `checkpoint.size` is the anchored one."""
    for candidate in [path, *reversed(snap.closed)]:
        fh = snap.head if candidate == path else _open(candidate)
        if fh is None:
            continue
        try:
            if _ends_with(fh, checkpoint.size, checkpoint.head):
                return candidate
        finally:
            if candidate != path:
                fh.close()
    return None


def _ends_with(fh: BinaryIO, size: int, head: str) -> bool:
    """Whether a file's line ending at byte `size` has the hash `head`."""
    if size <= 0 or os.fstat(fh.fileno()).st_size < size:
        return False
    fh.seek(size - 1)
    if fh.read(1) != b"\n":
        return False
    raw = next(lines_backwards(fh, size), b"")
    return _hash_of(raw) == head


def _hash_of(raw: bytes) -> str:
    try:
        return str(json.loads(raw)["hash"])
    except (ValueError, KeyError, TypeError):
        return ""
