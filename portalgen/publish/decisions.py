"""Quote decisions made in the portal, read so publishing renders them statically.

The gate creates ``_decisions/<customer_key>/<quote slug>.json`` (first decision wins) the
moment a customer accepts or rejects a quote, and fills the quote's live slots from it
until the next publish. Publishing reads them and renders the quote as decided, even if
the invoicing program's export still says "pending". The record's format, and what makes
one valid, is the gate's (interact.decisions): both read a record the same way. An
acceptance with evidence (issue 17) also gets its acceptance certificate, printed with the
signature image kept beside the decision (interact.evidence).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from portalgen.domain.model import QuoteStatus, slugify_number
from portalgen.interact.decisions import DECISIONS_PREFIX, LOOKBACK, SETTLE, DecisionRecord
from portalgen.interact.evidence import Acceptance, read_signature, signature_key

if TYPE_CHECKING:
    from portalgen.storage import Storage


def list_decisions(storage: Storage) -> dict[str, list[str]]:
    """customer_key -> the keys of its decision objects (one listing for everyone)."""
    return decision_listing(storage).keys


@dataclass(frozen=True)
class DecisionListing:
    keys: dict[str, list[str]]  # customer_key -> the keys of its decision objects
    newest: datetime | None  # when the newest object under the prefix was written
    at: datetime  # when it was listed

    def may_need_events(self, now: datetime) -> bool:
        """Whether `audit pull` could find a decision to give its lost event now: one
        written between LOOKBACK and SETTLE ago. Not if the newest listed is older than
        LOOKBACK and any written since the listing is younger than SETTLE."""
        if now - self.at >= SETTLE:
            return True
        return self.newest is not None and self.newest >= now - LOOKBACK


def decision_listing(storage: Storage) -> DecisionListing:
    """The decision objects (one listing for everyone), and when the newest was written."""
    at = datetime.now(UTC)
    found: dict[str, list[str]] = defaultdict(list)
    newest = None
    for info in storage.list(DECISIONS_PREFIX):
        parts = info.key.split("/")
        if len(parts) != 3:
            continue  # (not a decision: recovery skips it too)
        newest = info.last_modified if newest is None else max(newest, info.last_modified)
        if parts[2].endswith(".json"):
            found[parts[1]].append(info.key)
    return DecisionListing({key: sorted(keys) for key, keys in found.items()}, newest, at)


def read_decisions(
    storage: Storage, keys: Iterable[str]
) -> tuple[dict[str, QuoteStatus], list[str]]:
    """Quote number -> "accepted" or "rejected"; and a warning per unusable object."""
    records, problems = read_decision_records(storage, keys)
    return statuses(records), problems


def statuses(records: Mapping[str, DecisionRecord]) -> dict[str, QuoteStatus]:
    """Quote number -> "accepted" or "rejected", from the records."""
    return {number: _status(record) for number, record in records.items()}


def read_decision_records(
    storage: Storage, keys: Iterable[str]
) -> tuple[dict[str, DecisionRecord], list[str]]:
    """Quote number -> its decision record; and a warning per unusable object."""
    decided: dict[str, DecisionRecord] = {}
    problems: list[str] = []
    for key in keys:
        raw = storage.get(key)
        if raw is None:
            continue  # deleted since it was listed (a revoke): nothing to show
        try:
            record = _parse(raw, key.rsplit("/", 1)[-1].removesuffix(".json"))
        except ValueError as exc:
            where = f"{storage.location}/{key}"
            problems.append(f"{where}: not a valid quote decision ({exc}); ignored")
            continue
        decided[record.quote] = record
    return decided, problems


def acceptances_of(
    storage: Storage, customer_key: str, records: Mapping[str, DecisionRecord]
) -> tuple[dict[str, Acceptance], list[str]]:
    """The quotes accepted in the portal with their evidence, for their acceptance
    certificates (quote number -> Acceptance), with the drawn signature read from beside
    the decision; a warning per acceptance whose signature image is missing or altered
    (its certificate says so). Records from before evidence was kept have none."""
    found: dict[str, Acceptance] = {}
    problems: list[str] = []
    for number, record in records.items():
        evidence = record.evidence
        if record.decision != "accepted" or evidence is None:
            continue
        image = b""
        if evidence.signature_sha256:
            sha = evidence.signature_sha256
            image = read_signature(storage, customer_key, record.slug, sha) or b""
            if not image:
                where = f"{storage.location}/{signature_key(customer_key, record.slug, sha)}"
                problems.append(f"{where}: the signature of quote {number} is missing or altered")
        found[number] = Acceptance(
            record.quote, record.slug, record.event_id, record.comment, evidence, image
        )
    return found, problems


def _status(record: DecisionRecord) -> QuoteStatus:
    return "accepted" if record.decision == "accepted" else "rejected"


def _parse(raw: bytes, slug: str) -> DecisionRecord:
    try:
        record = DecisionRecord.from_json(raw)
    except ValueError:
        raise ValueError("not a version 1 decision record") from None
    if slugify_number(record.quote) != slug:
        raise ValueError(f"quote {record.quote!r} does not match the file name {slug!r}")
    return record
