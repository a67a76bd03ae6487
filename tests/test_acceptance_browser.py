"""End to end in Debian's Chromium (issue 17): with ``portal.acceptance.signature: drawn``
a customer signs the quote with the mouse on the canvas and accepts it; the next publish
puts the acceptance certificate, with that signature, in the portal next to the quote.
Without JavaScript the signature box stays hidden and the typed full name signs."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from portalgen.gate import create_app
from portalgen.interact.decisions import read_decision
from portalgen.interact.evidence import signature_key
from portalgen.publish.run import publish_export
from portalgen.slots import certificate_path
from tests.conftest import TODAY, load_demo
from tests.gate_fixtures import BASE_URL, GateWorld
from tests.interact_fixtures import PENDING, PENDING_EN, JuneClock, serving
from tests.seal_fixtures import PASSWORD_ENV, SealFiles, seal_status
from tests.test_verify import drop

pytestmark = pytest.mark.browser
TERMS = "Prices valid for 30 days.\nVAT not included."


def publish(
    world: GateWorld,
    demo_dir: Path,
    cache: Path,
    code: str = "C00007",
    seal: SealFiles | None = None,
) -> None:
    """Publish `code`'s portal as the nightly run does, with drawn signatures and, given
    `seal`, every PDF sealed with it (its password in the environment, as in production)."""
    signing = dataclasses.replace(
        world.settings.signing,
        certificate=seal.p12 if seal else None,
        password_env=PASSWORD_ENV,
    )
    settings = dataclasses.replace(
        world.settings,
        signing=signing,
        publish=dataclasses.replace(world.settings.publish, cache_dir=cache),
        portal=dataclasses.replace(
            world.settings.portal,
            pdf="render",
            quote_terms=TERMS,
            acceptance=dataclasses.replace(world.settings.portal.acceptance, signature="drawn"),
        ),
    )
    export = load_demo(demo_dir).export
    report = publish_export(settings, export, only=(code,), today=TODAY, jobs=1)
    assert report.ok and report.published == 1, report.failed
    assert not [w for w in report.warnings if "signature" in w]


def sign(page: Page) -> None:
    """Draw a signature with the mouse: three strokes across the canvas."""
    canvas = page.locator("canvas.signature-canvas")
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    for stroke in (
        [(0.1, 0.7), (0.2, 0.3), (0.3, 0.75), (0.45, 0.35)],
        [(0.5, 0.6), (0.65, 0.4), (0.8, 0.65)],
        [(0.1, 0.85), (0.9, 0.8)],
    ):
        page.mouse.move(x + stroke[0][0] * w, y + stroke[0][1] * h)
        page.mouse.down()
        for px, py in stroke[1:]:
            page.mouse.move(x + px * w, y + py * h, steps=8)
        page.mouse.up()


INKED = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i]) { inked += 1; } }
  return inked;
}"""


def touch_stroke(page: Page) -> None:
    """A finger across the canvas (touch events, as a phone sends them)."""
    box = page.locator("canvas.signature-canvas").bounding_box()
    assert box is not None
    cdp = page.context.new_cdp_session(page)
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    points = [(0.2, 0.5), (0.4, 0.3), (0.6, 0.7), (0.8, 0.4)]
    kinds = ["touchStart"] + ["touchMove"] * (len(points) - 1)
    for kind, (px, py) in zip(kinds, points, strict=True):
        point = {"x": x + px * w, "y": y + py * h}
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_accept_with_a_drawn_signature_then_find_the_certificate_in_the_portal(
    browser: Browser,
    june_world: GateWorld,
    demo_dir: Path,
    tmp_path: Path,
    seal_certificate: SealFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = june_world
    monkeypatch.setenv(PASSWORD_ENV, seal_certificate.password)
    publish(world, demo_dir, tmp_path / "cache", seal=seal_certificate)
    gate = create_app(world.settings, world.storage, secrets=world.secrets, clock=JuneClock())
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    problems: list[str] = []
    with serving(gate) as served:
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(served + world.link("C00007").removeprefix(BASE_URL))
        page.get_by_role("button", name="Abrir mi portal").click()
        page.wait_for_url(f"{served}/portal/")
        quote_url = f"{served}/portal/quotes/{PENDING}.html"
        page.goto(quote_url)
        accept = page.locator("form.form-accept")
        pad = accept.get_by_role("group", name="Su firma")
        expect(pad).to_be_visible()  # shown by portal.js (CSP: script-src 'self')
        accept.get_by_label("Su nombre completo").fill("Ana López Ruiz")
        button = accept.get_by_role("button", name=f"Aceptar el presupuesto {PENDING}")
        button.click()  # not signed yet: the page asks for it and nothing is sent
        expect(pad.get_by_role("alert")).to_have_text("Firme en el recuadro antes de aceptar.")
        assert page.url == quote_url
        canvas = page.locator("canvas.signature-canvas")
        touch_stroke(page)  # a finger draws too...
        assert canvas.evaluate(INKED) > 0
        pad.get_by_role("button", name="Borrar la firma").click()  # ... and is wiped out
        assert canvas.evaluate(INKED) == 0
        sign(page)
        button.click()
        page.wait_for_url(f"{quote_url}#decision")
        expect(page.locator("#decision")).to_contain_text(
            "Aceptado el 15/06/2026 por Ana López Ruiz"
        )
    context.close()
    assert problems == []

    record = read_decision(world.storage, world.key("C00007"), PENDING)
    assert record is not None and record.evidence is not None
    evidence = record.evidence
    assert evidence.signature == "drawn" and "Chrome" in evidence.user_agent
    assert evidence.terms == TERMS
    png = world.storage.get(signature_key(world.key("C00007"), PENDING, evidence.signature_sha256))
    assert png is not None and hashlib.sha256(png).hexdigest() == evidence.signature_sha256
    drawn = Image.open(io.BytesIO(png))
    assert drawn.size == (600, 200) and drawn.getbbox() is not None  # strokes, not blank

    publish(world, demo_dir, tmp_path / "cache", seal=seal_certificate)  # the next night
    gate = create_app(world.settings, world.storage, secrets=world.secrets, clock=JuneClock())
    context = browser.new_context(viewport={"width": 390, "height": 844})
    with serving(gate) as served:
        page = context.new_page()
        page.goto(served + world.link("C00007").removeprefix(BASE_URL))
        page.get_by_role("button", name="Abrir mi portal").click()
        page.wait_for_url(f"{served}/portal/")
        page.goto(f"{served}/portal/quotes/{PENDING}.html")
        link = page.locator("#decision").get_by_role("link", name="Certificado de aceptación (PDF)")
        with page.expect_download() as download:
            link.click()
        certificate = Path(download.value.path()).read_bytes()
        assert download.value.url == f"{served}/portal/{certificate_path(PENDING)}"
        # Anyone holding the certificate can check it: dropped on /verify, it is known.
        page.goto(f"{served}/verify")
        with page.expect_navigation():
            drop(page, certificate)
        verdict = page.locator("h1").inner_text()
        assert verdict.startswith(("Emitido por", "Issued by")), verdict
        assert PENDING in page.locator("dl.facts").inner_text()
    context.close()
    reader = PdfReader(io.BytesIO(certificate))
    text = " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())
    for shown in ("Certificado de aceptación", PENDING, "Ana López Ruiz", evidence.pdf_sha256):
        assert shown in text, shown
    assert evidence.signature_sha256 in text
    [image] = reader.pages[0].images
    assert image.image is not None and image.image.size == (600, 200)
    # Sealed like every PDF portalgen renders: intact, and trusted against the company's seal.
    # (from a thread of its own: pyHanko runs asyncio, and Playwright's loop runs here)
    with ThreadPoolExecutor(1) as pool:
        status = pool.submit(seal_status, certificate, seal_certificate.certificate).result()
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.coverage.name == "ENTIRE_FILE"


def test_without_javascript_the_typed_full_name_signs(
    browser: Browser, june_world: GateWorld, demo_dir: Path, tmp_path: Path
) -> None:
    world = june_world
    publish(world, demo_dir, tmp_path / "cache", "C00008")
    gate = create_app(world.settings, world.storage, secrets=world.secrets, clock=JuneClock())
    context = browser.new_context(java_script_enabled=False)
    with serving(gate) as served:
        page = context.new_page()
        page.goto(served + world.link("C00008").removeprefix(BASE_URL))
        page.get_by_role("button", name="Open my portal").click()
        page.wait_for_url(f"{served}/portal/")
        page.goto(f"{served}/portal/quotes/{PENDING_EN}.html")
        accept = page.locator("form.form-accept")
        expect(accept.locator("canvas")).to_be_hidden()
        accept.get_by_label("Your full name").fill("John Smith")
        accept.get_by_role("button", name=f"Accept quote {PENDING_EN}").click()
        page.wait_for_url(f"{served}/portal/quotes/{PENDING_EN}.html#decision")
        expect(page.locator("#decision")).to_contain_text("Accepted")
    context.close()
    record = read_decision(world.storage, world.key("C00008"), PENDING_EN)
    assert record is not None and record.evidence is not None
    assert (record.name, record.evidence.signature) == ("John Smith", "typed")
