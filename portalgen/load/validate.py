"""Checks across the whole export: references, duplicates, identifiers, totals, QR URLs.

Readers check single values; this module checks what only the whole export can tell
(does the invoice a payment points at exist? is that number used twice?). It is the same
for every input format, which is why every reader produces the same model.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal

from portalgen.domain.formatting import plain_amount
from portalgen.domain.identifiers import compact, iban_problem, tax_id_problem
from portalgen.domain.model import DOCUMENT_KINDS, AnyDocument, Export, Invoice, Origin
from portalgen.domain.totals import totals_mismatch
from portalgen.domain.verifactu import QrUrlError, parse_qr_url
from portalgen.load.combine import Issued
from portalgen.load.options import LoadOptions
from portalgen.load.problems import ProblemLog

KIND_LABEL = {
    "quote": "quote",
    "order": "order",
    "delivery_note": "delivery note",
    "invoice": "invoice",
}


def validate_export(
    export: Export, options: LoadOptions, log: ProblemLog, issued: Issued | None = None
) -> None:
    issued = issued or Issued()
    _customers(export, log, issued)
    customers = set(export.customer_codes())
    numbers: dict[str, set[str]] = {}
    for kind in DOCUMENT_KINDS:
        docs = export.documents_of_kind(kind)
        _unique_documents(docs, kind, log)
        numbers[kind] = {d.number for d in docs}
        for doc in docs:
            if doc.customer_code not in customers and not _refers(
                log, "customer", doc.customer_code, KIND_LABEL[kind], doc.origin
            ):
                log.error(doc.origin, "customer", f"no customer with code {doc.customer_code!r}")
                log.unreadable(kind, doc.number, doc.origin)  # its payments follow it
            _totals(doc, log)
    _links(export, numbers, log, issued)
    _payments(export, customers, log)
    for doc in export.quotes:
        if doc.valid_until is not None and doc.valid_until < doc.issue_date:
            log.error(doc.origin, "valid_until", "the quote expires before it was issued")
    for order in export.orders:
        if (
            order.delivered_date
            and order.shipped_date
            and order.delivered_date < order.shipped_date
        ):
            log.warning(order.origin, "delivered_date", "delivered before it was shipped")
    for invoice in export.invoices:
        if invoice.verifactu_qr_url:
            _verifactu(invoice, options, log)
    for shared in export.documents:
        if _refers(log, "customer", shared.customer_code, "shared document", shared.origin):
            continue
        if shared.customer_code not in customers:
            log.error(
                shared.origin,
                "",
                f"the folder documents/{shared.customer_code} does not match any customer code",
            )


def _customers(export: Export, log: ProblemLog, issued: Issued) -> None:
    seen: dict[str, Origin] = {}
    for customer in export.customers:
        if customer.code in seen:
            log.error(
                customer.origin,
                "code",
                f"customer code {customer.code!r} is used twice "
                f"(first in {_where(seen[customer.code])})",
            )
        else:
            seen[customer.code] = customer.origin
        problem = tax_id_problem(customer.tax_id, customer.address.country)
        if problem and customer.code in issued.customers:
            log.warning(customer.origin, "tax_id", f"{problem}; it is shown as the invoice has it")
        elif problem:
            log.error(customer.origin, "tax_id", problem)
        if customer.iban and (problem := iban_problem(customer.iban)):
            log.error(customer.origin, "iban", problem)


def _unique_documents(docs: Sequence[AnyDocument], kind: str, log: ProblemLog) -> None:
    by_number: dict[str, AnyDocument] = {}
    by_slug: dict[str, AnyDocument] = {}
    for doc in docs:
        if doc.key in by_number:
            log.error(
                doc.origin,
                "number",
                f"{KIND_LABEL[kind]} number {doc.number!r} is used "
                f"twice (first in {_where(by_number[doc.key].origin)})",
            )
            continue
        other = by_slug.get(doc.slug)
        if other is not None:
            log.error(
                doc.origin,
                "number",
                f"{KIND_LABEL[kind]} numbers {other.number!r} and "
                f"{doc.number!r} differ only in punctuation; they would share a web address",
            )
        by_number[doc.key] = doc
        by_slug[doc.slug] = doc


def _refers(log: ProblemLog, what: str, key: str, noun: str, origin: Origin) -> bool:
    """Whether a record refers to an unreadable one: then it is noted as not checked,
    instead of reporting the missing reference as one more error (docs/export-format.md)."""
    if not log.is_broken(what, key):
        return False
    log.skip(what, key, noun, origin)
    return True


def _totals(doc: AnyDocument, log: ProblemLog) -> None:
    if _refers(log, f"{doc.kind} lines", doc.number, "totals", doc.origin):
        return
    if doc.taxes:  # the reader computed the breakdown by the program's rules and checked it
        return
    for name, declared, computed in totals_mismatch(doc.totals, doc.lines):
        message = (
            f"the {name} is {plain_amount(declared)} but the lines add up to "
            f"{plain_amount(computed)}"
        )
        log.warning(doc.origin, name, message)


def _links(export: Export, numbers: dict[str, set[str]], log: ProblemLog, issued: Issued) -> None:
    # A corrected invoice is named by its number: an invoice, else a credit note.
    invoices_by_number = {i.number: i for i in sorted(export.invoices, key=_invoices_last)}
    for invoice in export.invoices:
        if invoice.corrects and not _refers(
            log, "invoice", invoice.corrects, "corrective invoice", invoice.origin
        ):
            target = invoices_by_number.get(invoice.corrects)
            if target is None and invoice.key in issued.invoices:
                log.warning(
                    invoice.origin,
                    "corrects",
                    f"the corrected invoice {invoice.corrects!r} is not in the export; "
                    "it is named but not linked",
                )
            elif target is None:
                log.error(invoice.origin, "corrects", f"no invoice numbered {invoice.corrects!r}")
            elif target.customer_code != invoice.customer_code:
                log.error(
                    invoice.origin,
                    "corrects",
                    f"invoice {invoice.corrects!r} belongs to another customer",
                )
        if (
            invoice.order
            and invoice.order not in numbers["order"]
            and not _refers(log, "order", invoice.order, "invoice", invoice.origin)
        ):
            log.error(invoice.origin, "order", f"no order numbered {invoice.order!r}")
        for note_number in invoice.delivery_notes:
            if _refers(log, "delivery_note", note_number, "invoice", invoice.origin):
                continue
            if note_number not in numbers["delivery_note"]:
                log.error(
                    invoice.origin, "delivery_notes", f"no delivery note numbered {note_number!r}"
                )
    for order in export.orders:
        if _refers(log, "quote", order.quote, "order", order.origin):
            continue
        if order.quote and order.quote not in numbers["quote"]:
            log.error(order.origin, "quote", f"no quote numbered {order.quote!r}")
    for note in export.delivery_notes:
        if _refers(log, "order", note.order, "delivery note", note.origin):
            continue
        if note.order and note.order not in numbers["order"]:
            log.error(note.origin, "order", f"no order numbered {note.order!r}")


def _invoices_last(invoice: Invoice) -> bool:
    return not invoice.credit_note


def _payments(export: Export, customers: set[str], log: ProblemLog) -> None:
    invoices = {i.key: i for i in export.invoices}
    counts = Counter(p.number for p in export.payments)
    reported: set[str] = set()
    receipts_total: dict[str, Decimal] = defaultdict(Decimal)
    for payment in export.payments:
        if counts[payment.number] > 1 and payment.number not in reported:
            log.error(
                payment.origin,
                "number",
                f"payment number {payment.number!r} is used {counts[payment.number]} times",
            )
            reported.add(payment.number)
        invoice = invoices.get(payment.invoice)
        if _refers(log, "invoice", payment.invoice, "payment", payment.origin):
            continue
        if invoice is None:
            log.error(payment.origin, "invoice", f"no invoice numbered {payment.invoice!r}")
            if payment.customer_code and payment.customer_code not in customers:
                log.error(
                    payment.origin, "customer", f"no customer with code {payment.customer_code!r}"
                )
            continue
        if payment.customer_code != invoice.customer_code:
            log.error(
                payment.origin,
                "customer",
                f"invoice {invoice.number!r} belongs to customer "
                f"{invoice.customer_code!r}, not {payment.customer_code!r}",
            )
        if payment.amount.currency != invoice.currency:
            log.error(
                payment.origin,
                "currency",
                f"invoice {invoice.number!r} is in "
                f"{invoice.currency}, the payment in {payment.amount.currency}",
            )
        receipts_total[invoice.key] += payment.amount.amount
    for number, amount in receipts_total.items():
        invoice = invoices[number]
        total = invoice.totals.total.amount
        if total > 0 and amount > total:
            log.warning(
                invoice.origin,
                "total",
                f"its receipts add up to {amount}, more than the invoice total {total}",
            )


def _verifactu(invoice: Invoice, options: LoadOptions, log: ProblemLog) -> None:
    field = "verifactu_qr_url"
    try:
        qr = parse_qr_url(invoice.verifactu_qr_url)
    except QrUrlError as exc:
        log.error(invoice.origin, field, str(exc))
        return
    if qr.environment == "test" and not options.allow_test_verifactu:
        log.warning(
            invoice.origin,
            field,
            "the QR URL points at the AEAT test environment "
            "(set verifactu.allow_test_endpoint to accept it)",
        )
    if qr.fecha != invoice.issue_date:
        log.error(
            invoice.origin,
            field,
            f"the QR date {qr.fecha:%d-%m-%Y} is not the issue date {invoice.issue_date:%d-%m-%Y}",
        )
    if qr.numserie != invoice.number:
        log.warning(
            invoice.origin,
            field,
            f"the QR numserie {qr.numserie!r} is not the invoice number {invoice.number!r}",
        )
    if qr.importe != invoice.totals.total.amount:
        log.warning(
            invoice.origin,
            field,
            f"the QR importe {qr.importe} is not the invoice total {invoice.totals.total.amount}",
        )
    if options.company_tax_id and compact(options.company_tax_id)[-9:] != qr.nif.upper():
        log.error(
            invoice.origin,
            field,
            f"the QR nif {qr.nif!r} is not the company's tax id {options.company_tax_id!r}",
        )


def _where(origin: Origin) -> str:
    return ", ".join(p for p in (origin.file, origin.location) if p)
