"""What an uploaded proof of payment really is, from its first bytes (its "magic").

The browser declares a type (its Content-Type) and a name; neither says what the bytes
are. A proof is accepted only when the bytes begin the way the declared type begins:

- PDF: ``%PDF-`` within the first 1024 bytes (the PDF reference allows some leading
  bytes; readers look that far), and no HTML or SVG markup before it;
- JPEG: ``FF D8 FF`` (the SOI marker and the first segment's marker);
- PNG: the eight-byte signature ``89 50 4E 47 0D 0A 1A 0A``.

So an HTML page or an SVG image renamed ``.pdf`` (which a browser might render, scripts
and all, if it were ever served) is refused, whatever it is called.
"""

from __future__ import annotations

import re

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
ALLOWED = {PDF: "pdf", JPEG: "jpg", PNG: "png"}  # declared type → the stored name's extension
PDF_WINDOW = 1024
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|svg|script|\?xml|head|body)", re.IGNORECASE)


def sniff(data: bytes) -> str | None:
    """The type the bytes are (one of ALLOWED), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    start = data.find(b"%PDF-", 0, PDF_WINDOW)
    if start >= 0 and not _MARKUP.search(data[:start]):
        return PDF
    return None


def matches(data: bytes, declared: str) -> bool:
    """Whether `data` is of the `declared` type (which must be an allowed one)."""
    return declared in ALLOWED and sniff(data) == declared


def declared_type(value: str) -> str:
    """A declared Content-Type without parameters, lower case (``application/pdf``)."""
    return value.split(";", 1)[0].strip().lower()
