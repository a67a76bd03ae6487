"""The PDFs: their text, their QR codes (decoded from the printed page), their archival form."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from portalgen.render import RenderContext, build_context, plan_portal
from portalgen.render.pdf import ThemeFetcher
from tests.conftest import TODAY, load_demo
from tests.render_fixtures import render_settings, small_customer


def pdf_text(content: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return text.replace("\u00a0", " ")


def decode_qr_codes(pdf: Path | bytes, tmp_path: Path) -> list[str]:
    """Rasterise the first page like a printer would (pdftoppm) and decode every QR on it."""
    source = pdf if isinstance(pdf, Path) else tmp_path / "in.pdf"
    if isinstance(pdf, bytes):
        source.write_bytes(pdf)
    out = tmp_path / "page"
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "200",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(out),
        ],
        check=True,
    )
    with Image.open(f"{out}.png") as image:
        return [
            r.text
            for r in zxingcpp.read_barcodes(image)
            if r.format == zxingcpp.BarcodeFormat.QRCode
        ]


@pytest.fixture(scope="module")
def small_files(demo_dir: Path) -> dict[str, bytes]:
    context = build_context(render_settings(demo_dir), today=TODAY)
    files = {f.path: f.render() for f in plan_portal(small_customer(), context)}
    assert context.render_warnings == []
    return files


def test_invoice_pdf_text_has_number_dates_and_totals(small_files: dict[str, bytes]) -> None:
    text = pdf_text(small_files["invoices/F2026-007.pdf"])
    assert "Factura F2026/007" in text
    assert "20 may 2026" in text and "19 jun 2026" in text  # issue and due dates
    assert "1.234,56 €" in text  # taxable base
    assert "259,26 €" in text  # IVA 21 %
    assert "1.493,82 €" in text  # total
    assert "Taller Pérez S.L." in text and "B12345674" in text
    assert "Suministros y Servicios Levante, S.L." in text
    assert "QR tributario:" in text and "VERI*FACTU" in text
    assert "Página 1 / 1" in text


def test_invoice_qr_codes_decode_to_the_exact_url_and_payment(
    small_files: dict[str, bytes], tmp_path: Path
) -> None:
    codes = decode_qr_codes(small_files["invoices/F2026-007.pdf"], tmp_path)
    assert codes[0] == (
        "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=B98765431"
        "&numserie=F2026%2F007&fecha=20-05-2026&importe=1493.82"
    )
    epc = [c for c in codes if c.startswith("BCD")]
    # 1.000,00 € of the 1.493,82 € are paid: the printed code asks for the rest, as the
    # page's does (a customer scanning the PDF must not pay twice).
    assert epc == [
        "BCD\n002\n2\nSCT\nCAIXESBBXXX\nSuministros y Servicios Levante, S.L.\n"
        "ES9121000418450200051332\nEUR493.82\n\n\nF2026/007"
    ]
    text = " ".join(pdf_text(small_files["invoices/F2026-007.pdf"]).split())
    assert "Escanee para pagar 493,82 € por transferencia" in text


def test_invoice_page_epc_asks_for_what_is_still_owed(
    small_files: dict[str, bytes], tmp_path: Path
) -> None:
    from lxml import html

    page = html.fromstring(small_files["invoices/F2026-007.html"])
    svg = page.xpath("//figure[contains(@class,'epc')]//*[local-name()='svg']")
    assert len(svg) == 1
    assert page.xpath("string(//section[contains(@class,'pay')]//strong)") == "493,82\u00a0€"
    assert "ES91 2100 0418 4502 0005 1332" in page.text_content()
    # Print the page's SVG and scan it like a phone would.
    from weasyprint import HTML

    printed = HTML(string=f"<html><body>{html.tostring(svg[0]).decode()}</body></html>")
    assert decode_qr_codes(printed.write_pdf(), tmp_path) == [
        "BCD\n002\n2\nSCT\nCAIXESBBXXX\nSuministros y Servicios Levante, S.L.\n"
        "ES9121000418450200051332\nEUR493.82\n\n\nF2026/007"
    ]


def test_verifactu_legend_only_for_verifactu_systems(demo_dir: Path, tmp_path: Path) -> None:
    context = build_context(render_settings(demo_dir), today=TODAY)
    data = small_customer()
    url = data.invoices[0].verifactu_qr_url.replace("ValidarQR?", "ValidarQRNoVerifactu?")
    invoice = replace(data.invoices[0], verifactu_qr_url=url, payment_method="direct_debit")
    pdf = next(
        f
        for f in plan_portal(replace(data, invoices=(invoice,)), context)
        if f.path == "invoices/F2026-007.pdf"
    ).render()
    text = pdf_text(pdf)
    assert "QR tributario:" in text and "VERI*FACTU" not in text
    assert decode_qr_codes(pdf, tmp_path) == [url]  # direct debit: no transfer QR


def test_no_epc_code_without_iban_or_for_other_currencies(demo_dir: Path) -> None:
    from portalgen.domain.model import Money
    from portalgen.render.qr import epc_qr

    with_iban = render_settings(demo_dir)
    assert epc_qr(with_iban, Money(Decimal("10.00"), "EUR"), "F1") is not None
    assert epc_qr(with_iban, Money(Decimal("10.00"), "USD"), "F1") is None
    assert epc_qr(with_iban, Money(Decimal("0.00"), "EUR"), "F1") is None
    without = render_settings(demo_dir, payments={"iban": ""})
    assert epc_qr(without, Money(Decimal("10.00"), "EUR"), "F1") is None


def test_built_pdfs_have_no_weasyprint_warnings(built_portals: Path) -> None:
    assert json.loads((built_portals / "warnings.json").read_text()) == []


def test_pdfs_are_archival_tagged_and_reproducible(
    small_files: dict[str, bytes], demo_dir: Path
) -> None:
    content = small_files["invoices/F2026-007.pdf"]
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    assert isinstance(root, DictionaryObject)
    metadata = root["/Metadata"].get_object()
    assert isinstance(metadata, StreamObject)
    xmp = metadata.get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp or b'pdfaid:part="3"' in xmp
    assert b"pdfaid:conformance" in xmp and b"pdfuaid:part>1" in xmp
    mark_info = root["/MarkInfo"]
    assert "/StructTreeRoot" in root and isinstance(mark_info, DictionaryObject)
    assert mark_info["/Marked"]
    assert str(root["/Lang"]) == "es"
    assert "/OutputIntents" in root
    again = build_context(render_settings(demo_dir), today=TODAY)
    same = next(f for f in plan_portal(small_customer(), again) if f.path.endswith("007.pdf"))
    assert same.render() == content


def test_statement_pdf_and_csv(small_files: dict[str, bytes]) -> None:
    text = pdf_text(small_files["payments/statement.pdf"])
    assert "Extracto de cuenta" in text and "Movimientos hasta el" in text
    assert "1.493,82 €" in text and "1.000,00 €" in text and "493,82 €" in text
    csv_text = small_files["payments/statement.csv"].decode("utf-8-sig").splitlines()
    assert csv_text[0] == (
        "Fecha;Movimiento;Referencia;Factura;Cargo;Pago;Saldo;Moneda;Vencimiento;Vencido"
    )
    assert csv_text[1:] == [
        "2026-05-20;Factura;F2026/007;F2026/007;1493,82;0,00;1493,82;EUR;2026-06-19;0,00",
        "2026-06-01;Pago;R-1;F2026/007;0,00;1000,00;493,82;EUR;;",
    ]


def text_positions(content: bytes) -> list[tuple[str, float, float]]:
    """Each piece of text on the first page with where it starts (x, y in points), as
    pypdf's text visitor reports it: the text matrix through the current transformation."""
    found = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: object) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((text.strip(), round(x, 1), round(y, 1)))

    PdfReader(io.BytesIO(content)).pages[0].extract_text(visitor_text=visit)
    return found


def test_statement_columns_start_where_their_headings_do(built_portals: Path) -> None:
    """The statement's date and movement columns are left-aligned under their headings
    ("Fecha" was right-aligned over left-aligned dates)."""
    texts = text_positions((built_portals / "C00007" / "payments" / "statement.pdf").read_bytes())
    header_y = next(y for text, _, y in texts if text == "Fecha")
    date_x, movement_x = (
        x for text, x, y in texts if y == header_y and text in ("Fecha", "Movimiento")
    )
    below = [(text, x) for text, x, y in texts if y < header_y - 5]
    dates = [x for text, x in below if text[:2].strip().isdigit() and x < movement_x]
    movements = [x for text, x in below if text.startswith(("Factura", "Pago"))]
    assert len(dates) > 5 and set(dates) == {date_x}
    assert len(movements) > 5 and set(movements) == {movement_x}


def test_zip_holds_every_pdf_unchanged(small_files: dict[str, bytes]) -> None:
    archive = zipfile.ZipFile(io.BytesIO(small_files["download/all-documents.zip"]))
    names = sorted(archive.namelist())
    assert names == ["invoices/F2026-007.pdf", "payments/statement.pdf", "quotes/P2026-001.pdf"]
    for name in names:
        assert archive.read(name) == small_files[name]


def test_original_pdfs_are_published_untouched(fresh_demo: Path, tmp_path: Path) -> None:
    from portalgen.demo import generate_demo
    from tests.conftest import demo_settings

    generate_demo(fresh_demo, customers=8, seed=7, today=TODAY, originals=True)
    settings = demo_settings(fresh_demo, portal={"pdf": "original"})
    data = load_demo(fresh_demo, settings).export.customer_data("C00001")
    invoice = data.invoices[0]
    assert invoice.original_pdf is not None
    files = {f.path: f for f in plan_portal(data, build_context(settings, today=TODAY))}
    pdf = files[f"invoices/{invoice.slug}.pdf"].render()
    assert pdf == invoice.original_pdf.read_bytes()
    page = files[f"invoices/{invoice.slug}.html"].render().decode()
    assert hashlib.sha256(pdf).hexdigest() in page
    assert "documento original" in page


def test_pdf_fetcher_serves_theme_files_only(render_context: RenderContext, tmp_path: Path) -> None:
    fetcher = ThemeFetcher(render_context.theme.static_dirs)
    css = render_context.theme.static["static/portal.css"]
    assert fetcher.fetch(css.as_uri()).read() == css.read_bytes()
    secret = tmp_path / "secret.txt"
    secret.write_text("no")
    for url in (secret.as_uri(), "https://example.com/logo.png", css.as_uri() + "/../../x"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_a_pdf_reads_only_theme_files_its_render_key_holds(demo_dir: Path, tmp_path: Path) -> None:
    """The logo's folder is readable for the logo alone: a file beside it is not in the
    render key, so a PDF using it would not be re-rendered when it changes."""
    brand = tmp_path / "brand"
    brand.mkdir()
    Image.new("RGB", (40, 20), "navy").save(brand / "logo.png")
    Image.new("RGB", (40, 20), "red").save(brand / "banner.png")
    settings = render_settings(demo_dir, company={"logo": str(brand / "logo.png")})
    fetcher = build_context(settings, today=TODAY).pdf_engine().fetcher
    assert fetcher.fetch((brand / "logo.png").as_uri()).read() == (brand / "logo.png").read_bytes()
    with pytest.raises(ValueError, match="not a file of the theme"):
        fetcher.fetch((brand / "banner.png").as_uri())


def test_the_logo_shows_and_a_missing_one_is_reported(demo_dir: Path, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (40, 20), "navy").save(logo)
    settings = render_settings(demo_dir, company={"logo": str(logo)})
    context = build_context(settings, today=TODAY)
    files = {f.path: f for f in plan_portal(small_customer(), context)}
    assert files["static/logo.png"].render() == logo.read_bytes()
    assert b'src="../static/logo.png"' in files["invoices/F2026-007.html"].render()
    pdf = PdfReader(io.BytesIO(files["invoices/F2026-007.pdf"].render()))
    assert pdf.pages[0].images  # the logo is drawn
    assert context.render_warnings == []
    logo.unlink()
    broken = build_context(settings, today=TODAY)
    assert any("company.logo" in w for w in broken.warnings)
    paths = [f.path for f in plan_portal(small_customer(), broken)]
    assert not [p for p in paths if "logo" in p]


def structure_mcids(reader: PdfReader) -> set[tuple[int, int]]:
    """(page object number, MCID) of every marked content the structure tree reaches."""

    found: set[tuple[int, int]] = set()
    seen: set[int] = set()

    def visit(node: object, page: int | None) -> None:
        if isinstance(node, IndirectObject):
            if node.idnum in seen:
                return
            seen.add(node.idnum)
            node = node.get_object()
        if isinstance(node, ArrayObject):
            for child in node:
                visit(child, page)
        elif isinstance(node, DictionaryObject):
            here = node.get("/Pg")
            page = here.idnum if isinstance(here, IndirectObject) else page
            if "/MCID" in node:  # a marked-content reference
                assert page is not None
                found.add((page, int(node["/MCID"])))  # type: ignore[call-overload]  # a number
            elif "/K" in node:
                visit(node["/K"], page)
        elif isinstance(node, int) and page is not None:
            found.add((page, int(node)))

    root = reader.trailer["/Root"]
    assert isinstance(root, DictionaryObject)
    tree = root["/StructTreeRoot"]
    assert isinstance(tree, DictionaryObject)
    visit(tree["/K"], None)
    return found


def test_the_legal_footer_and_page_numbers_are_tagged_and_legible(
    small_files: dict[str, bytes],
) -> None:
    """Screen readers reach the footer and page numbers (in the structure tree, not
    marked content left outside it), and the legal footer is above 6.5 pt."""
    import re

    reader = PdfReader(io.BytesIO(small_files["invoices/F2026-007.pdf"]))
    reached = structure_mcids(reader)
    sizes: list[tuple[str, float]] = []
    for page in reader.pages:
        number = page.indirect_reference.idnum  # type: ignore[union-attr]
        contents = page.get_contents()
        assert contents is not None
        marked = {int(m) for m in re.findall(rb"/MCID (\d+)", contents.get_data())}
        assert marked and {(number, m) for m in marked} <= reached

        def seen(text: str, cm: list[float], tm: list[float], _font: object, size: float) -> None:
            if text.strip() and tm[5] * cm[3] + cm[5] < 40:  # the bottom margin
                sizes.append((text.strip(), size * abs(tm[3]) * abs(cm[3])))

        page.extract_text(visitor_text=seen)
    assert any(text.startswith("Página 1") for text, _ in sizes)
    assert len(sizes) >= 2 and all(round(size, 1) >= 7 for _, size in sizes), sizes
