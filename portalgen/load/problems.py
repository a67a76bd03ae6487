"""Collecting every problem in an export before reporting, instead of stopping at the first.

One problem, one error: a record that cannot be read is reported once, where it is. What
depends on it (the payments of an unreadable invoice, the totals of a document with an
unreadable line) is not checked again — it would only repeat the same problem as several
misleading ones — and one note says what was left unchecked because of it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from portalgen.domain.model import Origin
from portalgen.errors import Problem

# What a note counts: singular and plural.
NOUNS = {
    "payment": "payments",
    "quote": "quotes",
    "order": "orders",
    "delivery note": "delivery notes",
    "invoice": "invoices",
    "corrective invoice": "corrective invoices",
    "shared document": "shared documents",
}


@dataclass
class ProblemLog:
    problems: list[Problem] = field(default_factory=list)
    # Tables whose header is unusable: their rows are skipped, and what depends on them
    # (a document's lines) is not reported again as missing.
    broken_tables: set[str] = field(default_factory=set)
    # Records that could not be read, by (what, key) — ("invoice", "F2026-004"),
    # ("customer", "C1"), ("invoice lines", "F2026-004") — with where the error is.
    broken: dict[tuple[str, str], Origin] = field(default_factory=dict)
    # What was not checked because of a broken record: (what, key, noun, origin) each.
    skipped: list[tuple[str, str, str, Origin]] = field(default_factory=list)

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

    def unreadable(self, what: str, key: str, origin: Origin) -> None:
        """Record `what` `key` (an error already logged at `origin`) as unreadable."""
        if key:
            self.broken.setdefault((what, key), origin)

    def is_broken(self, what: str, key: str) -> bool:
        return (what, key) in self.broken

    def skip(self, what: str, key: str, noun: str, origin: Origin) -> None:
        """`noun` at `origin` refers to the unreadable `what` `key`: it is not checked."""
        self.skipped.append((what, key, noun, origin))

    def note_skipped(self) -> None:
        """One note per error, kind of check and file, right after the error it follows from.

        Totals are grouped by error alone: a header that breaks a whole lines table leaves
        every document's totals unchecked, which is one note, not one per document."""
        groups: dict[tuple[Origin, str, str, str, str], list[Origin]] = defaultdict(list)
        for what, key, noun, origin in self.skipped:
            root = self.broken[what, key]
            if noun == "totals":
                what = key = ""
            groups[root, noun, origin.file, what, key].append(origin)
        notes: dict[Origin, list[Problem]] = defaultdict(list)
        for (root, noun, _, what, key), origins in groups.items():
            notes[root].append(_note(what, key, noun, origins, root))
        for root, following in notes.items():
            at = _after(self.problems, root)
            self.problems[at:at] = following
        self.skipped.clear()

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def _note(what: str, key: str, noun: str, origins: list[Origin], root: Origin) -> Problem:
    where = ", ".join(p for p in (root.file, root.location) if p)
    because = f"because of the error in {where}"
    count = len(origins)
    if noun == "totals" and count == 1:
        message = f"the totals were not compared with the lines {because}"
    elif noun == "totals":
        message = f"the totals of {count} documents were not compared with their lines {because}"
    else:
        nouns = noun if count == 1 else NOUNS.get(noun, noun)
        of = f"{what.replace('_', ' ')} {key!r}"
        message = f"{count} {nouns} of {of} not checked against it {because}"
    return Problem(origins[0].file, _locations(origins), "", message, severity="note")


def _locations(origins: list[Origin], shown: int = 10) -> str:
    """``row 3`` or ``rows 2, 3, 5`` (the first ten, then how many more)."""
    locations = list(dict.fromkeys(o.location for o in origins if o.location))
    rows = len(locations) > 1 and all(loc.startswith("row ") for loc in locations)
    if rows:
        locations = [loc[4:] for loc in locations]
    text = ", ".join(locations[:shown])
    if len(locations) > shown:
        text += f" and {len(locations) - shown} more"
    return f"rows {text}" if rows else text


def _after(problems: list[Problem], root: Origin) -> int:
    """The index just after the last problem logged at `root` (the end if none is)."""
    at = len(problems)
    for index, problem in enumerate(problems):
        if (problem.file, problem.location) == (root.file, root.location):
            at = index + 1
    return at
