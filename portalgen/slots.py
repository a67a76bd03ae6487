"""The slots static pages leave for the gate to fill, shared by the renderer and the gate.

Static HTML cannot hold per-session or live state, so the renderer marks where it goes
with HTML comments and the gate fills them when it serves a page (docs/portal.md):

- ``<!--pg:csrf-->`` inside every POST form: the session's CSRF token field.
- ``<!--pg:live:quote:<slug>-->default<!--/pg:live-->`` around a quote's status badge
  and decision forms: replaced by the fragment ``_live/quote-accepted.html`` or
  ``_live/quote-rejected.html`` when a decision exists, with ``{date}`` and ``{name}``
  filled in (``{name}`` HTML-escaped by the gate).
- ``<!--pg:comments:<portal path>-->`` where a document's comment thread goes.

This module must stay tiny and import nothing heavy: the gate imports it.
"""

from __future__ import annotations

import re

CSRF = "<!--pg:csrf-->"
CSRF_FIELD = "csrf_token"  # the hidden input's name the gate writes in place of CSRF

LIVE_END = "<!--/pg:live-->"
LIVE_ACCEPTED = "_live/quote-accepted.html"
LIVE_REJECTED = "_live/quote-rejected.html"
LIVE_FRAGMENTS = {"accepted": LIVE_ACCEPTED, "rejected": LIVE_REJECTED}
DATE_PLACEHOLDER = "{date}"  # dd/mm/yyyy
NAME_PLACEHOLDER = "{name}"  # HTML-escaped by the gate

PDF_SHA256_FIELD = "pdf_sha256"  # hidden field of quote decision forms
DOCUMENT_FIELD = "document"  # comment form field: the portal path of the page, or empty
COMMENT_LIMIT = 2000  # characters of a comment, a reason for rejecting (the forms say it)
NAME_LIMIT = 120  # characters of the name given when accepting a quote

# The quotes of a portal as published, for the gate to decide whether one can still be
# accepted or rejected: {"version": 1, "quotes": {slug: {number, status, valid_until}}}.
QUOTES_INDEX = "_live/quotes.json"

# A document's own page (a quote, order, delivery note or invoice, not a list): it has a
# comment thread, and opening it is recorded as a view.
DOCUMENT_PAGE = re.compile(r"^(quotes|orders|delivery-notes|invoices)/(?!index\.html$)[^/]+\.html$")

# A slug is `model.slugify_number`'s output; a portal path has no "-->" in it either.
LIVE_RE = re.compile(r"<!--pg:live:quote:([A-Za-z0-9._-]+)-->(.*?)<!--/pg:live-->", re.DOTALL)
COMMENTS_RE = re.compile(r"<!--pg:comments:([^>]*?)-->")


def live_start(slug: str) -> str:
    return f"<!--pg:live:quote:{slug}-->"


def comments(portal_path: str) -> str:
    return f"<!--pg:comments:{portal_path}-->"


def fill_live(html: str, decisions: dict[str, str]) -> str:
    """Replace every live region whose quote has a decision with its filled-in fragment.

    `decisions` maps a quote slug to the fragment's final HTML (already filled). A helper
    for the gate and the tests; regions without a decision keep their default content.
    """
    return LIVE_RE.sub(lambda m: decisions.get(m.group(1), m.group(0)), html)
