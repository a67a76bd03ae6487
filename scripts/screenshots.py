"""Regenerates the README's pictures from the demo data with the project's own tools.

    scripts/screenshots            (writes docs/images/*.png)

The home page and an invoice page through Debian's Chromium (Playwright), on a desktop
and on a 360 px phone; the first page of an invoice PDF through pdftoppm.
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
from portalgen.load import LoadOptions, load_export
from portalgen.render import build_context
from portalgen.render.build import build_site

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
TODAY = date(2026, 6, 15)
CUSTOMER = "C00007"
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


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="portalgen-shots-"))
    demo = work / "demo"
    generate_demo(demo, customers=8, seed=7, today=TODAY)
    (demo / "config.yaml").write_text(demo_config_text(), encoding="utf-8")
    settings = load_settings(demo / "config.yaml", environ={})
    export = load_export(demo, LoadOptions.from_settings(settings, today=TODAY)).export
    site = work / "site"
    list(build_site(export, build_context(settings, today=TODAY), site, [CUSTOMER]))
    IMAGES.mkdir(parents=True, exist_ok=True)

    invoice = sorted((site / CUSTOMER / "invoices").glob("*.pdf"))[-1]
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "60",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(invoice),
            str(IMAGES / "invoice-pdf"),
        ],
        check=True,
    )

    handler = functools.partial(Quiet, directory=str(site / CUSTOMER))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            desktop = browser.new_page(viewport={"width": 1200, "height": 860})
            desktop.goto(f"{base}/index.html")
            desktop.screenshot(path=str(IMAGES / "portal-home.png"))
            phone = browser.new_page(viewport={"width": 360, "height": 740}, device_scale_factor=1)
            phone.goto(f"{base}/invoices/{invoice.stem}.html")
            phone.screenshot(path=str(IMAGES / "portal-invoice-phone.png"))
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    for image in sorted(IMAGES.glob("*.png")):
        print(image.relative_to(ROOT))


if __name__ == "__main__":
    main()
