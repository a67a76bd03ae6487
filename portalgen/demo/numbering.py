"""Document numbers for the demo, decided from a small key per document.

An invoicing program numbers each kind in date order, per year and series. The demo
decides every number before it keeps any document: a first pass over the customers
records one `DocKey` per document; the numbers follow from sorting the keys, and so does
each document's place in its table (the tables list documents by number).
"""

from __future__ import annotations

from array import array
from datetime import date
from typing import NamedTuple

_PREFIX = {"quote": "P", "order": "PED", "delivery_note": "ALB", "invoice": "F"}


class DocKey(NamedTuple):
    """What numbering needs of a document: the numbering order (date, kind, customer, then
    the order the demo made them in) and the series (R for credit notes, A otherwise)."""

    issue: date
    kind: str
    customer: str
    made: int  # the document's index in the order the demo makes them
    series: str


def series_of(extra: dict[str, object]) -> str:
    return "R" if extra.get("credit") else "A"


class Numbering:
    """Every document's number and its row in its kind's table, by the order made in."""

    def __init__(self, keys: list[DocKey]) -> None:
        self.numbers: list[str] = [""] * len(keys)
        counters: dict[tuple[str, int, str], int] = {}
        for key in sorted(keys):
            counter = (key.kind, key.issue.year, key.series)
            counters[counter] = counters.get(counter, 0) + 1
            self.numbers[key.made] = (
                f"{_PREFIX[key.kind]}{key.issue.year}{key.series}-{counters[counter]:05d}"
            )
        self.rows = array("L", bytes(array("L").itemsize * len(keys)))
        self.counts: dict[str, int] = {}
        for kind in _PREFIX:
            mine = sorted((k.made for k in keys if k.kind == kind), key=self.numbers.__getitem__)
            for row, made in enumerate(mine):
                self.rows[made] = row
            self.counts[kind] = len(mine)
