"""The portal on a phone (390 × 844) in every language offered (presentation.languages).

One browser, one customer's portal per language (the demo's C00007 plus documents built
here for each page type: an unpaid invoice, one in instalments, a paid one, a credit note,
a pending and a decided quote), and the gate's own pages, all served by one HTTP server.
Every page is checked the way a customer would notice: nothing scrolls sideways, no word
or label is broken or squeezed, the page's content starts within the first sixth of the
screen with the current section in view, and an unpaid invoice shows what is due, by
when and how to pay on the first screen, then the IBAN, then the rest, the QR codes last.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from portalgen.domain.model import CustomerData, Invoice, Quote
from portalgen.domain.totals import compute_totals
from portalgen.gate import pages as gate_pages
from portalgen.gate.i18n import translations as gate_translations
from portalgen.presentation.languages import offered
from portalgen.render import build_context
from portalgen.render.build import safe_join, write_file
from portalgen.render.portal import plan_portal
from tests.conftest import TODAY, demo_settings, load_demo
from tests.render_fixtures import QuietHandler, line, t0001_receipt

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
SERVED = (".html", ".css", ".js")  # PDFs, the CSV and the ZIP are not looked at here
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
CODE = "C00007"
GATE_CSS = Path(gate_pages.__file__).resolve().parent / "static" / "gate.css"


def invoice(number: str, *lines_: object, **fields: object) -> Invoice:
    lines = tuple(lines_) or (line("Revisión anual de la instalación frigorífica", "1", "640.00"),)
    return Invoice(
        number=number,
        customer_code=CODE,
        issue_date=TODAY - timedelta(days=10),
        currency="EUR",
        lines=lines,  # type: ignore[arg-type]
        totals=compute_totals(lines, "EUR"),  # type: ignore[arg-type]
        payment_method="transfer",
        payment_terms="Transferencia a 30 días",
        verifactu_qr_url=(
            "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=B98765431"
            f"&numserie={number}&fecha=05-06-2026&importe=774.40"
        ),
        **fields,  # type: ignore[arg-type]
    )


def receipt(invoice_number: str, number: str, amount: str, days: int, paid: bool) -> object:
    due = TODAY + timedelta(days=days)
    found = t0001_receipt(number, amount, due, paid=due if paid else None)
    return replace(found, invoice=invoice_number, customer_code=CODE)


def quote(number: str, status: str) -> Quote:
    lines = (line("Mantenimiento preventivo trimestral", "4", "185.00"),)
    return Quote(
        number=number,
        customer_code=CODE,
        issue_date=TODAY - timedelta(days=2),
        currency="EUR",
        lines=lines,
        totals=compute_totals(lines, "EUR"),
        valid_until=TODAY + timedelta(days=28),
        status=status,  # type: ignore[arg-type]
    )


# Each page type, by its path in the portal (the demo's own order and delivery note are
# looked up when the portal is built).
UNPAID = "invoices/F-PHONE-1.html"
PAGES = [
    "index.html",
    "invoices/index.html",
    UNPAID,
    "invoices/F-PHONE-2.html",  # three instalments: paid, overdue, due later
    "invoices/F-PHONE-3.html",  # paid
    "invoices/A-PHONE-4.credit-note.html",  # a credit note
    "quotes/index.html",
    "quotes/P-PHONE-1.html",  # pending: the decision forms
    "quotes/P-PHONE-2.html",  # accepted
    "orders/index.html",
    "delivery-notes/index.html",
    "payments/index.html",
    "documents/index.html",
    "contact.html",
]
GATE_PAGES = {
    "sign-in": lambda p: gate_pages.open_link(p, "/l/x", "csrf"),
    "home": lambda p: gate_pages.home(p, True),
    "code": lambda p: gate_pages.code_form(p, "csrf", "The code is not right."),
    "new-link": lambda p: gate_pages.link_form(p, "csrf", True),
    "signed-out": gate_pages.signed_out,
    "gone": lambda p: gate_pages.error_page(p, "access-ended", can_send=True),
    "expired": lambda p: gate_pages.error_page(p, "session-expired", can_send=True),
    "not-found": lambda p: gate_pages.error_page(p, "not-found", can_send=False),
    "error": lambda p: gate_pages.error_page(p, "server-error", can_send=False),
}


def phone_customer(data: CustomerData, language: str, original: Path) -> CustomerData:
    """C00007 in `language`, with one document of each kind the demo may not have. Every
    document has the invoicing program's PDF (`original`): rendering ours would take most
    of the test's time, and the PDFs are not what is tested here."""
    unpaid = invoice("F-PHONE-1", due_date=TODAY + timedelta(days=20))
    instalments = invoice("F-PHONE-2", line("Compresor de tornillo 7,5 kW", "1", "1800.00"))
    paid = invoice("F-PHONE-3", due_date=TODAY - timedelta(days=5))
    credit = invoice(
        "A-PHONE-4", line("Devolución: compresor defectuoso", "-1", "300.00"), credit_note=True
    )
    receipts = (
        receipt("F-PHONE-2", "R-PHONE-1", "726.00", -40, paid=True),
        receipt("F-PHONE-2", "R-PHONE-2", "726.00", -5, paid=False),
        receipt("F-PHONE-2", "R-PHONE-3", "726.00", 25, paid=False),
        receipt("F-PHONE-3", "R-PHONE-4", "774.40", -5, paid=True),
    )
    quotes = (*data.quotes, quote("P-PHONE-1", "pending"), quote("P-PHONE-2", "accepted"))
    invoices = (*data.invoices, unpaid, instalments, paid, credit)
    return replace(
        data,
        customer=replace(data.customer, language=language),
        quotes=tuple(replace(q, original_pdf=original) for q in quotes),
        delivery_notes=tuple(replace(d, original_pdf=original) for d in data.delivery_notes),
        invoices=tuple(replace(i, original_pdf=original) for i in invoices),
        payments=(*data.payments, *receipts),  # type: ignore[arg-type]
    )


class PhoneSite:
    """C00007's portal in each language (built on first use) and the gate's pages under
    `gate/`, all in one folder behind one HTTP server."""

    def __init__(self, demo_dir: Path, root: Path, server: str) -> None:
        self.settings = demo_settings(demo_dir, portal={"pdf": "original"})
        self.data = load_demo(demo_dir, self.settings).export.by_customer()[CODE]
        self.root = root
        self.original = root / "original.pdf"
        self.original.write_bytes(b"%PDF-1.7\n% the invoicing program's PDF\n%%EOF\n")
        self.server = server

    def folder(self, language: str) -> Path:
        portal = self.root / language
        if not portal.is_dir():
            context = build_context(self.settings, today=TODAY)
            data = phone_customer(self.data, language, self.original)
            for planned in plan_portal(data, context):
                if planned.path.endswith(SERVED):  # the pages and what they load
                    write_file(safe_join(portal, planned.path), planned.render())
            write_gate_pages(portal, language, self.settings.company.name)
        return portal

    def url(self, language: str) -> str:
        self.folder(language)
        return f"{self.server}/{language}"


@pytest.fixture(scope="module")
def site(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhoneSite]:
    root = tmp_path_factory.mktemp("phone")
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield PhoneSite(demo_dir, root, f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()


def write_gate_pages(portal: Path, language: str, company: str) -> None:
    """The gate's pages as the gate renders them, its stylesheet where they look for it."""
    root = f"/{portal.name}"
    context = gate_pages.PageContext(
        language, gate_translations(language), company, "info@levante.example", root
    )
    (portal / "_gate").mkdir()
    (portal / "_gate" / "gate.css").write_bytes(GATE_CSS.read_bytes())
    (portal / "gate").mkdir()
    for name, render in GATE_PAGES.items():
        (portal / "gate" / f"{name}.html").write_text(render(context), encoding="utf-8")


def every_page(portal: Path) -> list[str]:
    order = sorted(p.name for p in (portal / "orders").glob("*.html") if p.name != "index.html")
    notes = sorted(p.name for p in (portal / "delivery-notes").glob("*.html"))
    notes = [n for n in notes if n != "index.html"]
    return [
        *PAGES,
        f"orders/{order[0]}",
        f"delivery-notes/{notes[0]}",
        *(f"gate/{name}.html" for name in GATE_PAGES),
    ]


# What a customer would see as broken, measured in the page. Labels drawn by CSS
# (`::before { content: attr(data-label) }`) have no text node to measure, so each is
# first put in a span with the pseudo-element's own style, in its place.
LAYOUT_PROBLEMS = """
() => {
  const problems = [];
  const hidden = document.createElement("style");
  hidden.textContent = "[data-label]::before { content: none !important; }";
  document.querySelectorAll("[data-label]").forEach((el) => {
    const before = getComputedStyle(el, "::before");
    if (before.content === "none" || before.display === "none") { return; }
    const probe = document.createElement("span");
    for (const name of ["display", "white-space", "font-size", "font-weight", "flex-grow",
                        "flex-shrink", "flex-basis", "margin-right", "text-align"]) {
      probe.style.setProperty(name, before.getPropertyValue(name));
    }
    probe.textContent = JSON.parse(before.content).trim();
    el.insertBefore(probe, el.firstChild);
  });
  document.head.appendChild(hidden);

  const width = document.documentElement.scrollWidth;
  if (width > window.innerWidth) {
    problems.push(`the page scrolls sideways (${width}px wide)`);
  }
  // A compound word may end a line at its own hyphen ("e-mail", "ci-dessous"); a number
  // or a reference (any word with a digit: "F2026A-00035", "1.234,56 €") never breaks.
  const lineCount = (node, start, end) => {
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, end);
    return new Set([...range.getClientRects()].filter((r) => r.width > 0)
      .map((r) => Math.round(r.top))).size;
  };
  const atHyphens = (node, start, word) => {
    if (/[0-9]/.test(word) || !word.includes("-")) { return false; }
    let offset = start;
    for (const piece of word.split("-")) {
      if (piece && lineCount(node, offset, offset + piece.length) > 1) { return false; }
      offset += piece.length + 1;
    }
    return true;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest("svg, script, style, select, .visually-hidden")) { continue; }
    const box = parent.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1 || !parent.checkVisibility()) { continue; }
    const text = node.nodeValue;
    const size = parseFloat(getComputedStyle(parent).fontSize);
    for (const match of text.matchAll(/[^ \\t\\n\\r]+/g)) {
      const word = match[0];
      if ([...word].length <= 3) { continue; }
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + word.length);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0);
      const lines = new Set(rects.map((r) => Math.round(r.top)));
      const wide = rects.reduce((sum, r) => sum + r.width, 0);
      if (lines.size > 1 && wide <= box.width && !atHyphens(node, match.index, word)) {
        problems.push(`"${word}" is broken over ${lines.size} lines`);
      } else if (wide < 1.5 * size) {  // narrower than about three characters
        problems.push(`"${word}" is squeezed to ${Math.round(wide)}px`);
      }
    }
  }
  return problems;
}
"""

CONTENT_TOP = """
() => {
  const main = document.querySelector("main");
  const first = [...main.querySelectorAll("*")].find((el) => el.getBoundingClientRect().height > 0);
  return Math.round((first || main).getBoundingClientRect().top);
}
"""

CURRENT_SECTION = """
() => {
  const link = document.querySelector(".site-nav a[aria-current]");
  if (!link) { return null; }
  const r = link.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
}
"""


def top_of(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"]


def bottom_of(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"] + box["height"]


def title_gap(page: Page) -> float:
    """From the bottom of the header (the blue bar) to the first thing of the page."""
    return page.evaluate(CONTENT_TOP) - bottom_of(page, ".site-header")


def listed(page: Page, base: str, number: str) -> tuple[str, str]:
    """An invoice's due date and outstanding amount as the invoice list shows them."""
    page.goto(f"{base}/invoices/index.html")
    row = page.locator("#invoices-table tbody tr", has=page.get_by_role("link", name=number))
    cells = row.locator("td")
    return cells.nth(1).inner_text().strip(), cells.nth(3).inner_text().strip()


def invoice_first(page: Page, due: str, outstanding: str) -> list[str]:
    """An unpaid invoice on a phone: how much, by when and how to pay on the first screen
    (the figures the invoice list shows), then the IBAN and the reference, then the
    details and lines, the QR codes last."""
    problems = []
    summary = page.locator(".due")
    if page.locator(".due-amount dd").inner_text().strip() != outstanding:
        problems.append(f"the amount due is not the list's {outstanding}")
    if due not in summary.inner_text() or summary.locator(".badge").count() != 1:
        problems.append(f"the summary lacks the due date {due} or the status")
    for selector in (".due-amount", ".due a[href='#pay']"):
        if bottom_of(page, selector) > PHONE["height"]:
            problems.append(f"{selector} is below the first screen")
    steps = [".due", "#pay .bank", ".facts", "#lines-title", "figure.verifactu", "figure.epc"]
    tops = [top_of(page, selector) for selector in steps]
    if tops != sorted(tops):
        problems.append(f"the invoice does not read in this order: {steps}")
    return problems


def quote_first(page: Page, open_: bool) -> list[str]:
    """A quote: its total, valid-until date and decision at the top; the call to decide
    only while it is open."""
    problems = []
    total = page.locator(".totals .grand dd").inner_text().strip()
    if page.locator(".due-amount dd").inner_text().strip() != total:
        problems.append("the summary's total is not the quote's")
    decide = page.locator(".due a[href='#decision']")
    if open_ and (decide.count() != 1 or bottom_of(page, ".due a[href='#decision']") > 844):
        problems.append("no call to decide on the first screen")
    if not open_ and (decide.count() or page.locator(".due .badge-accepted").count() != 1):
        problems.append("a decided quote does not show its decision at the top")
    return problems


@pytest.mark.parametrize("language", offered())
def test_every_page_reads_on_a_phone(language: str, site: PhoneSite, browser: Browser) -> None:
    base = site.url(language)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    due, outstanding = listed(page, base, "F-PHONE-1")
    problems = []
    for path in every_page(site.folder(language)):
        response = page.goto(f"{base}/{path}")
        assert response is not None and response.ok, path
        assert page.evaluate("document.documentElement.lang") == language, path
        problems += [f"{path}: {p}" for p in page.evaluate(LAYOUT_PROBLEMS)]
        top = page.evaluate(CONTENT_TOP)
        if top >= PHONE["height"] / 6:
            problems.append(f"{path}: the content starts {top}px down")
        if path.startswith("gate/"):
            continue
        current = page.evaluate(CURRENT_SECTION)
        if current is None or current["left"] < 0 or current["right"] > PHONE["width"]:
            problems.append(f"{path}: the current section is out of view: {current}")
        if title_gap(page) < 16:
            problems.append(f"{path}: the title touches the header ({title_gap(page)}px)")
        if path == UNPAID:
            problems += [f"{path}: {p}" for p in invoice_first(page, due, outstanding)]
        if path.startswith("quotes/P-PHONE"):
            problems += [f"{path}: {p}" for p in quote_first(page, path.endswith("-1.html"))]
    context.close()
    assert not problems, "\n".join(problems)


def test_copy_buttons_copy_and_the_page_works_without_javascript(
    site: PhoneSite, browser: Browser
) -> None:
    base = site.url("es")
    context = browser.new_context(viewport=PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{base}/{UNPAID}")
    button = page.locator("#pay .bank dd").first.locator("button.copy")
    assert button.get_attribute("data-copy") and button.is_visible()
    page.get_by_role("button", name="Copiar Cuenta (IBAN)").click()
    expect(button).to_contain_text("Copiado")  # said where the customer tapped
    assert page.evaluate("navigator.clipboard.readText()") == "ES9121000418450200051332"
    page.locator("#pay .bank dd").nth(1).get_by_role("button").click()
    assert page.evaluate("navigator.clipboard.readText()") == "F-PHONE-1"
    context.close()

    # Without JavaScript: no button that would do nothing, the IBAN is there to read, and
    # the sections row, which cannot be scrolled for the customer, still shows the current
    # section (the last ones are out of the row's view at first).
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/{UNPAID}")
    assert page.locator("button.copy").count() == 2
    assert not page.locator("button.copy").first.is_visible()
    assert "ES91 2100 0418 4502 0005 1332" in page.locator("#pay .bank").inner_text()
    for path in ("contact.html", "documents/index.html", "payments/index.html"):
        page.goto(f"{base}/{path}")
        current = page.evaluate(CURRENT_SECTION)
        assert current["left"] >= 0 and current["right"] <= PHONE["width"], (path, current)
    context.close()


def test_the_statement_is_a_compact_list_with_its_downloads_at_hand(
    site: PhoneSite, browser: Browser
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{site.url('es')}/payments/index.html")
    rows = page.locator("table.statement tbody tr")
    assert rows.count() > 10
    heights = [box["height"] for box in (r.bounding_box() for r in rows.all()) if box]
    # Three short lines at most: the date and the amount, the movement, the balance
    # (a card per movement with a labelled line per column took 180 px)
    assert max(heights) <= 3 * 24 + 16, heights
    labels = rows.first.evaluate(
        "(row) => [...row.querySelectorAll('td')].filter((td) => td.checkVisibility())"
        ".map((td) => getComputedStyle(td, '::before').content)"
    )
    assert labels == ["none", '"Cargo "', '"Saldo "']  # each amount says what it is
    rows.last.scroll_into_view_if_needed()
    for name in ("Extracto (PDF)", "Extracto (CSV para hojas de cálculo)"):
        box = page.get_by_role("link", name=name).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    context.close()


def test_the_desktop_keeps_its_layout(site: PhoneSite, browser: Browser) -> None:
    """At 1280 px: nothing broken either; the tax QR beside the title, the scan-to-pay code
    inside the payment card, the title clear of the header."""
    base = site.url("es")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems = []
    for path in every_page(site.folder("es")):
        page.goto(f"{base}/{path}")
        problems += [f"{path}: {p}" for p in page.evaluate(LAYOUT_PROBLEMS)]
    page.goto(f"{base}/{UNPAID}")
    card, code = page.locator("#pay").bounding_box(), page.locator("figure.epc").bounding_box()
    title, tax = page.locator("h1").bounding_box(), page.locator("figure.verifactu").bounding_box()
    assert card and code and title and tax
    assert card["x"] < code["x"] and code["x"] + code["width"] < card["x"] + card["width"]
    assert card["y"] < code["y"] and code["y"] + code["height"] < card["y"] + card["height"]
    assert tax["x"] > title["x"] + title["width"] and tax["y"] < card["y"]
    assert title_gap(page) >= 16
    context.close()
    assert not problems, "\n".join(problems)
