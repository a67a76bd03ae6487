"""The CLI with the readers: detection is announced, --format is obeyed, and a portal built
from the sample e-invoices shows them."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from portalgen.cli import cli
from portalgen.demo.tinypdf import tiny_pdf
from portalgen.domain.formatting import format_money
from portalgen.load import LoadOptions, load_export
from tests.conftest import TODAY

SAMPLES = Path(__file__).parent / "data" / "samples"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("locale: es_ES\ncurrency: EUR\n", encoding="utf-8")
    return path


def test_check_says_which_format_it_detected(config: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--config", str(config), "check", str(SAMPLES / "ubl"), str(SAMPLES / "facturae")]
    )
    assert result.exit_code == 0, result.output
    assert "Format: ubl, facturae (detected)." in result.output
    assert "signatures: 2 reformatted" in result.output
    assert "Invoices          6" in result.output


def test_check_with_a_format_that_does_not_fit(config: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(config), "check", "--format", "facturae", str(SAMPLES / "ubl")]
    )
    assert result.exit_code == 1
    assert (
        "gobl_peppol_credit-note.xml, /CreditNote: expected a Facturae 3.2, 3.2.1 or 3.2.2 file"
        in result.output
    )
    assert "Error: the export has 5 errors\n" in result.output
    result = CliRunner().invoke(
        cli, ["--config", str(config), "check", "--format", "ubl", str(SAMPLES / "ubl")]
    )
    assert result.exit_code == 0 and "Format: ubl (as given)." in result.output


def test_a_portal_built_from_the_samples_shows_their_invoices(config: Path, tmp_path: Path) -> None:
    # One UBL invoice carries the invoicing program's own PDF, embedded.
    folder = tmp_path / "einvoices"
    shutil.copytree(SAMPLES / "ubl", folder / "ubl")
    shutil.copytree(SAMPLES / "facturae", folder / "facturae")
    original = tiny_pdf("Factura CHARGE-001 (original)", ["Emitida por el programa de facturación"])
    path = folder / "ubl" / "gobl_peppol_invoice-with-charges.xml"
    embedded = (
        "<cac:AdditionalDocumentReference><cbc:ID>CHARGE-001</cbc:ID><cac:Attachment>"
        '<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="CHARGE-001.pdf">'
        f"{base64.b64encode(original).decode()}</cbc:EmbeddedDocumentBinaryObject></cac:Attachment>"
        "</cac:AdditionalDocumentReference><cac:AccountingSupplierParty>"
    )
    path.write_text(path.read_text().replace("<cac:AccountingSupplierParty>", embedded, 1))
    sources = [folder / "ubl", folder / "facturae"]
    out = tmp_path / "site"
    result = CliRunner().invoke(
        cli, ["--config", str(config), "build", *map(str, sources), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    export = load_export(sources, LoadOptions(today=TODAY, cache_dir=tmp_path / "c")).export
    for invoice in export.invoices:
        portal = out / invoice.customer_code
        page = (portal / "invoices" / f"{invoice.slug}.html").read_text()
        assert invoice.number in page
        assert format_money(invoice.totals.total, "es_ES") in page
        pdf = (portal / "invoices" / f"{invoice.slug}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-")
        if invoice.number == "CHARGE-001":
            assert pdf == original  # the embedded original is the invoice's PDF
