"""Is the XAdES signature of a Facturae file intact?

A signature is not needed to read a file; when there is one, portalgen says whether the
file is still what was signed. signxml checks the enveloped XML signature and its XAdES
signed properties (every reference digest, then the signature value) with the key of
the certificate embedded in the file.

What "intact" does NOT mean: the certificate is not checked against a list of trusted
authorities, nor for revocation, nor for its validity dates (the check runs as of the
certificate's start date, so an expired certificate still shows whether the bytes were
changed). It answers "was this file changed after it was signed?", not "who signed it
and may they?".

Statuses:
- ``intact``: the file verifies as it is.
- ``reformatted``: it does not verify as it is, but does once the whitespace between
  elements is removed: the file was re-indented after signing; its data is as signed,
  but the signature as such no longer verifies (FACe would refuse it).
- ``broken``: the signed data was changed (or the signature is corrupt).
- ``unverified``: the signature could not be checked (no certificate in it, an
  algorithm signxml does not support); nothing is claimed either way.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Literal

from lxml import etree

from portalgen.load.xmlsafe import Element, parse_xml

DS = "http://www.w3.org/2000/09/xmldsig#"

Status = Literal["unsigned", "intact", "reformatted", "broken", "unverified"]


@dataclass(frozen=True)
class SignatureCheck:
    status: Status
    signer: str = ""
    detail: str = ""


def check_signature(data: bytes, root: Element) -> SignatureCheck:
    signature = root.find(f"{{{DS}}}Signature")
    if signature is None:
        return SignatureCheck("unsigned")
    cert_el = signature.find(f".//{{{DS}}}X509Certificate")
    if cert_el is None or not (cert_el.text or "").strip():
        return SignatureCheck("unverified", detail="the signature carries no certificate")
    try:
        from cryptography import x509
        from signxml.exceptions import InvalidInput
        from signxml.verifier import SignatureConfiguration
        from signxml.xades.xades import XAdESVerifier
    except ImportError:  # pragma: no cover - signxml is a dependency
        return SignatureCheck("unverified", detail="signxml is not installed")
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode("".join(cert_el.text.split())))
    except (ValueError, binascii.Error):
        return SignatureCheck("broken", detail="the embedded certificate is not readable")
    signer = cert.subject.rfc4514_string()
    references = len(signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"))
    config = SignatureConfiguration(
        verification_time=cert.not_valid_before_utc, expect_references=references
    )

    def verifies(payload: bytes) -> bool | None:
        try:
            XAdESVerifier().verify(payload, x509_cert=cert, expect_config=config)
        except InvalidInput as exc:  # unsupported algorithm, malformed signature
            raise _Unverifiable(str(exc)) from exc
        except Exception:
            return False
        return True

    try:
        if verifies(data):
            return SignatureCheck("intact", signer)
        compact = _without_layout(root)
        if compact is not None and verifies(compact):
            return SignatureCheck(
                "reformatted",
                signer,
                "the file was re-indented after signing: its data is as signed, but the "
                "signature no longer verifies as the file stands",
            )
    except _Unverifiable as exc:
        return SignatureCheck("unverified", signer, str(exc))
    return SignatureCheck(
        "broken", signer, "the file was changed after it was signed, or the signature is corrupt"
    )


class _Unverifiable(Exception):
    pass


def _without_layout(root: Element) -> bytes | None:
    """The document with whitespace-only text between elements removed."""
    copy = parse_xml(etree.tostring(root))
    changed = False
    for element in copy.iter():
        if len(element) and element.text is not None and not element.text.strip():
            element.text = None
            changed = True
        if element.tail is not None and not element.tail.strip():
            element.tail = None
            changed = True
    return etree.tostring(copy) if changed else None
