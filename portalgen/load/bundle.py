"""The native export bundle: a folder of CSV files, or the same data as export.json/.yaml.

Both forms become the same raw records (origin + column → value), parsed by the same
column definitions (portalgen.load.schema), so they give the same model and the same
error messages. Shared files come from ``documents/<customer code>/`` and the invoicing
program's own PDFs from ``pdf/<table>/<number>.pdf`` next to the data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from portalgen.domain.model import (
    Address,
    Customer,
    DeliveryNote,
    Document,
    DocumentKind,
    Export,
    Invoice,
    Line,
    Money,
    Order,
    Origin,
    Payment,
    Quote,
    Totals,
    slugify_number,
)
from portalgen.domain.totals import compute_totals
from portalgen.load import schema
from portalgen.load.bundle_csv import CsvTables
from portalgen.load.bundle_json import RawRecord, read_json_or_yaml
from portalgen.load.fields import FieldError
from portalgen.load.options import LoadOptions
from portalgen.load.own_files import IGNORED_FILES, OwnFiles, read_shared_documents
from portalgen.load.problems import ProblemLog

JSON_NAMES = ("export.json", "export.yaml", "export.yml")
DOCUMENT_CLASSES: dict[DocumentKind, type[Document]] = {
    "quote": Quote,
    "order": Order,
    "delivery_note": DeliveryNote,
    "invoice": Invoice,
}


class BundleReader:
    """Reads the native bundle. See docs/export-format.md."""

    name = "bundle"

    def detect(self, path: Path) -> bool:
        if path.is_file():
            return path.name.lower().endswith((".json", ".yaml", ".yml"))
        return (path / "customers.csv").is_file() or any((path / n).is_file() for n in JSON_NAMES)

    def read(self, path: Path, options: LoadOptions, log: ProblemLog) -> Export:
        if path.is_dir() and (path / "customers.csv").is_file():
            tables = CsvTables(path, log)  # each table read as it is built
            export = _build_export(tables.records, path, options, log)
            tables.finish()
            form = "CSV"
        else:
            file = (
                path
                if path.is_file()
                else next(path / n for n in JSON_NAMES if (path / n).is_file())
            )
            export = _build_export(_json_tables(file, log), file.parent, options, log)
            form = "JSON" if file.suffix.lower() == ".json" else "YAML"
        _moneys.clear()  # the records keep theirs (see _money)
        return Export(
            **{k: getattr(export, k) for k in _EXPORT_PARTS},
            source=f"{form} bundle in {path}",
        )


_EXPORT_PARTS = (
    "customers",
    "quotes",
    "orders",
    "delivery_notes",
    "invoices",
    "payments",
    "documents",
)


def _json_tables(file: Path, log: ProblemLog) -> Tables:
    tables = read_json_or_yaml(file, log)
    return lambda name: tables.get(name, [])


# -- building the model ---------------------------------------------------------------------

# A table's records by the table's name (schema.Table.name), none for a missing table.
Tables = Callable[[str], Iterable[RawRecord]]


def _parse(
    record: RawRecord, columns: tuple[schema.Column, ...], log: ProblemLog
) -> dict[str, Any] | None:
    """Parse a record's values by column; None (after logging) if any field is wrong."""
    result: dict[str, Any] = {}
    ok = True
    get = record.values.get
    for name, parse, required, default in _column_parts(columns):
        raw = get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                log.error(record.origin, name, "this field is required but empty")
                ok = False
            result[name] = default
            continue
        try:
            result[name] = parse(raw)
        except FieldError as exc:
            log.error(record.origin, name, str(exc))
            ok = False
    return result if ok else None


_ColumnParts = tuple[tuple[str, Any, bool, Any], ...]
_parts_of: dict[int, tuple[tuple[schema.Column, ...], _ColumnParts]] = {}


def _key(record: RawRecord, column: str) -> str:
    """A record's number or code as written, even when the record cannot be read."""
    return str(record.values.get(column, "")).strip()


def _column_parts(columns: tuple[schema.Column, ...]) -> _ColumnParts:
    """(name, parser, required, default) of each column: read once per table, not once
    per cell (an export has hundreds of thousands of cells). Keyed by identity: hashing
    the columns would cost more than it saves."""
    found = _parts_of.get(id(columns))
    if found is None or found[0] is not columns:
        found = columns, tuple((c.name, c.parse, c.required, c.default) for c in columns)
        _parts_of[id(columns)] = found
    return found[1]


def _build_export(tables: Tables, base: Path, options: LoadOptions, log: ProblemLog) -> Export:
    customers = tuple(_customers(tables("customers"), log))
    documents: dict[DocumentKind, tuple[Document, ...]] = {}
    pdfs = {kind: _pdf_names(base / "pdf" / table.name) for kind, table in _DOC_TABLES}
    for kind, table in _DOC_TABLES:
        lines = _lines(tables(schema.LINE_TABLES[kind].name), kind, log)
        documents[kind] = tuple(
            _documents(tables(table.name), kind, lines, base, pdfs[kind], options, log)
        )
    invoices = {doc.number: doc for doc in documents["invoice"]}
    payments = tuple(_payments(tables("payments"), invoices, options, log))
    _report_orphan_pdfs(base, documents, pdfs, log)
    every = (doc for docs in documents.values() for doc in docs)
    shared = read_shared_documents(base / "documents", log)
    return Export.assemble(customers, every, payments, shared)


_DOC_TABLES = tuple(schema.DOCUMENT_TABLES.items())


def _pdf_names(folder: Path) -> list[str] | None:
    """The names in one of the invoicing program's PDF folders, sorted (listed once for
    matching documents and for reporting the files nothing matches); None if no folder."""
    try:
        return sorted(os.listdir(folder)) if folder.is_dir() else None
    except NotADirectoryError:
        return None


def _customers(records: Iterable[RawRecord], log: ProblemLog) -> Iterator[Customer]:
    for record in records:
        v = _parse(record, schema.CUSTOMERS, log)
        if v is None:
            log.unreadable("customer", _key(record, "code"), record.origin)
            continue
        yield Customer(
            code=v["code"],
            name=v["name"],
            tax_id=v["tax_id"],
            emails=v["emails"],
            language=v["language"],
            trade_name=v["trade_name"],
            address=Address(v["street"], v["postal_code"], v["city"], v["province"], v["country"]),
            phone=v["phone"],
            iban=v["iban"],
            account_manager=v["account_manager"],
            notify=v["notify"],
            origin=record.origin,
        )


@dataclass(frozen=True)
class _ParsedLine:
    document: str
    position: int
    line: Line


def _lines(
    records: Iterable[RawRecord], kind: DocumentKind, log: ProblemLog
) -> dict[str, list[_ParsedLine]]:
    columns = schema.LINE_TABLES[kind].columns
    by_document: dict[str, list[_ParsedLine]] = {}
    for index, record in enumerate(records):
        v = _parse(record, columns, log)
        if v is None:
            # Still attach a placeholder so the document is not also reported as line-less,
            # and leave its totals unchecked (they cannot match the lines that were read).
            document = _key(record, "document")
            by_document.setdefault(document, [])
            log.unreadable(f"{kind} lines", document, record.origin)
            continue
        line = Line(
            description=v["description"],
            quantity=v["quantity"],
            unit_price=v["unit_price"],
            discount=v["discount"],
            tax_rate=v["tax_rate"],
            surcharge_rate=v["surcharge_rate"],
            withholding_rate=v["withholding_rate"],
            unit=v["unit"],
            reference=v["reference"],
            origin=record.origin,
        )
        by_document.setdefault(v["document"], []).append(
            _ParsedLine(v["document"], v["position"] or index + 1, line)
        )
    return by_document


def _documents(
    records: Iterable[RawRecord],
    kind: DocumentKind,
    lines: dict[str, list[_ParsedLine]],
    base: Path,
    pdf_names: list[str] | None,
    options: LoadOptions,
    log: ProblemLog,
) -> Iterator[Document]:
    """The documents of one kind, as their records are read. Lines that name none of
    them are reported first, before the documents' own problems (kept aside meanwhile),
    as when the whole table was read before any document was built."""
    table = schema.DOCUMENT_TABLES[kind]
    line_file = schema.LINE_TABLES[kind].filename
    cls = DOCUMENT_CLASSES[kind]
    pdf_folder = base / "pdf" / table.name
    pdfs = set(pdf_names or ())
    own = OwnFiles(pdf_folder, f"pdf/{table.name}", recursive=False) if pdfs else None
    common = {c.name for c in schema.DOCUMENT}
    known_numbers: set[str] = set()
    later = ProblemLog(broken_tables=log.broken_tables, broken=log.broken, skipped=log.skipped)
    for record in records:
        known_numbers.add(_key(record, "number"))
        v = _parse(record, table.columns, later)
        if v is None:
            later.unreadable(kind, _key(record, "number"), record.origin)
            continue
        currency = v["currency"] or options.currency
        parsed_lines = lines.get(v["number"])
        if schema.LINE_TABLES[kind].name in log.broken_tables:
            later.unreadable(f"{kind} lines", v["number"], Origin(line_file, "header"))
        elif parsed_lines is None:
            where = f" in {line_file}" if record.origin.file.endswith(".csv") else ""
            later.error(record.origin, "number", f"the document has no lines{where}")
        # Still build it, so what refers to it (payments, corrections) is not reported too.
        doc_lines = tuple(p.line for p in sorted(parsed_lines or (), key=lambda p: p.position))
        extra = {k: v[k] for k in v if k not in common}
        if kind == "invoice" and "delivery_notes" in extra:
            extra["delivery_notes"] = tuple(extra["delivery_notes"])
        yield cls(
            number=v["number"],
            customer_code=v["customer"],
            issue_date=v["issue_date"],
            currency=currency,
            lines=doc_lines,
            totals=_declared_totals(v, doc_lines, currency),
            series=v["series"],
            reference=v["reference"],
            notes=v["notes"],
            original_pdf=_original_pdf(base, own, pdfs, v["number"], later),
            origin=record.origin,
            **extra,
        )
    _report_orphan_lines(kind, lines, known_numbers, log)
    log.problems.extend(later.problems)


def _report_orphan_lines(
    kind: DocumentKind, lines: dict[str, list[_ParsedLine]], numbers: set[str], log: ProblemLog
) -> None:
    table = schema.DOCUMENT_TABLES[kind]
    line_file = schema.LINE_TABLES[kind].filename
    for number in sorted(set(lines) - numbers - {""}):
        first = lines[number][0].line.origin if lines[number] else Origin(line_file)
        log.error(
            first,
            "document",
            f"no {kind.replace('_', ' ')} numbered {number!r} in {table.filename}",
        )


_TOTALS = ("base", "tax", "surcharge", "withholding", "total")


def _declared_totals(v: dict[str, Any], lines: tuple[Line, ...], currency: str) -> Totals:
    """The totals the export states; any it leaves out are computed from the lines."""
    computed = None if all(v[n] is not None for n in _TOTALS) else compute_totals(lines, currency)

    def amount(name: str) -> Money:
        return _money(v[name], currency) if v[name] is not None else getattr(computed, name)

    base, tax, surcharge, withholding, total = map(amount, _TOTALS)
    return Totals(base, tax, surcharge, withholding, total)


# Documents repeat amounts (0.00 of surcharge and withholding, common totals), and the
# parser gives one Decimal per distinct text (fields.money_amount): one Money per such
# Decimal and currency, instead of one per document, changes nothing but memory. The
# Money kept must hold that very Decimal: 0.00 and -0.00 are equal, not the same amount.
_MONEY_MAX = 1 << 16
_moneys: dict[str, dict[Decimal, Money]] = {}


def _money(amount: Decimal, currency: str) -> Money:
    known = _moneys.setdefault(currency, {})
    found = known.get(amount)
    if found is None or found.amount is not amount:
        if len(known) >= _MONEY_MAX:
            known.clear()
        found = known[amount] = Money(amount, currency)
    return found


def _original_pdf(
    base: Path, own: OwnFiles | None, names: set[str], number: str, log: ProblemLog
) -> Path | None:
    stem = slugify_number(number)
    # Windows programs often write ".PDF": the orphan check already ignores the case.
    name = next((n for n in (f"{stem}.pdf", f"{stem}.PDF", f"{stem}.Pdf") if n in names), None)
    if name is None or own is None:
        return None
    candidate = own.folder / name
    refused = own.refusal(candidate) if candidate.exists() else "a link to nothing"
    if refused is not None:
        log.error(Origin(f"{own.label}/{name}"), "", f"{refused} (document {number})")
        return None
    with open(candidate, "rb", buffering=0) as fh:  # 5 bytes: no buffer needed
        if fh.read(5) != b"%PDF-":
            log.error(
                Origin(str(candidate.relative_to(base))),
                "",
                f"is not a PDF file (document {number})",
            )
            return None
    # A new Path, not `candidate`: checking it cached its text (~100 bytes a document).
    return own.folder / name


def _report_orphan_pdfs(
    base: Path,
    documents: Mapping[DocumentKind, tuple[Document, ...]],
    pdf_names: Mapping[DocumentKind, list[str] | None],
    log: ProblemLog,
) -> None:
    for kind, table in _DOC_TABLES:
        names = pdf_names[kind]
        if names is None:
            continue
        slugs = {d.slug for d in documents[kind]}
        for name in names:  # sorted: the same order as the folder's paths
            if name.lower() in IGNORED_FILES or name.startswith("."):
                continue
            stem, dot, suffix = name.rpartition(".")
            if not dot or not stem or suffix.lower() != "pdf" or stem not in slugs:
                log.warning(
                    Origin(str(Path("pdf", table.name, name))),
                    "",
                    f"no {kind.replace('_', ' ')} matches this file; it is not published",
                )


def _payments(
    records: Iterable[RawRecord],
    invoices: Mapping[str, Document],
    options: LoadOptions,
    log: ProblemLog,
) -> Iterator[Payment]:
    for record in records:
        v = _parse(record, schema.PAYMENTS, log)
        if v is None:
            continue
        invoice = invoices.get(v["invoice"])
        customer = v["customer"] or (invoice.customer_code if invoice else "")
        currency = v["currency"] or (invoice.currency if invoice else options.currency)
        yield Payment(
            number=v["number"],
            invoice=v["invoice"],
            customer_code=customer,
            amount=_money(v["amount"], currency),
            due_date=v["due_date"],
            paid_date=v["paid_date"],
            method=v["method"],
            origin=record.origin,
        )


__all__ = ["BundleReader", "read_shared_documents"]
