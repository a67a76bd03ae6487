"""What loading an export gives: the model, the formats read and the warnings."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from portalgen.domain.model import Export
from portalgen.errors import Problem

# A cached export, read when first asked for: the export and whether it came from the
# cache (a damaged entry is found out only then, and the export read again instead).
Deferred = Callable[[], tuple[Export, bool]]


class LoadResult:
    """The loaded export and what is known about it.

    The load cache gives the export back *deferred*: a night with nothing to publish
    decides so without the export's records (publish keeps a fingerprint of each
    customer's, keyed by `fingerprint`), so unpickling it is left until it is needed.
    """

    def __init__(
        self,
        export: Export | Deferred,
        formats: tuple[str, ...],  # the format of each source, detected or given
        detected: bool,  # whether the formats were detected (no --format given)
        warnings: tuple[Problem, ...],
        *,
        cached: bool = False,
        fingerprint: str = "",
        sources: tuple[Path, ...] = (),
        skipped: tuple[Path, ...] = (),
    ) -> None:
        self._export = export if isinstance(export, Export) else None
        self._deferred = None if isinstance(export, Export) else export
        self._cached = cached
        self.formats, self.detected, self.warnings = formats, detected, warnings
        # The state of every file read (the load cache's key), "" when not known: equal
        # fingerprints mean the same export, to the byte. `sources`: the paths read;
        # `skipped`: what inside them the fingerprint leaves out (the cache, storage...).
        self.fingerprint, self.sources, self.skipped = fingerprint, sources, skipped

    def vouched(self, path: str | Path) -> bool:
        """Whether the fingerprint covers the state of this file (it lies in a source)."""
        return _under(path, self.sources) and not _under(path, self.skipped)

    @property
    def export(self) -> Export:
        if self._export is None and self._deferred is not None:
            self._export, self._cached = self._deferred()
            self._deferred = None
        if self._export is None:
            raise RuntimeError("the export was not loaded")  # unreachable
        return self._export

    @property
    def cached(self) -> bool:
        """Given back by the load cache: the files had not changed (reads a deferred
        export, since a damaged entry is found out only then)."""
        if self._deferred is not None:
            self.export  # noqa: B018
        return self._cached

    @property
    def resolved(self) -> bool:
        """Whether the export is in memory already."""
        return self._export is not None

    def __repr__(self) -> str:
        return f"LoadResult(formats={self.formats!r}, fingerprint={self.fingerprint[:12]!r})"


def _under(path: str | Path, folders: tuple[Path, ...]) -> bool:
    roots = tuple(os.path.join(os.path.abspath(p), "") for p in folders)
    return os.path.abspath(path).startswith(roots)
