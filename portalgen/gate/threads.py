"""The comment thread of a page: the customer's earlier comments, filled in as it is served.

``<!--pg:comments:<portal path>-->`` becomes a list of the comments stored for that page
(interact/comments.py: one listing, and a read per comment this process has not seen).
On a quote's page the thread also shows the comment given with its decision. Everything
the customer wrote is HTML-escaped here.

A listing is kept LISTING_TTL seconds per process (the same few seconds a manifest is),
and dropped at once when this process stores a comment in that thread: a customer always
sees the comment they just sent; one sent through another gate process shows within
seconds. Comments themselves never change and stay cached.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from portalgen import slots

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import Visit
    from portalgen.interact.comments import CommentRecord
    from portalgen.interact.decisions import DecisionRecord
    from portalgen.storage import Storage

MAX_CACHE = 20_000
LISTING_TTL = 5.0  # seconds a thread's listing is kept per process


class CommentThreads:
    """Per process: thread listings for a few seconds, comment records for good."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.records: dict[str, CommentRecord] = {}
        self._listings: dict[tuple[str, str], tuple[float, list[str]]] = {}

    def load(self, storage: Storage, customer_key: str, thread: str) -> list[CommentRecord]:
        # the interact modules load with the first page that has a thread (not at start)
        from portalgen.interact.comments import list_thread, read_comments

        now = self.clock()
        cached = self._listings.get((customer_key, thread))
        if cached is not None and cached[0] > now:
            keys = cached[1]
        else:
            keys = list_thread(storage, customer_key, thread)
            if len(self._listings) >= MAX_CACHE:
                self._listings.clear()
            self._listings[(customer_key, thread)] = (now + LISTING_TTL, keys)
        if len(self.records) >= MAX_CACHE:
            self.records.clear()
        return read_comments(storage, keys, self.records)

    def forget(self, customer_key: str, document: str) -> None:
        """This process stored a comment on `document`: list its thread again."""
        from portalgen.interact.comments import thread_of

        self._listings.pop((customer_key, thread_of(document)), None)


def fill_comments(gate: Gate, visit: Visit, html: str) -> str:
    if "<!--pg:comments:" not in html:
        return html
    thread_html = comment_threads(gate, visit)
    return slots.COMMENTS_RE.sub(lambda m: thread_html(m.group(1)), html)


def comment_threads(gate: Gate, visit: Visit) -> Callable[[str], str]:
    """The HTML of a thread of this request's page, each thread rendered once."""
    manifest = gate.manifest(visit)
    language = manifest.language if manifest is not None else gate.branding.language
    threads: dict[str, str] = {}

    def thread_html(thread: str) -> str:
        if thread not in threads:
            threads[thread] = render_thread(gate, visit, thread, language)
        return threads[thread]

    return thread_html


def render_thread(gate: Gate, visit: Visit, thread: str, language: str) -> str:
    comments = gate.threads.load(gate.storage, visit.customer_key, thread)
    decision = _decision_of(visit, thread)
    if not comments and decision is None:
        return ""
    from portalgen.gate.i18n import translations

    _ = translations(language).gettext
    items: list[tuple[datetime, str]] = []
    if decision is not None:
        items.append((decision.when, _decision_item(gate, decision, _)))
    for comment in comments:
        items.append((comment.when, _comment_item(gate, comment, thread)))
    items.sort(key=lambda item: item[0])
    label = escape(_("Your earlier comments"))
    body = "".join(item for _when, item in items)
    return f'<ol class="comment-thread" aria-label="{label}">{body}</ol>'


def _decision_of(visit: Visit, thread: str) -> DecisionRecord | None:
    """The decision of the quote whose page this thread is on, if it came with words."""
    if not (thread.startswith("quotes/") and thread.endswith(".html")):
        return None
    slug = thread.removeprefix("quotes/").removesuffix(".html")
    decided: dict[str, DecisionRecord] = visit.manifest_cache.get("decisions", {})
    found = decided.get(slug)
    return found if found is not None and found.comment else None


def _meta(who: str, when_iso: str, local: str, extra: str = "") -> str:
    return (
        f'<p class="comment-meta"><strong>{escape(who)}</strong> · '
        f'<time datetime="{escape(when_iso)}">{escape(local)}</time>{extra}</p>'
    )


def _comment_item(gate: Gate, comment: CommentRecord, thread: str) -> str:
    local = gate.local_time(comment.when).strftime("%d/%m/%Y %H:%M")
    from portalgen.interact.comments import SHARED_FILES

    about = ""
    if comment.document.startswith(SHARED_FILES) and thread != comment.document:
        about = f" · {escape(comment.document.removeprefix(SHARED_FILES))}"
    meta = _meta(comment.contact, comment.ts, local, about)
    return _item("comment", meta, comment.text)


def _decision_item(gate: Gate, decision: DecisionRecord, gettext: Callable[[str], str]) -> str:
    local = gate.local_time(decision.when).strftime("%d/%m/%Y %H:%M")
    said = (
        gettext("when accepting the quote")
        if decision.decision == "accepted"
        else gettext("when rejecting the quote")
    )
    who = decision.name or decision.contact
    meta = _meta(who, decision.when.isoformat(), local, f" · {escape(said)}")
    return _item("comment comment-decision", meta, decision.comment)


def _item(classes: str, meta: str, text: str) -> str:
    body = f'<p class="comment-text prewrap">{escape(text)}</p>'
    return f'<li class="{classes}">{meta}{body}</li>'
