"""Loading an export: pick the reader, read, validate, and refuse the export if it is wrong.

`load_export` is the only way later stages get a model, and it raises InputError with
every problem when the export has errors, so nothing is rendered or published from a
broken export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from portalgen.errors import InputError, Problem
from portalgen.load.bundle import BundleReader
from portalgen.load.options import LoadOptions
from portalgen.load.problems import ProblemLog
from portalgen.model import Export
from portalgen.validate import validate_export


class Reader(Protocol):
    """Turns one input (a folder or a file) into the model, logging every problem."""

    name: str

    def detect(self, path: Path) -> bool: ...

    def read(self, path: Path, options: LoadOptions, log: ProblemLog) -> Export: ...


READERS: dict[str, Reader] = {"bundle": BundleReader()}


@dataclass(frozen=True)
class LoadResult:
    export: Export
    formats: tuple[str, ...]  # the format of each source, detected or given
    warnings: tuple[Problem, ...]


def detect_format(path: Path) -> str:
    if not path.exists():
        raise InputError(
            [Problem(str(path), "", "", "no such file or folder")],
            summary="the export cannot be read",
        )
    for name, reader in READERS.items():
        if reader.detect(path):
            return name
    raise InputError(
        [
            Problem(
                str(path),
                "",
                "",
                f"this is not an export portalgen can read (known formats: {', '.join(READERS)})",
            )
        ],
        summary="the export cannot be read",
    )


def load_export(
    paths: Path | Sequence[Path], options: LoadOptions, format: str | None = None
) -> LoadResult:
    """Read and validate one export made of one or more sources.

    Several sources (say, customers from one program and invoices from another) are
    combined into one export; a record present in two sources is reported by validation
    like any other duplicate.
    """
    sources = [paths] if isinstance(paths, Path) else list(paths)
    log = ProblemLog()
    parts: list[Export] = []
    formats: list[str] = []
    for path in sources:
        name = format or detect_format(path)
        if name not in READERS:
            raise InputError(
                [Problem(str(path), "", "", f"unknown format {name!r}")],
                summary="the export cannot be read",
            )
        formats.append(name)
        parts.append(READERS[name].read(path, options, log))
    export = combine(parts)
    validate_export(export, options, log)
    if options.strict:
        log.problems = [replace(p, severity="error") for p in log.problems]
    if log.errors:
        raise InputError(log.problems)
    return LoadResult(export, tuple(formats), tuple(log.warnings))


def combine(parts: Sequence[Export]) -> Export:
    if len(parts) == 1:
        return parts[0]
    fields = (
        "customers",
        "quotes",
        "orders",
        "delivery_notes",
        "invoices",
        "payments",
        "documents",
    )
    merged = {
        name: tuple(item for part in parts for item in getattr(part, name)) for name in fields
    }
    return Export(**merged, source=" + ".join(p.source for p in parts))


__all__ = ["READERS", "LoadOptions", "LoadResult", "Reader", "detect_format", "load_export"]
