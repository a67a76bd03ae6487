"""FacturaScripts exports: the REST API's JSON or a CSV dump per table, in one folder.

portalgen.load.facturascripts.tables reads the rows; this module turns them into the model.
docs/readers.md has every column mapping; in short:

- ``clientes`` (+ the billing contact in ``contactos`` for the address) → customers.
- ``presupuestoscli`` / ``pedidoscli`` / ``albaranescli`` / ``facturascli`` with their
  line tables → quotes, orders, delivery notes, invoices, numbered by ``codigo``; totals
  as stored, with the breakdown FacturaScripts' rules give (portalgen.load.facturascripts.amounts).
- ``estados_documentos`` → quote and order statuses (portalgen.load.facturascripts.states).
- ``recibospagoscli`` (+ ``pagoscli`` for the paid date) → receipts, from which invoice
  statuses follow.
- ``doctransformations`` → quote → order → delivery note → invoice links.
- ``attached_files`` + ``attached_files_rel`` → original PDFs and shared documents
  (portalgen.load.facturascripts.files).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from portalgen.domain.model import (
    DeliveryNote,
    Document,
    DocumentKind,
    Documents,
    Export,
    Invoice,
    Money,
    Order,
    Origin,
    Payment,
    Quote,
)
from portalgen.load import fields as f
from portalgen.load import schema
from portalgen.load.facturascripts.amounts import (
    calc_line,
    document_amounts,
    fixed_value_taxes,
    read_line,
    tax_method,
)
from portalgen.load.facturascripts.customers import read_customers
from portalgen.load.facturascripts.files import attach_files
from portalgen.load.facturascripts.links import DocumentLinks
from portalgen.load.facturascripts.states import order_status, payment_method, quote_status
from portalgen.load.facturascripts.tables import (
    RESOURCES,
    Row,
    find_table_file,
    parse_column,
    read_table,
)
from portalgen.load.options import LoadOptions
from portalgen.load.problems import ProblemLog

# kind → (header table, lines table, primary key, model class name in doctransformations)
KINDS: dict[DocumentKind, tuple[str, str, str, str]] = {
    "quote": ("presupuestoscli", "lineaspresupuestoscli", "idpresupuesto", "PresupuestoCliente"),
    "order": ("pedidoscli", "lineaspedidoscli", "idpedido", "PedidoCliente"),
    "delivery_note": ("albaranescli", "lineasalbaranescli", "idalbaran", "AlbaranCliente"),
    "invoice": ("facturascli", "lineasfacturascli", "idfactura", "FacturaCliente"),
}
DOCUMENT_FIELDS = {
    "number": "codigo",
    "customer": "codcliente",
    "issue_date": "fecha",
    "currency": "coddivisa",
    "base": "neto",
    "tax": "totaliva",
    "surcharge": "totalrecargo",
    "withholding": "totalirpf",
    "total": "total",
    "valid_until": "finoferta",
    "corrects": "codigorect",
    "status": "idestado",
}


class FacturaScriptsReader:
    """Reads a FacturaScripts export folder (API JSON or CSV). See docs/readers.md."""

    name = "facturascripts"

    def detect(self, path: Path) -> bool:
        return path.is_dir() and find_table_file(path, "clientes") is not None

    def read(self, path: Path, options: LoadOptions, log: ProblemLog) -> Export:
        if find_table_file(path, "clientes") is None:
            log.error(Origin(str(path)), "", "expected clientes.json or clientes.csv in the folder")
        tables = {table: read_table(path, table, log) for table in RESOURCES}
        form = "API JSON" if (path / "clientes.json").is_file() else "CSV"
        export = _Builder(tables, path, options, log).build()
        return Export(
            **{name: getattr(export, name) for name in _PARTS},
            source=f"FacturaScripts {form} export in {path}",
        )


_PARTS = ("customers", "quotes", "orders", "delivery_notes", "invoices", "payments", "documents")


@dataclass
class _Builder:
    tables: dict[str, list[Row]]
    base: Path
    options: LoadOptions
    log: ProblemLog
    codes: dict[str, dict[int, str]] = field(default_factory=dict)  # class → id → codigo
    rows: dict[str, dict[int, Row]] = field(default_factory=dict)  # class → id → header row
    states: dict[int, Row] = field(default_factory=dict)  # idestado → estados_documentos row
    warned_states: set[int] = field(default_factory=set)
    skipped: set[tuple[str, int]] = field(default_factory=set)  # (class, id) not read
    method: str = "classic"  # the taxcalculationmethod setting
    fixed_taxes: frozenset[str] = frozenset()  # codimpuesto of fixed-value taxes

    def build(self) -> Export:
        self.method = tax_method(self.tables["settings"], self.log)
        self.fixed_taxes = fixed_value_taxes(self.tables["impuestos"])
        customers = tuple(read_customers(self.tables, self.log))
        for table, _, pk, model in KINDS.values():
            rows = {r.get(pk): r for r in self.tables[table] if r.get(pk) is not None}
            self.rows[model] = rows
            self.codes[model] = {i: str(r.get("codigo", "")) for i, r in rows.items()}
        self.states = {
            r.get("idestado"): r
            for r in self.tables["estados_documentos"]
            if r.get("idestado") is not None
        }
        links = DocumentLinks(self.tables["doctransformations"])
        documents: dict[DocumentKind, list[Document]] = {}
        for kind, (_, _, _, model) in KINDS.items():
            documents[kind] = [d for d in self._documents(kind, links) if d is not None]
            for skipped_model, doc_id in self.skipped:  # no links to what was not read
                if skipped_model == model:
                    self.codes[model].pop(doc_id, None)
        payments = self._payments(Documents.of(documents["invoice"]).invoices)
        pdfs, shared = attach_files(self.tables, self.base, self.rows, customers, self.log)
        for kind, docs in documents.items():
            model = KINDS[kind][3]
            documents[kind] = [_with_pdf(d, pdfs.get((model, d.number))) for d in docs]
        every = (doc for docs in documents.values() for doc in docs)
        return Export.assemble(customers, every, payments, shared)

    # -- customers --------------------------------------------------------------------------

    # -- documents --------------------------------------------------------------------------

    def _documents(self, kind: DocumentKind, links: DocumentLinks) -> list[Document | None]:
        table, lines_table, pk, _ = KINDS[kind]
        lines: dict[int, list[Row]] = defaultdict(list)
        for row in self.tables[lines_table]:
            lines[row.get(pk)].append(row)
        return [
            self._document(kind, row, lines.get(row.get(pk), []), links)
            for row in self.tables[table]
        ]

    def _document(
        self, kind: DocumentKind, row: Row, line_rows: list[Row], links: DocumentLinks
    ) -> Document | None:
        _, lines_table, pk, model = KINDS[kind]
        origin = Origin(row.origin.file, row.origin.location, DOCUMENT_FIELDS)
        number = parse_column(row, "codigo", schema.document_number, self.log, required=True)
        if not row.get("codcliente"):
            self.log.warning(
                origin, "codcliente", "no customer (a counter sale): it has no portal; skipped"
            )
            self.skipped.add((model, row.get(pk)))
            return None
        issue_date = row.get("fecha")
        if row.missing("fecha"):
            self.log.error(origin, "fecha", "this field is required but empty")
        currency = parse_column(row, "coddivisa", f.currency, self.log, required=True)
        if not line_rows:
            report = self.log.error if kind == "invoice" else self.log.warning
            report(origin, "codigo", f"the document has no lines in {lines_table}; skipped")
            self.skipped.add((model, row.get(pk)))
            return None
        ordered = sorted(line_rows, key=lambda r: (-r.get("orden", 0), r.get("idlinea", 0)))
        lines = tuple(read_line(r) for r in ordered)
        operation = str(row.get("operacion", ""))
        calc_lines = [calc_line(r, self.fixed_taxes, operation) for r in ordered]
        amounts = (
            None
            if currency is None
            else document_amounts(row, calc_lines, currency, self.method, self.log, origin)
        )
        if number is None or issue_date is None or amounts is None:
            self.log.unreadable(kind, number or "", origin)  # its receipts are not checked
            return None
        common: dict[str, Any] = {
            "number": number,
            "customer_code": row.get("codcliente"),
            "issue_date": issue_date,
            "currency": currency,
            "lines": lines,
            "totals": amounts.totals,
            "taxes": amounts.taxes,
            "series": row.get("codserie", ""),
            "reference": row.get("numero2", ""),
            "notes": row.get("observaciones", ""),
            "origin": origin,
            "source_id": str(row.get(pk)),
        }
        if kind == "quote":
            return self._quote(row, common)
        if kind == "order":
            return self._order(row, common, links)
        if kind == "delivery_note":
            return DeliveryNote(
                **common,
                delivery_date=issue_date,
                order=links.parent(model, row.get(pk), "PedidoCliente", self.codes),
            )
        return self._invoice(row, common, links)

    def _quote(self, row: Row, common: dict[str, Any]) -> Quote:
        status, guessed = quote_status(self._state(row))
        self._warn_guess(row, guessed, status)
        state_id = "" if row.get("idestado") is None else str(row.get("idestado"))
        return Quote(
            **common, status=status, valid_until=row.get("finoferta"), source_state=state_id
        )

    def _order(self, row: Row, common: dict[str, Any], links: DocumentLinks) -> Order:
        status, guessed = order_status(self._state(row))
        self._warn_guess(row, guessed, status)
        doc_id = row.get("idpedido")
        notes = [
            self.rows["AlbaranCliente"][i]
            for i in links.children("PedidoCliente", doc_id, "AlbaranCliente")
        ]
        return Order(
            **common,
            status=status,
            quote=links.parent("PedidoCliente", doc_id, "PresupuestoCliente", self.codes),
            shipped_date=min((n.get("fecha") for n in notes if n.get("fecha")), default=None),
        )

    def _invoice(self, row: Row, common: dict[str, Any], links: DocumentLinks) -> Invoice:
        doc_id = row.get("idfactura")
        notes = tuple(links.parents("FacturaCliente", doc_id, "AlbaranCliente", self.codes))
        order = links.parent("FacturaCliente", doc_id, "PedidoCliente", self.codes)
        if not order:
            note_ids = links.parent_ids("FacturaCliente", doc_id, "AlbaranCliente")
            orders = {
                links.parent("AlbaranCliente", i, "PedidoCliente", self.codes) for i in note_ids
            }
            order = orders.pop() if len(orders) == 1 else ""
        corrects = row.get("codigorect") or self.codes["FacturaCliente"].get(
            row.get("idfacturarect"), ""
        )
        codpago = row.get("codpago", "")
        return Invoice(
            **common,
            corrects=corrects,
            payment_method=payment_method(codpago, self._forma(codpago)),
            order=order,
            delivery_notes=notes,
        )

    def _state(self, row: Row) -> dict[str, Any]:
        states = self.states
        idestado = row.get("idestado")
        if idestado is None:
            return {"editable": True}
        state = states.get(idestado)
        if state is None:
            if states:
                self.log.error(row.origin, "idestado", f"no state {idestado} in estados_documentos")
            return {"editable": True}
        return dict(state.values)

    def _warn_guess(self, row: Row, guessed: bool, status: str) -> None:
        idestado = row.get("idestado")
        if guessed and idestado not in self.warned_states:
            self.warned_states.add(idestado)
            state = self.states[idestado]
            self.log.warning(
                state.origin,
                "nombre",
                f"state {state.get('nombre')!r} is neither editable nor generates a document: "
                f"read as {status}; rename it to a known name to be sure (docs/readers.md)",
            )

    def _forma(self, codpago: str) -> dict[str, Any] | None:
        for row in self.tables["formaspago"]:
            if row.get("codpago") == codpago:
                return dict(row.values)
        return None

    # -- receipts ---------------------------------------------------------------------------

    def _payments(self, invoices: Sequence[Invoice]) -> list[Payment]:
        by_number = {i.number: i for i in invoices}
        paid_on: dict[int, list[Any]] = defaultdict(list)
        for row in self.tables["pagoscli"]:
            if row.get("fecha"):
                paid_on[row.get("idrecibo")].append(row.get("fecha"))
        result = []
        for row in self.tables["recibospagoscli"]:
            if ("FacturaCliente", row.get("idfactura")) in self.skipped:
                continue
            payment = self._receipt(row, by_number, paid_on)
            if payment is not None:
                result.append(payment)
        with_receipts = {p.invoice for p in result}
        for doc_id, header in self.rows["FacturaCliente"].items():
            invoice = by_number.get(self.codes["FacturaCliente"].get(doc_id, ""))
            if invoice and header.get("pagada") and invoice.number not in with_receipts:
                result.append(
                    Payment(
                        number=f"{invoice.number}-paid",
                        invoice=invoice.number,
                        customer_code=invoice.customer_code,
                        amount=invoice.totals.total,
                        due_date=invoice.issue_date,
                        paid_date=invoice.issue_date,
                        method=invoice.payment_method,
                        origin=invoice.origin,
                    )
                )
        return result

    def _receipt(
        self, row: Row, invoices: dict[str, Invoice], paid_on: dict[int, list[Any]]
    ) -> Payment | None:
        origin = Origin(row.origin.file, row.origin.location, RECEIPT_FIELDS)
        number = self.codes["FacturaCliente"].get(row.get("idfactura")) or row.get("codigofactura")
        if not number:
            self.log.error(origin, "idfactura", "the receipt names no invoice")
            return None
        invoice = invoices.get(number)
        amount, issued = row.get("importe"), row.get("fecha")
        if amount is None or issued is None:
            for column in ("importe", "fecha"):
                if row.missing(column):
                    self.log.error(origin, column, "this field is required but empty")
            return None
        currency = parse_column(row, "coddivisa", f.currency, self.log) or (
            invoice.currency if invoice else self.options.currency
        )
        paid_date = None
        if row.get("pagado"):
            paid_date = row.get("fechapago") or max(paid_on[row.get("idrecibo")], default=issued)
        codpago = row.get("codpago", "")
        return Payment(
            number=f"{number}-{row.get('numero') or row.get('idrecibo')}",
            invoice=number,
            customer_code=row.get("codcliente") or (invoice.customer_code if invoice else ""),
            amount=Money(amount, currency),
            due_date=row.get("vencimiento") or issued,
            paid_date=paid_date,
            method=payment_method(codpago, self._forma(codpago)),
            origin=origin,
            source_id=str(row.get("idrecibo") or ""),
        )


RECEIPT_FIELDS = {
    "number": "numero",
    "invoice": "idfactura",
    "customer": "codcliente",
    "amount": "importe",
    "due_date": "vencimiento",
    "paid_date": "fechapago",
    "currency": "coddivisa",
}


def _with_pdf(doc: Document, pdf: Path | None) -> Document:
    return replace(doc, original_pdf=pdf) if pdf is not None else doc


__all__ = ["FacturaScriptsReader"]
