"""Text from the export or the configuration keeps its own language: on an
English page, the business's Spanish (line descriptions, payment terms, the legal
footer, "QR tributario:") carries lang="es", so a screen reader reads it in Spanish."""

from __future__ import annotations

from pathlib import Path

from tests.render_fixtures import parse


def test_spanish_text_on_an_english_page_is_marked_spanish(built_portals: Path) -> None:
    root = built_portals / "C00008"  # the English customer of a Spanish business
    pages = sorted((root / "invoices").glob("F*.html"))
    page = parse(pages[0])
    assert page.get("lang") == "en"
    descriptions = page.xpath("//table[contains(@class,'lines')]//tbody/tr/th")
    assert descriptions and all(th.get("lang") == "es" for th in descriptions)
    assert page.xpath("//footer//p[@class='legal']/@lang") == ["es"]
    with_qr = [parse(p) for p in pages if 'class="verifactu"' in p.read_text()]
    assert with_qr and with_qr[0].xpath("//figcaption[@class='qr-above']/@lang") == ["es"]
    terms = [parse(p) for p in pages if "Payment terms" in p.read_text()]
    for found in terms:
        (term,) = found.xpath("//dt[.='Payment terms']/following-sibling::dd")
        assert term.get("lang") == "es"


def test_a_spanish_page_needs_no_marks(built_portals: Path) -> None:
    page = parse(sorted((built_portals / "C00007" / "invoices").glob("F*.html"))[0])
    assert page.get("lang") == "es"
    assert page.xpath("//body//*[@lang]") == []
