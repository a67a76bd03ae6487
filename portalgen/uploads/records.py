"""Proofs of payment as stored: where their bytes go and the record that says what came.

Under ``_uploads/<customer_key>/`` (never under ``portals/``: an upload is no file of
the published portal, and no portal URL reaches it):

- ``incoming/<id>``: where a browser posts a proof straight to S3 (the presigned POST's
  policy names exactly this key); the gate reads it, then deletes it. What it never
  takes is deleted after a day (sweep.py).
- ``files/<id>.<ext>``: a proof the gate checked and accepted.
- ``quarantine/<id>.<ext>``: a proof ClamAV flagged; kept for staff, never served.
- ``records/<id>.json``: what was uploaded, by whom, for which invoice, and what the
  checks found. Created if absent: one record, one ``upload.received`` (or
  ``upload.quarantined``) event per upload, however often the browser reports it.

``id`` is a ULID, so records list in the order they came.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from portalgen.uploads.magic import ALLOWED

if TYPE_CHECKING:
    from portalgen.storage import Storage

UPLOADS_PREFIX = "_uploads/"
RECORD_VERSION = 1
MAX_SIZE = 10 * 1024 * 1024  # bytes of one proof
NOTE_LIMIT = 1000  # characters of the note beside it
RECEIVED, QUARANTINED = "received", "quarantined"


def customer_prefix(customer_key: str) -> str:
    return f"{UPLOADS_PREFIX}{customer_key}/"


def incoming_key(customer_key: str, upload_id: str) -> str:
    return f"{customer_prefix(customer_key)}incoming/{upload_id}"


def stored_key(customer_key: str, upload_id: str, content_type: str, status: str) -> str:
    folder = "files" if status == RECEIVED else "quarantine"
    return f"{customer_prefix(customer_key)}{folder}/{upload_id}.{ALLOWED[content_type]}"


def record_key(customer_key: str, upload_id: str) -> str:
    return f"{customer_prefix(customer_key)}records/{upload_id}.json"


@dataclass(frozen=True)
class UploadRecord:
    id: str  # a ULID: the upload's id (stored under it), by the time it began
    ts: str  # UTC ISO 8601, as the event's
    customer: str  # the customer's code
    customer_key: str
    contact: str
    invoice: str  # the invoice's slug (its page: invoices/<slug>.html)
    filename: str  # as the browser named it (for staff; never a storage key)
    content_type: str  # declared, and what the bytes are
    size: int
    sha256: str
    note: str = ""
    status: str = RECEIVED  # received | quarantined
    signature: str = ""  # what ClamAV found (quarantined)
    scanned: bool = False  # whether ClamAV scanned it (uploads.clamd set)
    event_id: str = ""  # the upload.received (or upload.quarantined) event's ULID

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.ts.replace("Z", "+00:00"))

    @property
    def key(self) -> str:
        """Where its bytes are."""
        return stored_key(self.customer_key, self.id, self.content_type, self.status)

    def to_json(self) -> bytes:
        body = {"version": RECORD_VERSION, **asdict(self)}
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> UploadRecord:
        try:
            data = json.loads(raw)
            if data.get("version") != RECORD_VERSION:
                raise ValueError(f"unsupported upload record version {data.get('version')!r}")
            fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
            record = cls(**fields)
            if record.content_type not in ALLOWED or not isinstance(record.size, int):
                raise ValueError("not a proof's type or size")
            record.when  # noqa: B018 - its date must parse too
            return record
        except (KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not an upload record: {exc}") from None


def read_record(storage: Storage, key: str) -> UploadRecord | None:
    """The record at `key`; None if absent or damaged."""
    raw = storage.get(key)
    if raw is None:
        return None
    try:
        return UploadRecord.from_json(raw)
    except ValueError:
        return None


def customer_records(storage: Storage, customer_key: str) -> Iterator[UploadRecord]:
    """A customer's upload records, oldest first (damaged ones skipped)."""
    prefix = f"{customer_prefix(customer_key)}records/"
    for info in sorted(storage.list(prefix), key=lambda i: i.key):
        record = read_record(storage, info.key)
        if record is not None:
            yield record


def all_records(storage: Storage) -> Iterator[UploadRecord]:
    """Every customer's upload records, oldest first (for staff: `portalgen uploads`)."""
    keys = [i.key for i in storage.list(UPLOADS_PREFIX) if "/records/" in i.key]
    found = [r for r in (read_record(storage, k) for k in keys) if r is not None]
    yield from sorted(found, key=lambda r: r.id)


def store(storage: Storage, record: UploadRecord, data: bytes) -> bool:
    """Keep the proof's bytes, then its record (created if absent); False when a record
    of this upload already stands (a report repeated: nothing more is recorded)."""
    if storage.exists(record_key(record.customer_key, record.id)):
        return False
    storage.put(record.key, data, record.content_type)
    return storage.put_if_absent(
        record_key(record.customer_key, record.id), record.to_json(), "application/json"
    )
