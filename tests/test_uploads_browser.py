"""End to end in Debian's Chromium: a customer who paid by transfer sends the bank's
proof from the invoice's page and the page says "Justificante recibido el …": on a
folder (the form posts to the gate; also with JavaScript off) and on SeaweedFS (the
page's script posts the file straight to the bucket, then reports it to the gate)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, FilePayload, expect

from portalgen.gate import create_app
from portalgen.uploads.records import customer_records
from tests.gate_fixtures import BASE_URL, GateWorld
from tests.interact_fixtures import JuneClock, of_type, serving
from tests.upload_fixtures import HTML_AS_PDF, PDF, UNPAID

pytestmark = pytest.mark.browser


def upload_in_chromium(
    browser: Browser, world: GateWorld, data: bytes, *, script: bool = True
) -> tuple[Any, list[str], list[str]]:
    """Sign in, open the unpaid invoice, send `data` as the proof; returns what the
    page says in the end, its address and the URLs posted to, then the page errors and
    the console's errors (CSP violations among them)."""
    gate = create_app(world.settings, world.storage, secrets=world.secrets, clock=JuneClock())
    context = browser.new_context(java_script_enabled=script)
    failed: list[str] = []
    console: list[str] = []
    posts: list[str] = []
    with serving(gate) as served:
        page = context.new_page()
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.on("pageerror", lambda e: failed.append(str(e)))
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.goto(served + world.link("C00007").removeprefix(BASE_URL))
        page.get_by_role("button", name="Abrir mi portal").click()
        page.wait_for_url(f"{served}/portal/")
        page.goto(f"{served}/portal/invoices/{UNPAID}.html")
        box = page.locator("#proof")
        expect(box.get_by_role("heading")).to_have_text("He pagado por transferencia")
        proof: FilePayload = {"name": "t.pdf", "mimeType": "application/pdf", "buffer": data}
        box.get_by_label("Justificante de pago").set_input_files(files=[proof])
        box.get_by_label("Nota (opcional)").fill("Transferencia del día 12")
        box.get_by_role("button", name="Enviar el justificante de pago").click()
        page.wait_for_load_state("load")
        page.wait_for_timeout(200)
        said = page.locator("main").inner_text()
        url = page.url
        assert gate.flush()
    context.close()
    return (said, url, posts), failed, console


def test_upload_on_a_folder_with_and_without_javascript(
    browser: Browser, june_world: GateWorld
) -> None:
    for script in (True, False):
        (said, url, posts), failed, console = upload_in_chromium(
            browser, june_world, PDF, script=script
        )
        assert posts[-1].endswith(f"/portal/invoices/{UNPAID}/proof")  # through the gate
        assert url.endswith(f"/portal/invoices/{UNPAID}.html#proof"), (script, said[:300])
        assert "Justificante recibido el 15/06/2026" in said
        assert (failed, console) == ([], [])
    assert len(of_type(june_world, "upload.received")) == 2


@pytest.mark.s3
def test_upload_straight_to_seaweedfs(browser: Browser, june_s3: GateWorld) -> None:
    (said, url, posts), failed, console = upload_in_chromium(browser, june_s3, PDF)
    bucket = june_s3.settings.storage.endpoint_url
    assert [
        p.split("/portal/")[-1] if "/portal/" in p else p.split("/")[2] for p in posts[-3:]
    ] == [
        f"invoices/{UNPAID}/proof/start",
        bucket.split("/")[2],  # the file went straight to the bucket, not through the gate
        f"invoices/{UNPAID}/proof/done",
    ]
    assert url.endswith(f"/portal/invoices/{UNPAID}.html#proof"), said[:300]
    assert "Justificante recibido el 15/06/2026" in said
    assert (failed, console) == ([], [])  # no CSP violation: the bucket's origin is allowed
    (record,) = customer_records(june_s3.storage, june_s3.key("C00007"))
    assert record.note == "Transferencia del día 12" and june_s3.storage.get(record.key) == PDF
    assert "/incoming/" not in " ".join(i.key for i in june_s3.storage.list("_uploads/"))

    (said, url, _), _, _ = upload_in_chromium(browser, june_s3, HTML_AS_PDF)
    assert "No podemos aceptar este archivo" in said
    assert len(list(customer_records(june_s3.storage, june_s3.key("C00007")))) == 1
