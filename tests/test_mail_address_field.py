"""The To header written by address_field.py: every reader decodes exactly the name and
the address, on lines an SMTP server accepts, and billing data never starts a header."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.policy import SMTP

import pytest

from portalgen.mail.address_field import address_field
from portalgen.mail.message import Content, build_message, make_address

SENDER = make_address("facturas@levante.example", "Suministros Levante")
NOW = datetime(2026, 6, 15, 22, 5, 9, tzinfo=UTC)
NAMES = [
    "Jordi Romero Pérez",
    "Ferretería Peña, S.L.",
    "Bodegas Romero S.L.",
    "ACME",
    "O'Brien, Pat",
    'Café "quoted" x',
    'Back\\slash "and" quotes',
    "=?utf-8?q?looks_encoded?=",
    "Ñ" * 120,
    "Ünïcödé Lleida Export Import Company Limited S.A. " * 3,
    "a" * 119,
    "Academia Santa Ana S.Coop.",
    "日本語の会社 株式会社",
    "emoji 🙂 and tab\there",
    "Evil\r\nBcc: victim@example.com",
    "",
]
# Letters and spaces mostly, the specials of RFC 5322, non-ASCII and wide characters
ALPHABET = "abcdefXYZ09  " * 6 + ".,;:<>@()[]\\\"'!#=?_-~ñÑçàé€…日🙂\u00a0"


def _names() -> list[str]:
    rng = random.Random(19)
    made = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 130))) for _ in range(150)]
    return NAMES + made


def _parsed(name: str, email: str) -> tuple[bytes, object]:
    to = [make_address(email, name)]
    content = Content("S", "t\n", "<p>t</p>\n", "es")
    raw = build_message(sender=SENDER, to=to, content=content, now=NOW).as_bytes(policy=SMTP)
    return raw, BytesParser(policy=policy.default).parsebytes(raw)


@pytest.mark.parametrize("email", ["administracion@jordi-romero-perez.example"])
def test_every_reader_gets_exactly_the_name_and_address(email: str) -> None:
    written = 0
    for name in _names():
        raw, parsed = _parsed(name, email)
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert raw.isascii()
        assert parsed["Bcc"] is None  # type: ignore[index]
        expected = make_address(email, name)
        (address,) = parsed["To"].addresses  # type: ignore[index]
        assert address.addr_spec == email
        if address_field("To", [expected]) is None:  # the email package's, as before
            assert _to(head) == SMTP.header_factory("To", (expected,)).fold(policy=SMTP)
            continue
        written += 1
        assert all(len(line) <= 78 for line in head.split(b"\r\n")), name
        assert address.display_name == expected.display_name, name
        phrase = _to(head).removeprefix("To:").replace("\r\n", "").rsplit(" <", 1)[0].strip()
        if expected.display_name and not phrase.startswith(
            '"'
        ):  # as RFC 2047 readers (mail programs) decode it
            assert str(make_header(decode_header(phrase))) == expected.display_name, name
    assert written > 70  # all but long runs of non-ASCII words (one encoded word each)


def _to(head: bytes) -> str:
    start = head.index(b"\r\nTo:") + 2
    end = head.index(b"\r\n", start)
    while head[end + 2 : end + 3] == b" ":
        end = head.index(b"\r\n", end + 2)
    return head[start : end + 2].decode()


def test_the_names_of_a_night_are_written_here() -> None:
    for name in [*NAMES[:8], "Academia Santa Ana S.Coop.", "emoji 🙂 and tab\there"]:
        assert address_field("To", [make_address("a@b.example", name)]) is not None, name


def test_plain_names_are_readable_as_they_are() -> None:
    assert address_field("To", [make_address("a@b.example", "ACME Iberia")]) == (
        "ACME Iberia <a@b.example>"
    )
    assert address_field("To", [make_address("a@b.example", "Romero S.L.")]) == (
        '"Romero S.L." <a@b.example>'
    )
    assert address_field("To", [make_address("a@b.example")]) == "a@b.example"


def test_several_addresses_and_a_name_over_lines() -> None:
    to = [make_address(f"c{n}@b.example", "Pérez Romero " * 8) for n in range(3)]
    field = address_field("To", to)
    assert field is not None
    lines = field.split("\r\n")
    assert len(lines[0]) <= 74 and all(len(line) <= 78 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])
    raw = f"To: {field}\r\n\r\n".encode()
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    addresses = parsed["To"].addresses
    assert [a.addr_spec for a in addresses] == [a.addr_spec for a in to]
    assert {a.display_name for a in addresses} == {to[0].display_name}


def test_an_address_too_long_for_a_line_is_left_to_the_email_package() -> None:
    long = make_address("x" * 80 + "@b.example", "Pérez")
    assert address_field("To", [long]) is None
    _, parsed = _parsed("Pérez", long.addr_spec)
    assert parsed["To"].addresses[0].display_name == "Pérez"  # type: ignore[index]
