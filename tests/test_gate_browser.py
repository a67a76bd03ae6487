"""End to end in Debian's Chromium: a customer opens the emailed link, uses the portal,
downloads an invoice and signs out; with an access code, the code form and the forced
change come first. The gate runs under waitress, as `portalgen serve` runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from portalgen.gate import Gate
from tests.gate_fixtures import BASE_URL, GateWorld, with_code
from tests.interact_fixtures import serving

pytestmark = pytest.mark.browser


@pytest.fixture
def served(gate_world: GateWorld) -> Iterator[str]:
    """The world's gate under waitress on a free port; yields its address."""
    import time

    gate: Gate = gate_world.make_gate(clock=time.time)
    with serving(gate, threads=4) as url:
        yield url


def at(served: str, link: str) -> str:
    return served + link.removeprefix(BASE_URL)


def open_portal(page: Page, served: str, link: str, button: str) -> None:
    page.goto(at(served, link))
    expect(page.get_by_role("button", name=button)).to_be_visible()
    page.get_by_role("button", name=button).click()


def test_link_portal_every_section_download_and_sign_out(
    browser: Browser, served: str, gate_world: GateWorld, built_portals: Path
) -> None:
    context = browser.new_context(accept_downloads=True, viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    open_portal(page, served, gate_world.link("C00007"), "Abrir mi portal")
    page.wait_for_url(f"{served}/portal/")
    token = gate_world.link("C00007").rsplit("/", 1)[1]
    assert token not in page.url
    expect(page.locator("h1")).to_be_visible()

    sections = [
        "Presupuestos",
        "Pedidos",
        "Albaranes",
        "Facturas",
        "Pagos",
        "Documentos",
        "Contacto",
        "Inicio",
    ]
    for name in sections:
        page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
        page.wait_for_load_state()
        assert page.url.startswith(f"{served}/portal/"), name
        expect(page.locator("main h1")).to_be_visible()
        assert "Página no encontrada" not in page.content(), name

    page.goto(f"{served}/portal/invoices/F2026A-00010.html")
    with page.expect_download() as caught:
        page.locator('a[href$="F2026A-00010.pdf"]').first.click()
    download = caught.value
    assert download.suggested_filename == "F2026A-00010.pdf"
    expected = (built_portals / "C00007/invoices/F2026A-00010.pdf").read_bytes()
    assert Path(download.path()).read_bytes() == expected

    assert (errors, failed) == ([], [])  # no CSP violations, script errors or missing files
    page.get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_url(f"{served}/signed-out?lang=es")
    expect(page.locator("h1")).to_have_text("Ha cerrado la sesión")
    response = page.goto(f"{served}/portal/")
    assert response is not None and response.status == 403
    context.close()


def test_access_code_form_forced_change_then_the_portal(
    browser: Browser, served: str, gate_world: GateWorld
) -> None:
    temporary = with_code(gate_world, "C00008")
    context = browser.new_context()
    page = context.new_page()
    open_portal(page, served, gate_world.link("C00008"), "Open my portal")
    page.wait_for_url(f"{served}/code")
    page.get_by_label("Access code").fill("WRONG-CODE")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_have_text("That code is not right.")
    page.get_by_label("Access code").fill(temporary)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{served}/code/change")
    page.get_by_label("New code", exact=True).fill("my-own-code-2026")
    page.get_by_label("Repeat the new code").fill("my-own-code-2026")
    page.get_by_role("button", name="Save the new code").click()
    page.wait_for_url(f"{served}/portal/")
    expect(page.get_by_role("link", name="Invoices", exact=True)).to_be_visible()
    context.close()

    again = browser.new_context().new_page()  # next visit: the customer's own code
    open_portal(again, served, gate_world.link("C00008"), "Open my portal")
    again.wait_for_url(f"{served}/code")
    again.get_by_label("Access code").fill("my-own-code-2026")
    again.get_by_role("button", name="Continue").click()
    again.wait_for_url(f"{served}/portal/")


def test_the_gate_pages_are_accessible(
    browser: Browser, served: str, gate_world: GateWorld
) -> None:
    with_code(gate_world, "C00007")
    page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    axe = Axe()
    pages = []
    page.goto(at(served, gate_world.link("C00007")))
    pages.append(("link", axe.run(page)))
    page.get_by_role("button", name="Abrir mi portal").click()
    page.wait_for_url(f"{served}/code")
    pages.append(("code", axe.run(page)))
    page.goto(f"{served}/l/broken")
    pages.append(("refusal", axe.run(page)))
    for name, results in pages:
        serious = [
            v for v in results.response["violations"] if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], (name, [v["id"] for v in serious])
