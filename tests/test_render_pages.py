"""The portal's HTML as the customer relies on it, checked by parsing the built pages."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from portalgen.slots import COMMENTS_RE, CSRF, LIVE_END, LIVE_RE
from tests.conftest import load_demo
from tests.render_fixtures import BUILT_CUSTOMERS, parse, text_of


@pytest.fixture(scope="module")
def export(demo_dir: Path):
    return load_demo(demo_dir).export


def test_every_page_and_pdf_exists(built_portals: Path, export) -> None:
    for code in BUILT_CUSTOMERS:
        root = built_portals / code
        data = export.customer_data(code)
        folders = {"quote": "quotes", "delivery_note": "delivery-notes", "invoice": "invoices"}
        for doc in data.all_documents():
            folder = folders.get(doc.kind, "orders")
            assert (root / folder / f"{doc.slug}.html").is_file()
            if doc.kind != "order":
                assert (root / folder / f"{doc.slug}.pdf").read_bytes().startswith(b"%PDF-")
        for name in (
            "index.html",
            "quotes/index.html",
            "orders/index.html",
            "delivery-notes/index.html",
            "invoices/index.html",
            "payments/index.html",
            "payments/statement.pdf",
            "payments/statement.csv",
            "documents/index.html",
            "contact.html",
            "download/all-documents.zip",
            "static/portal.css",
            "static/theme.css",
            "_live/quote-accepted.html",
            "_live/quote-rejected.html",
        ):
            assert (root / name).is_file(), name
        for shared in data.documents:
            assert (root / "documents/files" / shared.name).read_bytes() == shared.path.read_bytes()


def test_a_customer_sees_only_their_own_documents(built_portals: Path, export) -> None:
    numbers = {d.number: d.customer_code for d in export.invoices + export.quotes}
    for code in BUILT_CUSTOMERS:
        root = built_portals / code
        mine = {n for n, owner in numbers.items() if owner == code}
        seen: set[str] = set()
        for page in root.rglob("*.html"):
            text = text_of(parse(page))
            seen |= {n for n in numbers if re.search(rf"\b{re.escape(n)}\b", text)}
        assert seen == mine, f"{code} sees {sorted(seen - mine)} and misses {sorted(mine - seen)}"
        other = next(c for c in export.customers if c.code != code)
        assert all(other.name not in p.read_text() for p in root.rglob("*.html"))


def test_invoice_list_shows_amounts_statuses_and_due_dates(built_portals: Path, export) -> None:
    from portalgen.domain.ledger import invoice_status, payments_by_invoice
    from tests.conftest import TODAY

    page = parse(built_portals / "C00007" / "invoices/index.html")
    receipts = payments_by_invoice(export.payments)
    labels = {
        "paid": "Pagada",
        "unpaid": "Pendiente de pago",
        "overdue": "Vencido",
        "partially_paid": "Pagada en parte",
    }
    rows = page.xpath("//table//tbody/tr")
    invoices = export.customer_data("C00007").invoices
    assert len(rows) == len(invoices)
    for invoice in invoices:
        row = next(r for r in rows if text_of(r.xpath("th")[0]).startswith(invoice.number))
        amount = f"{invoice.totals.total.amount:,.2f}".replace(",", "X").replace(".", ",")
        amount = amount.replace("X", ".") + "\u00a0€"
        assert text_of(row.xpath("td[@data-label='Total']")[0]) == amount.replace("\u00a0", " ")
        status = invoice_status(invoice, receipts.get(invoice.number, ()), TODAY)
        assert row.get("data-status") == status
        assert text_of(row.xpath(".//span[contains(@class,'badge')]")[0]) == labels[status]
        assert row.xpath(".//a[@download]/@href") == [f"{invoice.slug}.pdf"]


def test_amounts_are_formatted_for_spain(built_portals: Path) -> None:
    page = (built_portals / "C00007" / "index.html").read_text()
    amounts = re.findall(r"-?\d[\d.]*,\d\d\u00a0€", page)
    assert amounts, "no amount formatted like 1.234,56 €"
    assert not re.search(r"€\s?\d", page), "euro sign before an amount in Spanish"


def test_english_customer_reads_english(built_portals: Path) -> None:
    root = built_portals / "C00008"
    home = parse(root / "index.html")
    assert home.get("lang") == "en"
    assert [text_of(a) for a in home.xpath("//nav[contains(@class,'site-nav')]//a")] == [
        "Home",
        "Quotes",
        "Orders",
        "Delivery notes",
        "Invoices",
        "Payments",
        "Documents",
        "Contact",
    ]
    assert re.search(r"€\d[\d,]*\.\d\d", text_of(home))
    spanish = parse(built_portals / "C00007" / "index.html")
    assert spanish.get("lang") == "es"
    assert "Presupuestos" in text_of(spanish)


def test_open_quote_page_has_terms_then_decision_forms(built_portals: Path, export) -> None:
    import hashlib

    quote = next(q for q in export.quotes if q.number == "P2026A-00017")
    path = built_portals / "C00007" / "quotes" / f"{quote.slug}.html"
    source = path.read_text()
    page = parse(path)
    terms = page.xpath("//section[contains(@class,'terms')]")[0]
    assert "Prices valid for 30 days." in text_of(terms)
    forms = page.xpath("//form[@method='post']")
    actions = [f.get("action") for f in forms]
    assert f"{quote.slug}/accept" in actions and f"{quote.slug}/reject" in actions
    assert source.index("Prices valid for 30 days.") < source.index(f"{quote.slug}/accept")
    pdf_sha = hashlib.sha256((path.with_suffix(".pdf")).read_bytes()).hexdigest()
    for form in forms:
        if form.get("action", "").endswith(("/accept", "/reject")):
            assert form.xpath(".//input[@name='pdf_sha256']/@value") == [pdf_sha]
    reject = next(f for f in forms if f.get("action").endswith("/reject"))
    assert reject.xpath(".//textarea[@name='reason'][@required]")
    accept = next(f for f in forms if f.get("action").endswith("/accept"))
    # the full name signs an acceptance: the one field required there
    assert accept.xpath(".//*[@required]/@name") == ["name"]
    # The fingerprint is shown, with what it is for in plain words (issue 15)
    (box,) = page.xpath("//section[contains(@class,'download')]")
    assert text_of(box.xpath(".//h3")[0]) == "Compruebe que su copia no ha sido alterada"
    assert text_of(box.xpath(".//p[@class='fingerprint']//code")[0]) == pdf_sha


def test_closed_quotes_have_no_decision_forms(built_portals: Path, export) -> None:
    from portalgen.domain.ledger import quote_is_open
    from tests.conftest import TODAY

    for quote in export.customer_data("C00007").quotes:
        page = (built_portals / "C00007" / "quotes" / f"{quote.slug}.html").read_text()
        assert ("/accept" in page) == quote_is_open(quote, TODAY), quote.number


def test_slots_for_the_gate(built_portals: Path) -> None:
    root = built_portals / "C00007"
    for page in root.rglob("*.html"):
        if "_live" in page.parts:
            continue
        source = page.read_text()
        for form in re.findall(r"<form method=\"post\".*?</form>", source, re.DOTALL):
            assert form.count(CSRF) == 1, page
        assert source.count("<!--pg:live:quote:") == source.count(LIVE_END), page
        for match in LIVE_RE.finditer(source):
            slug = match.group(1)
            assert (root / "quotes" / f"{slug}.html").is_file()
            assert "badge" in match.group(2)
    invoice = next((root / "invoices").glob("*.html"))
    assert COMMENTS_RE.findall(invoice.read_text()) == [f"invoices/{invoice.name}"]
    comment = parse(invoice).xpath("//form[@action='../comments']")[0]
    assert comment.xpath(".//input[@name='document']/@value") == [f"invoices/{invoice.name}"]
    home = parse(root / "index.html")
    assert home.xpath("//form[@action='../logout']")
    assert parse(root / "contact.html").xpath("//form[@action='comments']//input[@value='']")


def test_live_fragments_carry_placeholders_only(built_portals: Path) -> None:
    for language_root, word in (
        (built_portals / "C00007", "Aceptado"),
        (built_portals / "C00008", "Accepted"),
    ):
        accepted = (language_root / "_live/quote-accepted.html").read_text()
        assert word in accepted and "{date}" in accepted and "{name}" in accepted
        rejected = (language_root / "_live/quote-rejected.html").read_text()
        for fragment in (accepted, rejected):
            assert re.findall(r"[{}]", fragment.replace("{date}", "").replace("{name}", "")) == []


def test_every_relative_link_resolves(built_portals: Path) -> None:
    """A crawler from the home page follows every link and asset and finds no dead one."""
    for code in BUILT_CUSTOMERS:
        root = built_portals / code
        base = "https://portal.example/portal/"
        queue, seen = ["index.html"], {"index.html"}
        while queue:
            current = queue.pop()
            page = parse(root / current)
            for attr in ("href", "src", "action"):
                for element in page.xpath(f"//*[@{attr}]"):
                    link = element.get(attr)
                    if link.startswith(("mailto:", "tel:", "#")):
                        continue
                    if element.tag == "a" and "noopener" in element.get("rel", ""):
                        continue  # a link out the customer chooses to follow (our website)
                    assert not urlsplit(link).scheme and not link.startswith("/"), link
                    target = urlsplit(urljoin(base + current, link)).path
                    if attr == "action" or target.endswith(
                        ("/logout", "/comments", "/accept", "/reject")
                    ):
                        continue  # the gate's routes
                    if target == "/verify":
                        continue  # the gate's public check of a PDF's fingerprint
                    assert target.startswith("/portal/"), (current, link)
                    path = unquote(target.removeprefix("/portal/"))
                    assert (root / path).is_file(), f"{code}: {current} links to missing {path}"
                    if path.endswith(".html") and path not in seen:
                        seen.add(path)
                        queue.append(path)
        pages = {p.relative_to(root).as_posix() for p in root.rglob("*.html")}
        assert pages - seen == {
            "_live/quote-accepted.html",
            "_live/quote-rejected.html",
            "_live/no-open-quotes.html",
            "_live/proof-received.html",
        }


def test_no_third_party_assets_or_inline_code(built_portals: Path) -> None:
    for page in (built_portals / "C00007").rglob("*.html"):
        tree = parse(page)
        assert not tree.xpath("//script[not(@src)]"), page
        assert not tree.xpath("//style") and not tree.xpath("//*[@style]"), page
        assert not tree.xpath("//*[starts-with(name(), 'on')]"), page
