"""CSV tables written customer by customer, in the order the export lists them.

The demo makes documents customer by customer, while its tables list them by number and
its receipts carry numbers that follow the due dates of all customers' receipts. Rather
than holding every row until the end, each row's text goes to a temporary file as it is
made; writing the table copies the rows back in the table's order.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from array import array
from pathlib import Path
from typing import IO, Any

_RECEIPT_COLUMNS = ["number", "invoice", "customer", "amount", "due_date", "paid_date", "method"]


def header(columns: list[str]) -> bytes:
    """The header line as `csv.DictWriter.writeheader` writes it."""
    text = io.StringIO()
    csv.DictWriter(text, columns, lineterminator="\n").writeheader()
    return text.getvalue().encode("utf-8")


def write_csv(path: Path, columns: list[str], rows: Any) -> None:
    """Write a whole table (header and `rows`, an iterable of dicts) through a temporary
    file, so an interrupted run leaves the previous table in place."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


class _Spool:
    """A temporary file (in the demo's folder, removed when closed) rows are appended to,
    as `csv.DictWriter` writes them (one writer for all of them)."""

    def __init__(self, folder: Path, columns: list[str]) -> None:
        # Closed by the table's close(), which the demo's passes call on the way out.
        self.file: IO[bytes] = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115
        self.end = 0
        self._text = io.StringIO()
        self._writer = csv.DictWriter(
            self._text, columns, extrasaction="ignore", lineterminator="\n"
        )

    def append(self, rows: list[dict[str, Any]]) -> tuple[int, int]:
        """Append the rows' lines; returns where they start and their length in bytes."""
        self._text.seek(0)
        self._text.truncate()
        self._writer.writerows(rows)
        data = self._text.getvalue().encode("utf-8")
        start, self.end = self.end, self.end + len(data)
        self.file.write(data)
        return start, len(data)


class RankedTable:
    """A table of `size` rows that arrive in any order, each with its row number."""

    def __init__(self, folder: Path, columns: list[str], size: int) -> None:
        self.columns = columns
        self._spool = _Spool(folder, columns)
        self._where = array("q", bytes(array("q").itemsize * 2 * size))

    def add(self, row: int, rows: list[dict[str, Any]]) -> None:
        """Row `row`: any number of CSV lines (a document's lines), or none."""
        self._where[2 * row], self._where[2 * row + 1] = self._spool.append(rows)

    def write(self, path: Path) -> None:
        self._spool.file.flush()
        spool = self._spool.file.fileno()
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as fh:
            fh.write(header(self.columns))
            for i in range(0, len(self._where), 2):
                fh.write(os.pread(spool, self._where[i + 1], self._where[i]))
        os.replace(tmp, path)

    def close(self) -> None:
        self._spool.file.close()


class ReceiptsTable:
    """payments.csv: rows in the order made, numbered in the order of (due date, invoice)
    over the whole table, which is known only once every receipt is made."""

    def __init__(self, folder: Path) -> None:
        self._spool = _Spool(folder, _RECEIPT_COLUMNS[1:])
        self._keys: list[tuple[str, str]] = []
        self._sizes = array("q")

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, receipt: dict[str, Any]) -> None:
        self._keys.append((receipt["due_date"], receipt["invoice"]))
        self._sizes.append(self._spool.append([receipt])[1])

    def write(self, path: Path) -> None:
        order = sorted(range(len(self._keys)), key=self._keys.__getitem__)
        rank = array("L", bytes(array("L").itemsize * len(order)))
        for i, made in enumerate(order):
            rank[made] = i + 1
        del order
        self._spool.file.flush()
        self._spool.file.seek(0)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as fh:
            fh.write(header(_RECEIPT_COLUMNS))
            for made, size in enumerate(self._sizes):
                number = f"R{self._keys[made][0][:4]}-{rank[made]:06d},"
                fh.write(number.encode("utf-8") + self._spool.file.read(size))
        os.replace(tmp, path)

    def close(self) -> None:
        self._spool.file.close()
