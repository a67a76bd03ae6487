"""Composed messages: headers, both parts, the customer's language, the theme, no remote images."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from lxml import html as lxml_html

from portalgen.config import load_settings
from portalgen.errors import ConfigError, MailError
from portalgen.mail.links import PortalLink, compose_access_message
from portalgen.mail.mailer import Mailer
from portalgen.mail.message import Content, make_address
from portalgen.mail.senders import OutboxSender

NOW = datetime(2026, 6, 15, 7, 30, tzinfo=UTC)
LINK = PortalLink("https://portal.levante.example/l/TOKEN-abc.def", NOW + timedelta(days=30))


def mailer(tmp_path: Path, **mail: object) -> Mailer:
    company = mail.pop("company", {})
    theme = mail.pop("theme", {})
    overrides = {
        "company": {
            "name": "Suministros Levante",
            "legal_name": "Suministros y Servicios Levante, S.L.",
            "email": "hola@levante.example",
            **company,  # type: ignore[dict-item]
        },
        "theme": theme,
        "gate": {"base_url": "https://portal.levante.example"},
        "publish": {"cache_dir": str(tmp_path / "cache")},  # (compiled templates)
        "mail": {
            "from_address": "facturas@levante.example",
            "reply_to": "Administración <administracion@levante.example>",
            **mail,
        },
    }
    settings = load_settings(overrides=overrides, environ={})
    return Mailer(settings, OutboxSender(tmp_path / "outbox"))


def reparse(message: EmailMessage) -> EmailMessage:
    """The message as a mail program reads it: from its bytes on the wire."""
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def invitation(m: Mailer, language: str = "es", **extra: object) -> EmailMessage:
    values: dict[str, object] = {
        "contact": "compras@ferreteria-pena.example",
        "link": LINK,
        "language": language,
        "customer_name": "Ferretería Peña",
        "uses_code": False,
        "now": NOW,
    }
    values.update(extra)
    return reparse(compose_access_message(m, "invitation", **values))  # type: ignore[arg-type]


def test_headers_are_complete_and_non_ascii_is_encoded(tmp_path: Path) -> None:
    msg = invitation(mailer(tmp_path))
    raw = msg.as_bytes()
    assert raw.isascii()  # every header and body encoded for 7-bit transport
    assert msg["Subject"] == "Su portal de cliente de Suministros Levante"
    to = msg["To"].addresses[0]
    assert (to.display_name, to.addr_spec) == ("Ferretería Peña", "compras@ferreteria-pena.example")
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]  # RFC 2047 encoded-word for the name
    sender = msg["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == (
        "Suministros Levante",  # company.name when from_address has no name of its own
        "facturas@levante.example",
    )
    reply_to = msg["Reply-To"].addresses[0]
    assert (reply_to.display_name, reply_to.addr_spec) == (
        "Administración",
        "administracion@levante.example",
    )
    assert email.utils.parsedate_to_datetime(msg["Date"]) == NOW
    assert msg["Message-ID"].endswith("@levante.example>")
    assert msg["Content-Language"] == "es"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_each_message_has_its_own_message_id(tmp_path: Path) -> None:
    m = mailer(tmp_path)
    assert invitation(m)["Message-ID"] != invitation(m)["Message-ID"]


def test_both_parts_carry_the_link_its_expiry_and_what_the_portal_offers(tmp_path: Path) -> None:
    text, html = parts(invitation(mailer(tmp_path)))
    assert LINK.url in text
    assert "Hola, Ferretería Peña:" in text
    assert "Funciona hasta el 15 de julio de 2026" in text
    assert "consultar sus presupuestos, y aceptarlos o rechazarlos" in text
    assert "código de acceso" not in text  # no access code: no sentence about one
    page = lxml_html.fromstring(html)
    assert page.get("lang") == "es"
    (button,) = page.xpath("//a[normalize-space()='Abrir mi portal']")
    assert button.get("href") == LINK.url
    assert "15 de julio de 2026" in page.text_content()


def test_the_customers_language_and_the_sections_shown(tmp_path: Path) -> None:
    m = mailer(tmp_path)
    settings = m.settings
    no_quotes = {"portal": {"sections": {"quotes": False}}}
    m = Mailer(
        load_settings(overrides={**_as_overrides(settings), **no_quotes}, environ={}), m.sender
    )
    msg = invitation(m, "en")
    text, html = parts(msg)
    assert msg["Subject"] == "Your customer portal at Suministros Levante"
    assert msg["Content-Language"] == "en"
    assert "Hello Ferretería Peña," in text
    assert "It works until 15 July 2026" in text
    assert "follow your orders" in text and "quotes" not in text
    assert lxml_html.fromstring(html).get("lang") == "en"


def _as_overrides(settings) -> dict[str, object]:
    return {
        "company": {"name": settings.company.name, "email": settings.company.email},
        "mail": {"from_address": settings.mail.from_address},
        "gate": {"base_url": settings.gate.base_url},
        "publish": {"cache_dir": str(settings.publish.cache_dir)},
    }


def test_an_access_code_is_announced_never_sent(tmp_path: Path) -> None:
    text, html = parts(invitation(mailer(tmp_path), uses_code=True))
    sentence = "el portal también le pedirá un código de acceso. Se lo daremos por separado"
    assert sentence in text and sentence in lxml_html.fromstring(html).text_content()


def test_html_is_themed_and_loads_nothing_from_the_network(tmp_path: Path) -> None:
    theme = {"primary_color": "#7c2d12", "accent_color": "#166534"}
    _, html = parts(invitation(mailer(tmp_path, theme=theme)))
    page = lxml_html.fromstring(html)
    assert "#7c2d12" in page.xpath("string(//a[normalize-space()='Abrir mi portal']/../@style)")
    assert page.xpath("//img") == []  # no logo configured: the company's name instead
    assert page.xpath("//link | //script | //iframe | //style") == []
    assert "Suministros Levante" in page.xpath("string(//td[1])")


def test_a_png_logo_travels_inside_the_message(tmp_path: Path) -> None:
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), "#7c2d12").save(logo)
    msg = invitation(mailer(tmp_path, company={"logo": str(logo)}))
    html_part = msg.get_body(("html",))
    assert html_part is not None
    related = next(p for p in msg.walk() if p.get_content_type() == "multipart/related")
    image = next(p for p in related.iter_parts() if p.get_content_maintype() == "image")
    assert image.get_content() == logo.read_bytes()
    (img,) = lxml_html.fromstring(str(html_part.get_content())).xpath("//img")
    assert img.get("src") == "cid:" + image["Content-ID"].strip("<>")


def test_an_svg_logo_is_left_out(tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    msg = invitation(mailer(tmp_path, company={"logo": str(logo)}))
    assert [p.get_content_maintype() for p in msg.walk()].count("image") == 0


def test_billing_data_cannot_inject_markup_or_headers(tmp_path: Path) -> None:
    evil = "Evil <script>alert(1)</script>\r\nBcc: victim@example.com"
    msg = invitation(mailer(tmp_path), customer_name=evil)
    text, html = parts(msg)
    assert msg["Bcc"] is None
    assert len(msg.get_all("To") or []) == 1
    page = lxml_html.fromstring(html)
    assert page.xpath("//script") == []
    assert "<script>alert(1)</script>" in page.text_content()  # shown as text
    assert "<script>alert(1)</script>" in text  # plain text is plain


def test_a_missing_sender_address_is_a_configuration_error(tmp_path: Path) -> None:
    settings = load_settings(overrides={"company": {"email": ""}}, environ={})
    with pytest.raises(ConfigError, match=r"mail\.from_address is empty"):
        Mailer(settings, OutboxSender(tmp_path))


def test_addresses_that_cannot_receive_mail_are_refused() -> None:
    for bad in ("", "no-at-sign", "two@@example.com", "ünïcode@example.com", "a@b"):
        with pytest.raises(MailError):
            make_address(bad)


def digest_content(
    m: Mailer, language: str, quotes: int, reminders: int, prefix: str = ""
) -> Content:
    from decimal import Decimal
    from types import SimpleNamespace

    from portalgen.domain.model import Money
    from portalgen.mail.planner import Item, digest_sections

    day = NOW.date()
    total = Money(Decimal("121.00"), "EUR")
    items = [
        Item(
            f"quote:P{n}",
            "quote",
            day,
            f"quotes/P{n}.html",
            {"number": f"{prefix}P{n}", "issued": day, "total": total, "valid_until": None},
        )
        for n in range(quotes)
    ] + [
        Item(
            f"reminder:F{n}:0",
            "reminder",
            day,
            f"invoices/F{n}.html",
            {"number": f"{prefix}F{n}", "outstanding": total, "due": day, "days": 0},
        )
        for n in range(reminders)
    ]
    return m.renderer.render(
        "digest",
        language,
        customer=SimpleNamespace(display_name="Ferretería Peña"),
        news=digest_sections(items),
        only_reminders=False,
        link=LINK,
        today=day,
    )


def digest_of(m: Mailer, language: str, quotes: int, reminders: int = 0) -> tuple[str, str]:
    content = digest_content(m, language, quotes, reminders)
    return content.text, lxml_html.fromstring(content.html).text_content()


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        ("es", "Puede aceptarlo o rechazarlo", "Puede aceptarlos o rechazarlos"),
        ("en", "You can accept or reject it", "You can accept or reject them"),
    ],
)
def test_the_digest_speaks_of_one_quote_or_several(
    tmp_path: Path, language: str, one: str, many: str
) -> None:
    m = mailer(tmp_path)
    for part in digest_of(m, language, quotes=1, reminders=1):
        assert one in part and many not in part
    for part in digest_of(m, language, quotes=2, reminders=2):
        assert many in part and one not in part
    es_one, _ = digest_of(m, "es", quotes=1, reminders=1)
    assert "ignore este recordatorio" in es_one
    es_many, _ = digest_of(m, "es", quotes=1, reminders=2)
    assert "ignore estos recordatorios" in es_many


def test_billing_data_in_a_digest_item_is_escaped_in_html(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>&"
    content = digest_content(mailer(tmp_path), "en", quotes=1, reminders=1, prefix=evil)
    page = lxml_html.fromstring(content.html)
    assert page.xpath("//script") == []
    shown = page.text_content()
    assert f"Quote {evil}P0 of" in shown and f"Invoice {evil}F0, with" in shown
    assert f"- Quote {evil}P0 of" in content.text  # plain text is plain
    assert f"- Invoice {evil}F0, with" in content.text


def test_a_theme_digest_made_with_the_sentence_functions_still_tells_each_item(
    tmp_path: Path,
) -> None:
    """A custom theme's digest templates written before the sentences were made once
    per message (with `quote_line(q)`, `reminder_line(r)`...) still work."""
    folder = tmp_path / "theme" / "templates" / "email"
    folder.mkdir(parents=True)
    (folder / "digest.txt").write_text(
        '{% extends "email/base.txt" %}{% block subject %}News{% endblock %}'
        "{% block body %}{% for q in news.quote %}* {{ quote_line(q) }}\n{% endfor %}"
        "{% for r in news.reminder %}* {{ reminder_line(r) }}\n{% endfor %}{% endblock %}"
    )
    (folder / "digest.html").write_text(
        '{% extends "email/base.html" %}{% block content %}<ul>'
        "{% for q in news.quote %}<li>{{ quote_line(q) }}</li>{% endfor %}"
        "{% for r in news.reminder %}<li>{{ reminder_line(r) }}</li>{% endfor %}"
        "</ul>{% endblock %}"
    )
    themed = mailer(tmp_path, theme={"path": str(tmp_path / "theme")})
    content = digest_content(themed, "en", quotes=1, reminders=1, prefix="<b>")
    default = digest_content(mailer(tmp_path), "en", quotes=1, reminders=1, prefix="<b>")
    sentences = sorted(line[2:] for line in default.text.splitlines() if line.startswith("- "))
    assert len(sentences) == 2
    assert sorted(line[2:] for line in content.text.splitlines() if line[:2] == "* ") == sentences
    page = lxml_html.fromstring(content.html)
    assert sorted(li.text_content() for li in page.xpath("//li")) == sentences


@pytest.mark.parametrize(
    ("language", "copy"),
    [("es", "copie esta dirección en su navegador"), ("en", "copy this address into your browser")],
)
def test_the_link_is_also_written_out_and_asking_for_a_new_one_is_a_link(
    tmp_path: Path, language: str, copy: str
) -> None:
    _, html = parts(invitation(mailer(tmp_path), language))
    page = lxml_html.fromstring(html)
    label = {"es": "Abrir mi portal", "en": "Open my portal"}[language]
    (button,) = page.xpath(f"//a[normalize-space()='{label}']")
    shown = page.xpath(f"//p[contains(., '{copy}')]/a")
    assert [(a.get("href"), a.text_content()) for a in shown] == [(LINK.url, LINK.url)]
    ask = "https://portal.levante.example/link"
    (asking,) = page.xpath(f"//p/a[@href='{ask}']")
    assert asking.text_content() == ask
    assert button.get("href") == LINK.url
