"""Plan one customer's portal: every file with its path, content type, key and renderer.

Phase one derives the facts (statuses, balances, cross-links) once; phase two lists the
files, each with a key that fingerprints exactly what it shows. Rendering is deferred:
publishing calls `render()` only for keys it has not cached. A PDF rendered for a page's
fingerprint, the ZIP and its own file is rendered once (memoised per plan).
"""

from __future__ import annotations

import functools
import hashlib
import json
import mimetypes
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from portalgen.domain.model import (
    AnyDocument,
    CustomerData,
    Order,
    Quote,
    QuoteStatus,
    record_items,
)
from portalgen.errors import RenderError
from portalgen.interact.evidence import Acceptance
from portalgen.plan import PlannedFile, file_sha256, fingerprint
from portalgen.presentation.catalogs import language_of, translations
from portalgen.render.acceptance import certificate_view, signature_uri
from portalgen.render.context import RenderContext
from portalgen.render.files import ZIP_EPOCH, statement_csv, zip_archive
from portalgen.render.views import (
    FOLDER,
    HAS_PDF,
    Facts,
    View,
    document_body,
    document_details,
    home_view,
    list_view,
    order_timeline,
    page_path,
    payable_invoices,
    payments_view,
    pdf_path,
    shared_view,
)
from portalgen.slots import (
    INVOICES_INDEX,
    LIVE_FRAGMENTS,
    LIVE_NO_OPEN,
    LIVE_PAID,
    LIVE_PROOF,
    QUOTES_INDEX,
    certificate_path,
)
from portalgen.verification import Issued, mask_tax_id

HTML = "text/html; charset=utf-8"
PDF = "application/pdf"
PDF_TEMPLATES = {
    "quote": "pdf/quote.html",
    "delivery_note": "pdf/delivery_note.html",
    "invoice": "pdf/invoice.html",
}


class PortalPlanner:
    def __init__(
        self,
        data: CustomerData,
        context: RenderContext,
        decisions: Mapping[str, QuoteStatus] | None = None,
        acceptances: Mapping[str, Acceptance] | None = None,
    ) -> None:
        self.data = data
        self.ctx = context
        self.acceptances = dict(acceptances or {})  # quote number -> accepted in the portal
        self.facts = Facts(data, context.settings, context.today, dict(decisions or {}))
        self.language = language_of(data.customer.language, context.settings)
        self.env = context.env(self.language)
        self.files: list[PlannedFile] = []
        self.pdfs: dict[str, PlannedFile] = {}  # portal path -> planned PDF
        self.statement_date: date | None = None
        self.customer_token = fingerprint(data.customer)
        self.bodies: dict[str, dict[str, View]] = {}

    # -- building blocks -----------------------------------------------------------------

    def add(
        self,
        path: str,
        content_type: str,
        key: str,
        render: Callable[[], bytes],
        issued: Issued | None = None,
    ) -> PlannedFile:
        planned = PlannedFile(path, content_type, key, functools.cache(render), issued)
        self.files.append(planned)
        return planned

    def digest(self, planned: PlannedFile) -> str:
        """The SHA-256 of a planned PDF, rendering it only if nobody knows it yet."""
        known = self.ctx.digests.get(planned.key)
        if known is None:
            known = hashlib.sha256(planned.render()).hexdigest()
            self.ctx.digests[planned.key] = known
        return known

    def content(self, planned: PlannedFile) -> bytes:
        """A planned file's bytes: from the context's `fetch` (publishing's cache) if it
        has them, else rendered. The ZIP uses it, so an unchanged PDF is not re-rendered."""
        if self.ctx.fetch is not None:
            known = self.ctx.fetch(planned.key)
            if known is not None:
                return known
        return planned.render()

    def template(self, name: str, path: str, view: View, **extra: Any) -> str:
        return self.env.get_template(name).render(
            page_path=path, customer=self.data.customer, **view, **extra
        )

    def view_key(self, kind: str, name: str, path: str, view: View, *extra: Any) -> str:
        """The render key of a page or PDF: everything its template is given.

        A document's body (lines, taxes, totals) is a pure function of the document, so
        it enters the key as the document's own fingerprint, computed once per plan.
        """
        body = view.get("doc")
        keyed = {**view, "doc": body["token"]} if isinstance(body, dict) else view
        # Views hold plain values (str, Decimal, date, Money and small frozen dataclasses
        # without `origin`), whose repr is exact and stable: much cheaper than JSON.
        text = repr((kind, name, path, self.language, self.customer_token, keyed, extra))
        if " at 0x" in text:  # an object without a real repr: fall back to the slow path
            return self.ctx.key(kind, name, path, self.language, self.customer_token, keyed, *extra)
        return self.ctx.key(text)

    def body(self, doc: AnyDocument) -> View:
        if doc.slug not in self.bodies.get(doc.kind, {}):
            body = document_body(doc)
            body["token"] = document_token(doc)
            self.bodies.setdefault(doc.kind, {})[doc.slug] = body
        return self.bodies[doc.kind][doc.slug]

    def page(self, path: str, name: str, view: View, pdf: PlannedFile | None = None) -> None:
        key = self.view_key("page", name, path, view, pdf.key if pdf else None)

        def render() -> bytes:
            sha = self.digest(pdf) if pdf is not None else ""
            return self.template(name, path, view, pdf_sha256=sha).encode()

        self.add(path, HTML, key, render)

    def pdf(self, doc: AnyDocument) -> PlannedFile:
        path = pdf_path(doc)
        original = doc.original_pdf
        issued = self.issued(doc.kind, doc.number, doc.issue_date)
        if self.ctx.settings.portal.pdf == "original" and original is not None:
            planned = self.original_pdf(path, original, issued)
        else:
            view = {"doc": self.body(doc), **document_details(self.facts, doc, for_pdf=True)}
            planned = self.rendered_pdf(path, PDF_TEMPLATES[doc.kind], view, issued=issued)
        self.pdfs[path] = planned
        return planned

    def issued(self, kind: str, number: str, when: date | None) -> Issued:
        """What a PDF is, for the verification index (the customer only by masked tax id)."""
        masked = mask_tax_id(self.data.customer.tax_id)
        return Issued(kind, number, when.isoformat() if when else "", masked)

    def original_pdf(self, path: str, source: Path, issued: Issued | None = None) -> PlannedFile:
        """The invoicing program's own PDF: published as it is, unless `signing.originals`
        asks for it to be sealed too (a seal added to someone else's PDF would claim what
        the company did not sign, so it is the business's explicit choice)."""
        sealer = self.ctx.sealer if self.ctx.settings.signing.originals else None
        if sealer is None:
            return self.add(path, PDF, fingerprint("original", source), source.read_bytes, issued)
        key = self.ctx.key("sealed original", source)

        def render() -> bytes:
            try:
                return self.ctx.seal(source.read_bytes(), self.language)
            except RenderError as exc:
                raise RenderError(f"{source}: {exc}") from exc

        return self.add(path, PDF, key, render, issued)

    def rendered_pdf(
        self,
        path: str,
        name: str,
        view: View,
        unkeyed: View | None = None,
        issued: Issued | None = None,
    ) -> PlannedFile:
        """A PDF of ours. `unkeyed` goes to the template without entering the key: only
        what the view already stands for (a signature image named by its SHA-256).
        `issued` says what the document is, for the verification index."""
        key = self.view_key("pdf", name, "", view)

        def render() -> bytes:
            html = self.template(name, path, view, **(unkeyed or {}))
            content = self.ctx.pdf_engine().render(html, self.language)
            self.ctx.digests[key] = hashlib.sha256(content).hexdigest()
            return content

        return self.add(path, PDF, key, render, issued)

    # -- the portal ----------------------------------------------------------------------

    def plan(self) -> list[PlannedFile]:
        facts = self.facts
        sections = self.ctx.settings.portal.sections
        home = home_view(facts)
        home["pdf_count"] = sum(
            1 for d in self.data.all_documents() if d.kind in HAS_PDF and d.kind in facts.enabled
        )
        home["pdf_count"] += int(sections.payments) + sum(
            1 for d in self.data.documents if sections.documents and d.content_type == PDF
        )
        self.page("index.html", "pages/home.html", home)
        for kind in FOLDER:
            if kind in facts.enabled:
                self.section(kind)
        if sections.payments:
            self.payments()
        if sections.documents:
            self.shared()
        self.page("contact.html", "pages/contact.html", {})
        self.archive()
        self.static()
        return self.files

    def section(self, kind: str) -> None:
        folder = FOLDER[kind]
        self.page(f"{folder}/index.html", f"pages/{folder}.html", list_view(self.facts, kind))
        for doc in (d for d in self.data.all_documents() if d.kind == kind):
            pdf = self.pdf(doc) if kind in HAS_PDF else None
            view = {
                "doc": self.body(doc),
                "row": self.facts.row(doc),
                **document_details(self.facts, doc, for_pdf=False),
                "pdf": pdf_path(doc) if pdf else None,
                "original": pdf is not None and self.is_original(doc),
            }
            if isinstance(doc, Quote):
                view["quote_terms"] = self.ctx.settings.portal.quote_terms
                view["signature_mode"] = self.ctx.settings.portal.acceptance.signature
                view["certificate"] = self.certificate(doc)
            if isinstance(doc, Order):
                view["timeline"] = order_timeline(doc)
                view["delivered"] = doc.delivered_date
                view["shipped"] = doc.shipped_date
            self.page(page_path(doc), f"pages/{kind}.html", view, pdf)
        if kind == "invoice" and self.ctx.settings.uploads.enabled:
            self.page(LIVE_PROOF, "pages/live.html", {"status": "proof-received"})
        if kind == "quote":
            for status, path in LIVE_FRAGMENTS.items():
                self.page(path, "pages/live.html", {"status": status})
            self.page(LIVE_NO_OPEN, "pages/live.html", {"status": "none-open"})
            self.quote_index()
        if kind == "invoice" and self.ctx.settings.payments.online.methods:  # "Pay now"
            self.page(LIVE_PAID, "pages/live.html", {"status": "paid"})
            self.invoice_index()

    def certificate(self, quote: Quote) -> str | None:
        """Plan the acceptance certificate of a quote accepted in the portal; its path."""
        acceptance = self.acceptances.get(quote.number)
        if acceptance is None or self.facts.status(quote) != "accepted":
            return None
        path = certificate_path(quote.slug)
        view = certificate_view(quote, acceptance)
        image = {"signature_uri": signature_uri(acceptance)}
        issued = self.issued("acceptance", quote.number, _day(acceptance.evidence.local))
        self.pdfs[path] = self.rendered_pdf(path, "pdf/acceptance.html", view, image, issued)
        return path

    def quote_index(self) -> None:
        """`_live/quotes.json`: each quote's status as published and its valid-until date,
        so the gate can tell whether it may still be accepted or rejected; its total and,
        from an export that has them, the program's own id and state (for `push`)."""
        quotes = {}
        for quote in self.data.quotes:
            row = self.facts.row(quote)
            entry = {
                "number": row["number"],
                "status": row["status"],
                "valid_until": row["valid_until"].isoformat() if row["valid_until"] else None,
                "total": str(quote.totals.total.amount),
                "currency": quote.currency,
            }
            terms = quote_terms(self.ctx.settings.portal.quote_terms, quote.terms)
            if terms:  # what the page shows before the buttons, for the evidence
                entry["terms"] = terms
            if quote.source_id:  # what `portalgen push` checks the program against
                entry["source"] = {"id": quote.source_id, "state": quote.source_state}
            quotes[row["slug"]] = entry
        body = {"version": 1, "quotes": dict(sorted(quotes.items()))}
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        self.add(QUOTES_INDEX, "application/json", self.ctx.key("quotes.json", body), lambda: data)

    def invoice_index(self) -> None:
        """`_live/invoices.json`: what each unpaid invoice asks for as published
        (payable_invoices), so the gate takes the amount of a payment from here."""
        body = {"version": 1, "invoices": payable_invoices(self.facts)}
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        key = self.ctx.key("invoices.json", body)
        self.add(INVOICES_INDEX, "application/json", key, lambda: data)

    def is_original(self, doc: AnyDocument) -> bool:
        return self.ctx.settings.portal.pdf == "original" and doc.original_pdf is not None

    def payments(self) -> None:
        view = payments_view(self.facts)
        self.statement_date = max(
            (s["until"] for s in view["statements"] if s["until"]), default=None
        )
        statement_pdf = self.rendered_pdf(
            "payments/statement.pdf",
            "pdf/statement.html",
            {"statements": view["statements"]},
            issued=self.issued("statement", "", self.statement_date),
        )
        self.pdfs["payments/statement.pdf"] = statement_pdf
        self.page("payments/index.html", "pages/payments.html", view)
        locale = self.ctx.locale(self.language)
        key = self.ctx.key("csv", self.language, view["statements"])
        gettext = translations(self.language).gettext

        def render() -> bytes:
            return statement_csv(view["statements"], locale, gettext)

        self.add("payments/statement.csv", "text/csv; charset=utf-8", key, render)

    def shared(self) -> None:
        view = shared_view(self.facts)
        self.page("documents/index.html", "pages/documents.html", view)
        for doc in self.data.documents:
            self.add(
                f"documents/files/{doc.name}",
                doc.content_type,
                fingerprint("file", doc.path),
                doc.path.read_bytes,
            )

    def archive(self) -> None:
        """Every PDF of the customer in one ZIP, each dated by its document."""
        dates = {pdf_path(d): d.issue_date for d in self.data.all_documents() if d.kind in HAS_PDF}
        members: list[tuple[str, date, Callable[[], bytes]]] = []
        keys = []
        for path, planned in self.pdfs.items():
            when = dates.get(path) or self.statement_date or ZIP_EPOCH
            members.append((path, when, functools.partial(self.content, planned)))
            keys.append((path, planned.key, when))
        if self.ctx.settings.portal.sections.documents:
            for doc in self.data.documents:
                if doc.content_type == PDF:
                    name = f"documents/{doc.name}"
                    members.append((name, doc.modified, doc.path.read_bytes))
                    keys.append((name, fingerprint("file", doc.path), doc.modified))
        if members:
            self.add(
                "download/all-documents.zip",
                "application/zip",
                self.ctx.key("zip", keys),
                lambda: zip_archive(members),
            )

    def static(self) -> None:
        self.add(
            "static/theme.css",
            "text/css; charset=utf-8",
            self.ctx.key("theme.css"),
            lambda: self.env.get_template("static/theme.css").render(page_path="").encode(),
        )
        for path, content_type, key, source in static_files(self.ctx):
            self.add(path, content_type, key, source.read_bytes)


def _day(stamp: str) -> date | None:
    """The date of an ISO 8601 time stamp (the acceptance's local time), or None."""
    try:
        return datetime.fromisoformat(stamp).date()
    except ValueError:
        return None


def _values(record: Any) -> tuple[Any, ...]:
    return tuple(v for k, v in record_items(record) if k != "origin")


def _by_content(value: Any) -> Any:
    """A file stands for its name and content, not where the export happens to be (an
    export copied to another folder must not re-render anything)."""
    if isinstance(value, Path):
        return ("file", value.name, file_sha256(value) if value.is_file() else None)
    return value


def document_token(doc: AnyDocument) -> str:
    """A document's fingerprint, fast: every field but `origin` (where the row came from).

    Equivalent to `plan.fingerprint(doc)` for render keys, at a fraction of the cost (a
    portal has hundreds of documents and every one is keyed). Values are str, Decimal,
    date and frozen dataclasses of those, whose repr is exact and stable; a Path counts by
    its name and content.
    """
    lines = tuple(_values(line) for line in doc.lines)
    fields = tuple(
        (k, _by_content(v)) for k, v in record_items(doc) if k not in ("origin", "lines")
    )
    text = repr((type(doc).__name__, fields, lines))
    return hashlib.sha256(text.encode()).hexdigest()


def static_files(context: RenderContext) -> list[tuple[str, str, str, Path]]:
    """The theme's assets with their content types and keys (the same for every customer)."""
    cached = context.cache.get("static")
    if cached is None:
        cached = []
        for path, source in sorted(context.theme.static.items()):
            content_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
            if content_type.startswith("text/") or content_type.endswith("javascript"):
                content_type += "; charset=utf-8"
            cached.append((path, content_type, fingerprint("static", path, source), source))
        context.cache["static"] = cached
    return cached


def quote_terms(general: str, own: str) -> str:
    """The terms a quote's page shows before its decision forms, as one text."""
    return "\n\n".join(t.strip() for t in (general, own) if t.strip())


def plan_portal(
    data: CustomerData,
    context: RenderContext,
    decisions: Mapping[str, QuoteStatus] | None = None,
    acceptances: Mapping[str, Acceptance] | None = None,
) -> list[PlannedFile]:
    """Every file of `data.customer`'s portal, planned (nothing rendered yet).

    `decisions` maps a quote number to "accepted" or "rejected" when the customer decided
    in the portal (publishing reads them from storage): the quote is shown decided even
    if the export still says pending. `acceptances` (quote number -> the acceptance and
    its evidence, also from storage) give those quotes their acceptance certificate.
    """
    return PortalPlanner(data, context, decisions, acceptances).plan()


def render_portal(data: CustomerData, context: RenderContext) -> dict[str, bytes]:
    """The whole portal rendered: portal path -> bytes (for `portalgen build` and tests)."""
    return {planned.path: planned.render() for planned in plan_portal(data, context)}
