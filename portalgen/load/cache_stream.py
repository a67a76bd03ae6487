"""The export in a load cache entry: pickled in chunks, so that neither writing nor
reading it holds more than one chunk's bookkeeping beside the export.

A pickler remembers every object it has written until its dump ends (its memo: an object
met twice is written once), and with them the temporary list of field values each record
hands it; an unpickler remembers as much. Pickled in one dump, the export of 10,000 demo
customers took some 640 MB beyond itself while it was written (a publish that loaded it
peaked at 1,135 MB; 491 MB in chunks). So the export is written as a stream of
pickles, each of at most `CHUNK` records of one table with a memo of its own (cleared
after it), then one pickle that ends the stream: how many records each table has, and the
export's `source`. A stream that stops before that end, goes on after it, or whose tables
come out with other counts is refused (the entry's checksum is checked first: this is the
second guard).

Values records share across chunks (amounts, Money, dates) are written by value and made
one object per distinct value again when read, as loading makes them: a Decimal by its
text (0.00, 0 and -0.00 stay apart), a date by its ordinal. Records are pickled as they
always were (their fields, exactly), so an export from the cache equals a fresh load's.
"""

from __future__ import annotations

import copyreg
import dataclasses
import pickle
from collections.abc import Callable, Hashable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO, Protocol, TypeVar

from portalgen.domain.model import Export
from portalgen.domain.money import Money

# Export's tables, in its order (every field but `source`, which ends the stream).
TABLES = tuple(f.name for f in dataclasses.fields(Export) if f.name != "source")
CHUNK = 1000  # records of one table per pickle: bounds the memo, keeps sharing in a chunk
END = "end"
_T = TypeVar("_T")


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


def write_export(export: Export, out: Writable) -> None:
    """Pickle `export` into `out` as a stream of chunks and an end (see the module doc)."""
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    counts = []
    for index, name in enumerate(TABLES):
        records = getattr(export, name)
        counts.append(len(records))
        for start in range(0, len(records), CHUNK):
            pickler.dump((index, records[start : start + CHUNK]))
            pickler.clear_memo()  # what the next chunk shares with this one is rewritten
    pickler.dump((END, tuple(counts), export.source))


def read_export(fh: BinaryIO) -> Export:
    """The export `write_export` wrote into `fh` (ValueError if the stream is not one
    whole export: cut at a chunk's end, with more after its end, or counts that differ)."""
    # One object per distinct amount, Money and date read, for the whole export. A Money
    # by its amount's text: 0.00 and -0.00 are equal, not the same.
    made = {
        "_decimal": _one_each(Decimal),
        "_date": _one_each(date.fromordinal),
        "_money": _one_each(Money, key=lambda args: (str(args[0]), args[1])),
    }
    tables: list[list[Any]] = [[] for _ in TABLES]
    while True:
        item = _Unpickler(fh, made).load()  # EOFError: the stream stops before its end
        if not isinstance(item, tuple) or len(item) not in (2, 3):
            raise ValueError("not a chunk of an export")
        if item[0] == END:
            break
        index, records = item
        if not isinstance(records, tuple) or index not in range(len(TABLES)):
            raise ValueError("not a chunk of an export")
        tables[index].extend(records)
    _, counts, source = item
    if counts != tuple(len(table) for table in tables) or fh.read(1):
        raise ValueError("the export's chunks do not add up to it")
    if not isinstance(source, str):
        raise ValueError("not an export")
    return Export(**dict(zip(TABLES, map(tuple, tables), strict=True)), source=source)


# -- values shared across chunks ----------------------------------------------------------------


def _decimal(text: str) -> Decimal:
    return Decimal(text)


def _date(ordinal: int) -> date:
    return date.fromordinal(ordinal)


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount, currency)


_DISPATCH: dict[type, Callable[[Any], Any]] = {
    **copyreg.dispatch_table,
    Decimal: lambda value: (_decimal, (str(value),)),
    date: lambda value: (_date, (value.toordinal(),)),
    Money: lambda value: (_money, (value.amount, value.currency)),
}


def _one_each(make: Callable[..., _T], key: Callable[..., Hashable] = tuple) -> Callable[..., _T]:
    """`make`, giving back one object per distinct `key` of its arguments (as loading
    shares amounts and dates: load/fields.py)."""
    made: dict[Hashable, _T] = {}

    def get(*args: Any) -> _T:
        found_key = key(args)
        found = made.get(found_key)
        if found is None:
            found = made[found_key] = make(*args)
        return found

    return get


class _Unpickler(pickle.Unpickler):
    """Reads one chunk, making its shared values through `shared`."""

    def __init__(self, fh: BinaryIO, made: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__(fh)
        self._made = made

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name in self._made:
            return self._made[name]
        return super().find_class(module, name)
