"""Messages straight to their bytes: one frame per kind and language, the rest filled in.

A night's digests share everything but the recipient, the subject, the date, the
Message-ID and the two bodies. A `MessageFrame` builds one message of a kind and
language with `build_message`, so its headers and MIME structure are exactly those of
every other message, flattens it once, and for each message puts the recipient's
headers and the quoted-printable bodies in their places. The email package's header
parsing and folding, which cost more than the SMTP exchange of the message itself, run
once per frame instead of once per message.
"""

from __future__ import annotations

import binascii
import functools
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email import quoprimime
from email.headerregistry import Address
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from portalgen.errors import MailError
from portalgen.mail.address_field import address_field
from portalgen.mail.message import (
    Content,
    InlineImage,
    Outgoing,
    build_message,
    make_address,
    one_line,
)

# Stand-ins the frame is built with: plain ASCII words quoted-printable leaves as they are.
_TEXT = b"portalgen-frame-text-body"
_HTML = b"portalgen-frame-html-body"
_FILLED = ("to", "subject", "date", "message-id")  # the per-message headers
_CRLF = b"\r\n"
_LINE = SMTP.max_line_length or 78  # 78, as the policy folds and encodes
# What quoted-printable leaves alone (email.quoprimime's safe body characters), up to a
# last character that is not a space or a tab (those it encodes at a line's end).
_AS_IS = re.compile(rb"[\t !-<>-~]*[!-<>-~]|")
_EQUALS = ord("=")


class MessageFrame:
    """Every message of one kind and language from one sender, minus what differs."""

    def __init__(
        self,
        *,
        sender: Address,
        reply_to: Sequence[Address],
        headers: Mapping[str, str],
        language: str,
        images: tuple[InlineImage, ...] = (),
    ) -> None:
        content = Content("-", _TEXT.decode() + "\n", _HTML.decode() + "\n", language, images)
        frame = build_message(
            sender=sender,
            to=[make_address("frame@frame.invalid")],
            content=content,
            now=datetime(2000, 1, 1, tzinfo=UTC),
            reply_to=reply_to,
            headers=headers,
        )
        data = frame.as_bytes(policy=SMTP)
        end = data.index(b"\r\n\r\n") + 2
        self.fields = _fields(data[:end])
        body = data[end:]  # the blank line, the parts
        self.before, rest = _split_once(body, _TEXT + _CRLF)
        self.between, self.after = _split_once(rest, _HTML + _CRLF)
        boundary = frame.get_boundary()
        if boundary is None:  # build_message always makes a multipart message
            raise MailError("the message frame has no MIME boundary")
        self.boundary = boundary.encode("ascii")
        self.sender = sender.addr_spec
        self.domain = sender.domain

    def fill(
        self, to: Sequence[Address], content: Content, now: datetime, kind: str
    ) -> Outgoing | None:
        """The message to `to`; None when its bodies hold the frame's boundary (they are
        quoted-printable, which never writes ``==``, so never in practice)."""
        text, html = _quoted_printable(content.text), _quoted_printable(content.html)
        if self.boundary in text or self.boundary in html:
            return None
        message_id = make_msgid(domain=self.domain)
        filled = {
            "to": _to(to),
            "subject": _fold_subject(one_line(content.subject)),
            "date": b"Date: " + format_datetime(now).encode("ascii") + _CRLF,
            "message-id": b"Message-ID: " + message_id.encode("ascii") + _CRLF,
        }
        head = b"".join(filled.get(name, line) for name, line in self.fields)
        data = b"".join((head, self.before, text, self.between, html, self.after))
        recipients = tuple(a.addr_spec for a in to)
        return Outgoing(data, self.sender, recipients, message_id, kind)


def frame_key(
    kind: str, language: str, images: tuple[InlineImage, ...]
) -> tuple[str, str, tuple[str, ...]]:
    return kind, language, tuple(image.cid for image in images)


def _fields(head: bytes) -> list[tuple[str, bytes]]:
    """The header block as (lower-case name, the field's lines with their CRLF)."""
    fields: list[tuple[str, bytes]] = []
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:  # a folded field goes on
            name, value = fields[-1]
            fields[-1] = (name, value + line)
        else:
            fields.append((line.split(b":", 1)[0].decode("ascii").lower(), line))
    if not all(name in {n for n, _ in fields} for name in _FILLED):
        raise MailError("the message frame lacks a header it fills in")
    return fields


def _split_once(data: bytes, marker: bytes) -> tuple[bytes, bytes]:
    before, found, after = data.partition(marker)
    if not found or marker in after:
        raise MailError("the message frame's body is not where it was put")
    return before, after


def _quoted_printable(text: str) -> bytes:
    """`text` as `build_message` encodes a part: UTF-8, quoted-printable, CRLF lines.

    The email package encodes each line on its own, so a line's encoding is looked up:
    most lines of a night's HTML parts are the same in every message."""
    lines = text.encode("utf-8").splitlines() or [b""]  # "" is encoded as one empty line
    return b"".join([_quoted_line(line) for line in lines])


@functools.lru_cache(maxsize=8192)
def _quoted_line(line: bytes) -> bytes:
    return _line_as_is(line) or _encoded_line(line)


def _line_as_is(line: bytes) -> bytes:
    """A line quoted-printable leaves as it is (short, plain ASCII, no `=`, no trailing
    blank), with its CRLF; else b""."""
    if len(line) <= _LINE and _AS_IS.fullmatch(line):
        return line + _CRLF
    return b""


def _encoded_line(line: bytes) -> bytes:
    """`line` as `quoprimime.body_encode` writes it, with CRLF. binascii quotes the same
    bytes, in C, but breaks lines elsewhere: its soft breaks (``=`` and a newline, which
    nothing else writes) are taken out and the line broken as the email package breaks it.
    A line that ends in a blank, or begins with a dot (binascii quotes a dot alone, or
    before a NUL), is left to the email package."""
    if line[-1:] in (b" ", b"\t") or line[:1] == b".":
        encoded = quoprimime.body_encode(line.decode("latin-1") + "\n", _LINE)
        return encoded.replace("\n", "\r\n").encode("ascii")
    quoted = binascii.b2a_qp(line, quotetabs=False, istext=True).replace(b"=\n", b"")
    return _soft_broken(quoted)


def _soft_broken(line: bytes) -> bytes:
    """A quoted line broken as `quoprimime.body_encode` breaks it (its very steps): pieces
    of at most _LINE - 1 characters and an `=`, never inside an ``=XX``."""
    pieces: list[bytes] = []
    start, last = 0, len(line) - 1 - _LINE
    while start <= last:
        stop = start + _LINE - 1
        if line[stop - 2] == _EQUALS:
            pieces.append(line[start : stop - 1])
            start = stop - 2
        elif line[stop - 1] == _EQUALS:
            pieces.append(line[start:stop])
            start = stop - 1
        else:
            pieces.append(line[start:stop] + b"=")
            start = stop
    pieces.append(line[start:])
    return _CRLF.join(pieces) + _CRLF


def _to(to: Sequence[Address]) -> bytes:
    """The To header as `build_message` writes it (address_field.py, or the policy's)."""
    field = address_field("To", to)
    if field is None:
        return _fold("To", tuple(to))
    return b"To: " + field.encode("ascii") + _CRLF


def _fold(name: str, value: object) -> bytes:
    """One header as the SMTP policy writes it (RFC 2047 words, folded lines)."""
    header = SMTP.header_factory(name, value)
    return str(header.fold(policy=SMTP)).encode("ascii")


@functools.lru_cache(maxsize=256)
def _fold_subject(subject: str) -> bytes:
    return _fold("Subject", subject)  # a night's digests have a few subjects per language
