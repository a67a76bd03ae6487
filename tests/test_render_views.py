"""Targeted page contents on a small customer built in code (no PDF rendered: the
publishing side supplies known PDF digests, as the render context allows)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lxml import html

from portalgen.domain.model import CustomerData
from portalgen.render import build_context, plan_portal
from tests.conftest import TODAY
from tests.render_fixtures import render_settings, small_customer, text_of


def pages(
    data: CustomerData, settings_dir: Path, **overrides: object
) -> dict[str, html.HtmlElement]:
    context = build_context(render_settings(settings_dir, **overrides), today=TODAY)
    planned = plan_portal(data, context)
    for f in planned:
        if f.content_type == "application/pdf":
            context.digests[f.key] = "cd" * 32
    out = {f.path: html.fromstring(f.render()) for f in planned if f.path.endswith(".html")}
    assert context._pdf is None  # no PDF was rendered for these pages
    return out


def test_home_lists_open_quotes_orders_in_progress_and_balance(demo_dir: Path) -> None:
    home = pages(small_customer(), demo_dir)["index.html"]
    figures = [
        text_of(f) for f in home.xpath("//div[contains(concat(' ', @class, ' '), ' figure ')]")
    ]
    assert figures == ["Pendiente 493,82 €", "Vencido 0,00 €"]
    quotes = home.xpath("//section[h2[@id='quotes-title']]//tbody/tr")
    assert [text_of(r.xpath("th")[0]) for r in quotes] == ["P2026-001"]
    orders = home.xpath("//section[h2[@id='orders-title']]//tbody/tr")
    assert [text_of(r.xpath("th")[0]) for r in orders] == ["PED2026-001"]
    assert "En preparación" in text_of(orders[0])
    assert "Hola, Taller Pérez S.L." in text_of(home)


def test_order_timeline(demo_dir: Path) -> None:
    page = pages(small_customer(), demo_dir)["orders/PED2026-001.html"]
    steps = page.xpath("//ol[@class='timeline']/li")
    assert [s.get("class") for s in steps] == ["done", "done current", "todo", "todo"]
    assert steps[1].get("aria-current") == "step"
    assert "Prevista el 20 jun 2026" in text_of(steps[3])
    assert page.xpath("//a[@href='../quotes/P2026-001.html']")


def test_invoice_payment_block_and_pay_online_link(demo_dir: Path) -> None:
    url = "https://pay.example/checkout?ref={invoice}&amount={amount}&c={currency}&who={customer}"
    page = pages(small_customer(), demo_dir, payments={"pay_online_url": url})[
        "invoices/F2026-007.html"
    ]
    pay = page.xpath("//section[contains(@class,'pay')]")[0]
    assert page.xpath("//section[contains(@class,'pay')]//a[@class='button']/@href") == [
        "https://pay.example/checkout?ref=F2026%2F007&amount=493.82&c=EUR&who=T0001"
    ]
    assert "Pagada en parte" in text_of(page)
    assert "Factura verificable" not in text_of(pay)
    receipts = page.xpath("//section[h2[@id='receipts-title']]//tbody/tr")
    assert [text_of(r) for r in receipts] == ["R-1 1 jun 2026 1.000,00 € 1 jun 2026"]
    assert "cd" * 32 in text_of(page)


def test_english_pages_format_for_britain(demo_dir: Path) -> None:
    from dataclasses import replace

    data = small_customer()
    data = replace(data, customer=replace(data.customer, language="en"))
    home = pages(data, demo_dir)["index.html"]
    assert home.get("lang") == "en"
    assert "Outstanding €493.82" in text_of(home)
    quote = pages(data, demo_dir)["quotes/P2026-001.html"]
    assert "Valid until 12 Jul 2026" in text_of(quote)
    assert quote.xpath("//button[normalize-space()='Accept quote P2026-001']")


def test_the_gate_can_import_slots_without_the_renderer() -> None:
    code = (
        "import sys, portalgen.slots; "
        "heavy = {'weasyprint', 'jinja2', 'babel', 'segno', 'portalgen.render'}; "
        "heavy &= set(sys.modules); "
        "print(sorted(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_fill_live_replaces_decided_quotes(demo_dir: Path) -> None:
    from portalgen.slots import fill_live

    context = build_context(render_settings(demo_dir), today=TODAY)
    planned = {f.path: f for f in plan_portal(small_customer(), context)}
    for f in planned.values():
        if f.content_type == "application/pdf":
            context.digests[f.key] = "00" * 32
    fragment = planned["_live/quote-accepted.html"].render().decode()
    filled = fragment.replace("{date}", "15/06/2026").replace("{name}", "Ana")
    page = fill_live(planned["quotes/P2026-001.html"].render().decode(), {"P2026-001": filled})
    tree = html.fromstring(page)
    assert not tree.xpath("//form[contains(@action,'/accept')]")
    assert "Aceptado el 15/06/2026 por Ana" in text_of(tree)
    assert tree.xpath("//form[@action='../comments']")  # comments stay
