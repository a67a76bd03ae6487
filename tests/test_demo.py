"""Demo data: valid, varied, and reproducible byte for byte."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from datetime import date
from pathlib import Path

import pypdf
import pytest

from portalgen.demo import generate_demo
from portalgen.demo.documents import Doc
from portalgen.demo.numbering import DocKey, Numbering, series_of
from portalgen.domain.ledger import invoice_status, payments_by_invoice, quote_status
from portalgen.load import LoadOptions, LoadResult, load_export
from tests.demo_whole import number_documents, whole_demo

TODAY = date(2026, 6, 15)


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    generate_demo(tmp_path / "a", customers=30, seed=5, today=TODAY, originals=True)
    generate_demo(tmp_path / "b", customers=30, seed=5, today=TODAY, originals=True)
    generate_demo(tmp_path / "c", customers=30, seed=6, today=TODAY)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert (tmp_path / "a" / "customers.csv").read_bytes() != (
        tmp_path / "c" / "customers.csv"
    ).read_bytes()
    # Shared files keep their dates too (they show in the portal).
    a_files = sorted((tmp_path / "a" / "documents").rglob("*.pdf"))
    b_files = sorted((tmp_path / "b" / "documents").rglob("*.pdf"))
    assert [p.stat().st_mtime for p in a_files] == [p.stat().st_mtime for p in b_files]


def shared_times(folder: Path) -> list[float]:
    return [p.stat().st_mtime for p in sorted((folder / "documents").rglob("*.pdf"))]


@pytest.mark.parametrize(("customers", "seed", "originals"), [(80, 11, True), (2, 3, False)])
def test_the_demo_made_customer_by_customer_is_the_demo_made_whole(
    tmp_path: Path, customers: int, seed: int, originals: bool
) -> None:
    """Users and tests rely on a seed giving the same data whatever the demo's memory."""
    streamed, whole = tmp_path / "streamed", tmp_path / "whole"
    generate_demo(streamed, customers=customers, seed=seed, today=TODAY, originals=originals)
    whole_demo(whole, customers=customers, seed=seed, today=TODAY, originals=originals)
    assert digest(streamed) == digest(whole)  # no temporary file left over either
    assert shared_times(streamed) == shared_times(whole)


def test_numbers_and_rows_follow_the_whole_sort_beyond_five_digits() -> None:
    """Ties on a date go by customer code, which is not the order made from customer
    100,000 on (C100000 sorts before C10001), and the tables' order is the numbers' text
    order, which is not their counters' from the 100,000th document of a kind and year."""
    codes = ["C09999", "C10000", "C10001", "C100000"]
    docs = [
        Doc(kind, code, date(2026, 1, 1 + n % 3), [], {"credit": True} if n % 7 == 0 else {})
        for n, (code, kind) in enumerate(
            (code, kind) for code in codes for kind in ("invoice", "quote", "order") * 5
        )
    ]
    docs += [Doc("invoice", "C00001", date(2026, 2, 1), []) for _ in range(100_001)]
    keys = [DocKey(d.issue, d.kind, d.customer, i, series_of(d.extra)) for i, d in enumerate(docs)]
    numbering = Numbering(keys)
    number_documents(docs)
    assert numbering.numbers == [d.number for d in docs]
    for kind in ("invoice", "quote", "order"):
        table = sorted(
            (i for i, d in enumerate(docs) if d.kind == kind), key=lambda i: docs[i].number
        )
        assert [numbering.rows[i] for i in table] == list(range(len(table)))
        assert numbering.counts[kind] == len(table)


def test_demo_is_valid_and_covers_every_status(tmp_path: Path) -> None:
    generate_demo(tmp_path, customers=60, seed=1, today=TODAY, originals=True)
    result = load_export(
        tmp_path,
        LoadOptions(
            today=TODAY, allow_test_verifactu=True, company_tax_id="B98765431", strict=True
        ),
    )
    export = result.export
    receipts = payments_by_invoice(export.payments)
    invoice_statuses = Counter(
        invoice_status(i, receipts.get(i.number, ()), TODAY) for i in export.invoices
    )
    assert set(invoice_statuses) == {"paid", "partially_paid", "unpaid", "overdue"}
    assert {quote_status(q, TODAY) for q in export.quotes} == {
        "pending",
        "accepted",
        "rejected",
        "expired",
    }
    assert {o.status for o in export.orders} == {
        "received",
        "in_preparation",
        "shipped",
        "delivered",
        "cancelled",
    }
    lines = [line for doc in export.invoices for line in doc.lines]
    assert {int(line.tax_rate) for line in lines} == {4, 10, 21}
    assert any(line.surcharge_rate for line in lines) and any(
        line.withholding_rate for line in lines
    )
    assert any(i.corrects for i in export.invoices)
    assert all(i.verifactu_qr_url for i in export.invoices)
    assert all(i.original_pdf is not None for i in export.invoices)
    assert {c.language for c in export.customers} == {"es", "en"}
    assert export.documents
    assert all(e.endswith(".example") for c in export.customers for e in c.emails)
    per_customer = (
        len(export.quotes) + len(export.orders) + len(export.delivery_notes) + len(export.invoices)
    ) / len(export.customers)
    assert 15 <= per_customer <= 25


@pytest.fixture(scope="module")
def demo30(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo30")
    generate_demo(folder, customers=30, seed=5, today=TODAY)
    return folder


def load(folder: Path) -> LoadResult:
    options = LoadOptions(today=TODAY, allow_test_verifactu=True, company_tax_id="B98765431")
    return load_export(folder, options)


def test_an_order_in_progress_is_still_to_come(demo30: Path) -> None:
    """The portal shows an open order as "expected <date>": never a date already past, and
    never for an order whose goods were delivered (a delivery note) in the past."""
    export = load(demo30).export
    noted = {n.order: n.delivery_date for n in export.delivery_notes if n.order}
    in_progress = [
        o for o in export.orders if o.status in ("received", "in_preparation", "shipped")
    ]
    assert in_progress
    for order in in_progress:
        assert order.expected_delivery_date and order.expected_delivery_date > TODAY, order.number
        assert order.number not in noted, order.number
    for order in export.orders:
        if order.status == "delivered":
            assert order.delivered_date and order.delivered_date <= TODAY, order.number


def test_shared_documents_are_real_documents(demo30: Path) -> None:
    with (demo30 / "customers.csv").open(encoding="utf-8") as fh:
        names = {row["code"]: row["name"] for row in csv.DictReader(fh)}
    found = set()
    for title, pattern in (
        ("Contrato de suministro", "Contrato de suministro *.pdf"),
        ("Informe de mantenimiento preventivo", "Informes/Informe de mantenimiento *.pdf"),
    ):
        for path in sorted((demo30 / "documents").glob(f"*/{pattern}")):
            customer = path.relative_to(demo30 / "documents").parts[0]
            reader = pypdf.PdfReader(path)
            text = " ".join(page.extract_text() for page in reader.pages)
            assert len(reader.pages) >= 2, path
            assert title in text and names[customer] in text, path
            found.add(title)
    assert len(found) == 2
