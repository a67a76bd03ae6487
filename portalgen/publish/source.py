"""What publishing reads of an export: every customer's code and fingerprint at once,
their records only when they are to be planned.

A quiet night decides that nothing changed from each customer's fingerprint
(publish.inputs) and their marker, and the fingerprints are the costly part of that: every
record of every customer. So they are kept in ``<publish.cache_dir>/prints.json``,
for the export state the load cache vouches for (`LoadResult.fingerprint`: the state of
every file read, to the byte), by the same portalgen (`codestamp.code_version`). While
the export is that one, the fingerprints are taken from there, and the export itself
(which the load cache gives deferred) is not even unpickled unless a customer is to be
planned.

Vouched for by the load cache's key are the records and every file inside the export's
sources. A file the records point at outside them (a PDF taken out of an e-invoice, kept
in the cache folder) is stamped into the fingerprint by size and modification time too,
so it is kept with each customer's fingerprint and checked again: a customer whose file
changed is fingerprinted anew. Like the other caches, the file is used, never trusted: a
fingerprint is only ever compared with the one a marker or manifest holds, and a file
that does not parse or whose checksum fails is ignored and written again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from portalgen.codestamp import code_version
from portalgen.domain.model import CustomerData, Export
from portalgen.load.result import LoadResult
from portalgen.publish.inputs import DataPrint, customer_files, data_print

FILE = "prints.json"
VERSION = 1
Stamp = tuple[str, int, int]  # path, size, modification time (ns); -1, -1 when missing


class LazyCustomers(Mapping[str, CustomerData]):
    """`export.by_customer()`, split the first time a customer's records are asked for
    (by one thread: the customers' threads ask at once, and the export is unpickled once)."""

    def __init__(self, export: Callable[[], Export]) -> None:
        self._export = export
        self._split: dict[str, CustomerData] | None = None
        self._lock = threading.Lock()

    def _all(self) -> dict[str, CustomerData]:
        with self._lock:
            if self._split is None:
                self._split = self._export().by_customer()
            return self._split

    def __getitem__(self, code: str) -> CustomerData:
        return self._all()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class ExportSource:
    """An export (or a load's result, whose export may be deferred) as publishing reads it."""

    def __init__(self, loaded: Export | LoadResult, cache_dir: Path | None = None) -> None:
        self._loaded = loaded
        self._path = cache_dir / FILE if cache_dir is not None else None
        self.customers = LazyCustomers(self.export)
        self._kept = self._read_kept()

    def export(self) -> Export:
        loaded = self._loaded
        return loaded if isinstance(loaded, Export) else loaded.export

    @property
    def fingerprint(self) -> str:
        return "" if isinstance(self._loaded, Export) else self._loaded.fingerprint

    def codes(self) -> tuple[str, ...]:
        """The export's customer codes, in the export's order."""
        if self._kept is not None:
            return tuple(self._kept["codes"])
        return self.export().customer_codes()

    def prints(self, mine: Callable[[str], bool]) -> dict[str, DataPrint]:
        """The fingerprint of each customer of this run (`mine`), kept ones where valid."""
        kept = self._kept["prints"] if self._kept is not None else {}
        found: dict[str, DataPrint] = {}
        fresh: dict[str, list[Any]] = {}
        for code in self.codes():
            if not mine(code):
                continue
            entry = kept.get(code)
            if entry is not None and _unchanged(entry[2]):
                found[code] = DataPrint(entry[0], tuple(map(date.fromordinal, entry[1])))
                continue
            data = self.customers[code]
            found[code] = data_print(data)
            fresh[code] = _entry(found[code], self._outside(data))
        if fresh:
            self._keep(fresh)
        return found

    # -- the file ---------------------------------------------------------------------------

    def _outside(self, data: CustomerData) -> list[Stamp]:
        """The files `data` points at that the load's fingerprint does not cover (outside
        the export's sources, or in a folder it leaves out), as they are now."""
        loaded = self._loaded
        paths = {os.path.abspath(p) for p in customer_files(data)}
        if isinstance(loaded, Export):
            return [_stamp(p) for p in sorted(paths)]
        return [_stamp(p) for p in sorted(paths) if not loaded.vouched(p)]

    def _read_kept(self) -> dict[str, Any] | None:
        if self._path is None or not self.fingerprint:
            return None
        try:
            raw = self._path.read_bytes()
            checksum, _, body = raw.partition(b"\n")
            if hashlib.sha256(body).hexdigest().encode() != checksum:
                return None
            kept = json.loads(body)
        except (OSError, ValueError):
            return None  # missing, unreadable or damaged: fingerprinted again
        if not isinstance(kept, dict) or kept.get("version") != VERSION:
            return None
        if kept.get("code") != code_version():  # another portalgen may fingerprint otherwise
            return None
        return kept if kept.get("fingerprint") == self.fingerprint else None

    def _keep(self, fresh: dict[str, list[Any]]) -> None:
        """Add fingerprints to the file (a new export state starts a new file)."""
        if self._path is None or not self.fingerprint:
            return
        kept = self._kept or {
            "version": VERSION,
            "code": code_version(),
            "fingerprint": self.fingerprint,
            "codes": list(self.export().customer_codes()),
            "prints": {},
        }
        kept["prints"].update(fresh)
        self._kept = kept
        body = json.dumps(kept, separators=(",", ":")).encode()
        checksum = hashlib.sha256(body).hexdigest().encode()
        import tempfile  # (not needed by a run that finds its fingerprints)

        with contextlib.suppress(OSError):  # not kept: the next run fingerprints again
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".prints-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(checksum + b"\n" + body)
                os.replace(tmp, self._path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise


def _entry(found: DataPrint, outside: list[Stamp]) -> list[Any]:
    return [found.digest, [d.toordinal() for d in found.dates], outside]


def _stamp(path: str) -> Stamp:
    try:
        info = os.stat(path)
    except OSError:
        return (path, -1, -1)
    return (path, info.st_size, info.st_mtime_ns)


def _unchanged(outside: list[list[Any]]) -> bool:
    return all(tuple(stamp) == _stamp(stamp[0]) for stamp in outside)
