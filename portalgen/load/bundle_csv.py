"""The native bundle as a folder of CSV files, read one table at a time.

An export of 10,000 customers has some 700,000 rows, and a row read but not yet built
(its cells by column) takes more memory than the record it becomes. So a table is not
read before it is built: its rows are handed on one by one as the model is built from
them, and only one table's file is open at a time (docs/publish.md, "Memory at scale").

The problems are reported as when every table was read before any was built: what
reading finds (a missing file, a file that is not UTF-8, a bad header, a row with too
many cells) first, table by table in the order of schema.TABLES, then what building
finds.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import sys
from collections.abc import Iterator
from pathlib import Path

from portalgen.domain.model import Origin
from portalgen.errors import Problem
from portalgen.load import schema
from portalgen.load.bundle_json import RawRecord
from portalgen.load.problems import ProblemLog

_BY_NAME = {table.name: table for table in schema.TABLES}


class CsvTables:
    """The tables of one CSV folder, each read when its records are asked for."""

    def __init__(self, folder: Path, log: ProblemLog) -> None:
        self.folder, self.log = folder, log
        self._start = len(log.problems)  # where this folder's reading problems go
        self._found: dict[str, list[Problem]] = {}  # reading problems, by table

    def records(self, name: str) -> Iterator[RawRecord]:
        """The table's records, read as they are taken (each table once)."""
        table = _BY_NAME[name]
        reading = ProblemLog(broken_tables=self.log.broken_tables)
        self._found[name] = reading.problems
        file = self.folder / table.filename
        if not file.is_file():
            if table.required:
                reading.error(Origin(table.filename), "", f"the file is missing from {self.folder}")
            return
        yield from _read_csv(file, table, reading)

    def finish(self) -> None:
        """Put the reading problems before the building ones, in the tables' order (a
        table nothing asked for is read for its problems)."""
        for table in schema.TABLES:
            if table.name not in self._found:
                for _ in self.records(table.name):
                    pass
        found = [p for table in schema.TABLES for p in self._found[table.name]]
        self.log.problems[self._start : self._start] = found


def _read_csv(file: Path, table: schema.Table, log: ProblemLog) -> Iterator[RawRecord]:
    first_line = _first_line(file, log)
    if first_line is None:
        return
    delimiter = max((";", ",", "\t"), key=first_line.count)
    # Read from the file as the rows are taken: the whole text in memory (and the copy a
    # StringIO makes of it, 4 bytes a character) peaked at 5 times the file's size.
    with open(file, encoding="utf-8-sig", newline="") as fh:
        yield from _rows(file, csv.reader(fh, delimiter=delimiter), table, log)


def _first_line(file: Path, log: ProblemLog) -> str | None:
    """The file's first line, after checking that all of it is UTF-8 (None, with the
    problem logged, if not), reading it a block at a time."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    first: list[str] = []
    found = False
    try:
        with open(file, "rb") as fh:
            while block := fh.read(_BLOCK):
                text = decoder.decode(block)
                if not found:
                    first.append(text.split("\n", 1)[0])
                    found = "\n" in text
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        try:  # the whole file again, only to say where, as before
            file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            log.error(
                Origin(file.name),
                "",
                f"the file is not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8'",
            )
            return None
        raise  # pragma: no cover - the same bytes decoded whole
    return "".join(first)


_BLOCK = 1 << 16


def _rows(
    file: Path, reader: Iterator[list[str]], table: schema.Table, log: ProblemLog
) -> Iterator[RawRecord]:
    header = next(reader, None)
    if header is None:
        log.error(Origin(file.name), "", "the file is empty; it needs at least a header row")
        return
    header = [h.strip() for h in header]
    if not _check_header(file.name, header, table, log):
        log.broken_tables.add(table.name)
        return
    name = file.name  # one string for every record's origin (and "row 12" one for all files)
    for index, row in enumerate(reader):
        if not "".join(row).strip():
            continue  # blank line (no cell with anything but spaces)
        origin = Origin(name, sys.intern(f"row {index + 2}"))
        if len(row) > len(header):
            log.error(origin, "", f"the row has {len(row)} cells but the header has {len(header)}")
            continue
        values = {h: cell for h, cell in zip(header, row, strict=False) if h and cell.strip()}
        yield RawRecord(origin, values)


def _check_header(filename: str, header: list[str], table: schema.Table, log: ProblemLog) -> bool:
    known = {c.name for c in table.columns}
    origin = Origin(filename, "header")
    ok = True
    for column in table.columns:
        if column.required and column.name not in header:
            log.error(origin, column.name, "this required column is missing")
            ok = False
    for name in header:
        if name and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            log.warning(origin, name, f"unknown column, ignored{hint}")
    duplicates = {h for h in header if h and header.count(h) > 1}
    for name in sorted(duplicates):
        log.error(origin, name, "the column appears more than once")
        ok = False
    return ok


__all__ = ["CsvTables"]
