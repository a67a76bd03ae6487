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
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from portalgen.model import CustomerData


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


def _fields(record: Any) -> Iterator[tuple[str, Any]]:
    return ((k, v) for k, v in vars(record).items() if k not in ("origin", "lines"))


def _records(data: CustomerData) -> Iterator[Any]:
    yield from data.all_documents()
    yield from data.payments
    yield from data.documents


def customer_dates(data: CustomerData) -> list[date]:
    """Every date in the customer's records, sorted (the days statuses can change on)."""
    found: set[date] = set()
    for record in _records(data):
        for _, value in _fields(record):
            if isinstance(value, date):
                found.add(value)
            elif isinstance(value, tuple):
                found.update(v for v in value if isinstance(v, date))
    return sorted(found)


def today_bucket(data: CustomerData, today: date) -> tuple[int, int]:
    """Where `today` falls among the customer's dates: equal for days rendering alike."""
    dates = customer_dates(data)
    return bisect.bisect_left(dates, today), bisect.bisect_right(dates, today)


def _file_stamp(path: Path) -> tuple[str, int, int] | None:
    """A file by name, size and modification time: cheap, and enough to notice a new
    version (publishing hashes the content of the files it does re-plan)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return path.name, stat.st_size, stat.st_mtime_ns


def _record(record: Any) -> tuple[Any, ...]:
    """A record's fields without `origin`; files by stamp; lines field by field."""
    out: list[Any] = [type(record).__name__]
    for name, value in vars(record).items():
        if name == "origin":
            continue
        if isinstance(value, Path):
            value = _file_stamp(value)
        elif name == "lines":
            value = tuple(_record(line) for line in value)
        out.append((name, value))
    return tuple(out)


def customer_inputs(
    data: CustomerData, base_key: str, today: date, decisions: Iterable[str] = ()
) -> str:
    """The fingerprint of everything the customer's portal is rendered from."""
    parts = (
        "inputs-v1",
        base_key,
        today_bucket(data, today),
        tuple(sorted(decisions)),
        _record(data.customer),
        tuple(_record(r) for r in _records(data)),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()
