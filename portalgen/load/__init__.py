"""Loading an export: pick the reader, read, validate, and refuse the export if it is wrong.

`load_export` is the only way later stages get a model, and it raises InputError with
every problem when the export has errors, so nothing is rendered or published from a
broken export.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from portalgen.domain.model import Export
from portalgen.errors import InputError, Problem
from portalgen.load.cache import LoadCache
from portalgen.load.options import LoadOptions
from portalgen.load.problems import ProblemLog
from portalgen.load.result import LoadResult


class Reader(Protocol):
    """Turns one input (a folder or a file) into the model, logging every problem."""

    name: str

    def detect(self, path: Path) -> bool: ...

    def read(self, path: Path, options: LoadOptions, log: ProblemLog) -> Export: ...


# Detection tries them in this order. Readers of already-issued e-invoices also have
# `issued_documents = True` (see portalgen.load.combine.Issued).
FORMATS = ("bundle", "facturascripts", "ubl", "facturae")


@functools.cache
def readers() -> dict[str, Reader]:
    """The readers by format, imported when an export is read (a run whose export is in
    the load cache needs none of them)."""
    from portalgen.load.bundle import BundleReader
    from portalgen.load.facturae import FacturaeReader
    from portalgen.load.facturascripts.reader import FacturaScriptsReader
    from portalgen.load.ubl import UblReader

    found: dict[str, Reader] = {
        "bundle": BundleReader(),
        "facturascripts": FacturaScriptsReader(),
        "ubl": UblReader(),
        "facturae": FacturaeReader(),
    }
    return {name: found[name] for name in FORMATS}


def __getattr__(name: str) -> Any:
    if name == "READERS":
        return readers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def detect_format(path: Path) -> str:
    if not path.exists():
        raise InputError(
            [Problem(str(path), "", "", "no such file or folder")],
            summary="the export cannot be read",
        )
    for name, reader in readers().items():
        if reader.detect(path):
            return name
    raise InputError(
        [
            Problem(
                str(path),
                "",
                "",
                f"this is not an export portalgen can read (known formats: {', '.join(FORMATS)})",
            )
        ],
        summary="the export cannot be read",
    )


def load_export(
    paths: Path | Sequence[Path],
    options: LoadOptions,
    format: str | None = None,
    cache: LoadCache | None = None,
) -> LoadResult:
    """Read and validate one export made of one or more sources.

    Several sources (say, customers and quotes from FacturaScripts plus a folder of
    Facturae invoices) are combined into one export by the rules in
    portalgen.load.combine: matching customers and identical documents are merged,
    conflicting ones are errors. With a `cache`, an export whose files did not change
    since it was last loaded (valid) is given back without reading it again.
    """
    paths_list = [paths] if isinstance(paths, Path) else list(paths)
    if cache is not None:
        return cache.load(paths_list, options, format, lambda: _load(paths_list, options, format))
    return _load(paths_list, options, format)


def _load(paths_list: list[Path], options: LoadOptions, format: str | None) -> LoadResult:
    from portalgen.load.combine import Source, combine_sources
    from portalgen.load.fields import forget_shared
    from portalgen.load.validate import validate_export

    log = ProblemLog()
    sources: list[Source] = []
    formats: list[str] = []
    for path in paths_list:
        name = format or detect_format(path)
        if name not in FORMATS:
            raise InputError(
                [Problem(str(path), "", "", f"unknown format {name!r}")],
                summary="the export cannot be read",
            )
        formats.append(name)
        reader = readers()[name]
        export = reader.read(path, options, log)
        sources.append(Source(export, bool(getattr(reader, "issued_documents", False))))
    forget_shared()
    export, issued = combine_sources(sources, log)
    validate_export(export, options, log, issued)
    log.note_skipped()
    if options.strict:
        log.problems = [
            replace(p, severity="error") if p.severity == "warning" else p for p in log.problems
        ]
    if log.errors:
        raise InputError(log.problems)
    warnings = tuple(log.warnings)
    return LoadResult(export, tuple(formats), format is None, warnings, sources=tuple(paths_list))


__all__ = [
    "FORMATS",
    "READERS",
    "LoadCache",
    "LoadOptions",
    "LoadResult",
    "Reader",
    "detect_format",
    "load_export",
]
