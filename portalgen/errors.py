"""One exception hierarchy for the whole package; the CLI and the gate translate it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from portalgen.textsafe import escape_controls

# A note is no problem of its own: it says what was not checked because of an error.
Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, pointing at where it came from.

    `file` is the file as the user knows it (``invoices.csv``), `location` the row or
    JSON/XML path inside it (``row 12``, ``$.invoices[3]``), `field` the column or key.
    """

    file: str
    location: str
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        """One line: control characters in a file name or a value are escaped
        (``documents/C1/a\\nb.pdf``), so no export can print a line of its own."""
        parts = [self.file]
        if self.location:
            parts.append(self.location)
        if self.field:
            parts.append(f"field {self.field!r}")
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return escape_controls(f"{prefix}{', '.join(parts)}: {self.message}")


class PortalgenError(Exception):
    """Base class: a problem the user can act on, shown without a traceback."""


class ConfigError(PortalgenError):
    """The configuration or the secret is missing or wrong."""


class InputError(PortalgenError):
    """The export cannot be used. Carries every problem found, not only the first."""

    def __init__(self, problems: Sequence[Problem], summary: str | None = None) -> None:
        self.problems = tuple(problems)
        errors = sum(1 for p in self.problems if p.severity == "error")
        self.summary = summary or f"the export has {errors} error{'s' if errors != 1 else ''}"
        super().__init__(self.summary)

    def __str__(self) -> str:
        return "\n".join([*(str(p) for p in self.problems), self.summary])


class RenderError(PortalgenError):
    """A page or PDF could not be rendered."""


class PublishError(PortalgenError):
    """Storage refused or failed while publishing."""


class StorageError(PublishError):
    """A storage backend operation failed (network, permissions, missing bucket)."""


class AccessError(PortalgenError):
    """A grant, revoke, reset or link request cannot be carried out."""


class FetchError(PortalgenError):
    """Downloading an export from an invoicing program's API failed."""


class MailError(PortalgenError):
    """An email could not be composed or sent (the mail server, SES, a refused address)."""
