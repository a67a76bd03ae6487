"""The verification index: which PDFs this company published, by their SHA-256.

``_verify/<sha256>`` holds the minimum the gate's public `/verify` page shows about a
document whose exact bytes the company published: its kind, number and date, the issuer
(name and tax id), the customer's tax id masked, when it was first published, and —
once it is no longer published — since when, and the fingerprint of the version that
replaced it. Nothing else about the customer (no name, no amounts, no portal key).

Publishing writes a record for every new PDF of a portal after the manifest (the commit
point) and marks the PDFs it replaced or dropped as withdrawn; `revoke` marks every PDF
of the portal it deletes. A withdrawn document stays verifiable for `verify.retention`
(the legal retention period, six years by default), counted from its withdrawal.

This module is light on purpose: the gate imports it (and no renderer or loader).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portalgen.storage import Storage

PREFIX = "_verify/"
JSON = "application/json"
RECORD_VERSION = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")


def index_key(sha256: str) -> str:
    return f"{PREFIX}{sha256}"


def parse_fingerprint(value: str) -> str | None:
    """A SHA-256 as typed or pasted (spaces, colons and case ignored), or None."""
    cleaned = re.sub(r"[\s:]", "", value).lower()
    return cleaned if _SHA256.fullmatch(cleaned) else None


def mask_tax_id(value: str) -> str:
    """A tax id with all but its last three characters hidden (``******78Z``)."""
    text = "".join(value.split())
    if len(text) <= 3:
        return "*" * len(text)
    return "*" * (len(text) - 3) + text[-3:]


@dataclass(frozen=True)
class Issued:
    """What a published PDF is, as the renderer knows it (PlannedFile.issued)."""

    kind: str  # invoice, quote, delivery_note, statement, acceptance, ...
    number: str  # "" when the document has none (an account statement)
    date: str  # ISO 8601 date
    customer_tax_id: str  # already masked


@dataclass(frozen=True)
class Issuer:
    name: str
    tax_id: str


@dataclass(frozen=True)
class Record:
    sha256: str
    kind: str
    number: str
    date: str
    issuer: str
    issuer_tax_id: str
    customer_tax_id: str
    published_at: str  # UTC ISO 8601: first published
    withdrawn_at: str = ""  # no longer published since (revoked, replaced or removed)
    superseded_by: str = ""  # the SHA-256 of the version that replaced it

    def to_json(self) -> bytes:
        body = {"version": RECORD_VERSION, **asdict(self)}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Record:
        data: dict[str, Any] = json.loads(raw)
        if data.get("version") != RECORD_VERSION:
            raise ValueError(f"unsupported record version {data.get('version')!r}")
        names = cls.__dataclass_fields__
        return cls(**{k: str(v) for k, v in data.items() if k in names})

    def verifiable(self, now: datetime, retention: timedelta) -> bool:
        """Published now, or withdrawn less than `retention` ago."""
        if not self.withdrawn_at:
            return True
        try:
            return now < _time(self.withdrawn_at) + retention
        except ValueError:
            return False  # a damaged record verifies nothing


def read_record(storage: Storage, sha256: str) -> Record | None:
    raw = storage.get(index_key(sha256))
    if raw is None:
        return None
    try:
        return Record.from_json(raw)
    except (ValueError, TypeError, KeyError):
        return None  # a damaged record verifies nothing


def record_published(
    storage: Storage,
    old: Mapping[str, str],
    new: Mapping[str, tuple[str, Issued]],
    issuer: Issuer,
    now: datetime,
) -> int:
    """Record a portal's new PDFs; publishing calls it before writing the manifest, so a
    published PDF is always verifiable.

    `old` is path -> SHA-256 of the PDFs of the previous manifest, `new` path ->
    (SHA-256, what it is) of the new one. Bytes not published before get a record;
    bytes published again lose their withdrawal (and keep their first publication).
    How many records were written."""
    stamp = _stamp(now)
    written = 0
    for path, (sha, issued) in new.items():
        if old.get(path) == sha:
            continue
        found = read_record(storage, sha)
        if found is not None and not found.withdrawn_at:
            continue
        record = Record(
            sha,
            issued.kind,
            issued.number,
            issued.date,
            issuer.name,
            issuer.tax_id,
            issued.customer_tax_id,
            found.published_at if found else stamp,
        )
        storage.put(index_key(sha), record.to_json(), JSON)
        written += 1
    return written


def withdraw_replaced(
    storage: Storage, old: Mapping[str, str], new: Mapping[str, str], now: datetime
) -> int:
    """After the manifest: the PDFs of `old` (path -> SHA-256) that `new` no longer
    publishes are withdrawn; one replaced at the same path points to its successor."""
    current = set(new.values())
    count = 0
    for path, sha in old.items():
        if sha not in current:
            count += withdraw(storage, [sha], now, new.get(path, ""))
    return count


def withdraw(storage: Storage, shas: Iterable[str], now: datetime, successor: str = "") -> int:
    """Mark published PDFs as no longer published (their retention period starts)."""
    count = 0
    for sha in shas:
        found = read_record(storage, sha)
        if found is None or found.withdrawn_at:
            continue
        record = replace(found, withdrawn_at=_stamp(now), superseded_by=successor)
        storage.put(index_key(sha), record.to_json(), JSON)
        count += 1
    return count


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="seconds")


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
