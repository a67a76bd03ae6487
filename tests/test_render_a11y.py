"""Accessibility (axe-core in Debian's Chromium) and phone layout of every page type."""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser

from portalgen.presentation.languages import offered
from tests.render_fixtures import language_portal

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(built_portals_server: str) -> str:
    return built_portals_server


def page_types(root: Path) -> list[str]:
    """One page of each type: home, lists, each kind of document, payments, documents, contact."""
    pages = ["index.html", "contact.html", "payments/index.html", "documents/index.html"]
    for folder in ("quotes", "orders", "delivery-notes", "invoices"):
        pages.append(f"{folder}/index.html")
        details = sorted(p.name for p in (root / folder).glob("*.html") if p.name != "index.html")
        if folder == "quotes":  # the open quote, with its decision forms
            details = [d for d in details if "/accept" in (root / folder / d).read_text()]
        pages.append(f"{folder}/{details[0]}")
    return pages


@pytest.mark.parametrize("language", offered())  # every language the portal speaks
def test_no_serious_accessibility_violations_on_a_phone(
    language: str, language_portals: Path, server: str, browser: Browser
) -> None:
    code = language_portal(language)
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    axe = Axe()
    problems = []
    for path in page_types(language_portals / code):
        page.goto(f"{server}/{code}/{path}")
        assert page.locator("html").get_attribute("lang") == language
        results = axe.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [n["target"] for n in violation["nodes"]][:3]
                problems.append(f"{path}: {violation['id']} {targets}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            problems.append(f"{path}: the page scrolls sideways ({width}px wide)")
    context.close()
    assert problems == []


def test_dark_mode_keeps_contrast(built_portals: Path, server: str, browser: Browser) -> None:
    context = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    axe = Axe()
    problems = []
    for path in page_types(built_portals / "C00007"):
        page.goto(f"{server}/C00007/{path}")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 20, 24)", background  # the dark palette is in use
        results = axe.run(page, options={"runOnly": ["color-contrast"]})
        problems += [f"{path}: {v['id']}" for v in results.response["violations"]]
    context.close()
    assert problems == []


def test_invoice_filters_work_with_javascript(
    built_portals: Path, server: str, browser: Browser
) -> None:
    page = browser.new_page()
    page.goto(f"{server}/C00007/invoices/index.html")
    rows = page.locator("#invoices-table tbody tr")
    total = rows.count()
    page.select_option("#filter-status", "paid")
    visible = [r for r in rows.all() if r.is_visible()]
    assert 0 < len(visible) < total
    assert all(r.get_attribute("data-status") == "paid" for r in visible)
    page.close()
