"""Filling the slots of a portal page as it is served (see portalgen/slots.py).

In order: live quote decisions first (their fragments replace the decision forms), a
proof of payment received (live_upload.py), the comment threads (threads.py), then the
session's CSRF token in every form that is left.

A published page is examined once per gate process (`PublishedPage`: whether it shows
quotes, its UTF-8 bytes cut at its comment and CSRF slots), so serving it again costs
only what changes per request: a listing of the customer's decisions when the page
shows quotes, its comment threads, and the session's CSRF token, joined into the page's
bytes. When a decision changes the page, the rest is filled on its text
(`fill_comments`, `fill_csrf`: ``(gate, visit, html) -> html``).
"""

from __future__ import annotations

import functools
import re
from html import escape
from typing import TYPE_CHECKING

from portalgen import slots
from portalgen.gate.fragments import fragment
from portalgen.gate.threads import comment_threads, fill_comments
from portalgen.interact.decisions import DECISIONS_PREFIX, DecisionRecord

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import Visit

# Where a published page changes per request: a CSRF slot (group 1 None) or a comment
# thread (group 1: the thread's portal path), as fill_csrf and fill_comments find them.
SLOT_RE = re.compile(f"{re.escape(slots.CSRF)}|{slots.COMMENTS_RE.pattern}")


def load_decisions(
    gate: Gate, customer_key: str, slugs: frozenset[str] | set[str]
) -> dict[str, DecisionRecord]:
    """The decisions of these quotes: one listing, then a read per decided quote shown.
    A damaged record counts as no decision (publishing reports it)."""
    prefix = f"{DECISIONS_PREFIX}{customer_key}/"
    found: dict[str, DecisionRecord] = {}
    for info in gate.storage.list(prefix):
        slug = info.key.removeprefix(prefix).removesuffix(".json")
        if slug in slugs:
            raw = gate.storage.get(info.key)
            if raw is None:
                continue
            try:
                record = DecisionRecord.from_json(raw)
                record.when  # noqa: B018 - its date must parse too
            except ValueError:
                continue
            found[slug] = record
    return found


@functools.lru_cache(maxsize=256)
def quote_slots(html: str) -> frozenset[str]:
    """The quotes whose live slots a page has. Pages come from the gate's page cache
    as the same string each time, so a page is searched once, not on every request."""
    return frozenset(slots.QUOTE_SLOT_RE.findall(html))


def fill_quotes(gate: Gate, visit: Visit, html: str) -> str:
    """Every place the page shows a decided quote, as decided: its status (the live
    fragments), and nothing left that says it awaits a decision (slots.fill_decided)."""
    slugs = quote_slots(html)
    if not slugs:
        return html
    decided = load_decisions(gate, visit.customer_key, slugs)
    visit.manifest_cache["decisions"] = decided  # the quote page's thread shows its comment
    if not decided:
        return html
    html = slots.fill_decided(html, decided, fragment(gate, visit, slots.LIVE_NO_OPEN))
    filled: dict[str, str] = {}
    for slug, decision in decided.items():
        template = fragment(gate, visit, slots.LIVE_FRAGMENTS[decision.decision])
        if template is None:
            continue
        day = gate.local_time(decision.when).strftime("%d/%m/%Y")
        name = decision.name or decision.contact
        filled[slug] = template.replace(slots.DATE_PLACEHOLDER, day).replace(
            slots.NAME_PLACEHOLDER, escape(name)
        )
    return slots.fill_live(html, filled)


def csrf_field(visit: Visit) -> str:
    return f'<input type="hidden" name="{slots.CSRF_FIELD}" value="{escape(visit.csrf)}">'


def fill_csrf(gate: Gate, visit: Visit, html: str) -> str:
    return html.replace(slots.CSRF, csrf_field(visit))


class PublishedPage:
    """A page as published, examined once: its text, whether it shows quotes, and its
    UTF-8 bytes cut at its slots: ``pieces`` of (bytes before, slot) and a ``tail``."""

    __slots__ = ("paid", "pieces", "proofs", "quotes", "tail", "text")

    def __init__(self, text: str) -> None:
        from portalgen.gate.live_pay import has_paid_slots

        self.text = text
        self.quotes = slots.QUOTE_SLOT_RE.search(text) is not None
        self.paid = has_paid_slots(text)  # payments made in the portal show here (live_pay)
        self.proofs = slots.PROOF_RE.search(text) is not None
        pieces: list[tuple[bytes, str | None]] = []
        start = 0
        for match in SLOT_RE.finditer(text):
            pieces.append((text[start : match.start()].encode("utf-8"), match.group(1)))
            start = match.end()
        self.pieces = tuple(pieces)
        self.tail = text[start:].encode("utf-8")


def fill_page(gate: Gate, visit: Visit, page: PublishedPage) -> bytes:
    """The page with its slots filled, as UTF-8 bytes: the same bytes as filling its
    text with fill_quotes, fill_comments and fill_csrf in turn, then encoding it."""
    if page.quotes or page.paid or page.proofs:
        html = fill_quotes(gate, visit, page.text) if page.quotes else page.text
        if page.paid:
            from portalgen.gate.live_pay import fill_paid

            html = fill_paid(gate, visit, html)
        if page.proofs:
            from portalgen.gate.live_upload import fill_proofs

            html = fill_proofs(gate, visit, html)
        if html is not page.text:  # a live fragment went in: fill the rest on the text
            return fill_csrf(gate, visit, fill_comments(gate, visit, html)).encode("utf-8")
    if not page.pieces:
        return page.tail
    out: list[bytes] = []
    field = b""
    thread_html = None
    for before, slot in page.pieces:
        out.append(before)
        if slot is None:
            field = field or csrf_field(visit).encode("utf-8")
            out.append(field)
        else:
            thread_html = thread_html or comment_threads(gate, visit)
            out.append(thread_html(slot).encode("utf-8"))
    out.append(page.tail)
    return b"".join(out)
