"""Collecting every problem in an export before reporting, instead of stopping at the first."""

from __future__ import annotations

from dataclasses import dataclass, field

from portalgen.errors import Problem
from portalgen.model import Origin


@dataclass
class ProblemLog:
    problems: list[Problem] = field(default_factory=list)
    # Tables whose header is unusable: their rows are skipped, and what depends on them
    # (a document's lines) is not reported again as missing.
    broken_tables: set[str] = field(default_factory=set)

    def error(self, origin: Origin, field_name: str, message: str) -> None:
        self.problems.append(
            Problem(
                origin.file,
                origin.location,
                origin.field_name(field_name) if field_name else "",
                message,
            )
        )

    def warning(self, origin: Origin, field_name: str, message: str) -> None:
        self.problems.append(
            Problem(
                origin.file,
                origin.location,
                origin.field_name(field_name) if field_name else "",
                message,
                severity="warning",
            )
        )

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]
