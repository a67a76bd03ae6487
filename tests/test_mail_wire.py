"""Messages filled into a frame are, byte for byte, the messages `build_message` makes."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.policy import SMTP

import pytest

from portalgen.mail.message import Content, InlineImage, Outgoing, build_message, make_address
from portalgen.mail.wire import MessageFrame

NOW = datetime(2026, 6, 15, 22, 5, 9, tzinfo=UTC)
SENDER = make_address("facturas@levante.example", "Suministros Levante")
REPLY_TO = [make_address("administracion@levante.example", "Administración")]
LOGO = InlineImage("logo-0123456789abcdef@portalgen", b"\x89PNG\r\n" + bytes(range(256)), "png")
LONG = "Una línea muy larga con importes 1.234,56 € y = signos " * 4
SUBJECT = "Novedades en su portal · Suministros Levante"
REMINDER = "Recordatorio de pago: factura F2026-0007 · " + "Suministros Levante " * 5
ODD = ".a line that starts with a dot\nFrom the start\n\n\ntrailing   \n\ttab\n"


def _lines_at_the_break() -> str:
    """Lines of 60 to 250 characters whose escapes (`=`, `€`, accents, a no-break space,
    DEL, NUL), blanks and dots fall anywhere, at the soft line breaks too; some end in a
    blank, some begin with a dot."""
    rng = random.Random(19)
    bits = ["a"] * 8 + ["=", "€", "é", " ", "\t", "\u00a0", "·", "x=y", ".", "\x7f"]
    lines = []
    for length in range(60, 250):
        for _ in range(4):
            line = ""
            while len(line) < length:
                line += rng.choice(bits)
            lines.append(line)
        lines.append(".\x00" + "a" * length + ".")
    return "\n".join(lines) + "\n"


CASES = [  # (the contact's name, the subject, the text part)
    ("Ferretería Peña, S.L.", SUBJECT, "Hola,\n- F2026-0007: 1.234,56 €\n"),
    ("Jordi Romero Pérez", REMINDER, LONG),  # a subject folded over lines
    ("ACME", "News in your portal", ODD),
    ("Ñ" * 70, "Ünïcödé " * 12, "crlf\r\nline\rends\n=3D literal\n" + "x" * 200),
    ("", "Plain", ""),
    # Lines at quoted-printable's limits: 78 and 79 plain characters, an `=`, a last blank.
    ("ACME", "Plain", "a" * 78 + "\n" + "b" * 79 + "\n" + "x = y\n" + "a" * 77 + " \n"),
    ("ACME", "Plain", _lines_at_the_break()),
]


def _normal(data: bytes, message_id: str) -> bytes:
    """The message with its Message-ID and MIME boundaries (random in both) named alike."""
    data = data.replace(message_id.encode(), b"<ID>")
    for n, boundary in enumerate(re.findall(rb'boundary="([^"]+)"', data)):
        data = data.replace(boundary, b"BOUNDARY-%d" % n)
    return data


@pytest.mark.parametrize(("name", "subject", "text"), CASES)
@pytest.mark.parametrize("images", [(), (LOGO,)], ids=["no-logo", "logo"])
def test_a_filled_frame_is_the_message_build_message_makes(
    name: str, subject: str, text: str, images: tuple[InlineImage, ...]
) -> None:
    html = f'<p>{text}</p>\n<img src="cid:{LOGO.cid}">\n' if images else f"<p>{text}</p>\n"
    content = Content(subject, text, html, "es", images)
    to = [make_address("compras@ferreteria-pena.example", name)]
    headers = {"X-Portalgen-Message": "digest"}
    frame = MessageFrame(
        sender=SENDER, reply_to=REPLY_TO, headers=headers, language="es", images=images
    )
    filled = frame.fill(to, content, NOW, "digest")
    assert isinstance(filled, Outgoing)
    built = build_message(
        sender=SENDER, to=to, content=content, now=NOW, reply_to=REPLY_TO, headers=headers
    )
    expected = built.as_bytes(policy=SMTP)
    assert _normal(filled.data, filled.message_id) == _normal(expected, str(built["Message-ID"]))
    assert filled.recipients == ("compras@ferreteria-pena.example",)
    assert filled.sender == "facturas@levante.example"
    parsed = BytesParser(policy=policy.default).parsebytes(filled.data)
    assert parsed["Message-ID"] == filled.message_id
    assert parsed["Subject"] == " ".join(subject.split())
    plain = parsed.get_body(("plain",))
    assert plain is not None
    assert plain.get_content().rstrip().splitlines() == text.rstrip().splitlines()


def test_each_filled_message_has_its_own_message_id() -> None:
    frame = MessageFrame(sender=SENDER, reply_to=(), headers={}, language="es")
    content = Content("S", "t\n", "<p>t</p>\n", "es")
    to = [make_address("a@b.example")]
    first, second = (frame.fill(to, content, NOW, "digest") for _ in range(2))
    assert first is not None and second is not None
    assert first.message_id != second.message_id
