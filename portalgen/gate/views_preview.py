"""Staff previews: ``/s/<token>/<path>``, a customer's portal as published, read-only.

The token (access/preview.py) is checked against the registry on every request, like
a customer's link: a revoked customer or a dropped secret ends it. A preview never
starts or uses a customer's session: it sets no cookie, its forms (decisions, comments,
signing out) are shown disabled without a CSRF token, and every POST route needs a
customer's session anyway. What staff open is recorded as ``staff.viewed`` (contact
``staff``), never as the customer's view.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from portalgen.access.entry import Contact, RegistryEntry
from portalgen.access.preview import PreviewClaims, read_preview
from portalgen.access.tokens import TokenError, TokenExpired
from portalgen.gate import errors, security
from portalgen.gate.live import fill_page
from portalgen.gate.request import SECRETS_TTL
from portalgen.gate.views_portal import serve_file

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from portalgen.gate.app import Gate
    from portalgen.gate.live import PublishedPage
    from portalgen.gate.request import GateRequest, Visit

STAFF = "staff"  # the contact of a staff preview's events
POST_FORM = re.compile(r"(<form\b[^>]*\bmethod=\"post\"[^>]*>)(.*?)(</form>)", re.S | re.I)
CONTROL = re.compile(r"<(button|input|textarea|select)\b(?![^>]*\btype=\"hidden\")", re.I)
MAIN = re.compile(r"<main\b[^>]*>")


def serve(gate: Gate, request: GateRequest, token: str, path: str = "") -> Response:
    entry = read_preview_link(gate, token)
    visit = staff_visit(gate, entry)
    root = f"{gate.base_path}/s/{token}"
    return serve_file(gate, request, visit, path, root, fill=fill_read_only)


def read_preview_link(gate: Gate, token: str) -> RegistryEntry:
    """The entry a preview link is good for now, or the refusal."""
    try:
        claims = _verify(gate, token)
    except TokenExpired:
        raise errors.LinkExpired("preview link expired") from None
    except TokenError as exc:
        raise errors.BadLink(f"preview: {exc}") from None
    entry = gate.load_entry(claims.customer_key)
    if entry is None or not claims.allowed_by(entry):
        raise errors.AccessEnded("preview of a revoked or unknown customer")
    return entry


def _verify(gate: Gate, token: str) -> PreviewClaims:
    gate.maybe_reload_secrets(SECRETS_TTL)  # a dropped secret ends its previews within 5 min
    try:
        return read_preview(gate.signer, token)
    except TokenExpired:
        raise
    except TokenError:
        if gate.maybe_reload_secrets():  # signed with a secret added since we started?
            return read_preview(gate.signer, token)
        raise


def staff_visit(gate: Gate, entry: RegistryEntry) -> Visit:
    """A visit with no customer contact and no session: it can only read."""
    from portalgen.gate.request import Visit

    epoch = datetime.fromtimestamp(0, UTC)
    session = security.SessionData(entry.customer_key, STAFF, 0, "", 0.0, 0.0)
    return Visit(entry, Contact(STAFF, epoch, 0, False), session, csrf="", staff=True)


def fill_read_only(gate: Gate, visit: Visit, page: PublishedPage) -> bytes:
    """The page as the customer would see it now, its forms disabled, with a note
    saying this is the staff's read-only preview."""
    html = lock_forms(fill_page(gate, visit, page).decode("utf-8"))
    return add_note(html, _note(gate, visit)).encode("utf-8")


def lock_forms(html: str) -> str:
    """Every POST form's controls disabled (the filters of a list keep working)."""

    def lock(match: re.Match[str]) -> str:
        inner = CONTROL.sub(lambda m: f"<{m.group(1)} disabled", match.group(2))
        return f"{match.group(1)}{inner}{match.group(3)}"

    return POST_FORM.sub(lock, html)


def add_note(html: str, note: str) -> str:
    found = MAIN.search(html)
    if found is None:
        return html
    paragraph = f'<p class="notice preview-note" role="note">{note}</p>'
    return html[: found.end()] + paragraph + html[found.end() :]


def _note(gate: Gate, visit: Visit) -> str:
    from html import escape

    from portalgen.gate.i18n import translations

    manifest = gate.manifest(visit)
    language = manifest.language if manifest is not None else gate.branding.language
    text = translations(language or gate.branding.language).gettext(
        "Staff preview: this is what the customer sees. Nothing can be accepted, "
        "rejected, commented or sent from here."
    )
    return escape(text)
