"""ClamAV on proofs of payment: a real clamd (Debian's clamav-daemon) started by the
tests with a one-line signature database for the EICAR test file; skipped with a
message when clamd is not installed. Staff hear of a quarantined file by email (a real
aiosmtpd server) and by the webhook (a real HTTP receiver)."""

from __future__ import annotations

import dataclasses

from portalgen.uploads.clamd import scan_bytes
from portalgen.uploads.records import QUARANTINED, customer_records
from tests.gate_fixtures import GateClient, GateWorld
from tests.interact_fixtures import WebhookReceiver, of_type
from tests.mail_fixtures import body_text
from tests.smtpserver import SmtpServer
from tests.test_interact_notices import STAFF, notice_of, notifying_gate
from tests.upload_fixtures import EICAR, EICAR_PDF, PDF, UNPAID, send_proof


def test_clamd_finds_the_eicar_file_and_passes_a_clean_one(clamd: str) -> None:
    assert scan_bytes(clamd, EICAR).signature.startswith("Eicar-Test-Signature")
    assert scan_bytes(clamd, PDF).clean
    # more than one INSTREAM chunk, the EICAR string across chunk boundaries
    padded = PDF + b" " * (64 * 1024 - 20) + EICAR + b" " * 200_000
    assert not scan_bytes(clamd, padded).clean


def test_an_infected_proof_is_quarantined_and_staff_are_told(
    june_world: GateWorld, clamd: str, smtp_server: SmtpServer, receiver: WebhookReceiver
) -> None:
    world = dataclasses.replace(june_world)
    world.settings = dataclasses.replace(
        world.settings, uploads=dataclasses.replace(world.settings.uploads, clamd=clamd)
    )
    gate = notifying_gate(world, smtp_server, receiver.url)
    client = GateClient(gate)
    client.sign_in(world.link("C00007"))

    answer = send_proof(client, EICAR_PDF, name="justificante.pdf", note="adjunto")
    assert answer.status_code == 422
    assert "antivirus" in answer.get_data(as_text=True)
    assert "Justificante recibido" not in client.get(f"/portal/invoices/{UNPAID}.html").get_data(
        as_text=True
    )
    (record,) = customer_records(world.storage, world.key("C00007"))
    assert record.status == QUARANTINED and record.signature.startswith("Eicar-Test-Signature")
    assert "/quarantine/" in record.key and world.storage.get(record.key) == EICAR_PDF

    clean = send_proof(client, PDF, name="bueno.pdf")
    assert clean.status_code == 303
    assert gate.flush(timeout=30)
    (flagged,) = of_type(world, "upload.quarantined")
    (received,) = of_type(world, "upload.received")
    assert received.data["scanned"] is True

    notice = notice_of(smtp_server.messages, "cuarentena")
    assert STAFF in notice.rcpt_tos
    assert "ClamAV" in body_text(notice.message) and "> adjunto" in body_text(notice.message)
    proof = notice_of(smtp_server.messages, "Justificante")
    assert f"portalgen uploads get {received.data['upload']}" in body_text(proof.message)
    receiver.wait_for(2)
    assert {e["id"] for e in receiver.delivered()} == {flagged.id, received.id}


def test_no_clamd_no_proof(june_world: GateWorld, tmp_path: object) -> None:
    """uploads.clamd set but clamd not answering: the proof is refused, never taken
    unscanned."""
    settings = june_world.settings
    june_world.settings = dataclasses.replace(
        settings, uploads=dataclasses.replace(settings.uploads, clamd="/nonexistent/clamd.sock")
    )
    client = GateClient(june_world.make_gate())
    client.sign_in(june_world.link("C00007"))
    assert send_proof(client, PDF).status_code == 503
    assert list(customer_records(june_world.storage, june_world.key("C00007"))) == []
