"""Messages with a link: the gate's "email me a new link" hook, and the link's wording."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lxml import html as lxml_html

from portalgen.access.entry import AccessCode
from portalgen.config import load_settings
from portalgen.mail import gate_link_sender
from portalgen.mail.links import make_link_sender
from portalgen.publish.manifest import write_portal
from tests.mail_fixtures import NOW, Office, body_html, body_text, grant, office
from tests.smtpserver import SmtpServer

LINK = "https://portal.levante.example/l/eyJrIjoi.signed"


def test_no_mail_no_hook() -> None:
    assert gate_link_sender(load_settings(environ={})) is None


def test_a_requested_link_in_the_portals_language(
    fresh_demo: Path, smtp_server: SmtpServer
) -> None:
    the_office: Office = office(fresh_demo, smtp_server.mail_settings())
    grant(the_office, ["C00008"])
    entry = the_office.entry("C00008")
    write_portal(the_office.storage, entry.customer_key, [], language="en")
    send = make_link_sender(the_office.settings, the_office.storage, clock=lambda: NOW)
    contact = "administracion@sunrise-language-school.example"
    assert send(entry, contact, LINK) is True
    (received,) = smtp_server.messages
    msg = received.message
    assert received.rcpt_tos == (contact,)
    assert msg["Subject"] == "Your link to the Suministros Levante portal"
    assert msg["Content-Language"] == "en"
    text = body_text(msg)
    assert LINK in text and "asked for a new link" in text
    assert "If you did not ask for it, you can ignore this message" in text
    # NOW (15 June 2026) plus the gate's default link_max_age of 30 days
    assert "It works until 15 July 2026;" in text
    page = lxml_html.fromstring(body_html(msg))
    assert page.xpath("//a[normalize-space()='Open my portal']/@href") == [LINK]
    assert "access code" not in text  # this customer has none


def test_a_customer_with_a_code_is_reminded_it_comes_separately(
    fresh_demo: Path, smtp_server: SmtpServer
) -> None:
    the_office = office(fresh_demo, smtp_server.mail_settings())
    grant(the_office, ["C00002"])
    entry = the_office.entry("C00002")
    code = AccessCode(hash="$argon2id$v=19$m=65536,t=3,p=4$stand-in", set_at=NOW)
    entry = dataclasses.replace(entry, access_code=code)
    send = make_link_sender(the_office.settings, lambda: the_office.storage)
    assert send(entry, "administracion@jordi-romero-perez.example", LINK)
    msg = smtp_server.messages[0].message
    assert msg["Content-Language"] == "es"  # no portal published yet: the business's
    assert "El portal también le pedirá su código de acceso" in body_text(msg)
    assert "nunca por correo electrónico" in body_text(msg)


def test_a_mail_failure_is_logged_never_raised(fresh_demo: Path, smtp_server: SmtpServer) -> None:
    the_office = office(fresh_demo, smtp_server.mail_settings())
    grant(the_office, ["C00002"])
    smtp_server.stop()
    send = make_link_sender(the_office.settings, the_office.storage)
    assert (
        send(the_office.entry("C00002"), "administracion@jordi-romero-perez.example", LINK) is False
    )
