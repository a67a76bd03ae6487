"""Quote decisions made in the portal, read so publishing renders them statically.

The gate creates ``_decisions/<customer_key>/<quote slug>.json`` (first decision wins) the
moment a customer accepts or rejects a quote, and fills the quote's live slots from it
until the next publish. Publishing reads them and renders the quote as decided, even if
the invoicing program's export still says "pending". The record's format, and what makes
one valid, is the gate's (interact.decisions): both read a record the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from portalgen.domain.model import QuoteStatus, slugify_number
from portalgen.interact.decisions import DECISIONS_PREFIX, DecisionRecord

if TYPE_CHECKING:
    from portalgen.storage import Storage


def list_decisions(storage: Storage) -> dict[str, list[str]]:
    """customer_key -> the keys of its decision objects (one listing for everyone)."""
    found: dict[str, list[str]] = defaultdict(list)
    for info in storage.list(DECISIONS_PREFIX):
        parts = info.key.split("/")
        if len(parts) == 3 and parts[2].endswith(".json"):
            found[parts[1]].append(info.key)
    return {key: sorted(keys) for key, keys in found.items()}


def read_decisions(
    storage: Storage, keys: Iterable[str]
) -> tuple[dict[str, QuoteStatus], list[str]]:
    """Quote number -> "accepted" or "rejected"; and a warning per unusable object."""
    decided: dict[str, QuoteStatus] = {}
    problems: list[str] = []
    for key in keys:
        raw = storage.get(key)
        if raw is None:
            continue  # deleted since it was listed (a revoke): nothing to show
        try:
            number, decision = _parse(raw, key.rsplit("/", 1)[-1].removesuffix(".json"))
        except ValueError as exc:
            where = f"{storage.location}/{key}"
            problems.append(f"{where}: not a valid quote decision ({exc}); ignored")
            continue
        decided[number] = decision
    return decided, problems


def _parse(raw: bytes, slug: str) -> tuple[str, QuoteStatus]:
    try:
        record = DecisionRecord.from_json(raw)
    except ValueError:
        raise ValueError("not a version 1 decision record") from None
    if slugify_number(record.quote) != slug:
        raise ValueError(f"quote {record.quote!r} does not match the file name {slug!r}")
    status: QuoteStatus = "accepted" if record.decision == "accepted" else "rejected"
    return record.quote, status
