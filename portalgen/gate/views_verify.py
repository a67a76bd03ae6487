"""`/verify`: anyone holding a PDF can check that this company published exactly it.

Public, no sign-in. The page computes the PDF's SHA-256 in the browser (Web Crypto, in
verify.js, served by the gate itself: no external script) and asks
``GET /verify?fingerprint=<sha256 hex>``; the file never leaves the device. The answer
comes from the verification index (portalgen.verification): 200 with what the document
is when the company published those bytes and they are still verifiable, else 404
"not issued by <company>". Lookups are rate-limited per client address like `/link`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from portalgen.gate import errors
from portalgen.gate.pages import PageContext, layout
from portalgen.verification import Record, parse_fingerprint, read_record

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import GateRequest

SCRIPT = Path(__file__).resolve().parent / "static" / "verify.js"
LOOKUPS_PER_ADDRESS = (30, 15 * 60)  # per client address: 30 in 15 minutes


def verify(gate: Gate, request: GateRequest) -> Response:
    page = gate.page_context(request)
    asked = request.args.get("fingerprint")
    if asked is None:
        return gate.html(form_page(page))
    limit, window = LOOKUPS_PER_ADDRESS
    if not gate.limiter.hit(f"verify:{request.remote_addr}", limit, window):
        raise errors.TooManyRequests("verify rate limit", retry_after=window)
    sha = parse_fingerprint(asked[:200])
    if sha is None:
        _ = page._
        message = _("That is not a SHA-256 fingerprint: it has 64 characters, 0-9 and a-f.")
        return gate.html(form_page(page, asked[:200], message), 400)
    record = read_record(gate.storage, sha)
    if record is None or not record.verifiable(gate.now(), gate.verify_retention):
        return gate.html(not_issued_page(page, sha), 404)
    return gate.html(issued_page(page, record, gate))


def script(gate: Gate, request: GateRequest) -> Response:
    response = Response(SCRIPT.read_bytes(), content_type="text/javascript; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# -- pages ------------------------------------------------------------------------------------
# (messages are computed outside the f-strings: gettext's extractor does not look inside them)


def form_page(page: PageContext, value: str = "", error: str = "") -> str:
    _ = page._
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    reading = _("Computing the fingerprint…")
    failed = _("This browser cannot compute the fingerprint: paste it below.")
    choose = _("Drop the PDF here or choose it")
    stays = _("The file stays on your device: only its fingerprint is checked.")
    drop = (
        f'<div id="verify-drop" class="dropzone" hidden data-reading="{escape(reading)}"'
        f' data-failed="{escape(failed)}">'
        f'<label for="verify-file">{escape(choose)}</label>'
        '<input id="verify-file" type="file" accept="application/pdf,.pdf">'
        f'<p class="small">{escape(stays)}</p>'
        '<p class="small" id="verify-status" role="status" aria-live="polite"></p></div>'
    )
    paste_label = _("Or paste its SHA-256 fingerprint")
    check = _("Check")
    paste = (
        f'<form method="get" action="{escape(page.url("verify"))}" class="stack" id="verify-form">'
        f'<label for="fingerprint">{escape(paste_label)}</label>'
        '<input id="fingerprint" name="fingerprint" type="text" required maxlength="200" '
        f'autocomplete="off" spellcheck="false" value="{escape(value)}">'
        f'<button type="submit" class="button">{escape(check)}</button></form>'
    )
    intro = _(
        "Check that a document really comes from %(company)s and has not been changed, "
        "not even by one character."
    ) % {"company": page.company}
    script = page.url("_gate/verify.js")
    body = (
        f'{alert}<p>{escape(intro)}</p>{drop}{paste}<script src="{escape(script)}" defer></script>'
    )
    return layout(page, _("Verify a document"), body)


def issued_page(page: PageContext, record: Record, gate: Gate) -> str:
    _ = page._
    issuer = record.issuer
    if record.issuer_tax_id:
        issuer += f" · {_('Tax ID')} {record.issuer_tax_id}"
    facts = [
        (_("Document"), _kind(page, record.kind)),
        (_("Number"), record.number),
        (_("Date"), _day(record.date)),
        (_("Issuer"), issuer),
        (_("Customer's tax ID"), record.customer_tax_id),
        (_("Published on"), _local_day(gate, record.published_at)),
    ]
    rows = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in facts if value
    )
    company = {"company": record.issuer}
    verified = _("This document was issued by %(company)s, exactly as you have it.") % company
    body = (
        f'<p class="verified">{escape(verified)}</p>'
        f'<dl class="facts">{rows}</dl>{_later(page, record, gate)}'
        f"{_fingerprint(page, record.sha256)}"
    )
    return layout(page, _("Issued by %(company)s") % company, body)


def _later(page: PageContext, record: Record, gate: Gate) -> str:
    """What happened to the document since: replaced by a newer version, or withdrawn."""
    _ = page._
    if not record.withdrawn_at:
        return ""
    day = {"date": _local_day(gate, record.withdrawn_at)}
    if record.superseded_by:
        replaced = _("This version was replaced by a newer one on %(date)s.") % day
        where = _("The current version is in the customer portal.")
        current = page.url(f"verify?fingerprint={record.superseded_by}")
        check = _("Check the current version")
        return (
            f'<div class="notice" role="note"><p>{escape(replaced)} {escape(where)}</p>'
            f'<p><a href="{escape(current)}">{escape(check)}</a></p></div>'
        )
    gone = _("This document is no longer published in the customer portal (since %(date)s).")
    return f'<div class="notice" role="note"><p>{escape(gone % day)}</p></div>'


def not_issued_page(page: PageContext, sha: str) -> str:
    _ = page._
    company = {"company": page.company}
    denied = _("%(company)s did not issue a document with this fingerprint.") % company
    advice = _("If it reached you as ours, do not act on it or pay from it: contact us.")
    body = f'<p class="error">{escape(denied)}</p><p>{escape(advice)}</p>{_fingerprint(page, sha)}'
    return layout(page, _("Not issued by %(company)s") % company, body)


def _fingerprint(page: PageContext, sha: str) -> str:
    _ = page._
    label = _("SHA-256 fingerprint")
    again = _("Check another document")
    return (
        f'<p class="small">{escape(label)}: <code class="fingerprint">{escape(sha)}</code></p>'
        f'<p><a href="{escape(page.url("verify"))}">{escape(again)}</a></p>'
    )


def _kind(page: PageContext, kind: str) -> str:
    _ = page._
    names = {
        "invoice": _("Invoice"),
        "quote": _("Quote"),
        "order": _("Order"),
        "delivery_note": _("Delivery note"),
        "statement": _("Account statement"),
        "acceptance": _("Acceptance certificate"),
    }
    return names.get(kind, kind)


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return ""


def _local_day(gate: Gate, stamp: str) -> str:
    """A UTC time stamp as the business's local date (dd/mm/yyyy); "" if unreadable."""
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return gate.local_time(when).strftime("%d/%m/%Y")
