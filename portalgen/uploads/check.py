"""The checks a proof of payment passes before it is recorded, the same whichever way it
came (through the gate, or posted to S3 and reported to the gate):

1. a PDF, JPEG or PNG by its declared type, at most MAX_SIZE bytes, not empty;
2. its bytes are what the declared type says (magic.py): an HTML or SVG file renamed
   ``.pdf`` is refused;
3. when ``uploads.clamd`` is set, ClamAV finds nothing in it (clamd.py). A file it
   flags is kept in quarantine and staff are told; when clamd cannot be reached, the
   proof is refused (the customer is asked to try later), never accepted unscanned.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portalgen.errors import PortalgenError
from portalgen.uploads import clamd, magic
from portalgen.uploads.records import MAX_SIZE, NOTE_LIMIT, QUARANTINED, RECEIVED

if TYPE_CHECKING:
    from collections.abc import Mapping

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
FILENAME_LIMIT = 120


class UploadRefused(PortalgenError):
    """A proof that is not taken, and why (`kind`, see gate/pages_upload.py)."""

    def __init__(self, kind: str, detail: str = "", params: Mapping[str, str] | None = None):
        super().__init__(detail or kind)
        self.kind = kind
        self.params = dict(params or {})


@dataclass(frozen=True)
class Verdict:
    status: str  # received | quarantined
    sha256: str
    scanned: bool
    signature: str = ""


def check_declared(declared: str, size: int) -> str:
    """The declared type, if a proof may be of it and of this size; UploadRefused if not."""
    kind = magic.declared_type(declared)
    if kind not in magic.ALLOWED:
        raise UploadRefused("proof-type", f"declared type {kind[:60]!r}")
    if size <= 0:
        raise UploadRefused("proof-missing", "empty file")
    if size > MAX_SIZE:
        raise UploadRefused("proof-too-large", f"{size} bytes", {"limit": "10 MB"})
    return kind


def inspect(data: bytes, declared: str, clamd_address: str) -> Verdict:
    """Check a proof's bytes against its declared type, then scan them (if configured)."""
    kind = check_declared(declared, len(data))
    if not magic.matches(data, kind):
        found = magic.sniff(data) or "something else"
        raise UploadRefused("proof-type", f"declared {kind}, the bytes are {found}")
    digest = hashlib.sha256(data).hexdigest()
    if not clamd_address:
        return Verdict(RECEIVED, digest, scanned=False)
    try:
        result = clamd.scan_bytes(clamd_address, data)
    except clamd.ScanError as exc:
        raise UploadRefused("proof-unavailable", str(exc)) from None
    if result.clean:
        return Verdict(RECEIVED, digest, scanned=True)
    return Verdict(QUARANTINED, digest, scanned=True, signature=result.signature)


def clean_note(value: str) -> str:
    text = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text) > NOTE_LIMIT:
        raise UploadRefused("too-long", f"note of {len(text)}", {"limit": str(NOTE_LIMIT)})
    return text


def clean_filename(value: str) -> str:
    """The name the browser gave, as staff see it: its last path part, one line, short."""
    name = value.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:FILENAME_LIMIT] or "proof"
