"""Proofs of payment: "I have paid by transfer" on an unpaid invoice's page.

Two ways in, the same checks (portalgen/uploads/check.py), one record and one event:

- through the gate (`upload`): a plain multipart form, no JavaScript needed; the body
  may be up to 10 MB (AWS Lambda behind API Gateway takes less: use S3 there);
- straight to S3 (`start`, then `done`): the page's script asks `start` for a presigned
  POST and a ticket (portalgen/uploads/presign.py), posts the file to the bucket, then
  submits the ticket to `done`, which reads the object back and checks it.

Each is a session POST (session, CSRF token, Origin) for an invoice whose published
page offers the upload (its ``<!--pg:proof:<slug>-->`` slot: an unpaid invoice paid by
transfer). Accepted: ``upload.received`` is recorded and the page says "Proof of payment
received on …" at once (fill_proof). Flagged by ClamAV: kept in quarantine,
``upload.quarantined`` recorded (staff are told), the customer told it was not taken.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ulid import ULID
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from portalgen import slots
from portalgen.gate import errors
from portalgen.gate.views_interact import limit_actions
from portalgen.uploads import records
from portalgen.uploads.check import UploadRefused, check_declared, clean_filename, clean_note
from portalgen.uploads.check import inspect as inspect_proof
from portalgen.uploads.presign import (
    POST_EXPIRES,
    TICKET_PURPOSE,
    Ticket,
    sign_ticket,
    ticket_holds,
)

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import GateRequest, Visit

log = logging.getLogger("portalgen.gate")
MAX_UPLOAD_BODY = records.MAX_SIZE + 64 * 1024  # the file and the form's other fields
# Presigned POSTs a customer may ask for (each lets the browser put up to 10 MB in the
# bucket, reported or not): 20 in 10 minutes, per gate process.
STARTS_PER_CUSTOMER = (20, 600)


def upload(gate: Gate, request: GateRequest, slug: str) -> Response:
    """A proof posted to the gate itself (multipart/form-data: file, note)."""
    visit = gate.require_visit(request)
    request.max_content_length = MAX_UPLOAD_BODY
    page = invoice_page(slug)
    with refused_back_to(page), contextlib.closing(request):  # closing: its temporary file
        try:
            gate.check_post(request, visit)
            sent = request.files.get("file")
        except RequestEntityTooLarge:
            raise UploadRefused("proof-too-large", "body over the limit") from None
        check_invoice(gate, visit, slug)
        limit_actions(gate, visit, page)
        if sent is None or not sent.filename:
            raise UploadRefused("proof-missing", "no file part")
        data = sent.stream.read(records.MAX_SIZE + 1)
        upload_id = str(ULID.from_timestamp(gate.clock()))
        proof = Proof(upload_id, slug, sent.mimetype, clean_filename(sent.filename), data)
        take_proof(gate, request, visit, proof, clean_note(request.form.get("note", "")))
    return gate.redirect(request, f"portal/{page}#proof")


def start(gate: Gate, request: GateRequest, slug: str) -> Response:
    """The presigned POST for a direct upload to S3 (JSON), or ``{"direct": false}``
    when the storage has none (a folder: the page then posts the form to `upload`)."""
    visit = gate.require_visit(request)
    gate.check_post(request, visit)
    page = invoice_page(slug)
    with refused_back_to(page):
        check_invoice(gate, visit, slug)
        presign = getattr(gate.storage, "presigned_post", None)
        if presign is None:
            return _json({"direct": False})
        if not gate.limiter.hit(f"upload-start:{visit.customer_key}", *STARTS_PER_CUSTOMER):
            raise errors.TooManyActions("upload starts", retry_after=STARTS_PER_CUSTOMER[1])
        size = request.form.get("size", "")
        declared = check_declared(request.form.get("type", ""), int(size) if size.isdigit() else 0)
        ticket = Ticket(
            visit.customer_key,
            str(ULID.from_timestamp(gate.clock())),
            slug,
            declared,
            clean_filename(request.form.get("name", "")),
            int(gate.clock()),
        )
        key = records.incoming_key(visit.customer_key, ticket.upload_id)
        url, fields = presign(key, declared, records.MAX_SIZE, POST_EXPIRES)
    signed = sign_ticket(ticket, gate.signer.mac)
    return _json({"direct": True, "url": url, "fields": fields, **ticket_fields(ticket, signed)})


def done(gate: Gate, request: GateRequest, slug: str) -> Response:
    """The browser's report of a direct upload: the ticket `start` gave, and a note."""
    visit = gate.require_visit(request)
    gate.check_post(request, visit)
    page = invoice_page(slug)
    form = request.form
    ticket = Ticket(
        visit.customer_key,
        form.get("upload", "")[:40],
        slug,
        form.get("type", "")[:100],
        form.get("name", "")[:200],
        int(form.get("issued", "0")) if form.get("issued", "").isdigit() else 0,
    )
    if not ticket_holds(ticket, form.get("ticket", ""), gate.signer.check_mac, gate.clock()):
        if gate.signer.check_mac(TICKET_PURPOSE, ticket.message(), form.get("ticket", "x")):
            raise errors.Refused("proof-expired", "ticket too old", back=page)
        raise errors.Forbidden("upload ticket not for this customer, invoice or upload")
    with refused_back_to(page):
        check_invoice(gate, visit, slug)
        limit_actions(gate, visit, page)
        if records.read_record(
            gate.storage, records.record_key(visit.customer_key, ticket.upload_id)
        ):
            return gate.redirect(request, f"portal/{page}#proof")  # reported again: nothing new
        data = read_incoming(gate, visit, ticket.upload_id)
        proof = Proof(ticket.upload_id, slug, ticket.content_type, ticket.filename, data)
        note = clean_note(form.get("note", ""))
        try:
            take_proof(gate, request, visit, proof, note)
        finally:
            gate.storage.delete(records.incoming_key(visit.customer_key, ticket.upload_id))
    return gate.redirect(request, f"portal/{page}#proof")


class Proof:
    __slots__ = ("content_type", "data", "filename", "invoice", "upload_id")

    def __init__(
        self, upload_id: str, invoice: str, content_type: str, filename: str, data: bytes
    ) -> None:
        self.upload_id = upload_id
        self.invoice = invoice
        self.content_type = content_type
        self.filename = filename
        self.data = data


def take_proof(gate: Gate, request: GateRequest, visit: Visit, proof: Proof, note: str) -> None:
    """Check, store and record a proof; UploadRefused if it is not taken."""
    verdict = inspect_proof(proof.data, proof.content_type, gate.uploads.clamd)
    kind = "upload.received" if verdict.status == records.RECEIVED else "upload.quarantined"
    declared = check_declared(proof.content_type, len(proof.data))
    data = {
        "upload": proof.upload_id,
        "invoice": proof.invoice,
        "filename": proof.filename,
        "content_type": declared,
        "size": len(proof.data),
        "sha256": verdict.sha256,
        "scanned": verdict.scanned,
        **({"virus": verdict.signature} if verdict.signature else {}),
        **({"text": note} if note else {}),
    }
    contact = visit.contact.email
    document = invoice_page(proof.invoice)
    event = gate.make_event(request, kind, visit.entry, contact, document=document, data=data)
    record = records.UploadRecord(
        id=proof.upload_id,
        ts=event.ts,
        customer=visit.customer,
        customer_key=visit.customer_key,
        contact=contact,
        invoice=proof.invoice,
        filename=proof.filename,
        content_type=declared,
        size=len(proof.data),
        sha256=verdict.sha256,
        note=note,
        status=verdict.status,
        signature=verdict.signature,
        scanned=verdict.scanned,
        event_id=event.id,
    )
    if records.store(gate.storage, record, proof.data) and gate.audit is not None:
        gate.audit.record(event)
    if verdict.status == records.QUARANTINED:
        log.warning("gate: a proof from %s was quarantined (%s)", visit.customer, verdict.signature)
        raise UploadRefused("proof-infected", verdict.signature)


def read_incoming(gate: Gate, visit: Visit, upload_id: str) -> bytes:
    """What the browser posted to S3; refused when absent or over the limit (the
    presigned POST's policy already stops that on S3 itself: checked again here)."""
    key = records.incoming_key(visit.customer_key, upload_id)
    info = gate.storage.stat(key)
    if info is None:
        raise UploadRefused("proof-not-received", "no incoming object")
    if info.size > records.MAX_SIZE:
        gate.storage.delete(key)
        raise UploadRefused("proof-too-large", f"{info.size} bytes in storage")
    data = gate.storage.get(key)
    if data is None:
        raise UploadRefused("proof-not-received", "incoming object gone")
    return data


def check_invoice(gate: Gate, visit: Visit, slug: str) -> None:
    """The invoice's published page must offer the upload (an unpaid invoice paid by
    transfer, uploads enabled when it was published)."""
    from portalgen.gate.views_portal import page_text

    text = page_text(gate, visit, invoice_page(slug)) if gate.uploads.enabled else None
    if text is None or slots.proof(slug) not in text:
        raise UploadRefused("proof-unknown", "no proof slot on the invoice's page")


def invoice_page(slug: str) -> str:
    return f"invoices/{slug}.html"


def ticket_fields(ticket: Ticket, signed: str) -> dict[str, str]:
    """What the page posts back to `done` (besides the CSRF token and the note)."""
    return {
        "upload": ticket.upload_id,
        "type": ticket.content_type,
        "name": ticket.filename,
        "issued": str(ticket.issued),
        "ticket": signed,
    }


@contextlib.contextmanager
def refused_back_to(page: str) -> Iterator[None]:
    """Turn an UploadRefused into the gate's refusal page, with a link back to `page`."""
    try:
        yield
    except UploadRefused as exc:
        raise errors.Refused(exc.kind, str(exc), params=exc.params, back=page) from None


def _json(body: dict[str, object]) -> Response:
    return Response(json.dumps(body), content_type="application/json")
