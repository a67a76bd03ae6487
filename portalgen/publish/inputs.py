"""What a customer's portal is made from, as one fingerprint; and the --shard split.

`customer_inputs` lets publishing recognise an unchanged customer without planning the
portal (a few milliseconds per customer, which adds up over thousands every night). It
covers: the render context's base key (portalgen version, settings, theme, templates,
catalogs), every record of the customer except where it was read from, the size and
modification time of every file the portal copies (original PDFs, shared documents), the
quote decisions made in the portal, and *today* — but only through its place among the
customer's own dates. Statuses change when today passes a date of the data (a due date,
a validity date, a payment date), never otherwise: two days with no date of the customer
between them render the same portal. `tests/test_publish_inputs.py` checks that rule
against the renderer's render keys.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import operator
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from portalgen.domain.model import CustomerData, Line, Money, Totals


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (1-based): customers split by a stable hash of their code."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise ValueError(
                f"shard {self.index}/{self.count}: the part must be from 1 to {self.count}"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str) -> Shard:
        index, slash, count = text.strip().partition("/")
        if not slash or not index.isdigit() or not count.isdigit() or int(count) < 1:
            raise ValueError(f"expected a shard like 2/8 (part / number of parts), found {text!r}")
        return cls(int(index), int(count))

    def owns(self, name: str) -> bool:
        digest = hashlib.sha256(name.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1


def _records(data: CustomerData) -> Iterator[Any]:
    yield from data.all_documents()
    yield from data.payments
    yield from data.documents


Getter = Callable[[Any], tuple[Any, ...]]


def _money(money: Money) -> tuple[Any, ...]:
    return (money.amount, money.currency)


def _totals(totals: Totals) -> tuple[Any, ...]:
    parts = (totals.base, totals.tax, totals.surcharge, totals.withholding, totals.total)
    extra = (totals.disbursements, totals.subtotal)
    return (*map(_money, parts), *(m and _money(m) for m in extra), totals.discounts)


def _lines(lines: tuple[Line, ...]) -> tuple[tuple[Any, ...], ...]:
    return tuple(map(_layout(Line).getter, lines))


def _stamp_path(path: Path | None) -> tuple[str, int, int] | None:
    return None if path is None else _file_stamp(path)


@dataclass(frozen=True)
class _Layout:
    """How to read one record type fast: its values without `origin` (where it was read
    from, which must not matter), plain values for nested records (their dataclass repr
    is slow), files by stamp, and where its dates are."""

    getter: Getter
    convert: tuple[tuple[int, Callable[[Any], Any]], ...]
    dates: tuple[int, ...]
    files: tuple[int, ...]


_layouts: dict[type, _Layout] = {}
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "Money": _money,
    "Totals": _totals,
    "tuple[Line, ...]": _lines,
    "Path": _stamp_path,
    "Path | None": _stamp_path,
}


def _layout(cls: type) -> _Layout:
    if cls not in _layouts:
        fields = [f for f in dataclasses.fields(cls) if f.name != "origin"]
        names = [f.name for f in fields]
        getter = operator.attrgetter(*names)
        one = len(names) == 1
        types = [str(f.type) for f in fields]
        convert = tuple((i, _CONVERT[t]) for i, t in enumerate(types) if t in _CONVERT)
        dates = tuple(i for i, t in enumerate(types) if t in ("date", "date | None"))
        files = tuple(i for i, t in enumerate(types) if t in ("Path", "Path | None"))
        _layouts[cls] = _Layout(
            (lambda record: (getter(record),)) if one else getter, convert, dates, files
        )
    return _layouts[cls]


def _values(record: Any) -> tuple[list[Any], list[date]]:
    layout = _layout(type(record))
    values = list(layout.getter(record))
    dates = [values[i] for i in layout.dates if values[i] is not None]
    for i, convert in layout.convert:
        values[i] = convert(values[i])
    return values, dates


def customer_files(data: CustomerData) -> list[Path]:
    """Every file the customer's records point at (stamped into their fingerprint)."""
    found = []
    for record in (data.customer, *_records(data)):
        layout = _layout(type(record))
        values = layout.getter(record)
        found += [values[i] for i in layout.files if values[i] is not None]
    return found


def customer_dates(data: CustomerData) -> list[date]:
    """Every date in the customer's records, sorted (the days statuses can change on)."""
    return sorted({d for record in _records(data) for d in _values(record)[1]})


def _bucket(dates: Iterable[date], today: date) -> tuple[int, int]:
    ordered = sorted(set(dates))
    return bisect.bisect_left(ordered, today), bisect.bisect_right(ordered, today)


def today_bucket(data: CustomerData, today: date) -> tuple[int, int]:
    """Where `today` falls among the customer's dates: equal for days rendering alike."""
    return _bucket(customer_dates(data), today)


def _file_stamp(path: Path) -> tuple[str, int, int] | None:
    """A file by name, size and modification time: cheap, and enough to notice a new
    version (publishing hashes the content of the files it does re-plan)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return path.name, stat.st_size, stat.st_mtime_ns


@dataclass(frozen=True)
class DataPrint:
    """The costly part of a customer's inputs: their records, fingerprinted once."""

    digest: str
    dates: tuple[date, ...]  # every date of the records, sorted


def data_print(data: CustomerData) -> DataPrint:
    """The same values as `_values` gives, record by record, without its per-record lists
    (a nightly run fingerprints every record of every customer: this loop is the cost)."""
    records: list[Any] = []
    dates: set[date] = set()
    add, note = records.append, dates.add
    for record in _records(data):
        layout = _layout(type(record))
        values = list(layout.getter(record))
        for i in layout.dates:
            if values[i] is not None:
                note(values[i])
        for i, convert in layout.convert:
            values[i] = convert(values[i])
        add(values)
    text = repr(("records-v1", _values(data.customer)[0], records))
    return DataPrint(hashlib.sha256(text.encode()).hexdigest(), tuple(sorted(dates)))


def customer_inputs(
    data: CustomerData | DataPrint, base_key: str, today: date, decisions: Iterable[str] = ()
) -> str:
    """The fingerprint of everything the customer's portal is rendered from."""
    found = data if isinstance(data, DataPrint) else data_print(data)
    parts = ("inputs-v1", base_key, _bucket(found.dates, today), sorted(decisions), found.digest)
    return hashlib.sha256(repr(parts).encode()).hexdigest()
