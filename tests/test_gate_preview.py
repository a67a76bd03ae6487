"""Staff previews: a signed link of its own that shows a customer's portal
read-only, is recorded as a staff view, and dies with a revoke or a dropped secret.
A customer's link never opens a preview and a preview never acts as the customer."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html
from playwright.sync_api import Browser, expect

from portalgen.access.preview import PREVIEW_MAX_AGE
from tests.gate_fixtures import BASE_URL, GateWorld
from tests.interact_fixtures import (
    BROWSER,
    PENDING,
    events,
    form_fields,
    http_get,
    http_post,
    http_sign_in,
    move_to,
    serving,
    signed_in,
)
from tests.interact_fixtures import JUNE as JUNE_START
from tests.mail_fixtures import body_html
from tests.smtpserver import SmtpServer
from tests.test_cli_access import run
from tests.test_interact_notices import notifying_gate

INVOICE = "invoices/F2026A-00010.html"


def preview(world: GateWorld, code: str = "C00007", path: str = INVOICE) -> str:
    url, _ = world.service.preview(code, path)
    assert url.startswith(f"{BASE_URL}/s/")
    return url.removeprefix(BASE_URL)


def test_a_preview_shows_the_page_read_only_and_records_a_staff_view(
    gate_world: GateWorld,
) -> None:
    move_to(gate_world, JUNE_START)
    client = gate_world.client()
    page = client.get(preview(gate_world, path=f"quotes/{PENDING}.html"))
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    assert "Set-Cookie" not in page.headers  # no session of any kind
    tree = lxml_html.fromstring(page.get_data(as_text=True))
    assert tree.xpath("string(//h1)").strip().endswith(PENDING)
    note = tree.xpath("string(//main/p[@role='note'])")
    assert "Vista previa del personal" in note  # the customer's language: Spanish
    posting = tree.xpath("//form[@method='post']")
    assert len(posting) >= 3  # accept, reject, comment (and sign out)
    for form in posting:
        controls = form.xpath(".//button | .//textarea | .//select | .//input[@type!='hidden']")
        assert controls and all(c.get("disabled") is not None for c in controls)
        assert not form.xpath(".//input[@name='csrf_token']/@value[. != '']")
    # the list filter is not a POST form: it keeps working
    listing = client.get(preview(gate_world, path="invoices/index.html"))
    filters = lxml_html.fromstring(listing.get_data(as_text=True)).xpath("//form[@class='filters']")
    assert filters and not filters[0].xpath(".//*[@disabled]")

    assert gate_world.gate.flush()
    seen = [e for e in events(gate_world) if e.type in ("staff.viewed", "document.viewed")]
    assert [(e.type, e.contact, e.document) for e in seen] == [
        ("staff.viewed", "staff", f"quotes/{PENDING}.html")
    ]


def test_a_preview_cannot_decide_comment_or_open_a_session(gate_world: GateWorld) -> None:
    move_to(gate_world, JUNE_START)
    client = gate_world.client()
    url = preview(gate_world, path=f"quotes/{PENDING}.html")
    assert client.get(url).status_code == 200
    # the customer's routes want a customer's session, which a preview never gives
    fields = {"pdf_sha256": "0" * 64, "csrf_token": "x", "name": "Staff"}
    assert (
        client.post(f"/portal/quotes/{PENDING}/accept", fields, headers=BROWSER).status_code == 403
    )
    assert client.post("/portal/comments", {"comment": "hi"}, headers=BROWSER).status_code == 403
    assert client.get("/portal/").status_code == 403
    # and its own address takes no POST
    base = url.rsplit("/quotes/", 1)[0]
    posted = client.post(f"{base}/quotes/{PENDING}/accept", fields, headers=BROWSER)
    assert posted.status_code in (404, 405)
    token = url.split("/")[2]
    assert client.get(f"/l/{token}").status_code == 400  # not a customer's link


def test_a_customers_link_or_session_never_opens_a_preview(gate_world: GateWorld) -> None:
    move_to(gate_world, JUNE_START)
    customer = signed_in(gate_world)
    link_token = gate_world.link("C00007").rsplit("/", 1)[1]
    assert customer.get(f"/s/{link_token}/{INVOICE}").status_code == 400
    cookie = customer.cookie("pg_session")
    assert cookie is not None
    assert customer.get(f"/s/{cookie}/{INVOICE}").status_code == 400
    # while the customer's own session keeps its rights
    page = customer.get(f"/portal/quotes/{PENDING}.html").get_data(as_text=True)
    assert form_fields(page, "form-accept")["csrf_token"]


def test_a_preview_dies_with_a_revoke_its_age_or_its_secret(gate_world: GateWorld) -> None:
    world = gate_world
    url = preview(world)
    client = world.client()
    assert client.get(url).status_code == 200
    world.clock.advance(PREVIEW_MAX_AGE.total_seconds() - 60)
    assert client.get(url).status_code == 200
    world.clock.advance(120)
    assert client.get(url).status_code == 410  # older than 7 days

    fresh = preview(world)
    # `secret rotate` then `secret drop-old`, seen by a gate that is already running
    secrets = list(world.secrets)
    running = world.make_gate(secrets=lambda: tuple(secrets))
    assert world.client(running).get(fresh).status_code == 200
    secrets.append("rotated-secret-" + "r" * 40)
    del secrets[:-1]
    world.clock.advance(301)  # the gate reads its secrets again at least every 5 minutes
    assert world.client(running).get(fresh).status_code == 400

    world.service.revoke("C00007")
    assert client.get(fresh).status_code == 410
    world.service.grant("C00007", [world.grants["C00007"].links[0].email])
    assert client.get(fresh).status_code == 410  # a later grant does not bring it back


def test_portalgen_preview_prints_a_link(fresh_demo: Path) -> None:
    granted = run(fresh_demo, "grant", "C00001", "--no-publish", "--export", str(fresh_demo))
    assert granted.exit_code == 0, granted.output
    result = run(fresh_demo, "preview", "C00001", "invoices/F2026A-00001.html")
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("http://127.0.0.1:8000/s/")
    assert first.endswith("/invoices/F2026A-00001.html")
    assert "read-only" in result.stderr
    refused = run(fresh_demo, "preview", "C00002")
    assert refused.exit_code == 1
    assert "never had portal access" in refused.output


@pytest.mark.browser
def test_the_staff_notice_button_opens_a_read_only_preview_in_a_fresh_browser(
    browser: Browser, june_world: GateWorld, smtp_server: SmtpServer
) -> None:
    world = june_world
    gate = notifying_gate(world, smtp_server, webhook_url="")
    with serving(gate) as base:
        cookie = http_sign_in(base, world.link("C00007"))
        _status, page = http_get(base, f"/portal/{INVOICE}", cookie)
        said = form_fields(page[page.index('<section id="comments"') :], "stack-form")
        said["comment"] = "¿Me reenvían la factura?"
        assert http_post(base, "/portal/comments", cookie, said) == 303
        assert gate.flush(timeout=30)
        (notice,) = smtp_server.messages
        tree = lxml_html.fromstring(body_html(notice.message))
        (href,) = tree.xpath("//a[normalize-space()='Ver el documento']/@href")
        assert href.startswith(f"{BASE_URL}/s/") and href.endswith(INVOICE)

        context = browser.new_context()  # staff's browser: no cookie of the customer's
        staff = context.new_page()
        staff.goto(base + href.removeprefix(BASE_URL))
        expect(staff.get_by_role("note")).to_contain_text("Vista previa del personal")
        expect(staff.locator("main h1")).to_contain_text("F2026A-00010")
        expect(staff.get_by_text("¿Me reenvían la factura?")).to_be_visible()  # the thread
        box = staff.locator("#comments textarea")
        expect(box).to_be_disabled()
        expect(staff.locator("#comments button[type=submit]")).to_be_disabled()
        assert context.cookies() == []
        context.close()
        assert gate.flush(timeout=30)

    viewed = [e for e in events(world) if e.type in ("staff.viewed", "document.viewed")]
    assert [(e.type, e.contact) for e in viewed] == [
        ("document.viewed", world.grants["C00007"].links[0].email),  # the customer's own
        ("staff.viewed", "staff"),
    ]
    assert all(e.document == INVOICE for e in viewed)
