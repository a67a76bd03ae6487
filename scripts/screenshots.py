"""Regenerates the pictures of the docs from the demo data with the project's own tools.

    scripts/screenshots            (writes docs/images/*.png)

Every page type of a customer's portal (and the gate's sign-in page) through Debian's
Chromium (Playwright), as the first screen of a 1280 px desktop and of a 390 × 844 phone:
docs/images/<type>-1280.png and <type>-390.png; the first page of an invoice PDF through
pdftoppm (docs/images/invoice-pdf.png).
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import tempfile
import threading
from datetime import date
from pathlib import Path

from playwright.sync_api import sync_playwright

from portalgen.config import load_settings
from portalgen.demo import demo_config_text, generate_demo
from portalgen.gate import pages as gate_pages
from portalgen.gate.i18n import translations
from portalgen.load import LoadOptions, load_export
from portalgen.render import build_context
from portalgen.render.build import build_site

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
TODAY = date(2026, 6, 15)
CUSTOMER = "C00007"
WIDTHS = {1280: 900, 390: 844}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def build(work: Path) -> Path:
    """The demo's portal of CUSTOMER (Spanish), with the gate's sign-in page beside it."""
    demo = work / "demo"
    generate_demo(demo, customers=8, seed=7, today=TODAY)
    (demo / "config.yaml").write_text(demo_config_text(), encoding="utf-8")
    settings = load_settings(demo / "config.yaml", environ={})
    export = load_export(demo, LoadOptions.from_settings(settings, today=TODAY)).export
    site = work / "site"
    list(build_site(export, build_context(settings, today=TODAY), site, [CUSTOMER]))
    portal = site / CUSTOMER
    page = gate_pages.PageContext("es", translations("es"), settings.company.name, "", "")
    gate_css = Path(gate_pages.__file__).resolve().parent / "static" / "gate.css"
    (portal / "_gate").mkdir()
    (portal / "_gate" / "gate.css").write_bytes(gate_css.read_bytes())
    (portal / "sign-in.html").write_text(gate_pages.open_link(page, "", ""), encoding="utf-8")
    return portal


def first_page(portal: Path, folder: str, marker: str = "") -> str:
    """The first document page of `folder` whose HTML holds `marker`."""
    pages = sorted(p for p in (portal / folder).glob("*.html") if p.name != "index.html")
    return next(f"{folder}/{p.name}" for p in pages if marker in p.read_text(encoding="utf-8"))


def page_types(portal: Path) -> dict[str, str]:
    return {
        "home": "index.html",
        "invoices": "invoices/index.html",
        "invoice": first_page(portal, "invoices", 'class="bank"'),  # unpaid, by transfer
        "quote": first_page(portal, "quotes", "/accept"),  # awaiting a decision
        "order": first_page(portal, "orders"),
        "delivery-note": first_page(portal, "delivery-notes"),
        "payments": "payments/index.html",
        "documents": "documents/index.html",
        "sign-in": "sign-in.html",
    }


def shoot(portal: Path) -> None:
    handler = functools.partial(Quiet, directory=str(portal))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for width, height in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                for name, path in page_types(portal).items():
                    page.goto(f"{base}/{path}")
                    page.screenshot(path=str(IMAGES / f"{name}-{width}.png"))
                page.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    portal = build(Path(tempfile.mkdtemp(prefix="portalgen-shots-")))
    IMAGES.mkdir(parents=True, exist_ok=True)
    invoice = portal / page_types(portal)["invoice"]
    pdf, out = str(invoice.with_suffix(".pdf")), str(IMAGES / "invoice-pdf")
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", pdf, out],
        check=True,
    )
    shoot(portal)
    for image in sorted(IMAGES.glob("*.png")):
        print(image.relative_to(ROOT))


if __name__ == "__main__":
    main()
