"""`grant --send`, `reset --send`, `link --send` and the gate's "email me a new link" page,
through the real CLI, a real SMTP server and the gate's WSGI app: each emailed link is
followed into the portal, and no access code ever travels in a message."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import html as lxml_html

from portalgen.access.registry import AccessRegistry
from portalgen.access.secret import load_secrets
from portalgen.audit.events import new_event
from portalgen.audit.log import AuditLog
from portalgen.cli import cli
from portalgen.gate import create_app
from portalgen.gate.factory import configured_link_sender, configured_staff_notifier
from portalgen.mail.staff import StaffNoticeSink
from portalgen.storage import LocalStorage
from tests.conftest import demo_settings
from tests.gate_fixtures import GateClient, csrf_of, publish_folder
from tests.mail_fixtures import body_html, body_text
from tests.smtpserver import Received, SmtpServer

SUNRISE = "administracion@sunrise-language-school.example"  # C00008, English
DROGUERIA = "administracion@drogueria-puerto.example"  # C00007, Spanish
CODE = re.compile(r"Access code: (\S+)")


@pytest.fixture
def office(fresh_demo: Path, smtp_server: SmtpServer) -> Path:
    """The demo office with email set up to the test's SMTP server."""
    mail = smtp_server.mail_settings()
    lines = "".join(f"  {key}: {value!r}\n" for key, value in mail.items() if key != "port")
    with (fresh_demo / "config.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"mail:\n  port: {mail['port']}\n{lines}")
    return fresh_demo


def run(directory: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--config", str(directory / "config.yaml"), *args], env={"PORTALGEN_SECRET": ""}
    )


def publish(directory: Path, built_portals: Path, code: str, language: str) -> None:
    """The customer's real rendered portal, put in storage as `publish` does."""
    entry = AccessRegistry(LocalStorage(directory / "site")).find(code)
    assert entry is not None
    publish_folder(
        LocalStorage(directory / "site"), entry.customer_key, built_portals / code, language
    )


def gate_client(directory: Path) -> GateClient:
    settings = demo_settings(directory)
    app = create_app(
        settings,
        LocalStorage(directory / "site"),
        secrets=load_secrets(directory / "secret.key", environ={}),
        send_link=configured_link_sender(settings),
    )
    return GateClient(app)


def link_in(msg: EmailMessage) -> str:
    """The link of a message: the HTML button's, which the text part must show too."""
    page = lxml_html.fromstring(body_html(msg))
    (href,) = {a.get("href") for a in page.xpath("//a[contains(@href, '/l/')]")}
    assert href in body_text(msg)
    return str(href)


def assert_no_code(received: list[Received], code: str) -> None:
    """The code in no message: not in the bytes sent, not in any decoded part."""
    variants = {code, code.lower(), code.upper(), code.replace("-", "")}
    for got in received:
        decoded = "".join(
            str(part.get_content())
            for part in got.message.walk()
            if part.get_content_maintype() == "text"
        )
        for variant in variants:
            assert variant.encode() not in got.data
            assert variant not in decoded
            assert variant not in str(got.message["Subject"])


def test_grant_send_invites_and_the_code_goes_only_to_staff(
    office: Path, smtp_server: SmtpServer, built_portals: Path
) -> None:
    result = run(
        office, "grant", "C00008", "--code", "--send", "--no-publish", "--export", str(office)
    )
    assert result.exit_code == 0, result.output
    code = CODE.search(result.output)
    assert code is not None  # printed once, to staff
    assert f"emailed to {SUNRISE}" in result.output
    (got,) = smtp_server.messages
    assert got.rcpt_tos == (SUNRISE,)
    msg = got.message
    assert msg["Subject"] == "Your customer portal at Suministros Levante"
    assert msg["Content-Language"] == "en"
    assert msg["To"].addresses[0].display_name == "Sunrise Language School"
    text = body_text(msg)
    assert "Hello Sunrise Language School," in text
    assert "the portal will also ask you for an access code. We will give it to you" in text
    assert "It works until" in text
    assert_no_code(smtp_server.messages, code.group(1))

    publish(office, built_portals, "C00008", "en")
    client = gate_client(office)
    opened = client.open_link(link_in(msg))
    assert opened.status_code == 303 and opened.headers["Location"] == "/code"
    form = client.get("/code").get_data(as_text=True)
    entered = client.post("/code", {"csrf_token": csrf_of(form), "code": code.group(1)})
    assert entered.headers["Location"] == "/code/change"
    change = csrf_of(client.get("/code/change").get_data(as_text=True))
    done = client.post(
        "/code/change", {"csrf_token": change, "new": "my-own-code", "repeat": "my-own-code"}
    )
    assert done.headers["Location"] == "/portal/"
    home = client.get("/portal/")
    assert home.status_code == 200 and "Sunrise Language School" in home.get_data(as_text=True)


def test_grant_send_without_email_set_up_changes_nothing(fresh_demo: Path) -> None:
    result = run(
        fresh_demo, "grant", "C00008", "--send", "--no-publish", "--export", str(fresh_demo)
    )
    assert result.exit_code == 1
    assert "email is not set up: set mail.backend" in result.output
    assert AccessRegistry(LocalStorage(fresh_demo / "site")).find("C00008") is None


def test_reset_send_and_link_send(
    office: Path, smtp_server: SmtpServer, built_portals: Path
) -> None:
    assert run(office, "grant", "C00007", "--no-publish", "--export", str(office)).exit_code == 0
    publish(office, built_portals, "C00007", "es")
    first = run(office, "link", "C00007", "--send")
    assert first.exit_code == 0, first.output
    (linked,) = [m.message for m in smtp_server.messages]
    assert linked["Subject"] == "Su enlace al portal de Suministros Levante"
    assert "Aquí tiene un nuevo enlace a su portal de Suministros Levante." in body_text(linked)
    old_link = link_in(linked)
    assert gate_client(office).open_link(old_link).status_code == 303

    reset = run(office, "reset", "C00007", "--send")
    assert reset.exit_code == 0, reset.output
    msg = smtp_server.messages[-1].message
    assert msg["Subject"] == "Su nuevo enlace al portal de Suministros Levante"
    assert "Los enlaces que le enviamos antes ya no funcionan." in body_text(msg)
    assert msg["Content-Language"] == "es"  # the published portal's language
    client = gate_client(office)
    assert client.open_link(link_in(msg)).headers["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    refused = gate_client(office).get(old_link)
    assert refused.status_code in (403, 410)


def test_a_refused_address_is_reported_and_the_command_fails(
    office: Path, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse.add(DROGUERIA)
    result = run(office, "grant", "C00007", "--send", "--no-publish", "--export", str(office))
    assert result.exit_code == 1
    assert f"NOT emailed to {DROGUERIA}: the server refused the address" in result.output
    assert "portalgen link CODE --send" in result.output
    assert AccessRegistry(LocalStorage(office / "site")).find("C00007") is not None  # granted


def test_email_me_a_new_link(office: Path, smtp_server: SmtpServer, built_portals: Path) -> None:
    assert run(office, "grant", "C00008", "--no-publish", "--export", str(office)).exit_code == 0
    publish(office, built_portals, "C00008", "en")
    client = gate_client(office)
    form = client.get("/link")
    assert form.status_code == 200
    token = csrf_of(form.get_data(as_text=True))
    answer = client.post("/link", {"csrf_token": token, "email": SUNRISE.upper()})
    assert answer.status_code == 200
    assert client.app.flush()  # the gate sends after answering
    (got,) = smtp_server.messages
    msg = got.message
    assert got.rcpt_tos == (SUNRISE,)
    assert msg["Subject"] == "Your link to the Suministros Levante portal"
    assert "Someone, hopefully you, asked for a new link" in body_text(msg)
    fresh = gate_client(office)
    assert fresh.open_link(link_in(msg)).headers["Location"] == "/portal/"
    assert fresh.get("/portal/").status_code == 200
    # An unknown address gets the same answer, and no message.
    other = gate_client(office)
    token = csrf_of(other.get("/link").get_data(as_text=True))
    same = other.post("/link", {"csrf_token": token, "email": "nobody@example.com"})
    assert other.app.flush()
    assert same.status_code == 200 and len(smtp_server.messages) == 1


def test_the_gate_tells_staff_after_recording_a_decision(
    office: Path, smtp_server: SmtpServer
) -> None:
    settings = demo_settings(office)
    storage = LocalStorage(office / "site")
    notify = configured_staff_notifier(settings)
    assert notify is not None
    app = create_app(
        settings,
        storage,
        secrets=load_secrets(office / "secret.key", environ={}),
        notify_staff=notify,
    )
    assert isinstance(app.audit, StaffNoticeSink)
    event = new_event(
        "quote.accepted",
        "C00007",
        contact=DROGUERIA,
        document="quotes/P2026A-00003.html",
        data={"quote": "P2026A-00003", "name": "Marta", "comment": "De acuerdo"},
    )
    app.audit.record(event)
    app.audit.wait()
    assert [e.id for e in AuditLog(settings.audit.path).events()] == [event.id]
    (got,) = smtp_server.messages
    assert got.rcpt_tos == ("oficina@levante.example",)
    assert got.message["Subject"] == "Presupuesto P2026A-00003 aceptado por C00007"
    assert "> De acuerdo" in body_text(got.message)
    app.audit.record(new_event("document.viewed", "C00007", contact=DROGUERIA))
    app.audit.wait()
    assert len(smtp_server.messages) == 1  # views are recorded, not emailed


def test_after_a_nightly_run_the_gate_knows_the_account_manager(
    office: Path, smtp_server: SmtpServer, built_portals: Path
) -> None:
    assert run(office, "grant", "C00007", "--no-publish", "--export", str(office)).exit_code == 0
    publish(office, built_portals, "C00007", "es")
    assert run(office, "notify", str(office)).exit_code == 0  # keeps who the customer is
    smtp_server.messages.clear()
    settings = demo_settings(office)
    app = create_app(
        settings,
        LocalStorage(office / "site"),
        secrets=load_secrets(office / "secret.key", environ={}),
        notify_staff=configured_staff_notifier(settings),
        background=False,
    )
    comment = new_event("comment.added", "C00007", contact=DROGUERIA, data={"text": "Hola"})
    assert app.audit is not None
    app.audit.record(comment)
    (got,) = smtp_server.messages
    assert got.rcpt_tos == ("oficina@levante.example", "comercial1@suministros-levante.example")
    assert got.message["Subject"] == "Comentario de Droguería El Puerto S.L.U. (C00007)"


def granted_in_january(directory: Path, code: str) -> None:
    """Make the customer's access older than its documents (granted on 1 January 2026)."""
    import dataclasses
    from datetime import UTC, datetime

    when = datetime(2026, 1, 1, tzinfo=UTC)
    registry = AccessRegistry(LocalStorage(directory / "site"))
    entry = registry.find(code)
    assert entry is not None

    def older(e):
        contacts = tuple(dataclasses.replace(c, created_at=when) for c in e.contacts)
        return dataclasses.replace(e, granted_at=when, contacts=contacts)

    registry.update(entry.customer_key, older)


def test_notify_sends_a_digest_whose_link_opens_the_portal_once(
    office: Path, smtp_server: SmtpServer, built_portals: Path
) -> None:
    import json

    assert run(office, "grant", "C00008", "--no-publish", "--export", str(office)).exit_code == 0
    publish(office, built_portals, "C00008", "en")
    granted_in_january(office, "C00008")
    decided = new_event(
        "comment.added",
        "C00008",
        contact=SUNRISE,
        document="invoices/F2026A-00051.html",
        data={"text": "Could you add our PO number?"},
    )
    AuditLog(demo_settings(office).audit.path).append(decided)

    dry = run(office, "notify", str(office), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Wrote 1 message(s) to 1 customer(s) and 1 staff notice(s) (dry run" in dry.output
    assert len(list((office / "outbox").glob("*.eml"))) == 2 and smtp_server.messages == []

    result = run(office, "notify", str(office), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["messages"], summary["staff_notices"], summary["customers_failed"]) == (1, 1, 0)
    digest, notice = (m.message for m in smtp_server.messages)
    assert digest["To"].addresses[0].addr_spec == SUNRISE
    assert digest["Subject"] == "News in your portal at Suministros Levante"
    text = body_text(digest)
    assert "NEW INVOICES" in text and "F2026A-00051" in text
    client = gate_client(office)
    assert client.open_link(link_in(digest)).headers["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    assert notice["To"].addresses[0].addr_spec == "oficina@levante.example"
    assert "Could you add our PO number?" in body_text(notice)

    again = run(office, "notify", str(office))
    assert again.exit_code == 0, again.output
    assert "Sent 0 message(s) to 0 customer(s)." in again.output
    assert len(smtp_server.messages) == 2  # nothing new: nothing sent


def test_reset_send_with_an_access_code_never_emails_the_new_code(
    office: Path, smtp_server: SmtpServer
) -> None:
    granted = run(office, "grant", "C00007", "--code", "--no-publish", "--export", str(office))
    assert granted.exit_code == 0, granted.output
    first = CODE.search(granted.output)
    reset = run(office, "reset", "C00007", "--send")
    assert reset.exit_code == 0, reset.output
    second = CODE.search(reset.output)
    assert first is not None and second is not None and first.group(1) != second.group(1)
    (got,) = smtp_server.messages
    assert "El portal le pedirá un nuevo código de acceso" in body_text(got.message)
    assert_no_code(smtp_server.messages, first.group(1))
    assert_no_code(smtp_server.messages, second.group(1))
