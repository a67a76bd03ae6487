"""Staff hear of every decision and comment both ways at once: the notice email (on a real
aiosmtpd server) and the signed webhook (a real HTTP receiver), from the gate served over
HTTP as `portalgen serve` runs it (side work off the request's thread)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from portalgen.audit.events import AuditEvent
from portalgen.gate import Gate, create_app
from portalgen.gate.factory import configured_staff_notifier
from portalgen.mail.staff import StaffNoticeSink
from tests.gate_fixtures import GateWorld
from tests.interact_fixtures import (
    PENDING,
    WEBHOOK_SECRET,
    JuneClock,
    WebhookReceiver,
    form_fields,
    http_get,
    http_post,
    http_sign_in,
    of_type,
    serving,
)
from tests.mail_fixtures import body_text
from tests.smtpserver import Received, SmtpServer

STAFF = "oficina@levante.example"
INVOICE = "invoices/F2026A-00048.html"


def notifying_gate(world: GateWorld, smtp: SmtpServer, webhook_url: str) -> Gate:
    """The gate as `portalgen serve` builds it, with mail and the webhook both set up."""
    base = world.settings
    mail = dataclasses.replace(
        base.mail,
        backend="smtp",
        host="127.0.0.1",
        port=smtp.port,
        security="none",
        from_address="Suministros Levante <facturas@levante.example>",
        staff_address=STAFF,
        staff_batch=timedelta(0),  # one email each: bursts are test_mail_staff_batch.py's
    )
    audit = dataclasses.replace(base.audit, webhook_url=webhook_url)
    settings = dataclasses.replace(base, mail=mail, audit=audit)
    return create_app(
        settings,
        world.storage,
        secrets=world.secrets,
        clock=JuneClock(),
        notify_staff=configured_staff_notifier(settings),
        background=True,
        environ={"PORTALGEN_WEBHOOK_SECRET": WEBHOOK_SECRET},
    )


def notice_of(messages: list[Received], subject_part: str) -> Received:
    (found,) = [m for m in messages if subject_part in str(m.message["Subject"])]
    return found


def test_a_decision_and_a_comment_reach_staff_by_email_and_by_webhook(
    june_world: GateWorld, smtp_server: SmtpServer, receiver: WebhookReceiver
) -> None:
    world = june_world
    gate = notifying_gate(world, smtp_server, receiver.url)
    assert isinstance(gate.audit, StaffNoticeSink)
    with serving(gate) as base:
        cookie = http_sign_in(base, world.link("C00007"))
        status, page = http_get(base, f"/portal/quotes/{PENDING}.html", cookie)
        assert status == 200
        fields = form_fields(page, "form-accept")
        assert fields["csrf_token"] and len(fields["pdf_sha256"]) == 64
        fields.update(name="Ana López", comment="Adelante con el pedido, gracias.")
        forged = {k: v for k, v in fields.items() if k != "csrf_token"}
        assert http_post(base, f"/portal/quotes/{PENDING}/accept", cookie, forged) == 403
        assert http_post(base, f"/portal/quotes/{PENDING}/accept", cookie, fields) == 303

        status, page = http_get(base, f"/portal/{INVOICE}", cookie)
        assert status == 200
        said = form_fields(page[page.index('<section id="comments"') :], "stack-form")
        said["comment"] = "La factura ya está pagada."
        assert http_post(base, "/portal/comments", cookie, said) == 303
        assert gate.flush(timeout=30)  # the views, the two deliveries and the two notices

    [accepted] = of_type(world, "quote.accepted")
    [commented] = of_type(world, "comment.added")
    contact = accepted.contact

    assert len(smtp_server.messages) == 2  # the refused post told nobody
    decision = notice_of(smtp_server.messages, "aceptado")
    assert STAFF in decision.rcpt_tos
    assert decision.message["Subject"] == f"Presupuesto {PENDING} aceptado por C00007"
    assert decision.message["Reply-To"].addresses[0].addr_spec == contact
    text = body_text(decision.message)
    assert f"Ana López <{contact}> aceptó el presupuesto {PENDING}" in text
    assert "> Adelante con el pedido, gracias." in text
    note = notice_of(smtp_server.messages, "Comentario")
    assert STAFF in note.rcpt_tos and "F2026A-00048" in str(note.message["Subject"])
    assert "> La factura ya está pagada." in body_text(note.message)

    receiver.wait_for(2)
    assert all(r.signature_ok for r in receiver.received)
    delivered = sorted(receiver.delivered(), key=lambda e: str(e["id"]))
    assert [e["id"] for e in delivered] == sorted([accepted.id, commented.id])
    assert {e["type"] for e in delivered} == {"quote.accepted", "comment.added"}
    assert_same_event(delivered, accepted)


def assert_same_event(delivered: list[dict[str, object]], event: AuditEvent) -> None:
    """The webhook's body is the audit event itself."""
    (body,) = [e for e in delivered if e["id"] == event.id]
    assert json.loads(json.dumps(event.to_dict())) == body
