"""End to end in Debian's Chromium: the customer presses "Pagar ahora" on an unpaid
invoice, pays on the provider's page (a local stand-in speaking Redsys' or Stripe's
protocol as documented, tests/payment_fixtures.py; the real gateways are never
contacted), the provider notifies the gate, and the page the customer returns to says
the payment was received — for Redsys card and Bizum and Stripe, on a local folder and
on SeaweedFS."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from portalgen.access.secret import load_secrets
from tests.gate_fixtures import ManualClock
from tests.interact_fixtures import serving
from tests.payment_fixtures import UNPAID, open_world, payment_settings, stand_ins

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("backend", ["local", pytest.param("s3", marks=pytest.mark.s3)])
@pytest.mark.parametrize(
    ("method", "provider_page"),
    [("redsys:card", "Tarjeta"), ("redsys:bizum", "Bizum"), ("stripe:card", "Stripe")],
)
def test_pay_an_invoice_and_see_it_received(
    browser: Browser,
    request: pytest.FixtureRequest,
    demo_dir: Path,
    paying_portal: Path,
    tmp_path: Path,
    backend: str,
    method: str,
    provider_page: str,
) -> None:
    storage = None if backend == "local" else request.getfixturevalue("s3_storage_config")
    port = free_port()
    served = f"http://127.0.0.1:{port}"
    settings = payment_settings(demo_dir, tmp_path, storage, base_url=served)
    secrets = load_secrets(demo_dir / "secret.key", environ={})
    clock = ManualClock(1781518500.0)  # 2026-06-15 10:15 UTC
    failed: list[str] = []
    with stand_ins(clock) as stand:
        world = open_world(settings, paying_portal, stand, secrets, clock)
        with serving(world.gate, port=port):
            stand.gate = served
            page = browser.new_context().new_page()
            page.on("pageerror", lambda e: failed.append(str(e)))
            page.goto(world.link)
            page.get_by_role("button", name="Abrir mi portal").click()
            page.wait_for_url(f"{served}/portal/")
            page.goto(f"{served}/portal/invoices/{UNPAID}.html")
            page.locator(f"input[name=method][value='{method}']").check()
            page.get_by_role("button", name="Pagar ahora").click()
            # Redsys: the gate's page submits the signed form by itself; Stripe: a 303
            expect(page.get_by_role("heading", name=provider_page)).to_be_visible()
            assert page.url.startswith(stand.url)
            page.get_by_role("button", name="Pa").first.click()
            page.wait_for_url(f"{served}/portal/invoices/{UNPAID}.html#payment")
            notice = page.locator("#payment")
            expect(notice).to_contain_text(
                "Pago recibido el 15/06/2026 — pendiente de confirmación"
            )
            expect(page.get_by_role("button", name="Pagar ahora")).to_have_count(0)
            page.goto(f"{served}/portal/")
            expect(page.locator("main")).to_contain_text("Pago recibido el 15/06/2026")
    assert [status for _path, status in stand.notified] == [200]
    [event] = world.events()
    assert (event["type"], event["data"]["amount"]) == ("payment.received", "27.21")
    assert event["data"]["provider"] == method.split(":")[0]
    assert failed == []
