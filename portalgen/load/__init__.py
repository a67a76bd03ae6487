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

from portalgen.domain.model import Export
from portalgen.errors import InputError, Problem
from portalgen.load.bundle import BundleReader
from portalgen.load.combine import Source, combine_sources
from portalgen.load.facturae import FacturaeReader
from portalgen.load.facturascripts.reader import FacturaScriptsReader
from portalgen.load.options import LoadOptions
from portalgen.load.problems import ProblemLog
from portalgen.load.ubl import UblReader
from portalgen.load.validate import validate_export


class Reader(Protocol):
    """Turns one input (a folder or a file) into the model, logging every problem."""

    name: str

    def detect(self, path: Path) -> bool: ...

    def read(self, path: Path, options: LoadOptions, log: ProblemLog) -> Export: ...


# Detection tries them in this order. Readers of already-issued e-invoices also have
# `issued_documents = True` (see portalgen.load.combine.Issued).
READERS: dict[str, Reader] = {
    "bundle": BundleReader(),
    "facturascripts": FacturaScriptsReader(),
    "ubl": UblReader(),
    "facturae": FacturaeReader(),
}


@dataclass(frozen=True)
class LoadResult:
    export: Export
    formats: tuple[str, ...]  # the format of each source, detected or given
    detected: bool  # whether the formats were detected (no --format given)
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

    Several sources (say, customers and quotes from FacturaScripts plus a folder of
    Facturae invoices) are combined into one export by the rules in
    portalgen.load.combine: matching customers and identical documents are merged,
    conflicting ones are errors.
    """
    paths_list = [paths] if isinstance(paths, Path) else list(paths)
    log = ProblemLog()
    sources: list[Source] = []
    formats: list[str] = []
    for path in paths_list:
        name = format or detect_format(path)
        if name not in READERS:
            raise InputError(
                [Problem(str(path), "", "", f"unknown format {name!r}")],
                summary="the export cannot be read",
            )
        formats.append(name)
        reader = READERS[name]
        export = reader.read(path, options, log)
        sources.append(Source(export, bool(getattr(reader, "issued_documents", False))))
    export, issued = combine_sources(sources, log)
    validate_export(export, options, log, issued)
    log.note_skipped()
    if options.strict:
        log.problems = [
            replace(p, severity="error") if p.severity == "warning" else p for p in log.problems
        ]
    if log.errors:
        raise InputError(log.problems)
    return LoadResult(export, tuple(formats), format is None, tuple(log.warnings))


__all__ = ["READERS", "LoadOptions", "LoadResult", "Reader", "detect_format", "load_export"]
