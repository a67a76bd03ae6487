"""Staff notices of decisions and comments, through a real SMTP server; sent once, retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import html as lxml_html

from portalgen.audit.events import AuditEvent, new_event
from portalgen.config import Settings, load_settings
from portalgen.errors import MailError
from portalgen.mail import gate_staff_notifier
from portalgen.mail.mailer import open_mailer
from portalgen.mail.staff import (
    CustomerInfo,
    StaffNotifier,
    notice_key,
    send_staff_backlog,
)
from portalgen.storage import LocalStorage, Storage
from tests.mail_fixtures import body_html, body_text
from tests.smtpserver import SmtpServer

WHEN = datetime(2026, 6, 15, 10, 42, tzinfo=UTC)
INFO = CustomerInfo("Reformas Moreno S.Coop.", "comercial1@suministros-levante.example")


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings without a file resolve their paths against the current folder: the cache
    of compiled templates goes into the test's folder, not the checkout."""
    monkeypatch.chdir(tmp_path)


def settings(server: SmtpServer, **mail: object) -> Settings:
    return load_settings(
        overrides={
            "company": {"name": "Suministros Levante"},
            "gate": {"base_url": "https://portal.levante.example"},
            "mail": server.mail_settings(**mail),
        },
        environ={},
    )


def accepted(**data: object) -> AuditEvent:
    values: dict[str, object] = {
        "quote": "P2026A-00012",
        "name": "Ana Moreno",
        "comment": "Adelante.\nEl lunes.",
    }
    values.update(data)
    return new_event(
        "quote.accepted",
        "C00003",
        contact="compras@reformas-moreno.example",
        document="quotes/P2026A-00012.html",
        data=values,
        now=WHEN,
    )


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return LocalStorage(tmp_path / "site")


def notify(server: SmtpServer, storage: Storage, event: AuditEvent, **mail: object) -> bool:
    with open_mailer(settings(server, **mail)) as mailer:
        return StaffNotifier(storage, mailer).notify(event, INFO)


def test_a_quote_accepted_reaches_staff_and_the_account_manager(
    smtp_server: SmtpServer, storage: Storage
) -> None:
    assert notify(smtp_server, storage, accepted())
    (received,) = smtp_server.messages
    assert received.rcpt_tos == (
        "oficina@levante.example",
        "comercial1@suministros-levante.example",
    )
    msg = received.message
    assert (
        msg["Subject"].strip()
        == "Presupuesto P2026A-00012 aceptado por Reformas Moreno S.Coop. (C00003)"
    )
    assert msg["Content-Language"] == "es"  # the business's language, not the customer's
    reply_to = msg["Reply-To"].addresses[0]
    assert (reply_to.display_name, reply_to.addr_spec) == ("", "compras@reformas-moreno.example")
    text = body_text(msg)
    assert "Ana Moreno <compras@reformas-moreno.example> aceptó el presupuesto P2026A-00012" in text
    # Madrid time, the date written as in the customers' emails ("15 de junio de 2026")
    assert "el 15 de junio de 2026, 12:42." in text
    assert "> Adelante.\n> El lunes." in text
    url = "https://portal.levante.example/portal/quotes/P2026A-00012.html"
    assert f"Documento en el portal: {url}" in text
    page = lxml_html.fromstring(body_html(msg))
    assert page.xpath("//a[normalize-space()='Ver el documento']/@href") == [url]
    assert "Adelante." in page.xpath("string(//blockquote)")


def test_a_typed_name_can_neither_pose_as_an_address_nor_add_a_header(
    smtp_server: SmtpServer, storage: Storage
) -> None:
    name = '"boss@company.example" <jefe@company.example>\r\nBcc: all@company.example'
    assert notify(smtp_server, storage, accepted(name=name))
    msg = smtp_server.messages[0].message
    assert msg["Reply-To"].strip() == "compras@reformas-moreno.example"
    assert msg["Bcc"] is None
    assert "company.example" not in str(msg["Reply-To"]) + str(msg["From"]) + str(msg["To"])
    text = body_text(msg)
    shown = "boss company.example jefe company.example Bcc all company.example"
    assert f"{shown} <compras@reformas-moreno.example> aceptó el presupuesto" in text
    assert "boss@company.example" not in text and "<jefe@" not in text


def test_a_rejection_gives_the_reason_and_a_comment_its_document(
    smtp_server: SmtpServer, storage: Storage
) -> None:
    rejected = new_event(
        "quote.rejected",
        "C00003",
        contact="compras@reformas-moreno.example",
        document="quotes/P2026A-00012.html",
        data={"quote": "P2026A-00012", "reason": "Demasiado caro", "comment": "Otra vez será"},
        now=WHEN,
    )
    comment = new_event(
        "comment.added",
        "C00003",
        contact="compras@reformas-moreno.example",
        document="invoices/F2026A-00021.html",
        data={"text": "<script>alert('x')</script> ¿IVA incluido?"},
        now=WHEN,
    )
    one_each = {"staff_batch": 0}  # not held together: see test_mail_staff_batch.py
    assert notify(smtp_server, storage, rejected, **one_each)
    assert notify(smtp_server, storage, comment, **one_each)
    first, second = (r.message for r in smtp_server.messages)
    assert (
        first["Subject"].strip()
        == "Presupuesto P2026A-00012 rechazado por Reformas Moreno S.Coop. (C00003)"
    )
    assert "Motivo:\n> Demasiado caro\n\nComentario:\n> Otra vez será" in body_text(first)
    assert second["Subject"].strip() == (
        "Comentario de Reformas Moreno S.Coop. (C00003) sobre factura F2026A-00021"
    )
    page = lxml_html.fromstring(body_html(second))
    assert page.xpath("//script") == []
    assert "<script>alert('x')</script> ¿IVA incluido?" in page.xpath("string(//blockquote)")


def test_each_event_is_told_once_whoever_tries(smtp_server: SmtpServer, storage: Storage) -> None:
    event = accepted()
    assert notify(smtp_server, storage, event)
    assert not notify(smtp_server, storage, event)  # the gate retried, or the nightly run
    assert len(smtp_server.messages) == 1
    assert storage.exists(notice_key(event.id))


def test_a_failure_is_retried_by_the_nightly_run(smtp_server: SmtpServer, storage: Storage) -> None:
    event = accepted()
    smtp_server.stop()
    hook = gate_staff_notifier(settings(smtp_server), storage, lambda e: INFO)
    assert hook is not None
    assert hook(event) is False  # the gate goes on: the decision is recorded already
    assert not storage.exists(notice_key(event.id))
    smtp_server.start()
    old = accepted()
    old = AuditEvent(
        **{**old.to_dict(), "id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "ts": "2026-06-01T10:00:00.000Z"}
    )
    viewed = new_event("document.viewed", "C00003", contact="a@b.example", now=WHEN)
    with open_mailer(settings(smtp_server)) as mailer:
        report = send_staff_backlog(
            StaffNotifier(storage, mailer),
            [old, viewed, event],
            {"C00003": INFO},
            now=WHEN + timedelta(hours=8),
        )
    assert (report.sent, report.failures) == (1, [])  # not the old one, not a mere view
    assert len(smtp_server.messages) == 1
    assert storage.exists(notice_key(event.id))


def test_a_failing_server_raises_for_the_caller_and_records_nothing(
    smtp_server: SmtpServer, storage: Storage
) -> None:
    smtp_server.refuse.add("oficina@levante.example")
    with pytest.raises(MailError, match=r"refused the address oficina@levante\.example"):
        notify(smtp_server, storage, accepted())
    assert not storage.exists(notice_key(accepted().id))


def test_nobody_to_tell(smtp_server: SmtpServer, storage: Storage) -> None:
    quiet = settings(smtp_server, staff_address="")
    hook = gate_staff_notifier(quiet, storage)  # no record of an account manager either
    assert hook is not None and hook(accepted()) is False
    with open_mailer(quiet) as mailer:
        assert not StaffNotifier(storage, mailer).notify(accepted(), CustomerInfo("X"))
    assert smtp_server.messages == []
    assert gate_staff_notifier(load_settings(environ={}), storage) is None  # no mail at all


def test_the_sink_records_then_tells_one_by_one_or_in_batches(
    smtp_server: SmtpServer, storage: Storage, tmp_path: Path
) -> None:
    from portalgen.audit.log import AuditLog
    from portalgen.audit.sinks import LocalAuditSink
    from portalgen.mail.staff import StaffNoticeSink

    log = AuditLog(tmp_path / "audit.jsonl")
    hook = gate_staff_notifier(settings(smtp_server, staff_batch=0), storage, lambda e: INFO)
    assert hook is not None
    sink = StaffNoticeSink(LocalAuditSink(log), hook, background=False)
    viewed = new_event("document.viewed", "C00003", contact="a@b.example", now=WHEN)
    first, second = accepted(), accepted(quote="P2026A-00013")
    sink.record(first)
    sink.record_many([viewed, second])
    assert [e.id for e in log.events()] == [first.id, viewed.id, second.id]
    assert len(smtp_server.messages) == 2  # the decisions, not the view


def test_payments_are_told_with_amount_provider_and_why(
    smtp_server: SmtpServer, storage: Storage
) -> None:
    data = {"invoice": "F2026A-00035", "amount": "27.21", "currency": "EUR"}
    data |= {"provider": "redsys", "transaction": "1234abcdefgh", "receipt": "R1"}
    received = new_event(
        "payment.received",
        "C00003",
        contact="compras@reformas-moreno.example",
        document="invoices/F2026A-00035.html",
        data=data,
        now=WHEN,
    )
    refused = new_event(
        "payment.refused", "", data={"provider": "stripe", "reason": "bad signature"}, now=WHEN
    )
    assert notify(smtp_server, storage, received) and notify(smtp_server, storage, refused)
    first, second = (r.message for r in smtp_server.messages)
    assert first["Subject"].strip() == (
        "Pago de 27.21 EUR recibido en línea de Reformas Moreno S.Coop. (C00003)"
    )
    text = body_text(first)
    assert "pagó 27.21 EUR en línea por la factura F2026A-00035" in text
    assert "Proveedor: redsys, operación 1234abcdefgh." in text
    assert "registrar la decisión" not in text
    assert second["Subject"].strip() == "Notificación de pago rechazada"
    assert "no se ha aceptado: bad signature" in body_text(second)
