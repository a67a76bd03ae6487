"""FacturaScripts exports: the API JSON and the CSV dump give the same model."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portalgen.domain.ledger import invoice_status, payments_by_invoice, quote_status
from portalgen.domain.model import NO_ORIGIN, Money
from portalgen.errors import InputError
from portalgen.load import LoadOptions, LoadResult, load_export
from tests.conftest import TODAY
from tests.fs_fixture import fixture_tables, write_csv, write_json


def strip_origins(value: Any) -> Any:
    """The model without where each record came from (file names differ between forms)."""
    if isinstance(value, tuple):
        return tuple(strip_origins(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: strip_origins(getattr(value, f.name)) for f in fields(value) if f.init}
        if "origin" in changes:
            changes["origin"] = NO_ORIGIN
        if changes.get("original_pdf") is not None:  # each form has its own MyFiles copy
            changes["original_pdf"] = Path(changes["original_pdf"].name)
        return replace(value, **changes)
    return value


def load(folder: Path) -> LoadResult:
    return load_export(folder, LoadOptions(today=TODAY))


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoadResult]:
    base = tmp_path_factory.mktemp("fs")
    return {"json": load(write_json(base / "json")), "csv": load(write_csv(base / "csv"))}


def test_json_and_csv_give_the_same_model(exports: dict[str, LoadResult]) -> None:
    json_export, csv_export = exports["json"].export, exports["csv"].export
    assert exports["json"].formats == exports["csv"].formats == ("facturascripts",)
    assert "API JSON" in json_export.source and "CSV" in csv_export.source
    for part in ("customers", "quotes", "orders", "delivery_notes", "invoices", "payments"):
        a, b = getattr(json_export, part), getattr(csv_export, part)
        assert a, part
        assert strip_origins(a) == strip_origins(b), part
    # Shared files and original PDFs point at each form's own copy of MyFiles.
    assert [(d.customer_code, d.name, d.size, d.modified) for d in json_export.documents] == [
        (d.customer_code, d.name, d.size, d.modified) for d in csv_export.documents
    ]


def test_customers(exports: dict[str, LoadResult]) -> None:
    rows = {r["codcliente"]: r for r in fixture_tables()["clientes"]}
    by_code = {c.code: c for c in exports["json"].export.customers}
    assert set(by_code) == set(rows)
    talleres = by_code["1"]
    assert (talleres.name, talleres.trade_name, talleres.tax_id) == (
        rows["1"]["razonsocial"],
        rows["1"]["nombre"],
        rows["1"]["cifnif"],
    )
    # The customer's email first, then the other contacts' emails; addresses from the
    # billing contact, whose ISO alpha-3 country becomes alpha-2.
    assert talleres.emails == (
        "administracion@talleresperez.example",
        "taller@talleresperez.example",
    )
    assert (talleres.address.street, talleres.address.city, talleres.address.country) == (
        "Calle Mayor 1",
        "Madrid",
        "ES",
    )
    assert (talleres.language, by_code["2"].language) == ("es", "en")
    assert by_code["2"].name == rows["2"]["nombre"] and by_code["2"].trade_name == ""


def test_documents_states_and_links(exports: dict[str, LoadResult]) -> None:
    export = exports["csv"].export
    quotes = {q.number: q for q in export.quotes}
    assert {
        n: (quote_status(q, TODAY), q.valid_until and q.valid_until.isoformat())
        for n, q in quotes.items()
    } == {
        "PRE2026A1": ("pending", "2026-07-31"),  # Abierto, finoferta ahead
        "PRE2026A2": ("accepted", None),  # Pedido: it generated an order
        "PRE2026A3": ("expired", "2026-05-31"),  # Abierto, but finoferta has passed
        "PRE2026A4": ("rejected", None),  # a made-up state, read by its flags
    }
    assert any(
        "En espera del cliente" in w.message and "read as rejected" in w.message
        for w in exports["csv"].warnings
    )
    orders = {o.number: o for o in export.orders}
    assert (orders["PED2026A1"].status, orders["PED2026A1"].quote) == ("shipped", "PRE2026A2")
    assert str(orders["PED2026A1"].shipped_date) == "2026-04-20"  # its delivery note's date
    assert (orders["PED2026A2"].status, orders["PED2026A2"].quote) == (
        "received",
        "PRE2026A4",
    )  # editable
    (note,) = export.delivery_notes
    assert (note.number, note.order, str(note.delivery_date)) == (
        "ALB2026A1",
        "PED2026A1",
        "2026-04-20",
    )
    invoices = {i.number: i for i in export.invoices}
    assert "F2026A5" not in invoices  # a counter sale without a customer has no portal
    assert (invoices["F2026A1"].delivery_notes, invoices["F2026A1"].order) == (
        ("ALB2026A1",),
        "PED2026A1",
    )
    assert invoices["F2026A3"].corrects == "F2026A1" and invoices["F2026A3"].is_corrective
    # Lines in FacturaScripts' order (orden DESC, idlinea ASC), without float noise.
    first, second = quotes["PRE2026A1"].lines
    assert (first.description, first.quantity, first.unit_price) == (
        "Filtro de aceite\nReferencia OEM",
        Decimal(3),
        Decimal("12.3"),
    )
    assert second.description == "Revisión anual"


def test_money_is_exact_to_the_cent(exports: dict[str, LoadResult]) -> None:
    headers = {h["codigo"]: h for h in fixture_tables()["facturascli"]}
    for invoice in exports["json"].export.invoices:
        header = headers[invoice.number]
        assert invoice.totals.total.amount == Decimal(str(round(header["total"], 2)))
        assert invoice.totals.total.amount.as_tuple().exponent == -2
        assert invoice.totals.base.amount == Decimal(str(round(header["neto"], 2)))
        assert invoice.totals.withholding.amount == Decimal(str(round(header["totalirpf"], 2)))
        assert invoice.totals.surcharge.amount == Decimal(str(round(header["totalrecargo"], 2)))
    f4 = next(i for i in exports["json"].export.invoices if i.number == "F2026A4")
    # The document's 2.5 % discount shows under the lines, as FacturaScripts prints it;
    # IRPF and recargo per line.
    assert [(line.discount, line.withholding_rate, line.surcharge_rate) for line in f4.lines] == [
        (Decimal(0), Decimal(15), Decimal(0)),
        (Decimal(0), Decimal(0), Decimal("5.2")),
    ]
    assert (f4.totals.subtotal, f4.totals.discounts) == (
        Money(Decimal("666.66"), "EUR"),
        (Decimal("2.5"),),
    )
    assert not [w for w in exports["json"].warnings if "add up" in w.message]


def test_receipts_decide_invoice_statuses(exports: dict[str, LoadResult]) -> None:
    export = exports["json"].export
    receipts = payments_by_invoice(export.payments)
    statuses = {
        i.number: invoice_status(i, receipts.get(i.number, ()), TODAY) for i in export.invoices
    }
    assert statuses == {
        "F2026A1": "paid",
        "F2026A2": "overdue",
        "F2026A3": "paid",
        "F2026A4": "unpaid",
        **{f"F2026A{n}": "unpaid" for n in range(6, 14)},
    }
    paid, late = receipts["F2026A2"]
    assert str(paid.paid_date) == "2026-05-12"  # no fechapago: the payment's date in pagoscli
    assert (late.paid_date, str(late.due_date), late.method) == (None, "2026-06-10", "direct_debit")


def test_attached_files(exports: dict[str, LoadResult], tmp_path: Path) -> None:
    export = exports["json"].export
    f1 = next(i for i in export.invoices if i.number == "F2026A1")
    assert f1.original_pdf is not None and f1.original_pdf.name == "F2026A1.pdf"
    assert f1.original_pdf.read_bytes().startswith(b"%PDF-")
    assert [(d.customer_code, d.name, str(d.modified)) for d in export.documents] == [
        ("1", "contrato-mantenimiento.pdf", "2026-01-10"),
        ("1", "ALB2026A1/fotos-pintura.pdf", "2026-04-21"),
    ]


def test_a_missing_attachment_is_a_warning(tmp_path: Path) -> None:
    folder = write_json(tmp_path / "x")
    (folder / "MyFiles/2026/01/contrato-mantenimiento.pdf").unlink()
    result = load(folder)
    assert len(result.export.documents) == 1
    assert any(
        "contrato-mantenimiento.pdf is not in the export folder" in w.message
        for w in result.warnings
    )


def rewrite(folder: Path, resource: str, change: Any) -> None:
    path = folder / f"{resource}.json"
    rows = json.loads(path.read_text())
    change(rows)
    path.write_text(json.dumps(rows))


def test_malformed_exports_name_file_row_and_field(tmp_path: Path) -> None:
    folder = write_json(tmp_path / "bad")

    def break_invoice(rows: list[dict[str, Any]]) -> None:
        rows[1]["fecha"] = "2026/05/10"
        rows[3]["total"] = rows[3]["total"] + 10

    rewrite(folder, "facturaclientes", break_invoice)

    def break_quotes(rows: list[dict[str, Any]]) -> None:
        rows[0]["coddivisa"] = "EURO"
        rows[1]["idestado"] = 99

    rewrite(folder, "presupuestoclientes", break_quotes)
    (folder / "pagoclientes.json").write_text("[{")
    (folder / "attachedfiles.json").write_text(
        json.dumps(
            [
                {
                    "idfile": 1,
                    "filename": "x.pdf",
                    "path": "../../etc/passwd",
                    "mimetype": "application/pdf",
                    "size": 1,
                    "date": "01-05-2026",
                }
            ]
        )
    )
    with pytest.raises(InputError) as info:
        load(folder)
    found = {
        (p.file, p.location, p.field): p.message
        for p in info.value.problems
        if p.severity == "error"
    }
    assert (
        "expected a date as dd-mm-yyyy or yyyy-mm-dd"
        in found["facturaclientes.json", "$[1]", "fecha"]
    )
    assert "totalirpf), found" in found["facturaclientes.json", "$[3]", "total"]
    assert (
        "no state 99 in estados_documentos" in found["presupuestoclientes.json", "$[1]", "idestado"]
    )
    assert "ISO 4217" in found["presupuestoclientes.json", "$[0]", "coddivisa"]
    assert "invalid JSON" in found["pagoclientes.json", "line 1, column 3", ""]
    assert "leads outside the export folder" in found["attachedfiles.json", "$[0]", "path"]


def test_detects_both_forms_and_not_the_bundle(tmp_path: Path, demo_dir: Path) -> None:
    from portalgen.load import detect_format

    assert detect_format(write_json(tmp_path / "j")) == "facturascripts"
    assert detect_format(write_csv(tmp_path / "c")) == "facturascripts"
    assert detect_format(demo_dir) == "bundle"
