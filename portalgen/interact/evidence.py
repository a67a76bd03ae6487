"""The evidence kept with a quote decision, and the drawn signature that may come with it.

When a customer accepts or rejects a quote, the gate keeps with the decision what a court
would look at (docs/trust.md): the fingerprint of the quote's PDF as published, who
decided (the full name typed and the contact signed in), when (UTC and the business's
local time), a keyed hash of the client's address (the audit log's `ip_hash`), the
browser's user agent, the terms shown before the button, and — with
``portal.acceptance.signature: drawn`` — the SHA-256 of the signature drawn on screen.

The drawn signature comes as a ``data:image/png;base64,…`` form field. It is checked as a
PNG (the magic bytes, an IHDR chunk with sane dimensions, an IEND chunk at the end) and
for size before anything is stored, and is kept beside the decision at
``_decisions/<customer_key>/<slug>/<sha256>.png``: never part of a portal, so never
served by the gate; publishing reads it to print it on the acceptance certificate.

Light on purpose: the gate imports this at request time (no image library).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

from portalgen.errors import PortalgenError
from portalgen.slots import SIGNATURE_LIMIT

if TYPE_CHECKING:
    from portalgen.storage import Storage

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URL = "data:image/png;base64,"
MAX_WIDTH, MAX_HEIGHT = 1600, 600  # pixels: a signature pad, not a photograph
MIN_WIDTH, MIN_HEIGHT = 40, 20
EVIDENCE_KEY = "evidence"  # where a decision record keeps it (DecisionRecord.extra)


class SignatureRefused(PortalgenError):
    """A drawn signature the gate does not keep: `kind` is "signature-too-large" or
    "signature-invalid" (the customer's message, gate/pages.py)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


def png_size(data: bytes) -> tuple[int, int]:
    """The width and height of a PNG; SignatureRefused unless `data` is one: the magic
    bytes, a first IHDR chunk of 13 bytes with a good CRC, and an IEND chunk last."""
    if not data.startswith(PNG_MAGIC) or len(data) < 8 + 25 + 12:
        raise SignatureRefused("signature-invalid", "not a PNG (magic bytes)")
    length, kind = struct.unpack(">I4s", data[8:16])
    header, crc = data[16:29], data[29:33]
    if length != 13 or kind != b"IHDR" or zlib.crc32(kind + header) != struct.unpack(">I", crc)[0]:
        raise SignatureRefused("signature-invalid", "a PNG without a valid IHDR chunk")
    if data[-12:] != b"\x00\x00\x00\x00IEND\xaeB`\x82":
        raise SignatureRefused("signature-invalid", "a PNG without its IEND chunk")
    width, height = struct.unpack(">II", header[:8])
    return width, height


def check_signature(data: bytes) -> bytes:
    """`data` if it is a PNG of a signature pad's size and at most SIGNATURE_LIMIT bytes."""
    if len(data) > SIGNATURE_LIMIT:
        detail = f"a signature of {len(data)} bytes (at most {SIGNATURE_LIMIT})"
        raise SignatureRefused("signature-too-large", detail)
    width, height = png_size(data)
    if not (MIN_WIDTH <= width <= MAX_WIDTH and MIN_HEIGHT <= height <= MAX_HEIGHT):
        raise SignatureRefused("signature-invalid", f"a signature of {width}×{height} pixels")
    return data


def parse_signature(value: str) -> bytes:
    """The PNG of a drawn signature posted as a data: URL (b"" when none was drawn)."""
    value = value.strip()
    if not value:
        return b""
    if not value.startswith(DATA_URL):
        raise SignatureRefused("signature-invalid", "not a data:image/png;base64 URL")
    encoded = value.removeprefix(DATA_URL)
    if len(encoded) > (SIGNATURE_LIMIT * 4) // 3 + 4:  # before decoding it
        raise SignatureRefused("signature-too-large", f"{len(encoded)} base64 characters")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRefused("signature-invalid", "not base64") from None
    return check_signature(data)


def signature_key(customer_key: str, slug: str, sha256: str) -> str:
    """Beside the decision (``_decisions/<customer_key>/<slug>.json``), by content."""
    return f"_decisions/{customer_key}/{slug}/{sha256}.png"


def store_signature(storage: Storage, customer_key: str, slug: str, data: bytes) -> str:
    """Keep a checked signature image; its SHA-256 (the same bytes always land in the
    same object, so a retry or a losing second decision changes nothing)."""
    sha = hashlib.sha256(data).hexdigest()
    storage.put_if_absent(signature_key(customer_key, slug, sha), data, "image/png")
    return sha


def read_signature(storage: Storage, customer_key: str, slug: str, sha256: str) -> bytes | None:
    """The signature image whose SHA-256 the evidence names; None if missing or not it."""
    data = storage.get(signature_key(customer_key, slug, sha256))
    if data is None or hashlib.sha256(data).hexdigest() != sha256:
        return None
    return data


@dataclass(frozen=True)
class Evidence:
    """What the gate knew when the customer decided (kept in the decision record)."""

    pdf_sha256: str  # the quote's PDF as published (the manifest's SHA-256)
    name: str  # the full name typed
    contact: str  # the email of the contact signed in
    utc: str  # ISO 8601, UTC
    local: str  # ISO 8601 with the offset, in `timezone`
    timezone: str  # the business's (branding.timezone)
    ip_hash: str  # the audit log's keyed hash of the client address
    user_agent: str
    signature: str  # "drawn" or "typed"
    signature_sha256: str = ""  # of the drawn PNG; "" for a typed signature
    terms: str = ""  # the terms shown before the button, as published

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Evidence | None:
        """The evidence a decision record carries; None for one written without it
        (before evidence was kept) or damaged."""
        names = [f.name for f in fields(cls)]
        if not isinstance(data, Mapping):
            return None
        if not all(isinstance(data.get(n, ""), str) for n in names):
            return None
        if not data.get("pdf_sha256") or data.get("signature") not in ("drawn", "typed"):
            return None
        return cls(**{n: str(data.get(n, "")) for n in names})


@dataclass(frozen=True)
class Acceptance:
    """A quote accepted in the portal, as publishing hands it to the renderer for its
    acceptance certificate: the decision, its evidence and the signature image."""

    quote: str  # the quote's number
    slug: str
    event_id: str  # the audit event of the acceptance
    comment: str
    evidence: Evidence
    signature: bytes = b""  # the drawn PNG (b"" for a typed signature, or if missing)
