"""Fixtures for the renderer's tests: a render context and two fully built demo portals.

Rendering PDFs costs about 0.3 s each, so the two portals are built once per test run
and shared between pytest-xdist workers through a folder guarded by a file lock.
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from filelock import FileLock
from lxml import html as lxml_html

from portalgen.config import Settings
from portalgen.domain.model import (
    Address,
    Customer,
    CustomerData,
    Invoice,
    Line,
    Money,
    Order,
    Payment,
    Quote,
)
from portalgen.presentation.languages import offered
from portalgen.render import RenderContext, build_context
from portalgen.render.build import build_site
from tests.conftest import TODAY, demo_settings, load_demo

# C00007 (Spanish, shared documents, an open quote) and C00008 (English, an open quote).
BUILT_CUSTOMERS = ("C00007", "C00008")


def render_settings(directory: Path, **overrides: object) -> Settings:
    """The demo's settings with rendered (not original) PDFs and quote terms."""
    portal = {"pdf": "render", "quote_terms": "Prices valid for 30 days.\nVAT not included."}
    extra = overrides.pop("portal", {})
    assert isinstance(extra, dict)
    portal.update(extra)
    return demo_settings(directory, portal=portal, **overrides)


@pytest.fixture(scope="session")
def render_context(demo_dir: Path) -> RenderContext:
    return build_context(render_settings(demo_dir), today=TODAY)


@pytest.fixture(scope="session")
def built_portals(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """`portalgen build` output for BUILT_CUSTOMERS: <dir>/<code>/..., built once per run."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    target = shared / "render-built"
    with FileLock(str(shared / "render-built.lock")):
        if not (target / "warnings.json").exists():
            context = build_context(render_settings(demo_dir), today=TODAY)
            export = load_demo(demo_dir).export
            list(build_site(export, context, target, BUILT_CUSTOMERS))
            (target / "warnings.json").write_text(json.dumps(context.render_warnings))
    return target


def language_portal(language: str) -> str:
    """The built portal (a folder of `language_portals`) a language's tests read: English is
    C00008's own; every other language is C00007 (the richest demo portal) in it."""
    return {"es": "C00007", "en": "C00008"}.get(language, f"{language}/C00007")


@pytest.fixture(scope="session")
def language_portals(built_portals: Path, demo_dir: Path) -> Path:
    """`built_portals` plus C00007 built in every other language the portal speaks, as if
    its ``language`` column said so: ``<dir>/<lang>/C00007/...`` (see `language_portal`)."""
    with FileLock(str(built_portals.parent / "render-languages.lock")):
        missing = [
            language
            for language in offered()
            if "/" in language_portal(language) and not (built_portals / language).exists()
        ]
        if missing:
            context = build_context(render_settings(demo_dir), today=TODAY)
            export = load_demo(demo_dir).export
        for language in missing:
            customers = tuple(
                dataclasses.replace(c, language=language) if c.code == "C00007" else c
                for c in export.customers
            )
            staging = built_portals / f".{language}"
            changed = dataclasses.replace(export, customers=customers)
            list(build_site(changed, context, staging, ("C00007",)))
            staging.rename(built_portals / language)
    return built_portals


def parse(path: Path) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(path.read_bytes())


def text_of(element: lxml_html.HtmlElement) -> str:
    """The element's text as read aloud: the pieces of every child, separated by spaces."""
    return " ".join(" ".join(element.itertext()).split())


# -- a small customer built in code, for targeted cases ---------------------------------------


def line(description: str, quantity: str, price: str, tax: str = "21", **extra: object) -> Line:
    return Line(
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        tax_rate=Decimal(tax),
        **extra,  # type: ignore[arg-type]
    )


def small_customer(name: str = "Taller Pérez S.L.", **changes: object) -> CustomerData:
    """One customer with a quote, an order in progress, an unpaid invoice and a receipt."""
    from portalgen.domain.totals import compute_totals

    lines = (line("Tornillos M8 <caja>", "2", "617.28"), line("Montaje", "1", "0.00"))
    totals = compute_totals(lines, "EUR")
    customer = Customer(
        code="T0001",
        name=name,
        tax_id="B12345674",
        emails=("compras@taller.example",),
        address=Address("Calle Mayor 1", "46001", "Valencia", "Valencia"),
    )
    quote = Quote(
        number="P2026-001",
        customer_code="T0001",
        issue_date=TODAY - timedelta(days=3),
        currency="EUR",
        lines=lines,
        totals=totals,
        valid_until=TODAY + timedelta(days=27),
        terms="Entrega en 10 días.",
    )
    order = Order(
        number="PED2026-001",
        customer_code="T0001",
        issue_date=TODAY - timedelta(days=2),
        currency="EUR",
        lines=lines,
        totals=totals,
        status="in_preparation",
        expected_delivery_date=TODAY + timedelta(days=5),
        quote="P2026-001",
    )
    invoice = Invoice(
        number="F2026/007",
        customer_code="T0001",
        issue_date=date(2026, 5, 20),
        currency="EUR",
        lines=lines,
        totals=totals,
        due_date=date(2026, 6, 19),
        payment_method="transfer",
        verifactu_qr_url=(
            "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=B98765431"
            "&numserie=F2026%2F007&fecha=20-05-2026&importe=1493.82"
        ),
    )
    receipt = Payment(
        number="R-1",
        invoice="F2026/007",
        customer_code="T0001",
        amount=Money(Decimal("1000.00"), "EUR"),
        due_date=date(2026, 6, 1),
        paid_date=date(2026, 6, 1),
    )
    values = {
        "quotes": (quote,),
        "orders": (order,),
        "invoices": (invoice,),
        "payments": (receipt,),
    }
    values.update(changes)  # type: ignore[arg-type]
    return CustomerData(customer, **values)  # type: ignore[arg-type]


@pytest.fixture
def weasyprint_clean(render_context: RenderContext) -> Iterator[None]:
    """Fails the test if WeasyPrint warned while it ran (a missing image, bad CSS...)."""
    before = len(render_context.render_warnings)
    yield
    assert render_context.render_warnings[before:] == []


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def built_portals_server(built_portals: Path) -> Iterator[str]:
    """The built portals over HTTP on a free port, for the browser tests."""
    handler = functools.partial(QuietHandler, directory=str(built_portals))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def t0001_receipt(number: str, amount: str, due: date, paid: date | None = None) -> Payment:
    """A receipt (instalment) of invoice F2026/007 of customer T0001."""
    return Payment(
        number=number,
        invoice="F2026/007",
        customer_code="T0001",
        amount=Money(Decimal(amount), "EUR"),
        due_date=due,
        paid_date=paid,
    )
