"""End to end in Debian's Chromium: a customer opens the link, accepts a quote with a
comment, sees it accepted on the quote, the quote list and the home page, reloads, tries
again from a second tab and is told it is already accepted. The audit log has the events
and the staff webhook (a real local HTTP server) got one correctly signed request."""

from __future__ import annotations

import dataclasses
import json

import pytest
from playwright.sync_api import Browser, expect

from portalgen.audit.log import AuditLog
from portalgen.audit.webhook import WebhookSink
from portalgen.gate import create_app
from tests.gate_fixtures import BASE_URL, GateWorld
from tests.interact_fixtures import (
    PENDING,
    WEBHOOK_SECRET,
    JuneClock,
    WebhookReceiver,
    serving,
)

pytestmark = pytest.mark.browser


def test_accept_a_quote_see_it_everywhere_and_be_told_the_second_time(
    browser: Browser, june_world: GateWorld, receiver: WebhookReceiver
) -> None:
    world = june_world
    settings = dataclasses.replace(
        world.settings,
        audit=dataclasses.replace(world.settings.audit, webhook_url=receiver.url),
    )
    gate = create_app(
        settings,
        world.storage,
        secrets=world.secrets,
        clock=JuneClock(),
        environ={"PORTALGEN_WEBHOOK_SECRET": WEBHOOK_SECRET},
    )
    context = browser.new_context(viewport={"width": 390, "height": 844})
    failed: list[str] = []
    with serving(gate) as served:
        page = context.new_page()
        page.on("pageerror", lambda e: failed.append(str(e)))
        page.goto(served + world.link("C00007").removeprefix(BASE_URL))
        page.get_by_role("button", name="Abrir mi portal").click()
        page.wait_for_url(f"{served}/portal/")
        nav = page.get_by_role("navigation", name="Secciones del portal")
        nav.get_by_role("link", name="Presupuestos").click()
        page.get_by_role("link", name=PENDING).first.click()
        quote_url = f"{served}/portal/quotes/{PENDING}.html"
        page.wait_for_url(quote_url)

        second_tab = context.new_page()  # the same quote, open in another tab
        second_tab.goto(quote_url)
        waiting = "Este presupuesto espera su decisión"
        expect(page.locator("main")).to_contain_text(waiting)

        accept = page.locator("form.form-accept")
        accept.get_by_label("Su nombre completo").fill("Ana López")
        accept.get_by_label("Comentario (opcional)").fill("Adelante con el pedido, gracias.")
        accept.get_by_role("button", name=f"Aceptar el presupuesto {PENDING}").click()
        page.wait_for_url(f"{quote_url}#decision")
        decision = page.locator("#decision")
        expect(decision).to_contain_text("Aceptado el 15/06/2026 por Ana López")
        # Said once, and nothing on the page says the quote still awaits a decision.
        expect(decision).to_have_text("Su decisión Aceptado el 15/06/2026 por Ana López")
        expect(page.locator("main")).not_to_contain_text(waiting)
        expect(page.locator("form.form-accept")).to_have_count(0)
        expect(page.locator(".comment-thread")).to_contain_text("Adelante con el pedido, gracias.")
        page.reload()
        expect(decision).to_contain_text("Aceptado el 15/06/2026 por Ana López")

        nav.get_by_role("link", name="Presupuestos").click()
        row = page.locator("tr", has_text=PENDING)
        expect(row).to_contain_text("Aceptado el 15/06/2026 por Ana López")
        nav.get_by_role("link", name="Inicio").click()
        page.wait_for_url(f"{served}/portal/index.html")
        # No longer among the quotes awaiting a decision (it was the only one)...
        awaiting = page.locator("section", has=page.locator("#quotes-title"))
        expect(awaiting.locator("tr", has_text=PENDING)).to_have_count(0)
        expect(awaiting).to_contain_text("No hay ningún presupuesto pendiente de su decisión.")
        # ... and accepted among the latest documents.
        rows = page.locator("tr", has_text=PENDING)
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("Aceptado el 15/06/2026 por Ana López")

        stale = second_tab.locator("form.form-accept")
        stale.get_by_label("Su nombre completo").fill("Ana López")
        stale.get_by_role("button", name=f"Aceptar el presupuesto {PENDING}").click()
        expect(second_tab.locator("h1")).to_have_text("Este presupuesto ya está aceptado")
        expect(second_tab.locator("main")).to_contain_text(
            f"El presupuesto {PENDING} se aceptó el 15/06/2026 (Ana López)."
        )
        second_tab.get_by_role("link", name="Volver al presupuesto").click()
        second_tab.wait_for_url(quote_url)
        expect(second_tab.locator("#decision")).to_contain_text("Aceptado el 15/06/2026")
        assert gate.flush()
        assert isinstance(gate.audit, WebhookSink)
        gate.audit.wait()
    context.close()
    assert failed == []

    types = [e.type for e in AuditLog(settings.audit.path).events()]
    assert types.count("session.started") == 1 and types.count("quote.accepted") == 1
    assert types.count("document.viewed") >= 1
    [accepted] = [e for e in AuditLog(settings.audit.path).events() if e.type == "quote.accepted"]
    assert accepted.data["comment"] == "Adelante con el pedido, gracias."
    assert accepted.data["name"] == "Ana López" and "Chrome" in accepted.user_agent

    assert len(receiver.received) == 1 and receiver.received[0].signature_ok
    body = json.loads(receiver.received[0].body)
    assert body["id"] == accepted.id and body["type"] == "quote.accepted"
    assert body["data"]["comment"] == "Adelante con el pedido, gracias."
