"""Sealed PDFs: every PDF portalgen renders carries the company's seal (PAdES), checked
with pyHanko's validator against a self-signed test certificate, and stays PDF/A-3."""

from __future__ import annotations

import http.server
import io
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.utils import CryptographyDeprecationWarning
from pypdf import PdfReader

from portalgen.errors import ConfigError
from portalgen.render import build_context, plan_portal
from tests.conftest import TODAY, load_demo
from tests.render_fixtures import render_settings, small_customer
from tests.seal_fixtures import (
    PASSWORD_ENV,
    SealFiles,
    as_asn1,
    make_certificate,
    make_seal,
    seal_status,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from asn1crypto import keys as asn1_keys
    from asn1crypto import tsp
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator import ValidationContext

PDFS = ("invoices/F2026-007.pdf", "quotes/P2026-001.pdf", "payments/statement.pdf")


def rendered(demo_dir: Path, seal: SealFiles | None, **signing: object) -> dict[str, bytes]:
    settings = render_settings(demo_dir, signing=seal.signing(**signing) if seal else {})
    context = build_context(settings, today=TODAY, environ=seal.environ if seal else {})
    files = {f.path: f.render() for f in plan_portal(small_customer(), context) if f.path in PDFS}
    assert context.render_warnings == []
    return files


@pytest.fixture(scope="module")
def unsealed(demo_dir: Path) -> dict[str, bytes]:
    return rendered(demo_dir, None)


@pytest.fixture(scope="module")
def sealed(demo_dir: Path, seal_certificate: SealFiles) -> dict[str, bytes]:
    return rendered(demo_dir, seal_certificate)


def archival_marks(pdf: bytes) -> dict[str, object]:
    """What the PDF/A-3a and PDF/UA-1 claims rest on (veraPDF is not on the test
    machines): identification, output intent, structure, language."""
    root: Any = PdfReader(io.BytesIO(pdf)).trailer["/Root"]  # PDF objects: untyped trees
    xmp = root["/Metadata"].get_object().get_data()
    return {
        "pdfa": b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="A"' in xmp,
        "pdfua": b"<pdfuaid:part>1</pdfuaid:part>" in xmp,
        "output_intent": root["/OutputIntents"][0].get_object()["/S"],
        "tagged": "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"]),
        "lang": root["/Lang"],
    }


def test_every_rendered_pdf_is_sealed_intact_trusted_and_still_archival(
    sealed: dict[str, bytes], unsealed: dict[str, bytes], seal_certificate: SealFiles
) -> None:
    for path in PDFS:
        status = seal_status(sealed[path], seal_certificate.certificate)
        assert (status.intact, status.valid, status.trusted) == (True, True, True), path
        assert status.coverage.name == "ENTIRE_FILE" and status.bottom_line
        # An incremental update: the rendered PDF is kept byte for byte under the seal,
        # with its identification, output intent, tags and metadata.
        assert sealed[path].startswith(unsealed[path]), path
        assert (
            archival_marks(sealed[path])
            == archival_marks(unsealed[path])
            == {
                "pdfa": True,
                "pdfua": True,
                "output_intent": "/GTS_PDFA1",
                "tagged": True,
                "lang": "es",
            }
        )
        before, after = (PdfReader(io.BytesIO(p)) for p in (unsealed[path], sealed[path]))
        assert after.metadata == before.metadata  # Info agrees with XMP, as PDF/A asks


def test_the_seal_is_in_the_signature_panel_and_in_the_structure_tree(
    sealed: dict[str, bytes],
) -> None:
    reader = PdfReader(io.BytesIO(sealed["invoices/F2026-007.pdf"]))
    root: Any = reader.trailer["/Root"]  # PDF objects: untyped trees
    (field,) = (ref.get_object() for ref in root["/AcroForm"]["/Fields"])
    assert field["/FT"] == "/Sig" and field["/V"]["/SubFilter"] == "/ETSI.CAdES.detached"
    label = "Sello electrónico de Suministros y Servicios Levante, S.L."
    assert field["/TU"] == label
    assert field["/F"] & 4 and not field["/F"] & (1 | 2 | 32)  # printed, never hidden (PDF/A)
    document = root["/StructTreeRoot"]["/K"][0].get_object()
    forms = [k.get_object() for k in document["/K"] if k.get_object().get("/S") == "/Form"]
    assert [(f["/Alt"], f["/K"]["/Obj"].get_object()["/T"]) for f in forms] == [(label, "Seal")]
    parents = root["/StructTreeRoot"]["/ParentTree"]["/Nums"]
    numbers = dict(zip(parents[0::2], parents[1::2], strict=True))
    assert numbers[field["/StructParent"]].get_object() == forms[0]


def test_changing_one_byte_breaks_the_seal(
    sealed: dict[str, bytes], seal_certificate: SealFiles
) -> None:
    pdf = sealed["invoices/F2026-007.pdf"]
    start = pdf.index(b"stream\n") + 40  # inside the first content stream's bytes
    changed = pdf[:start] + bytes([pdf[start] ^ 1]) + pdf[start + 1 :]
    status = seal_status(changed, seal_certificate.certificate)
    assert not status.intact and not status.bottom_line


def test_a_new_certificate_reseals_every_pdf(
    demo_dir: Path, seal_certificate: SealFiles, tmp_path: Path
) -> None:
    other = make_seal(tmp_path, "Otro sello")

    def pdf_keys(seal: SealFiles | None) -> dict[str, str]:
        settings = render_settings(demo_dir, signing=seal.signing() if seal else {})
        context = build_context(settings, today=TODAY, environ=seal.environ if seal else {})
        return {f.path: f.key for f in plan_portal(small_customer(), context) if f.path in PDFS}

    first, second, unsigned = pdf_keys(seal_certificate), pdf_keys(other), pdf_keys(None)
    assert first == pdf_keys(seal_certificate)  # the same certificate: nothing re-rendered
    for path in PDFS:
        assert len({first[path], second[path], unsigned[path]}) == 3
    invoice = rendered(demo_dir, other)["invoices/F2026-007.pdf"]
    assert seal_status(invoice, other.certificate).bottom_line
    assert not seal_status(invoice, seal_certificate.certificate).trusted


def test_a_missing_file_wrong_password_or_unset_variable_is_a_clear_error(
    demo_dir: Path, seal_certificate: SealFiles, tmp_path: Path
) -> None:
    def error(environ: dict[str, str], **signing: object) -> str:
        settings = render_settings(demo_dir, signing=seal_certificate.signing(**signing))
        with pytest.raises(ConfigError) as caught:
            build_context(settings, today=TODAY, environ=environ)
        return str(caught.value)

    missing = tmp_path / "nowhere.p12"
    assert error(seal_certificate.environ, certificate=str(missing)) == (
        f"signing.certificate: no such file: {missing}"
    )
    assert "the password is wrong" in error({"PORTALGEN_SEAL_PASSWORD": "wrong"})
    assert error({}) == (
        "signing.certificate is set but the environment variable PORTALGEN_SEAL_PASSWORD "
        "(signing.password_env) holding its password is empty"
    )


def test_originals_are_published_as_they_are_unless_signing_originals(
    fresh_demo: Path, seal_certificate: SealFiles
) -> None:
    from portalgen.demo import generate_demo
    from tests.conftest import demo_settings

    generate_demo(fresh_demo, customers=8, seed=7, today=TODAY, originals=True)

    def invoice_pdf(**signing: object) -> tuple[bytes, bytes]:
        settings = demo_settings(
            fresh_demo, portal={"pdf": "original"}, signing=seal_certificate.signing(**signing)
        )
        data = load_demo(fresh_demo, settings).export.customer_data("C00001")
        invoice = data.invoices[0]
        assert invoice.original_pdf is not None
        context = build_context(settings, today=TODAY, environ=seal_certificate.environ)
        files = {f.path: f for f in plan_portal(data, context)}
        return files[f"invoices/{invoice.slug}.pdf"].render(), invoice.original_pdf.read_bytes()

    published, original = invoice_pdf()
    assert published == original
    published, original = invoice_pdf(originals=True)
    assert published.startswith(original) and published != original
    assert seal_status(published, seal_certificate.certificate).bottom_line


class _TimeStampingService(http.server.BaseHTTPRequestHandler):
    """An RFC 3161 time-stamping service over HTTP (pyHanko's own TSA logic answers)."""

    tsa: DummyTimeStamper

    def do_POST(self) -> None:
        request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
        body = self.tsa.request_tsa_response(request).dump()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def timestamp_service(seal_certificate: SealFiles) -> Iterator[tuple[str, object]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = make_certificate("Test TSA root", root_key)
    unit = make_certificate("Test TSA", key, usage="tsa", issuer=(root, root_key))
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    handler = type(
        "Service",
        (_TimeStampingService,),
        {"tsa": DummyTimeStamper(as_asn1(unit), asn1_keys.PrivateKeyInfo.load(der_key))},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_timestamp_url_makes_it_pades_b_t(
    demo_dir: Path, seal_certificate: SealFiles, timestamp_service: tuple[str, object]
) -> None:
    url, tsa_root = timestamp_service
    pdf = rendered(demo_dir, seal_certificate, timestamp_url=url)["invoices/F2026-007.pdf"]
    context = ValidationContext(trust_roots=[as_asn1(tsa_root)])  # type: ignore[arg-type]
    status = seal_status(pdf, seal_certificate.certificate, ts_validation_context=context)
    assert status.bottom_line
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted


def test_a_signature_that_outgrows_its_measured_space_is_measured_again(
    unsealed: dict[str, bytes], seal_certificate: SealFiles
) -> None:
    """Sealing reserves the space the first signature took (pyHanko's estimate costs a
    second signature); a signature that no longer fits is sized by pyHanko again."""
    from portalgen.config import SigningSettings
    from portalgen.render.seal import load_sealer

    signing = SigningSettings(certificate=seal_certificate.p12, password_env=PASSWORD_ENV)
    sealer = load_sealer(signing, seal_certificate.environ)
    assert sealer is not None
    pdf = unsealed["invoices/F2026-007.pdf"]
    first = sealer.seal(pdf)
    measured = sealer._reserve
    assert measured is not None and seal_status(first, seal_certificate.certificate).bottom_line
    sealer._reserve = 64  # far too small for any signature
    again = sealer.seal(pdf)
    assert seal_status(again, seal_certificate.certificate).bottom_line
    assert sealer._reserve == measured


def test_the_seal_s_cms_is_byte_for_byte_what_pyhanko_builds(
    seal_certificate: SealFiles,
) -> None:
    """A plain PAdES B-B signature's CMS is filled in from a template pyHanko built once
    (portalgen.render.seal_cms); it must be exactly pyHanko's own for the same digest,
    or a pyHanko upgrade changed what it signs (then the template must follow)."""
    import asyncio
    import hashlib
    from datetime import UTC, datetime

    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    from portalgen.config import SigningSettings
    from portalgen.render.seal import load_sealer

    signing = SigningSettings(certificate=seal_certificate.p12, password_env=PASSWORD_ENV)
    sealer = load_sealer(signing, seal_certificate.environ)
    assert sealer is not None
    signer = sealer.signer
    attributes = PdfCMSSignedAttributes(signing_time=datetime(2026, 6, 15, 10, 30, tzinfo=UTC))

    async def both(digest: bytes) -> tuple[bytes, bytes]:
        ours = await signer.async_sign(
            digest, "sha256", use_pades=True, signed_attr_settings=attributes
        )
        pyhanko = await signers.SimpleSigner.async_sign(
            signer, digest, "sha256", use_pades=True, signed_attr_settings=attributes
        )
        return ours.dump(), pyhanko.dump()

    for text in (b"an invoice", b"a quote"):
        ours, pyhanko = asyncio.run(both(hashlib.sha256(text).digest()))
        assert ours == pyhanko
    assert signer._templates["sha256"] is not None  # the template was used, not pyHanko
