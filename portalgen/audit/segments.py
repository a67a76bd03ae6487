"""Where the audit log's lines live: the open file and the closed segments before it.

The configured ``audit.jsonl`` is the open segment, the only file appended to. When
events of a later month than its first line's come, or it has reached `ROLL_BYTES`,
the append first renames it into the folder beside it, ``audit/``, as a closed
segment named after the month it starts in: ``audit/2026-11.jsonl``, then
``audit/2026-11.2.jsonl`` if that month needs another. A closed segment never changes
again. The chain runs on from one file into the next: the first line of a segment
follows the last line of the one before (see log.py), so the log is one chain, oldest
closed segment first, the open file last.

An audit.jsonl written before segments existed is simply the open segment: the first
append that finds it due renames it (one atomic rename, nothing rewritten or lost).
The rename happens under the log's lock; readers take none, and look again if the
closed segments changed while they opened the files (`take_snapshot`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

ROLL_BYTES = 8 << 20  # an open segment this large is closed at the next append
SEGMENT_NAME = re.compile(r"^(\d{4})-(\d{2})(?:\.(\d+))?\.jsonl$")


def archive_dir(path: Path) -> Path:
    """The folder of closed segments beside the open file (``audit.jsonl`` → ``audit/``)."""
    return path.with_name(path.stem) if path.suffix else path.with_name(path.name + ".d")


def _order(name: str) -> tuple[int, int, int]:
    found = SEGMENT_NAME.match(name)
    if found is None:  # callers only pass matching names
        return (0, 0, 0)
    year, month, number = found.groups()
    return (int(year), int(month), int(number or 1))


def closed_segments(path: Path) -> list[Path]:
    """The closed segments of the log whose open file is `path`, oldest first."""
    folder = archive_dir(path)
    return [folder / name for name in _closed_names(folder)]


def _closed_names(folder: Path) -> list[str]:
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted((n for n in names if SEGMENT_NAME.match(n)), key=_order)


def next_name(closed: list[Path], month: str) -> str:
    """The name for a segment starting in `month` (``2026-11``), after every closed one."""
    if closed:
        year, last, number = _order(closed[-1].name)
        latest = f"{year:04d}-{last:02d}"
        if latest >= month:
            return f"{latest}.{number + 1}.jsonl"
    return f"{month}.jsonl"


@dataclass
class Snapshot:
    """The log's files at one moment: the closed segments and the open file, opened then
    (a roll that renames it afterwards does not change what this reads)."""

    closed: list[Path]
    head: BinaryIO | None  # the open file; None if there is none
    size: int  # the open file's size when the snapshot was taken

    def close(self) -> None:
        if self.head is not None:
            self.head.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def take_snapshot(path: Path) -> Snapshot:
    """The files as they are, without the lock: if a roll happened while looking (the
    list of closed segments changed), look again."""
    folder = archive_dir(path)
    while True:
        before = _closed_names(folder)
        try:
            head: BinaryIO | None = path.open("rb")
        except FileNotFoundError:
            head = None
        if _closed_names(folder) == before:  # names: comparing Paths is slow
            size = os.fstat(head.fileno()).st_size if head is not None else 0
            return Snapshot([folder / name for name in before], head, size)
        if head is not None:
            head.close()


def complete_lines(fh: BinaryIO, start: int = 0, limit: int | None = None) -> Iterator[bytes]:
    """The complete lines of an open file from byte `start` (up to byte `limit`)."""
    fh.seek(start)
    offset = start
    for raw in fh:
        if not raw.endswith(b"\n") or (limit is not None and offset + len(raw) > limit):
            return  # an incomplete last line was never acknowledged
        offset += len(raw)
        yield raw


def lines_backwards(fh: BinaryIO, end: int, block: int = 1 << 16) -> Iterator[bytes]:
    """The complete lines of a file up to byte `end`, newest first (a part after the
    last newline is a line still being written, or never acknowledged: left out)."""
    position, rest, first = end, b"", True
    while position > 0:
        step = min(block, position)
        position -= step
        fh.seek(position)
        lines = (fh.read(step) + rest).split(b"\n")
        rest = lines[0]
        complete = lines[1:-1] if first else lines[1:]
        if first and len(lines) > 1:
            first = False
        elif first:
            rest = b""  # no newline yet: all of it is the unfinished part
            continue
        for raw in reversed(complete):
            yield raw + b"\n"
    if rest and not first:
        yield rest + b"\n"


def last_record(path: Path) -> tuple[int, dict[str, object] | None]:
    """A closed segment's size and its last line's record (None if it has none, or
    the line is not a record: verify reports that)."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return 0, None
    with fh:
        size = os.fstat(fh.fileno()).st_size
        for raw in lines_backwards(fh, size):
            try:
                record = json.loads(raw)
            except ValueError:
                return size, None
            return size, record if isinstance(record, dict) else None
        return size, None


def first_month(fh: BinaryIO) -> str:
    """The month (``2026-11``) of an open file's first complete line, "" if none."""
    fh.seek(0)
    raw = fh.readline()
    if not raw.endswith(b"\n"):
        return ""
    try:
        return str(json.loads(raw)["ts"])[:7]
    except (ValueError, KeyError, TypeError):
        return ""
