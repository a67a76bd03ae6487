"""`/verify`: publishing indexes every document PDF; the gate's public page tells a PDF
the company published (sealed, exactly those bytes) from one it did not."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from pypdf import PdfReader
from werkzeug.test import Client, TestResponse

from portalgen.access.grants import AccessService
from portalgen.access.secret import load_secrets
from portalgen.access.tokens import TokenSigner
from portalgen.domain.model import Customer
from portalgen.gate import Gate, create_app
from portalgen.render.context import verify_url
from portalgen.slots import certificate_path
from portalgen.verification import index_key, read_record
from tests.gate_fixtures import GateWorld, ManualClock
from tests.interact_fixtures import PENDING, JuneClock, decide, serving, signed_in
from tests.publish_fixtures import Site, edit_csv
from tests.seal_fixtures import PASSWORD_ENV, SealFiles, seal_status

CUSTOMER = "C00001"
ISSUER = "Suministros y Servicios Levante, S.L."


@pytest.fixture(scope="module")
def sealed_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One render cache for this module's sites: each PDF is rendered and sealed once."""
    return tmp_path_factory.mktemp("sealed-cache")


@pytest.fixture
def sealed_site(
    local_site: Site,
    seal_certificate: SealFiles,
    sealed_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Site:
    """One customer's portal published with rendered, sealed PDFs."""
    monkeypatch.setenv(PASSWORD_ENV, seal_certificate.password)
    local_site.configure(
        signing=seal_certificate.signing(),
        portal={"pdf": "render"},
        publish={"cache_dir": str(sealed_cache)},
    )
    report = local_site.publish(only=[CUSTOMER])
    assert report.ok, report.failed
    return local_site


def first_invoice(site: Site) -> str:
    return min(p for p in site.manifest(CUSTOMER).files if re.fullmatch(r"invoices/.*\.pdf", p))


def gate_of(site: Site, clock: ManualClock | None = None) -> Gate:
    return create_app(site.settings, site.storage, clock=clock or ManualClock())


def lookup(client: Client, pdf: bytes) -> TestResponse:
    return client.get(f"/verify?fingerprint={hashlib.sha256(pdf).hexdigest()}")


def changed_byte(pdf: bytes) -> bytes:
    """The same PDF with one byte inside its first content stream changed (a digit of an
    IBAN edited by someone on the way)."""
    at = pdf.index(b"stream\n") + 40
    return pdf[:at] + bytes([pdf[at] ^ 1]) + pdf[at + 1 :]


def test_a_published_pdf_is_verified_and_one_changed_byte_breaks_seal_and_verify(
    sealed_site: Site, seal_certificate: SealFiles
) -> None:
    site = sealed_site
    path = first_invoice(site)
    pdf = site.file(CUSTOMER, path)
    client = Client(gate_of(site))

    assert seal_status(pdf, seal_certificate.certificate).bottom_line
    answer = lookup(client, pdf)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert f"Emitido por {ISSUER}" in page and "Factura" in page
    record = read_record(site.storage, hashlib.sha256(pdf).hexdigest())
    assert record is not None and record.kind == "invoice" and record.number in page
    customer = next(c for c in site_customers(site) if c.code == CUSTOMER)
    assert f"*{customer.tax_id[-3:]}" in page and customer.tax_id not in page
    assert customer.name not in page  # nothing about the customer but the masked tax id
    assert answer.headers["Cache-Control"] == "private, no-store"

    forged = changed_byte(pdf)
    assert not seal_status(forged, seal_certificate.certificate).intact
    refused = lookup(client, forged)
    assert refused.status_code == 404
    assert "No emitido por" in refused.get_data(as_text=True)


def site_customers(site: Site) -> list[Customer]:
    from tests.conftest import load_demo

    return list(load_demo(site.export_dir, site.settings).export.customers)


def test_every_document_pdf_is_indexed_with_the_minimum(sealed_site: Site) -> None:
    site = sealed_site
    manifest = site.manifest(CUSTOMER)
    pdfs = {p: f.sha256 for p, f in manifest.files.items() if f.content_type == "application/pdf"}
    kinds = {}
    for path, sha in pdfs.items():
        raw = site.storage.get(index_key(sha))
        assert raw is not None, path
        record = read_record(site.storage, sha)
        assert record is not None
        kinds[path.split("/")[0]] = record.kind
        assert record.issuer == ISSUER and not record.withdrawn_at
    assert kinds["invoices"] == "invoice" and kinds["payments"] == "statement"
    assert kinds["quotes"] == "quote"


def test_a_superseded_version_says_so_and_points_to_the_current_one(sealed_site: Site) -> None:
    site = sealed_site
    path = first_invoice(site)
    old = site.file(CUSTOMER, path)
    number = read_record(site.storage, hashlib.sha256(old).hexdigest()).number  # type: ignore[union-attr]
    edit_csv(site.export_dir / "invoices.csv", number, notes="Corrected delivery address")
    assert site.publish(only=[CUSTOMER]).ok
    new = site.file(CUSTOMER, path)
    assert new != old
    client = Client(gate_of(site))

    page = lookup(client, old).get_data(as_text=True)
    assert lookup(client, old).status_code == 200
    assert "Esta versión fue sustituida por otra más reciente el" in page
    current = f"/verify?fingerprint={hashlib.sha256(new).hexdigest()}"
    assert f'href="{current}"' in page
    fresh = lookup(client, new)
    assert fresh.status_code == 200 and "sustituida" not in fresh.get_data(as_text=True)


def test_revoked_documents_stay_verifiable_for_the_retention_period(sealed_site: Site) -> None:
    site = sealed_site
    pdf = site.file(CUSTOMER, first_invoice(site))
    secrets = load_secrets(site.settings.secret_file, environ={})
    revoked_at = datetime(2026, 7, 1, 12, tzinfo=UTC)
    service = AccessService(
        site.storage,
        TokenSigner(secrets),
        base_url=site.settings.gate.base_url,
        link_max_age=site.settings.gate.link_max_age,
        clock=lambda: revoked_at,
    )
    service.revoke(CUSTOMER)
    assert site.storage.get(index_key(hashlib.sha256(pdf).hexdigest())) is not None

    retention = site.settings.verify.retention
    clock = ManualClock((revoked_at + retention - timedelta(days=1)).timestamp())
    client = Client(gate_of(site, clock))
    still = lookup(client, pdf)
    assert still.status_code == 200
    assert "ya no está publicado en el portal de clientes (desde el 01/07/2026)" in (
        still.get_data(as_text=True)
    )
    clock.advance(timedelta(days=2).total_seconds())
    assert lookup(Client(gate_of(site, clock)), pdf).status_code == 404


def test_lookups_are_rate_limited_and_a_bad_fingerprint_is_a_clear_page(
    sealed_site: Site,
) -> None:
    client = Client(gate_of(sealed_site))
    form = client.get("/verify")
    assert form.status_code == 200 and 'src="/_gate/verify.js"' in form.get_data(as_text=True)
    bad = client.get("/verify?fingerprint=not-a-hash")
    assert bad.status_code == 400
    assert "Eso no es una huella SHA-256" in bad.get_data(as_text=True)
    for _ in range(29):
        assert client.get(f"/verify?fingerprint={'0' * 64}").status_code == 404
    assert client.get(f"/verify?fingerprint={'0' * 64}").status_code == 429
    assert client.get("/verify").status_code == 200  # the page itself is never limited


def test_pages_link_their_fingerprint_to_verify_and_pdfs_say_where(sealed_site: Site) -> None:
    site = sealed_site
    path = first_invoice(site)
    sha = hashlib.sha256(site.file(CUSTOMER, path)).hexdigest()
    page = site.file(CUSTOMER, path.replace(".pdf", ".html")).decode()
    assert f'href="../../verify?fingerprint={sha}"' in page
    text = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(site.file(CUSTOMER, path))).pages
    )
    where = f"Compruebe la autenticidad de este documento en {verify_url(site.settings)}"
    assert where in " ".join(text.split())


# -- the browser: the PDF dropped on the page, hashed there ------------------------------------


@pytest.fixture
def verify_page(sealed_site: Site, browser: Browser) -> Iterator[tuple[Page, str]]:
    with serving(gate_of(sealed_site)) as base:
        context = browser.new_context(locale="es-ES")
        page = context.new_page()
        uploads: list[str] = []
        page.on("request", lambda r: uploads.append(r.method) if r.method != "GET" else None)
        try:
            yield page, base
        finally:
            assert uploads == []  # the file was never sent anywhere
            context.close()


def drop(page: Page, pdf: bytes) -> None:
    """Drop `pdf` on the drop zone, as a file dragged from the desktop."""
    transfer = page.evaluate_handle(
        """(bytes) => {
            const transfer = new DataTransfer();
            const type = {type: "application/pdf"};
            transfer.items.add(new File([new Uint8Array(bytes)], "factura.pdf", type));
            return transfer;
        }""",
        list(pdf),
    )
    page.dispatch_event("#verify-drop", "drop", {"dataTransfer": transfer})


@pytest.mark.browser
def test_dropping_a_pdf_on_verify_in_chromium(
    sealed_site: Site, verify_page: tuple[Page, str], tmp_path: Path
) -> None:
    page, base = verify_page
    pdf = sealed_site.file(CUSTOMER, first_invoice(sealed_site))
    page.goto(f"{base}/verify")
    with page.expect_navigation():
        drop(page, pdf)
    assert page.locator("h1").inner_text() == f"Emitido por {ISSUER}"
    assert "Factura" in page.locator("dl.facts").inner_text()

    page.goto(f"{base}/verify")
    forged = tmp_path / "factura.pdf"
    forged.write_bytes(changed_byte(pdf))
    with page.expect_navigation():
        page.set_input_files("#verify-file", str(forged))
    assert page.locator("h1").inner_text().startswith("No emitido por")
    assert hashlib.sha256(forged.read_bytes()).hexdigest() in page.content()


def test_an_acceptance_certificate_is_verifiable_as_one(
    june_world: GateWorld, demo_dir: Path, tmp_path: Path
) -> None:
    from tests.test_acceptance import data_url, drawn_png, publish, stored

    world = june_world
    client = signed_in(world)
    signature = data_url(drawn_png())
    response = decide(client, PENDING, "accept", name="Ana López Ruiz", signature=signature)
    assert response.status_code == 303
    publish(world, demo_dir, tmp_path)
    certificate = stored(world.storage, world.key("C00007"), certificate_path(PENDING))
    gate = create_app(world.settings, world.storage, secrets=world.secrets, clock=JuneClock())
    answer = lookup(Client(gate), certificate)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Certificado de aceptación" in page and PENDING in page
