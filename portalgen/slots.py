"""The slots static pages leave for the gate to fill, shared by the renderer and the gate.

Static HTML cannot hold per-session or live state, so the renderer marks where it goes
with HTML comments and the gate fills them when it serves a page (docs/portal.md):

- ``<!--pg:csrf-->`` inside every POST form: the session's CSRF token field.
- ``<!--pg:live:quote:<slug>-->default<!--/pg:live-->`` around a quote's status badge
  and decision forms: replaced by the fragment ``_live/quote-accepted.html`` or
  ``_live/quote-rejected.html`` when a decision exists, with ``{date}`` and ``{name}``
  filled in (``{name}`` HTML-escaped by the gate).
- ``<!--pg:open:quote:<slug>-->…<!--/pg:open-->`` around what is true only while the quote
  awaits a decision (the quote page's "waiting for your decision" notice, the quote's row
  among the home page's quotes awaiting a decision): removed once a decision exists.
- ``<!--pg:awaiting:<slug> <slug>…-->…<!--/pg:awaiting-->`` around the home page's list of
  quotes awaiting a decision: replaced by ``_live/no-open-quotes.html`` once every quote
  in it is decided.
- ``<!--pg:comments:<portal path>-->`` where a document's comment thread goes.
- ``<!--pg:paid:<slug>-->…<!--/pg:paid-->`` around an invoice's "Pay now" form: replaced
  by ``_live/invoice-paid.html`` (``{date}``, ``{number}`` filled) once a payment made
  in the portal awaits the export's confirmation; ``<!--pg:paid-list-->`` on the home
  page, where the same notice goes for each such invoice (portalgen/payments/).
- ``<!--pg:proof:<slug>-->`` in an unpaid invoice's proof-of-payment box: replaced by
  ``_live/proof-received.html`` (``{date}`` filled) once the customer has uploaded a
  proof the gate accepted. Its presence is also what lets the gate take a proof for
  that invoice (portalgen/gate/views_upload.py).

This module must stay tiny and import nothing heavy: the gate imports it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

CSRF = "<!--pg:csrf-->"
CSRF_FIELD = "csrf_token"  # the hidden input's name the gate writes in place of CSRF

LIVE_END = "<!--/pg:live-->"
LIVE_ACCEPTED = "_live/quote-accepted.html"
LIVE_REJECTED = "_live/quote-rejected.html"
LIVE_FRAGMENTS = {"accepted": LIVE_ACCEPTED, "rejected": LIVE_REJECTED}
LIVE_NO_OPEN = "_live/no-open-quotes.html"  # "No quote is waiting for your decision."
OPEN_END = "<!--/pg:open-->"
AWAITING_END = "<!--/pg:awaiting-->"
DATE_PLACEHOLDER = "{date}"  # dd/mm/yyyy
NAME_PLACEHOLDER = "{name}"  # HTML-escaped by the gate

PDF_SHA256_FIELD = "pdf_sha256"  # hidden field of quote decision forms
DOCUMENT_FIELD = "document"  # comment form field: the portal path of the page, or empty
COMMENT_LIMIT = 2000  # characters of a comment, a reason for rejecting (the forms say it)
NAME_LIMIT = 120  # characters of the name given when accepting a quote
SIGNATURE_FIELD = "signature"  # accept form field: a drawn signature, as a PNG data: URL
SIGNATURE_LIMIT = 32 * 1024  # bytes of that PNG (the form's body stays under 64 KiB)

# The quotes of a portal as published, for the gate to decide whether one can still be
# accepted or rejected: {"version": 1, "quotes": {slug: {number, status, valid_until}}}.
QUOTES_INDEX = "_live/quotes.json"
# The invoices a customer may pay from the portal, with what each asks for as published
# (portalgen/payments/invoices.py), and the notice of a payment awaiting confirmation.
INVOICES_INDEX = "_live/invoices.json"
LIVE_PAID = "_live/invoice-paid.html"
PAID_END = "<!--/pg:paid-->"
PAID_LIST = "<!--pg:paid-list-->"
NUMBER_PLACEHOLDER = "{number}"
PAID_RE = re.compile(r"<!--pg:paid:([A-Za-z0-9._-]+)-->(.*?)<!--/pg:paid-->", re.DOTALL)

# A document's own page (a quote, order, delivery note or invoice, not a list): it has a
# comment thread, and opening it is recorded as a view.
DOCUMENT_PAGE = re.compile(r"^(quotes|orders|delivery-notes|invoices)/(?!index\.html$)[^/]+\.html$")

# A slug is `model.slugify_number`'s output; a portal path has no "-->" in it either.
LIVE_RE = re.compile(r"<!--pg:live:quote:([A-Za-z0-9._-]+)-->(.*?)<!--/pg:live-->", re.DOTALL)
COMMENTS_RE = re.compile(r"<!--pg:comments:([^>]*?)-->")
OPEN_RE = re.compile(r"<!--pg:open:quote:([A-Za-z0-9._-]+)-->(.*?)<!--/pg:open-->", re.DOTALL)
AWAITING_RE = re.compile(
    r"<!--pg:awaiting:([A-Za-z0-9._ -]*)-->(.*?)<!--/pg:awaiting-->", re.DOTALL
)
PROOF_RE = re.compile(r"<!--pg:proof:([A-Za-z0-9._-]+)-->")
LIVE_PROOF = "_live/proof-received.html"  # "Proof of payment received on {date}"
# Where a page shows a quote whose display follows its decision.
QUOTE_SLOT_RE = re.compile(r"<!--pg:(?:live|open):quote:([A-Za-z0-9._-]+)-->")


def certificate_path(slug: str) -> str:
    """The portal path of the acceptance certificate of quote `slug` (issue 17)."""
    return f"quotes/acceptance/{slug}.pdf"


def live_start(slug: str) -> str:
    return f"<!--pg:live:quote:{slug}-->"


def open_start(slug: str) -> str:
    return f"<!--pg:open:quote:{slug}-->"


def awaiting_start(slugs: Iterable[str]) -> str:
    return f"<!--pg:awaiting:{' '.join(slugs)}-->"


def paid_start(slug: str) -> str:
    return f"<!--pg:paid:{slug}-->"


def proof(slug: str) -> str:
    return f"<!--pg:proof:{slug}-->"


def comments(portal_path: str) -> str:
    return f"<!--pg:comments:{portal_path}-->"


def fill_live(html: str, decisions: dict[str, str]) -> str:
    """Replace every live region whose quote has a decision with its filled-in fragment.

    `decisions` maps a quote slug to the fragment's final HTML (already filled). A helper
    for the gate and the tests; regions without a decision keep their default content.
    """
    return LIVE_RE.sub(lambda m: decisions.get(m.group(1), m.group(0)), html)


def fill_decided(html: str, decided: Collection[str], none_open: str | None) -> str:
    """Drop what is true only while a quote awaits a decision, for the `decided` slugs:
    their open regions, and each awaiting list whose quotes are all decided, which
    becomes `none_open` (kept as it is when that fragment is missing)."""

    def awaiting(m: re.Match[str]) -> str:
        if none_open is not None and set(m.group(1).split()) <= set(decided):
            return none_open
        return m.group(0)

    html = AWAITING_RE.sub(awaiting, html)
    return OPEN_RE.sub(lambda m: "" if m.group(1) in decided else m.group(0), html)
