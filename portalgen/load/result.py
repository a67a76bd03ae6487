"""What loading an export gives: the model, the formats read and the warnings."""

from __future__ import annotations

from dataclasses import dataclass

from portalgen.domain.model import Export
from portalgen.errors import Problem


@dataclass(frozen=True)
class LoadResult:
    export: Export
    formats: tuple[str, ...]  # the format of each source, detected or given
    detected: bool  # whether the formats were detected (no --format given)
    warnings: tuple[Problem, ...]
    cached: bool = False  # given back by the load cache: the files had not changed
