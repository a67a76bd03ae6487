"""The seal's CMS signature from a template pyHanko built once.

A PAdES signature (B-B) made with an RSA key differs from the next one in two places
only: the document's digest (the signed attribute messageDigest) and the RSA signature
over the signed attributes, both of fixed length. Building the CMS with asn1crypto costs
several times the RSA signature itself (the attributes, the SignerInfo and the
certificate set are assembled from Python values and encoded again for every PDF), so
`CmsTemplate.build` asks pyHanko for one complete signature over a known digest, finds
those two places in its DER encoding, and `fill` writes every later signature by
putting the new digest and the new RSA signature there.

The template is only used when it is certain to match what pyHanko would build:
`build` checks that the known digest and the signature occur exactly once, that the
signed attributes are found in the encoding, and that signing them again gives the same
signature pyHanko put there (PKCS#1 v1.5 signatures are deterministic), so the bytes it
signs are the bytes a validator hashes. tests/test_seal.py checks that a filled
template is byte for byte the CMS pyHanko builds for the same digest.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.utils import CryptographyDeprecationWarning

with warnings.catch_warnings():  # pyHanko imports the deprecated DSA module of cryptography
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

# The digest the template is built over: any value whose bytes cannot occur by chance
# elsewhere in the CMS (a certificate, an algorithm identifier).
KNOWN_DIGESTS = {
    "sha256": hashlib.sha256(b"portalgen: the seal's CMS template").digest(),
}
SET_TAG = 0x31  # the signed attributes are signed as a SET OF (RFC 5652, 5.4) ...
IMPLICIT_0 = 0xA0  # ... and stored as [0] IMPLICIT in the SignerInfo


@dataclass(frozen=True)
class CmsTemplate:
    der: bytes  # pyHanko's CMS (ContentInfo) over the known digest
    digest_at: int  # where the messageDigest value starts in `der`
    digest_length: int
    attrs_at: int  # where the [0] IMPLICIT signed attributes start in `der`
    attrs_length: int  # their whole encoding (tag, length, contents)
    signature_at: int  # where the RSA signature's value starts in `der`
    signature_length: int
    digest_algorithm: str

    @classmethod
    def build(cls, cms: Any, key: rsa.RSAPrivateKey, digest_algorithm: str) -> CmsTemplate | None:
        """The template of `cms` (pyHanko's asn1crypto ContentInfo over the known digest
        of `digest_algorithm`, signed with `key`), or None if it cannot be one."""
        der: bytes = cms.dump()
        signer_info = cms["content"]["signer_infos"][0]
        attrs: bytes = signer_info["signed_attrs"].dump()
        signature: bytes = signer_info["signature"].native
        digest = KNOWN_DIGESTS[digest_algorithm]
        if not (der.count(digest) == der.count(attrs) == der.count(signature) == 1):
            return None
        attrs_at, digest_at = der.index(attrs), der.index(digest)
        if attrs[0] != IMPLICIT_0 or not attrs_at < digest_at < attrs_at + len(attrs):
            return None
        template = cls(
            der,
            digest_at,
            len(digest),
            attrs_at,
            len(attrs),
            der.index(signature),
            len(signature),
            digest_algorithm,
        )
        if template.sign(der, key) != signature:
            return None  # not the bytes pyHanko signs: never use this template
        return template

    def fill(self, digest: bytes, key: rsa.RSAPrivateKey) -> bytes | None:
        """The CMS (DER) over `digest`, signed with `key`; None if a length differs."""
        if len(digest) != self.digest_length:
            return None
        der = bytearray(self.der)
        der[self.digest_at : self.digest_at + self.digest_length] = digest
        signature = self.sign(der, key)
        if len(signature) != self.signature_length:
            return None
        der[self.signature_at : self.signature_at + self.signature_length] = signature
        return bytes(der)

    def sign(self, der: bytes | bytearray, key: rsa.RSAPrivateKey) -> bytes:
        """The RSA signature of the signed attributes held in `der`, as a SET OF."""
        attrs = bytes([SET_TAG]) + der[self.attrs_at + 1 : self.attrs_at + self.attrs_length]
        return key.sign(attrs, PKCS1v15(), get_pyca_cryptography_hash(self.digest_algorithm))
