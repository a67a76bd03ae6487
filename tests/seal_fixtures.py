"""A company seal for the tests: a self-signed certificate in a PKCS#12 file, and the
pyHanko validator that checks sealed PDFs against it.

    seal_certificate        -> SealFiles (p12, password, certificate); `signing` overrides
    seal_status(pdf, seal)  -> pyHanko's verdict on the PDF's one signature
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

PASSWORD = "correct horse battery staple"
PASSWORD_ENV = "PORTALGEN_SEAL_PASSWORD"


@dataclass(frozen=True)
class SealFiles:
    p12: Path
    password: str
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def environ(self) -> dict[str, str]:
        return {PASSWORD_ENV: self.password}

    def signing(self, **extra: object) -> dict[str, object]:
        """The `signing:` section for load_settings' overrides."""
        return {"certificate": str(self.p12), "password_env": PASSWORD_ENV, **extra}


def make_certificate(
    name: str, key: rsa.RSAPrivateKey, *, usage: str = "seal", issuer: Any = None
) -> x509.Certificate:
    """A certificate for `name`, self-signed unless `issuer` is (certificate, key).
    usage "seal": digital signature and non-repudiation; "tsa": a time-stamping unit."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Suministros y Servicios Levante, S.L."),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
        ]
    )
    issuer_name, issuer_key = (subject, key) if issuer is None else (issuer[0].subject, issuer[1])
    start = datetime(2020, 1, 1, tzinfo=UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * 80))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if usage == "tsa":
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    usages = dict.fromkeys(
        ("key_encipherment", "data_encipherment", "key_agreement", "encipher_only"), False
    )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=True,
            content_commitment=usage == "seal",
            key_cert_sign=issuer is None,
            crl_sign=issuer is None,
            decipher_only=False,
            **usages,
        ),
        critical=True,
    )
    return builder.sign(issuer_key, hashes.SHA256())


def make_seal(folder: Path, name: str = "Sello de empresa", password: str = PASSWORD) -> SealFiles:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = make_certificate(name, key)
    p12 = folder / f"{name.replace(' ', '-').lower()}.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal",
            key,
            certificate,
            None,
            serialization.BestAvailableEncryption(password.encode()),
        )
    )
    return SealFiles(p12, password, certificate, key)


@pytest.fixture(scope="session")
def seal_certificate(tmp_path_factory: pytest.TempPathFactory) -> SealFiles:
    return make_seal(tmp_path_factory.mktemp("seal"))


def as_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def seal_status(pdf: bytes, trusted: x509.Certificate, **validation: Any) -> Any:
    """pyHanko's validation of the PDF's only signature, trusting `trusted` alone."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    signatures = reader.embedded_signatures
    if len(signatures) != 1:
        raise AssertionError(f"expected one signature, found {len(signatures)}")
    context = ValidationContext(trust_roots=[as_asn1(trusted)])
    return validate_pdf_signature(signatures[0], context, **validation)
