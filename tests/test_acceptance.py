"""Signed acceptance of quotes (issue 17): the full name and, when drawn, a signature that
must be a small PNG; the evidence the gate keeps with the decision; and the acceptance
certificate the next publish renders, links from the quote and tells staff about."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import random
import zipfile
from pathlib import Path

import pytest
from lxml import html as lxml_html
from PIL import Image, ImageDraw
from pypdf import PdfReader

from portalgen.interact.decisions import DecisionRecord, read_decision
from portalgen.interact.evidence import (
    SignatureRefused,
    check_signature,
    parse_signature,
    signature_key,
)
from portalgen.publish.manifest import blob_key, load_manifest
from portalgen.publish.run import publish_export
from portalgen.slots import SIGNATURE_LIMIT, certificate_path
from portalgen.storage import LocalStorage, Storage
from tests.conftest import TODAY, load_demo
from tests.gate_fixtures import GateWorld
from tests.interact_fixtures import BROWSER, PENDING, decide, form_fields, of_type, signed_in
from tests.mail_fixtures import body_html, body_text
from tests.render_fixtures import text_of
from tests.smtpserver import SmtpServer

AGENT = BROWSER["User-Agent"]
TERMS = "Prices valid for 30 days.\nVAT not included."  # render_settings' quote_terms


def drawn_png(width: int = 600, height: int = 200) -> bytes:
    """A signature as the portal's canvas makes one: dark strokes on a transparent sheet."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.line([(30, 150), (120, 40), (200, 160), (320, 60), (560, 120)], fill="#111", width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def noisy_png(width: int = 112, height: int = 100) -> bytes:
    """A PNG of a signature pad's size that cannot compress: just over the size limit
    (and its form still under the gate's 64 KiB body limit)."""
    rng = random.Random(17)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def refusal(response: object) -> str:
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return text_of(lxml_html.fromstring(body).xpath("//main")[0])


def stored(storage: Storage, customer_key: str, path: str) -> bytes:
    manifest = load_manifest(storage, customer_key)
    assert manifest is not None and path in manifest.files, path
    raw = storage.get(blob_key(customer_key, manifest.files[path].sha256))
    assert raw is not None
    return raw


def signature_objects(world: GateWorld, code: str = "C00007") -> list[str]:
    prefix = f"_decisions/{world.key(code)}/{PENDING}/"
    return [info.key for info in world.storage.list(prefix)]


# -- the drawn signature ------------------------------------------------------------------------


def test_a_drawn_signature_is_kept_only_as_a_small_png_of_a_signature_pads_size() -> None:
    png = drawn_png()
    assert check_signature(png) == png
    assert parse_signature(data_url(png)) == png
    assert parse_signature("  ") == b""  # nothing drawn: the typed name signs
    jpeg = io.BytesIO()
    Image.new("RGB", (600, 200), "white").save(jpeg, "JPEG")
    refused = {
        "a JPEG": data_url(jpeg.getvalue()),
        "text": data_url(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        "truncated": data_url(png[: len(png) // 2]),
        "wrong IHDR": data_url(png[:18] + b"\x7f" + png[19:]),  # width changed, CRC not
        "a banner": data_url(drawn_png(2400, 200)),
        "a dot": data_url(drawn_png(10, 10)),
        "an SVG URL": "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode(),
        "not base64": "data:image/png;base64,***",
    }
    for what, value in refused.items():
        with pytest.raises(SignatureRefused) as caught:
            parse_signature(value)
        assert caught.value.kind == "signature-invalid", what
    big = noisy_png()
    assert len(big) > SIGNATURE_LIMIT
    with pytest.raises(SignatureRefused) as caught:
        parse_signature(data_url(big))
    assert caught.value.kind == "signature-too-large"


# -- the evidence at the gate ------------------------------------------------------------------


def test_an_acceptance_keeps_its_evidence_and_the_signature_beside_it(
    june_world_any: GateWorld,
) -> None:
    world = june_world_any
    client = signed_in(world)
    png = drawn_png()
    response = decide(client, PENDING, "accept", name="Ana López Ruiz", signature=data_url(png))
    assert response.status_code == 303

    key = world.key("C00007")
    record = decision_of(world)
    evidence = record.evidence
    assert evidence is not None
    manifest = load_manifest(world.storage, key)
    assert manifest is not None
    [event] = of_type(world, "quote.accepted")
    sha = hashlib.sha256(png).hexdigest()
    assert evidence.to_dict() == {
        "pdf_sha256": manifest.files[f"quotes/{PENDING}.pdf"].sha256,
        "name": "Ana López Ruiz",
        "contact": world.grants["C00007"].links[0].email,
        "utc": record.ts,
        "local": "2026-06-15T10:30:00+02:00",  # the business's time (Madrid, summer)
        "timezone": "Europe/Madrid",
        "ip_hash": event.ip_hash,  # the audit log's keyed hash of the address
        "user_agent": AGENT,
        "signature": "drawn",
        "signature_sha256": sha,
        "terms": TERMS,  # as the quote's page showed them before the button
    }
    assert record.ts.startswith("2026-06-15T08:30") and len(event.ip_hash) == 16
    assert event.data["signature_sha256"] == sha and event.data["signature"] == "drawn"
    # The image beside the decision, never in the portal, never served.
    assert world.storage.get(signature_key(key, PENDING, sha)) == png
    assert sha not in {entry.sha256 for entry in manifest.files.values()}
    assert client.get(f"/portal/_decisions/{key}/{PENDING}/{sha}.png").status_code == 404
    assert client.get(f"/portal/../_decisions/{key}/{PENDING}/{sha}.png").status_code == 404


def decision_of(world: GateWorld, code: str = "C00007") -> DecisionRecord:
    record = read_decision(world.storage, world.key(code), PENDING)
    assert record is not None
    return record


def test_a_typed_acceptance_and_a_rejection_keep_the_same_evidence_without_an_image(
    june_world: GateWorld,
) -> None:
    world = june_world
    client = signed_in(world)
    response = decide(client, PENDING, "reject", name="Ana", reason="Demasiado caro")
    assert response.status_code == 303
    evidence = decision_of(world).evidence
    assert evidence is not None
    assert (evidence.signature, evidence.signature_sha256, evidence.user_agent) == (
        "typed",
        "",
        AGENT,
    )
    assert evidence.pdf_sha256 and evidence.ip_hash and evidence.local.endswith("+02:00")
    assert signature_objects(world) == []


def test_refused_acceptances_store_nothing_and_say_why(june_world: GateWorld) -> None:
    world = june_world
    client = signed_in(world)
    no_name = decide(client, PENDING, "accept", name="  ", signature=data_url(drawn_png()))
    assert no_name.status_code == 400
    assert "escriba su nombre completo" in refusal(no_name)
    too_big = decide(client, PENDING, "accept", name="Ana", signature=data_url(noisy_png()))
    assert too_big.status_code == 413  # under the gate's 64 KiB body limit, over the PNG's
    assert "La firma es demasiado grande" in refusal(too_big)
    fake = data_url(b"GIF89a" + bytes(2000))
    not_png = decide(client, PENDING, "accept", name="Ana", signature=fake)
    assert not_png.status_code == 400 and "No se pudo leer la firma" in refusal(not_png)
    page = client.get(f"/portal/quotes/{PENDING}.html").get_data(as_text=True)
    fields = form_fields(page, "form-accept")
    forged = {k: v for k, v in fields.items() if k != "csrf_token"}
    forged.update(name="Ana", signature=data_url(drawn_png()))
    no_csrf = client.post(f"/portal/quotes/{PENDING}/accept", forged, headers=BROWSER)
    assert no_csrf.status_code == 403
    assert read_decision(world.storage, world.key("C00007"), PENDING) is None
    assert signature_objects(world) == []
    assert of_type(world, "quote.accepted") == []


# -- the acceptance certificate -----------------------------------------------------------------


def publish(world: GateWorld, demo_dir: Path, tmp_path: Path, quote_terms: str = "") -> None:
    settings = dataclasses.replace(  # the render cache in the test's folder, not the demo's
        world.settings,
        publish=dataclasses.replace(world.settings.publish, cache_dir=tmp_path / "cache"),
        portal=dataclasses.replace(world.settings.portal, pdf="render", quote_terms=quote_terms),
    )
    export = load_demo(demo_dir).export
    report = publish_export(settings, export, only=("C00007",), today=TODAY, jobs=1)
    assert report.ok and report.published == 1, report.failed
    assert not [w for w in report.warnings if "signature" in w or "decision" in w]


def pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages).split()
    )


def test_the_next_publish_renders_the_acceptance_certificate_next_to_the_quote(
    june_world: GateWorld, demo_dir: Path, tmp_path: Path
) -> None:
    world = june_world
    key = world.key("C00007")
    png = drawn_png()
    client = signed_in(world)
    response = decide(client, PENDING, "accept", name="Ana López Ruiz", signature=data_url(png))
    assert response.status_code == 303
    evidence = decision_of(world).evidence
    assert evidence is not None

    publish(world, demo_dir, tmp_path, quote_terms=TERMS)
    path = certificate_path(PENDING)
    certificate = stored(world.storage, key, path)
    text = pdf_text(certificate)
    for shown in (
        "Certificado de aceptación",
        PENDING,
        evidence.pdf_sha256,
        "Ana López Ruiz",
        evidence.contact,
        "2026-06-15 08:30:00.000 UTC",
        "2026-06-15 10:30:00 (Europe/Madrid, UTC+02:00)",
        evidence.ip_hash,
        AGENT,
        hashlib.sha256(png).hexdigest(),
        "Prices valid for 30 days. VAT not included.",
    ):
        assert shown in text, shown
    [page] = PdfReader(io.BytesIO(certificate)).pages[:1]
    [image] = page.images  # the drawn signature, as drawn
    assert image.image is not None and image.image.size == (600, 200)
    # Linked from the quote's page, and in the download of all documents.
    quote = lxml_html.fromstring(stored(world.storage, key, f"quotes/{PENDING}.html"))
    links = quote.xpath("//section[@id='decision']//a[contains(., 'Certificado de aceptación')]")
    assert [a.get("href") for a in links] == [f"acceptance/{PENDING}.pdf"]
    archive = zipfile.ZipFile(io.BytesIO(stored(world.storage, key, "download/all-documents.zip")))
    assert archive.read(path) == certificate
    client.app.caches.forget(key)  # the gate's few seconds of manifest cache
    served = client.get(f"/portal/{path}")
    assert served.status_code == 200 and served.get_data() == certificate


def test_a_rejection_gets_no_certificate(
    june_world: GateWorld, demo_dir: Path, tmp_path: Path
) -> None:
    world = june_world
    client = signed_in(world)
    assert decide(client, PENDING, "reject", name="Ana", reason="No").status_code == 303
    publish(world, demo_dir, tmp_path)
    manifest = load_manifest(world.storage, world.key("C00007"))
    assert manifest is not None and f"quotes/{PENDING}.pdf" in manifest.files
    assert not [p for p in manifest.files if p.startswith("quotes/acceptance/")]


# -- staff ------------------------------------------------------------------------------------


def test_staff_are_told_the_evidence_and_where_the_certificate_will_be(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    from tests.test_mail_staff import accepted, notify

    sha = "ab" * 32
    event = accepted(
        slug="P2026A-00012", pdf_sha256="cd" * 32, signature="drawn", signature_sha256=sha
    )
    assert notify(smtp_server, LocalStorage(tmp_path / "site"), event)
    message = smtp_server.messages[0].message
    text = body_text(message)
    url = "https://portal.levante.example/portal/quotes/acceptance/P2026A-00012.pdf"
    assert f"Huella del PDF del presupuesto (SHA-256): {'cd' * 32}" in text
    assert f"Firmado con una firma dibujada en pantalla (SHA-256 de la imagen: {sha})." in text
    later = "El certificado de aceptación (PDF) estará en el portal del cliente tras la próxima"
    assert f"{later} publicación: {url}" in text
    page = lxml_html.fromstring(body_html(message))
    assert page.xpath("//a[normalize-space()='Ver el certificado de aceptación']/@href") == [url]


def test_a_lost_acceptance_event_is_rebuilt_with_its_evidence() -> None:
    """A gate that crashed between storing the decision and writing its event: the event
    `audit pull` rebuilds from the record keeps the address hash, browser and signature."""
    from portalgen.interact.evidence import Evidence
    from portalgen.interact.recover import decision_event

    evidence = Evidence(
        pdf_sha256="ab" * 32,
        name="Ana López Ruiz",
        contact="ana@example.es",
        utc="2026-06-15T08:30:00.000Z",
        local="2026-06-15T10:30:00+02:00",
        timezone="Europe/Madrid",
        ip_hash="0123456789abcdef",
        user_agent=AGENT,
        signature="drawn",
        signature_sha256="cd" * 32,
    )
    record = DecisionRecord(
        quote=PENDING,
        slug=PENDING,
        decision="accepted",
        ts=evidence.utc,
        contact=evidence.contact,
        name=evidence.name,
        pdf_sha256=evidence.pdf_sha256,
        event_id="01JXKQ0Z5M0000000000000001",
        extra={"evidence": evidence.to_dict()},
    )
    event = decision_event(DecisionRecord.from_json(record.to_json()), "C00007")
    assert (event.ip_hash, event.user_agent) == ("0123456789abcdef", AGENT)
    assert event.data["signature"] == "drawn" and event.data["signature_sha256"] == "cd" * 32
    assert event.data["recovered"] is True
