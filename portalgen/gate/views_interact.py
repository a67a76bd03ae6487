"""What a customer does in the portal: accept or reject a quote, comment on a document.

Each action is checked (session, origin, CSRF token, then the action's own rules in
portalgen/interact/), stored, recorded as exactly one audit event before the customer is
answered, and answered by a 303 back to the page, which shows the result at once through
its live slots (the decision) and its comment thread. A refusal says why, in the
customer's language, with a link back to the page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from portalgen.gate import errors
from portalgen.gate.fragments import published_index
from portalgen.interact.comments import (
    CommentRecord,
    add_comment,
    check_document,
    page_of,
    parse_comment,
    thread_of,
)
from portalgen.interact.decisions import (
    ActionRefused,
    DecisionForm,
    DecisionRecord,
    QuoteFacts,
    check_decidable,
    parse_quote_index,
    read_decision,
    store_decision,
)
from portalgen.interact.evidence import EVIDENCE_KEY, Evidence, store_signature
from portalgen.slots import PDF_SHA256_FIELD, QUOTES_INDEX

if TYPE_CHECKING:
    from portalgen.audit.events import AuditEvent
    from portalgen.gate.app import Gate
    from portalgen.gate.request import GateRequest, Visit
    from portalgen.publish.manifest import Manifest

log = logging.getLogger("portalgen.gate")


def accept(gate: Gate, request: GateRequest, slug: str) -> Response:
    return decide(gate, request, slug, "accepted")


def reject(gate: Gate, request: GateRequest, slug: str) -> Response:
    return decide(gate, request, slug, "rejected")


def decide(gate: Gate, request: GateRequest, slug: str, decision: str) -> Response:
    visit = gate.require_visit(request)
    gate.check_post(request, visit)
    page = f"quotes/{slug}.html"
    limit_actions(gate, visit, page)
    try:
        take_decision(gate, request, visit, slug, decision)
    except ActionRefused as exc:
        back = "" if exc.kind == "quote-unknown" else page
        raise errors.Refused(exc.kind, str(exc), params=exc.params, back=back) from None
    return gate.redirect(request, f"portal/{page}#decision")


def limit_actions(gate: Gate, visit: Visit, back: str) -> None:
    """Refuse a decision or comment past the gate's `actions_per_contact` or
    `actions_per_customer` (ratelimit.py):
    each one is an audit event, a stored object and a staff email, so a burst (a
    script) must not become a hundred of each. Counted in memory, per gate process."""
    contact = f"action:{visit.customer_key}:{visit.contact.email}"
    customer = f"action:{visit.customer_key}"
    for key, (limit, window) in (
        (contact, gate.actions_per_contact),
        (customer, gate.actions_per_customer),
    ):
        if not gate.limiter.hit(key, limit, window):
            log.warning("gate: %s of %s over the action limit", visit.contact.email, visit.customer)
            raise errors.TooManyActions(f"{key} rate limit", retry_after=window, back=back)


def take_decision(
    gate: Gate, request: GateRequest, visit: Visit, slug: str, decision: str
) -> DecisionRecord:
    """Check, store (first decision wins) and record a decision; ActionRefused if not."""
    gate.caches.forget(visit.customer_key)  # decide on the portal as published right now
    manifest = gate.manifest(visit)
    if manifest is None:
        raise errors.PortalNotReady("no manifest")
    facts = quote_index(gate, visit, manifest).get(slug)
    if facts is None:
        raise ActionRefused("quote-unknown", "not a quote of this portal")
    standing = read_decision(gate.storage, visit.customer_key, slug)
    if standing is not None:  # said first: nothing in the form could change it
        raise already_decided(gate, standing, facts)
    pdf = manifest.get(f"quotes/{slug}.pdf")
    published = pdf.sha256 if pdf is not None else ""
    seen = request.form.get(PDF_SHA256_FIELD, "")
    check_decidable(facts, seen, published, gate.local_time(gate.now()).date())
    form = DecisionForm.parse(decision, request.form)
    signed = ""
    if form.signature:  # kept before the decision that names it
        signed = store_signature(gate.storage, visit.customer_key, slug, form.signature)
    event, record = decision_of(gate, request, visit, facts, form, published, signed)
    won, standing = store_decision(gate.storage, visit.customer_key, record)
    if not won:
        if standing is None:  # written by someone, unreadable now: say so, never guess
            raise errors.ServerError(f"decision {slug} neither written nor readable")
        raise already_decided(gate, standing, facts)
    write_decision_event(gate, event)
    return record


def decision_of(
    gate: Gate,
    request: GateRequest,
    visit: Visit,
    facts: QuoteFacts,
    form: DecisionForm,
    published: str,
    signature_sha256: str = "",
) -> tuple[AuditEvent, DecisionRecord]:
    """The decision's audit event and its record, which carries the event's id and the
    evidence (interact/evidence.py)."""
    data: dict[str, object] = {
        "quote": facts.number,
        "slug": facts.slug,
        "name": form.name,
        "comment": form.text,
    }
    if form.decision == "rejected":
        data["reason"] = form.reason
    data["pdf_sha256"] = published
    data["signature"] = "drawn" if signature_sha256 else "typed"
    if signature_sha256:
        data["signature_sha256"] = signature_sha256
    contact = visit.contact.email
    document = f"quotes/{facts.slug}.html"
    kind = f"quote.{form.decision}"
    event = gate.make_event(request, kind, visit.entry, contact, document=document, data=data)
    extra: dict[str, object] = {"published": facts.published()} if facts.source_id else {}
    extra[EVIDENCE_KEY] = evidence_of(gate, event, facts, form, signature_sha256).to_dict()
    record = DecisionRecord(
        quote=facts.number,
        slug=facts.slug,
        decision=form.decision,
        ts=event.ts,
        contact=contact,
        name=form.name,
        comment=form.text,
        pdf_sha256=published,
        event_id=event.id,
        extra=extra,
    )
    return event, record


def evidence_of(
    gate: Gate, event: AuditEvent, facts: QuoteFacts, form: DecisionForm, signature_sha256: str
) -> Evidence:
    """What the gate knows of this decision, from its event (the same address hash,
    user agent and time as the audit log)."""
    return Evidence(
        pdf_sha256=str(event.data.get("pdf_sha256", "")),
        name=form.name,
        contact=event.contact,
        utc=event.ts,
        local=gate.local_time(event.when).isoformat(timespec="seconds"),
        timezone=gate.branding.timezone,
        ip_hash=event.ip_hash,
        user_agent=event.user_agent,
        signature="drawn" if signature_sha256 else "typed",
        signature_sha256=signature_sha256,
        terms=facts.terms,
    )


def write_decision_event(gate: Gate, event: AuditEvent) -> None:
    """The decision stands; its event is written now. Should that fail, the decision is
    kept (the customer decided) and `portalgen audit pull` writes the event from the
    decision record (interact/recover.py): never lost, never twice."""
    if gate.audit is None:
        return
    try:
        gate.audit.record(event)
    except Exception:
        log.exception("gate: decision event %s not written; audit pull recovers it", event.id)


def already_decided(gate: Gate, standing: DecisionRecord, facts: QuoteFacts) -> ActionRefused:
    day = gate.local_time(standing.when).strftime("%d/%m/%Y")
    params = {"number": facts.number, "date": day, "name": standing.name or standing.contact}
    return ActionRefused(f"quote-{standing.decision}", "decided already", params=params)


def quote_index(gate: Gate, visit: Visit, manifest: Manifest) -> dict[str, QuoteFacts]:
    """The customer's quotes as published (``_live/quotes.json``), parsed once per content."""
    return published_index(gate, visit, manifest, QUOTES_INDEX, parse_quote_index)


def comment(gate: Gate, request: GateRequest) -> Response:
    visit = gate.require_visit(request)
    gate.check_post(request, visit)
    manifest = gate.manifest(visit)
    if manifest is None:
        raise errors.PortalNotReady("no manifest")
    back = ""
    try:
        document = check_document(request.form.get("document", ""), manifest)
        back = page_of(thread_of(document))
        text = parse_comment(request.form.get("comment", ""))
    except ActionRefused as exc:
        raise errors.Refused(exc.kind, str(exc), params=exc.params, back=back) from None
    limit_actions(gate, visit, back)
    add_visit_comment(gate, request, visit, document, text)
    return gate.redirect(request, f"portal/{back}#comments")


def add_visit_comment(
    gate: Gate, request: GateRequest, visit: Visit, document: str, text: str
) -> CommentRecord:
    """Record the comment's event, then store the comment for the page's thread.

    The event comes first: should storing fail, staff still have the comment (the
    customer is told to try again); the other way round, a comment could show on the
    page that staff never hear of."""
    event = gate.make_event(
        request,
        "comment.added",
        visit.entry,
        visit.contact.email,
        document=document,
        data={"comment": text},
    )
    if gate.audit is not None:
        gate.audit.record(event)
    record = CommentRecord(event.id, event.ts, visit.contact.email, document, text)
    add_comment(gate.storage, visit.customer_key, record)
    gate.threads.forget(visit.customer_key, document)  # the page shows it at once
    return record
