"""Proofs of payment through the gate and straight to S3 (issue 16, docs/payments.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portalgen.uploads.records import UPLOADS_PREFIX, customer_records
from tests.gate_fixtures import GateWorld
from tests.interact_fixtures import BROWSER, form_fields, of_type, signed_in
from tests.upload_fixtures import (
    HTML_AS_PDF,
    PAID,
    PDF,
    PNG,
    SVG_AS_PDF,
    UNPAID,
    post_to_bucket,
    send_proof,
)

RECEIVED = "Justificante recibido el 15/06/2026"


def test_a_proof_through_the_gate_is_recorded_and_shown(june_world_any: GateWorld) -> None:
    world = june_world_any
    client = signed_in(world)
    page = client.get(f"/portal/invoices/{UNPAID}.html").get_data(as_text=True)
    assert "He pagado por transferencia" in page and RECEIVED not in page

    answer = send_proof(client, PDF, note="Pagado el viernes\ndesde la cuenta de Valencia")

    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/portal/invoices/{UNPAID}.html#proof"
    assert RECEIVED in client.get(f"/portal/invoices/{UNPAID}.html").get_data(as_text=True)
    (event,) = of_type(world, "upload.received")
    assert event.document == f"invoices/{UNPAID}.html"
    assert event.data["filename"] == "transferencia.pdf"
    assert event.data["size"] == len(PDF) and event.data["scanned"] is False
    assert event.data["text"] == "Pagado el viernes\ndesde la cuenta de Valencia"
    (record,) = customer_records(world.storage, world.key("C00007"))
    assert (record.invoice, record.event_id, record.content_type) == (
        UNPAID,
        event.id,
        "application/pdf",
    )
    assert world.storage.get(record.key) == PDF
    # never a file of the portal: only under _uploads/, in no manifest
    keys = [i.key for i in world.storage.list("") if world.storage.get(i.key) == PDF]
    assert keys == [record.key] and record.key.startswith(UPLOADS_PREFIX)


def test_a_png_is_taken_too(june_world: GateWorld) -> None:
    client = signed_in(june_world)
    assert send_proof(client, PNG, name="captura.png", content_type="image/png").status_code == 303
    (record,) = customer_records(june_world.storage, june_world.key("C00007"))
    assert record.key.endswith(".png")


def test_markup_renamed_pdf_is_refused(june_world: GateWorld) -> None:
    client = signed_in(june_world)
    for data in (HTML_AS_PDF, SVG_AS_PDF):
        answer = send_proof(client, data, name="justificante.pdf")
        assert answer.status_code == 415
        assert "PDF, JPEG o PNG" in answer.get_data(as_text=True)
    # a PDF declared as a PNG is refused as well: the bytes must be the declared type
    assert send_proof(client, PDF, name="x.png", content_type="image/png").status_code == 415
    assert send_proof(client, PDF, name="x.html", content_type="text/html").status_code == 415
    assert of_type(june_world, "upload.received") == []
    assert list(june_world.storage.list(UPLOADS_PREFIX)) == []


def test_an_oversized_proof_is_refused(june_world: GateWorld) -> None:
    client = signed_in(june_world)
    big = PDF + b"0" * (10 * 1024 * 1024)
    fields = form_fields(client.get(f"/portal/invoices/{UNPAID}.html").get_data(True), "form-proof")
    # the body built in memory (werkzeug's test client would spool it to a file of its own,
    # left open when the gate refuses it unread, as a server would)
    body, boundary = encode_multipart(fields, big)
    answer = client.client.post(
        f"/portal/invoices/{UNPAID}/proof",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=BROWSER,
        buffered=True,
    )
    assert answer.status_code == 413
    assert "hasta 10 MB" in answer.get_data(as_text=True)
    assert list(june_world.storage.list(UPLOADS_PREFIX)) == []


def test_a_proof_without_csrf_or_from_another_site_is_refused(june_world: GateWorld) -> None:
    client = signed_in(june_world)
    assert send_proof(client, PDF, csrf="forged").status_code == 403
    page = client.get(f"/portal/invoices/{UNPAID}.html").get_data(as_text=True)
    fields: dict[str, Any] = form_fields(page, "form-proof")
    import io

    fields["file"] = (io.BytesIO(PDF), "a.pdf", "application/pdf")
    other_site = {"Sec-Fetch-Site": "cross-site"}
    answer = client.client.post(
        f"/portal/invoices/{UNPAID}/proof", data=fields, headers=other_site, buffered=True
    )
    assert answer.status_code == 403
    assert list(june_world.storage.list(UPLOADS_PREFIX)) == []


def test_no_proof_for_a_paid_or_unknown_invoice(june_world: GateWorld) -> None:
    client = signed_in(june_world)
    assert "form-proof" not in client.get(f"/portal/invoices/{PAID}.html").get_data(as_text=True)
    csrf = client.csrf()
    assert send_proof(client, PDF, slug=PAID, csrf=csrf).status_code == 404
    assert send_proof(client, PDF, slug="F9999-1", csrf=csrf).status_code == 404
    assert list(june_world.storage.list(UPLOADS_PREFIX)) == []


# -- straight to S3: the presigned POST -------------------------------------------------------


def start(client: Any, data: bytes, content_type: str = "application/pdf") -> dict[str, Any]:
    csrf = client.csrf(f"/portal/invoices/{UNPAID}.html")
    ask = {"csrf_token": csrf, "type": content_type, "size": str(len(data)), "name": "t.pdf"}
    answer = client.post(f"/portal/invoices/{UNPAID}/proof/start", ask, headers=BROWSER)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    plan: dict[str, Any] = json.loads(answer.get_data())
    plan["csrf_token"] = csrf
    return plan


def report(client: Any, plan: dict[str, Any], note: str = "") -> Any:
    fields = {k: str(plan[k]) for k in ("csrf_token", "upload", "type", "name", "issued", "ticket")}
    fields["note"] = note
    return client.post(f"/portal/invoices/{UNPAID}/proof/done", fields, headers=BROWSER)


def test_local_storage_takes_no_direct_upload(june_world: GateWorld) -> None:
    client = signed_in(june_world)
    csrf = client.csrf(f"/portal/invoices/{UNPAID}.html")
    answer = client.post(
        f"/portal/invoices/{UNPAID}/proof/start",
        {"csrf_token": csrf, "type": "application/pdf", "size": "10"},
        headers=BROWSER,
    )
    assert json.loads(answer.get_data()) == {"direct": False}


def encode_multipart(fields: dict[str, str], data: bytes) -> tuple[bytes, str]:
    boundary = "----portalgen-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()
    return b"".join([*parts, head, data, f"\r\n--{boundary}--\r\n".encode()]), boundary


@pytest.mark.s3
def test_seaweedfs_enforces_the_presigned_post(june_s3: GateWorld) -> None:
    """The bucket itself refuses a larger file, another type, another key: checked
    against SeaweedFS (AWS S3 documents the same POST policy conditions)."""
    world = june_s3
    client = signed_in(world)
    plan = start(client, PDF)
    incoming = f"{UPLOADS_PREFIX}{world.key('C00007')}/incoming/{plan['upload']}"
    assert plan["direct"] is True and plan["fields"]["key"].endswith(incoming)
    too_big = PDF + b"0" * (10 * 1024 * 1024)
    assert post_to_bucket(plan["url"], plan["fields"], too_big, "application/pdf") == 400
    assert post_to_bucket(plan["url"], plan["fields"], HTML_AS_PDF, "text/html") == 403
    other = dict(plan["fields"], key=plan["fields"]["key"].replace(world.key("C00007"), "x" * 32))
    assert post_to_bucket(plan["url"], other, PDF, "application/pdf") == 403
    assert list(world.storage.list(UPLOADS_PREFIX)) == []

    assert post_to_bucket(plan["url"], plan["fields"], PDF, "application/pdf") == 204
    answer = report(client, plan, note="transferencia del día 12")
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    assert RECEIVED in client.get(f"/portal/invoices/{UNPAID}.html").get_data(as_text=True)
    (record,) = customer_records(world.storage, world.key("C00007"))
    assert (record.id, record.note) == (plan["upload"], "transferencia del día 12")
    assert world.storage.get(record.key) == PDF and not world.storage.exists(incoming)
    # reported again: answered the same, nothing recorded twice
    assert report(client, plan).status_code == 303
    assert len(of_type(world, "upload.received")) == 1


@pytest.mark.s3
def test_a_mistyped_direct_upload_is_deleted(june_s3: GateWorld) -> None:
    client = signed_in(june_s3)
    plan = start(client, HTML_AS_PDF)
    assert post_to_bucket(plan["url"], plan["fields"], HTML_AS_PDF, "application/pdf") == 204
    assert report(client, plan).status_code == 415
    assert list(june_s3.storage.list(UPLOADS_PREFIX)) == []
    assert of_type(june_s3, "upload.received") == []


@pytest.mark.s3
def test_a_ticket_is_good_for_its_own_customer_only(june_s3: GateWorld) -> None:
    """Another customer's upload (its key prefix, its ticket) cannot be claimed, nor an
    upload reported before it arrived, nor one for another invoice."""
    mine, theirs = signed_in(june_s3, "C00007"), signed_in(june_s3, "C00008")
    plan = start(mine, PDF)
    assert post_to_bucket(plan["url"], plan["fields"], PDF, "application/pdf") == 204
    plan_b = dict(plan, csrf_token=theirs.csrf())
    assert report(theirs, plan_b).status_code == 403
    forged = dict(plan, type="image/png")
    assert report(mine, forged).status_code == 403
    assert list(customer_records(june_s3.storage, june_s3.key("C00007"))) == []
    early = start(mine, PDF)
    assert report(mine, early).status_code == 409  # nothing in the bucket yet
    assert report(mine, plan).status_code == 303  # the owner still can
