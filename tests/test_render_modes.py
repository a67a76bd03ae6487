"""The portal in every mode a reader may use, in Debian's Chromium: forced
colours (Windows high contrast) keep the QR codes scannable and buttons outlined, the
header's focus ring stands out, and printing keeps numbers whole."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(built_portals_server: str) -> str:
    return built_portals_server


def invoice_with_both_qrs(root: Path) -> str:
    for page in sorted((root / "invoices").glob("*.html")):
        text = page.read_text()
        if 'class="verifactu"' in text and 'class="epc"' in text:
            return f"invoices/{page.name}"
    raise AssertionError("no invoice page with both QR codes")


def decoded(png: bytes) -> list[str]:
    import zxingcpp
    from PIL import Image

    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def forced_page(browser: Browser, scheme: str) -> Page:
    context = browser.new_context(
        color_scheme=scheme,  # type: ignore[arg-type]
        viewport={"width": 1280, "height": 900},
    )
    page = context.new_page()
    page.emulate_media(forced_colors="active", color_scheme=scheme)  # type: ignore[arg-type]
    return page


@pytest.mark.parametrize("scheme", ["dark", "light"])  # Windows' dark and light contrast themes
def test_both_qr_codes_scan_with_forced_colours(
    browser: Browser,
    server: str,
    built_portals: Path,
    scheme: str,
) -> None:
    path = invoice_with_both_qrs(built_portals / "C00007")
    page = forced_page(browser, scheme)
    page.goto(f"{server}/C00007/{path}")
    assert page.evaluate("matchMedia('(forced-colors: active)').matches")
    # what a phone's camera sees: each figure as shown
    verifactu = decoded(page.locator("figure.verifactu").screenshot())
    assert len(verifactu) == 1 and "ValidarQR?nif=" in verifactu[0]
    epc = decoded(page.locator("figure.epc").screenshot())
    assert len(epc) == 1 and epc[0].startswith("BCD\n")
    page.context.close()


def test_buttons_keep_their_outline_with_forced_colours(
    browser: Browser,
    server: str,
    built_portals: Path,
) -> None:
    root = built_portals / "C00007"
    quote = next(
        f"quotes/{p.name}"
        for p in sorted((root / "quotes").glob("*.html"))
        if "/accept" in p.read_text()
    )
    page = forced_page(browser, "dark")
    page.goto(f"{server}/C00007/{quote}")
    borders = page.eval_on_selector_all(
        ".button",
        "els => els.map(e => [getComputedStyle(e).borderTopStyle,"
        " parseFloat(getComputedStyle(e).borderTopWidth)])",
    )
    assert len(borders) >= 2  # accept, reject (and the PDF download)
    assert all(style == "solid" and width >= 1 for style, width in borders), borders
    page.context.close()


CONTRAST = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const el = document.activeElement;
  const opaque = (e) => rgb(getComputedStyle(e).backgroundColor)[3] !== 0;
  // the ring is drawn just outside the element: what is painted there, under it
  const box = el.getBoundingClientRect();
  const under = document.elementsFromPoint(Math.max(box.left - 3, 0), box.top + box.height / 2)
    .find(e => e !== el && !el.contains(e) && opaque(e));
  const ring = rgb(getComputedStyle(el).outlineColor);
  const back = under ? rgb(getComputedStyle(under).backgroundColor) : [255, 255, 255];
  const [a, b] = [lum(ring), lum(back)].sort((x, y) => y - x);
  return {name: el.textContent.trim().slice(0, 30),
          inHeader: !!el.closest(".site-header, .skip-link"),
          style: getComputedStyle(el).outlineStyle, ratio: (a + 0.05) / (b + 0.05)};
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_focus_ring_stands_out_in_the_header(
    browser: Browser,
    server: str,
    scheme: str,
) -> None:
    context = browser.new_context(
        color_scheme=scheme,  # type: ignore[arg-type]
        viewport={"width": 1280, "height": 900},
    )
    page = context.new_page()
    page.goto(f"{server}/C00007/invoices/index.html")
    seen = []
    for _ in range(15):  # the skip link, the brand, sign out, the sections
        page.keyboard.press("Tab")
        focus = page.evaluate(CONTRAST)
        if not focus["inHeader"]:
            break
        seen.append(focus)
    assert len(seen) >= 5
    weak = [
        (f["name"], round(f["ratio"], 2)) for f in seen if f["style"] == "none" or f["ratio"] < 3
    ]
    assert weak == []
    context.close()


WRAPS = """() => {
  const tops = (range) => new Set([...range.getClientRects()].filter(r => r.width > 0)
    .map(r => Math.round(r.top))).size;
  const broken = [];
  for (const el of document.querySelectorAll("main .num, main .totals dd")) {
    const r = document.createRange(); r.selectNodeContents(el);
    const text = el.textContent.trim();
    if (el.offsetParent !== null && text && tops(r) > 1) broken.push(text);
  }
  for (const th of document.querySelectorAll("main th")) {
    if (th.offsetParent === null) continue;
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      for (const m of t.data.matchAll(/[^\\s-]+/g)) {  // a word (a hyphen may end a line)
        const r = document.createRange();
        r.setStart(t, m.index); r.setEnd(t, m.index + m[0].length);
        if (tops(r) > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


@pytest.mark.parametrize("code", ["C00007", "C00008"])
def test_printing_keeps_numbers_and_words_whole_with_seller_and_customer(
    browser: Browser,
    server: str,
    built_portals: Path,
    code: str,
) -> None:
    root = built_portals / code
    pages = [f"invoices/{p.name}" for p in sorted((root / "invoices").glob("F*.html"))][:6]
    pages += [f"quotes/{p.name}" for p in sorted((root / "quotes").glob("P*.html"))][:3]
    context = browser.new_context(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
    page = context.new_page()
    page.goto(f"{server}/{code}/{pages[0]}")
    assert not page.locator(".parties").is_visible()  # on screen, the portal shows them
    page.emulate_media(media="print")
    problems = []
    for path in pages:
        page.goto(f"{server}/{code}/{path}")
        problems += [f"{path}: {text!r}" for text in page.evaluate(WRAPS)]
        parties = page.locator(".parties")
        assert parties.is_visible(), path
        text = parties.inner_text()
        assert "Suministros y Servicios Levante" in text and code in text, path
    assert problems == []
    context.close()


@pytest.mark.parametrize(
    ("code", "pattern"),
    [("C00008", r"^\d+ of \d+ invoices?$"), ("C00007", r"^\d+ de \d+ facturas?$")],
)
def test_the_invoice_filter_says_how_many_of_how_many_invoices(
    browser: Browser,
    server: str,
    code: str,
    pattern: str,
) -> None:
    import re

    page = browser.new_page()
    page.goto(f"{server}/{code}/invoices/index.html")
    total = page.locator("#invoices-table tbody tr").count()
    page.locator("#filter-year").select_option(index=1)
    said = page.locator(".filter-count").inner_text()
    assert re.fullmatch(pattern, said), said
    shown = page.locator("#invoices-table tbody tr:not([hidden])").count()
    assert said.split()[0] == str(shown) and str(total) in said
    page.close()
