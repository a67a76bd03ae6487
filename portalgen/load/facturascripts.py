"""Placeholder, replaced below."""

from __future__ import annotations

from pathlib import Path

from portalgen.load.options import LoadOptions
from portalgen.load.problems import ProblemLog
from portalgen.model import Export


class FacturaScriptsReader:
    name = "facturascripts"

    def detect(self, path: Path) -> bool:
        return False

    def read(self, path: Path, options: LoadOptions, log: ProblemLog) -> Export:
        return Export()
