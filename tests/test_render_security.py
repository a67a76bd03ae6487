"""Billing data is text, never markup: XSS in names, descriptions, notes and file names."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lxml import html

from portalgen.domain.model import SharedDocument
from portalgen.render import build_context, plan_portal
from portalgen.render.build import safe_join
from tests.conftest import TODAY
from tests.render_fixtures import line, render_settings, small_customer

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'


def test_billing_data_with_html_stays_text(demo_dir: Path, tmp_path: Path) -> None:
    shared = tmp_path / "x.pdf"
    shared.write_bytes(b"%PDF-1.4\n")
    data = small_customer(name=SCRIPT)
    quote = data.quotes[0]
    quote = replace(
        quote,
        lines=(line(IMG, "1", "10.00", reference='"><b>ref'), *quote.lines[1:]),
        notes="</textarea><script>alert(3)</script>",
        terms="<a href=javascript:alert(4)>terms</a>",
        reference="{{ 7*7 }}",
    )
    data = replace(
        data,
        customer=replace(data.customer, trade_name=SCRIPT),
        quotes=(quote,),
        documents=(
            SharedDocument(
                customer_code="T0001",
                name=f"{IMG}.pdf",
                path=shared,
                size=9,
                modified=TODAY,
                content_type="application/pdf",
            ),
        ),
    )
    context = build_context(render_settings(demo_dir), today=TODAY)
    files = {f.path: f.render() for f in plan_portal(data, context)}
    for path, content in files.items():
        if not path.endswith(".html"):
            continue
        tree = html.fromstring(content)
        assert not tree.xpath("//script[not(@src)]"), path
        assert not tree.xpath("//img[@onerror]") and not tree.xpath("//b"), path
        assert not tree.xpath("//a[starts-with(@href,'javascript:')]"), path
    home = html.fromstring(files["index.html"])
    assert SCRIPT in home.text_content()  # shown, as text
    page = html.fromstring(files["quotes/P2026-001.html"])
    assert IMG in page.text_content() and "{{ 7*7 }}" in page.text_content()
    assert "</textarea><script>alert(3)</script>" in page.text_content()
    import io

    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(files["quotes/P2026-001.pdf"])).pages[0].extract_text()
    assert "alert(1)" in text.replace("\u00a0", " ")  # the PDF prints the name as text too
    documents = html.fromstring(files["documents/index.html"])
    assert documents.xpath("//a[@download]")[0].text_content() == f"{IMG}.pdf"


def test_build_refuses_paths_outside_the_portal(tmp_path: Path) -> None:
    import pytest

    from portalgen.errors import RenderError

    assert (
        safe_join(tmp_path, "documents/files/a b/ñ.pdf") == tmp_path / "documents/files/a b/ñ.pdf"
    )
    for bad in ("../x", "/etc/passwd", "documents/../../x", "a//b", "./a"):
        with pytest.raises(RenderError):
            safe_join(tmp_path, bad)
