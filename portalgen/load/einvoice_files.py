"""The frame both e-invoice readers (UBL, Facturae) run in: a folder of XML files, each
parsed safely, checked for its root element, read by the format, and kept only when the
format's reader reported no error for it; then one export of every buyer and invoice.

A format supplies what differs: which root elements it accepts, how to say what it
expected, and how to read one parsed file into its buyer and invoices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from portalgen.domain.model import Customer, Export, Invoice, Origin, Payment
from portalgen.load.einvoice import display_name, merge_parties, xml_files
from portalgen.load.problems import ProblemLog
from portalgen.load.xmlsafe import Element, NotXml, local_name, namespace, parse_xml


@dataclass(frozen=True)
class FileInvoices:
    """What one e-invoice file holds: its buyer, and each invoice with its payments."""

    customer: Customer
    invoices: tuple[tuple[Invoice, tuple[Payment, ...]], ...]
    note: str = ""  # a word for the source summary (Facturae: the signature's status)


@dataclass(frozen=True)
class EinvoiceFormat:
    what: str  # "UBL invoice", "Facturae": what the folder should hold
    expected: str  # what the root element should have been, for the error
    accepts: Callable[[Element], bool]  # whether a root element is this format's
    # Reads one file (its bytes, its parsed root, its display name); None when unusable.
    read: Callable[[bytes, Element, str], FileInvoices | None]


def read_einvoice_files(
    path: Path, fmt: EinvoiceFormat, log: ProblemLog
) -> tuple[list[FileInvoices], int]:
    """Every file of `path` the format could read without an error, and how many files
    there were."""
    files = xml_files(path)
    if not files:
        log.error(Origin(str(path)), "", f"expected {fmt.what} files (*.xml), found none")
    results = []
    for file in files:
        before = len(log.errors)
        result = _read_file(file, display_name(file, path), fmt, log)
        if result is not None and len(log.errors) == before:
            results.append(result)
    return results, len(files)


def export_of(results: list[FileInvoices], source: str) -> Export:
    """One export of every file's buyer (merged by tax id), invoices and payments."""
    pairs = [(invoice, payments) for result in results for invoice, payments in result.invoices]
    parties = [
        (invoice.issue_date, result.customer)
        for result in results
        for invoice, _ in result.invoices
    ]
    return Export(
        customers=merge_parties(parties),
        invoices=tuple(invoice for invoice, _ in pairs),
        payments=tuple(payment for _, payments in pairs for payment in payments),
        source=source,
    )


def _read_file(file: Path, name: str, fmt: EinvoiceFormat, log: ProblemLog) -> FileInvoices | None:
    try:
        data = file.read_bytes()
        root = parse_xml(data)
    except NotXml as exc:
        log.error(Origin(name), "", f"not a well-formed XML file: {exc}")
        return None
    except OSError as exc:
        log.error(Origin(name), "", f"cannot read the file: {exc.strerror}")
        return None
    if not fmt.accepts(root):
        found = f"{{{namespace(root)}}}{local_name(root)}" if namespace(root) else local_name(root)
        log.error(
            Origin(name, "/" + local_name(root)), "", f"expected {fmt.expected}, found {found}"
        )
        return None
    return fmt.read(data, root, name)
