"""One MIME message: its headers, the text and HTML parts, and images carried inline.

Every message is ``multipart/alternative`` (plain text, then HTML); an HTML part that
shows the company's logo becomes ``multipart/related`` with the image attached and
referred to by ``cid:``, so no message ever loads an image from the network. Headers
built from billing data (names, document numbers) are folded into one line, so no
customer name can start a header of its own; non-ASCII names and subjects are encoded
(RFC 2047): the recipients' names by address_field.py, the rest by the standard
library's email policy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from portalgen.errors import MailError
from portalgen.mail.address_field import address_field

_SPACE = re.compile(r"\s+")
_ADDR = re.compile(r"[^@\s<>()\[\]\\,;:\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
MAX_SUBJECT = 200


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part shows as ``<img src="cid:{cid}">``."""

    cid: str  # without the angle brackets
    data: bytes
    subtype: str  # png, jpeg, gif


@dataclass(frozen=True)
class Content:
    """What a template produced: the subject and both bodies, in one language."""

    subject: str
    text: str
    html: str
    language: str
    images: tuple[InlineImage, ...] = ()


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the wire: its bytes (CRLF lines, SMTP policy) and envelope."""

    data: bytes
    sender: str  # the envelope sender: the From address
    recipients: tuple[str, ...]
    message_id: str
    kind: str  # digest, invitation... (its X-Portalgen-Message)

    def as_bytes(self) -> bytes:
        return self.data


def one_line(value: str, limit: int = MAX_SUBJECT) -> str:
    """Text for a header: whitespace (line breaks included) collapsed, cut at `limit`."""
    text = _SPACE.sub(" ", value).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def make_address(email: str, name: str = "") -> Address:
    """An address for a header; refuses what is not a plain ASCII email address."""
    email = email.strip()
    if not email.isascii() or not _ADDR.fullmatch(email):
        raise MailError(f"not an email address that can receive mail: {email!r}")
    local, domain = email.rsplit("@", 1)
    return Address(display_name=one_line(name, 120), username=local, domain=domain)


def parse_address(value: str, default_name: str = "") -> Address:
    """``Mi Empresa <f@example.es>`` or ``f@example.es`` (then named `default_name`)."""
    name, email = parseaddr(value)
    return make_address(email, name or default_name)


def parse_addresses(value: str) -> list[Address]:
    """A comma-separated list of addresses (``mail.staff_address``)."""
    return [parse_address(part) for part in value.split(",") if part.strip()]


def build_message(
    *,
    sender: Address,
    to: Sequence[Address],
    content: Content,
    now: datetime,
    reply_to: Sequence[Address] = (),
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """The whole message, ready for `as_bytes()` (CRLF line ends, SMTP policy)."""
    if not to:
        raise MailError("a message needs at least one recipient")
    if now.tzinfo is None:
        raise ValueError("the Date header needs a timezone-aware time")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    field = address_field("To", to)
    if field is None:
        msg["To"] = list(to)
    else:  # as it is: address_field folded it (the policy keeps lines that fit)
        msg.set_raw("To", field)
    if reply_to:
        msg["Reply-To"] = list(reply_to)
    msg["Subject"] = one_line(content.subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=sender.domain)
    # An automatic message: out-of-office robots should not answer it (RFC 3834).
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    for name, value in (headers or {}).items():
        msg[name] = one_line(value, 900)
    msg.set_content(content.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(content.html, subtype="html", charset="utf-8", cte="quoted-printable")
    msg["Content-Language"] = content.language  # after set_content, which clears Content-*
    if content.images:
        html_part = next(part for part in msg.iter_parts() if part.get_content_subtype() == "html")
        for image in content.images:
            html_part.add_related(
                image.data,
                maintype="image",
                subtype=image.subtype,
                cid=f"<{image.cid}>",
                disposition="inline",
                filename=f"logo.{image.subtype}",
            )
    return msg


def recipients(msg: EmailMessage) -> list[str]:
    """The envelope recipients of a message built here: every To address."""
    found: list[str] = []
    for header in msg.get_all("To", []):
        found.extend(a.addr_spec for a in header.addresses)
    return found


def as_outgoing(message: EmailMessage | Outgoing) -> Outgoing:
    """A message built by `build_message` as the bytes that go (an `Outgoing` as it is)."""
    if isinstance(message, Outgoing):
        return message
    sender = message["From"].addresses[0].addr_spec
    kind = str(message.get("X-Portalgen-Message", "message"))
    data = message.as_bytes(policy=SMTP)
    return Outgoing(data, sender, tuple(recipients(message)), str(message["Message-ID"]), kind)
