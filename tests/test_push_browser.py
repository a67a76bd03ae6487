"""End to end: a quote accepted in Debian's Chromium reaches FacturaScripts (the API
stand-in, tests/fs_api.py) exactly once, across a push killed midway (a real subprocess,
SIGKILLed after claiming the decision and before writing it) and two more pushes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.interact_fixtures import serving
from tests.push_fixtures import QUOTE, FsWorld, kill_when

pytestmark = pytest.mark.browser


def test_a_quote_accepted_in_the_browser_reaches_facturascripts_once(
    browser: Browser, fs_world: FsWorld
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    with serving(fs_world.gate()) as served:
        page = context.new_page()
        page.goto(served + fs_world.link().removeprefix("http://127.0.0.1:8000"))
        page.get_by_role("button", name="Abrir mi portal").click()
        page.wait_for_url(f"{served}/portal/")
        page.goto(f"{served}/portal/quotes/{QUOTE}.html")
        accept = page.locator("form.form-accept")
        accept.get_by_label("Su nombre completo").fill("Pedro Pérez")
        accept.get_by_role("button", name=f"Aceptar el presupuesto {QUOTE}").click()
        page.wait_for_url(f"{served}/portal/quotes/{QUOTE}.html#decision")
        expect(page.locator("#decision")).to_contain_text("Aceptado el 15/06/2026 por Pedro Pérez")
    context.close()

    kill_when(fs_world, "GET")  # killed between its claim and its write
    assert fs_world.api.writes == []
    first, second = fs_world.push(), fs_world.push()
    assert "Pushed 1, skipped 0, failed 0." in first.output, first.output
    assert "Pushed 0, skipped 0, failed 0." in second.output, second.output
    [(resource, record_id, fields)] = fs_world.api.writes
    assert (resource, record_id, fields["idestado"]) == ("presupuestoclientes", "1", "2")
    assert len(fs_world.api.created("PedidoCliente")) == 1
    assert "Pedro Pérez" in fs_world.quote()["observaciones"]
