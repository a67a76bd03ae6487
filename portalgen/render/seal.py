"""Sealing PDFs with the company's certificate (PAdES B-B, or B-T with a time-stamp).

`load_sealer` reads `signing:` once per process: the PKCS#12 file, its password from the
environment variable `signing.password_env`. `Sealer.seal` adds an invisible signature
field and the CMS signature (pyHanko) as an incremental update: the original revision,
with its PDF/A-3 identification, output intent and structure tree, stays byte for byte
as it was, so the signature covers exactly what was rendered. The signature's widget is
tagged (a Form element in the structure tree, with an alternate name), as PDF/UA asks of
every widget, and the document's metadata is left alone (pyHanko would rewrite the XMP
packet, dropping the PDF/UA identification and disagreeing with the Info dictionary,
which PDF/A forbids).

The certificate's SHA-256 is `Sealer.fingerprint`; it is part of every render key, so a
new certificate re-seals every PDF.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.utils import CryptographyDeprecationWarning

from portalgen.config import SigningSettings
from portalgen.errors import ConfigError, RenderError
from portalgen.render.seal_cms import KNOWN_DIGESTS, CmsTemplate

with warnings.catch_warnings():  # pyHanko imports the deprecated DSA module of cryptography
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from asn1crypto import cms as asn1_cms
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko_certvalidator.registry import SimpleCertificateStore
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

FIELD = "Seal"


class _SealSigner(signers.SimpleSigner):
    """pyHanko's in-memory signer, with the private key parsed once (pyHanko parses it
    again for every signature, which costs more than the signing) and, for a plain
    PAdES B-B signature with an RSA key, the CMS filled in from a template pyHanko built
    once (portalgen.render.seal_cms: assembling it anew costs several signatures)."""

    def __init__(self, key: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key = key
        self._templates: dict[str, CmsTemplate | None] = {}  # by digest algorithm

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), hash_algorithm)
        if mechanism == "ecdsa" and isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hash_algorithm))
        signature: bytes = super().sign_raw(data, digest_algorithm)
        return signature

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: Any = None,
        signed_attr_settings: Any = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> Any:
        """pyHanko's CMS signature of `data_digest`; from the template when the
        signature is plain PAdES B-B (no time-stamp, no extra signed attributes)."""
        plain = (
            use_pades
            and is_pdf_sig
            and not dry_run
            and timestamper is None
            and encap_content_info is None
            and _no_extra_attributes(signed_attr_settings)
            and self.signed_attr_prov_spec is None
            and self.unsigned_attr_prov_spec is None
            and isinstance(self._key, rsa.RSAPrivateKey)
        )
        if plain:
            template = await self._template(digest_algorithm.lower())
            der = template.fill(data_digest, self._key) if template else None
            if der is not None:
                return asn1_cms.ContentInfo.load(der)
        return await super().async_sign(
            data_digest,
            digest_algorithm,
            dry_run=dry_run,
            use_pades=use_pades,
            timestamper=timestamper,
            signed_attr_settings=signed_attr_settings,
            is_pdf_sig=is_pdf_sig,
            encap_content_info=encap_content_info,
        )

    async def _template(self, digest_algorithm: str) -> CmsTemplate | None:
        """The CMS template for `digest_algorithm`, built by pyHanko at first use."""
        if digest_algorithm not in self._templates:
            template = None
            if digest_algorithm in KNOWN_DIGESTS and isinstance(self._key, rsa.RSAPrivateKey):
                cms = await super().async_sign(
                    KNOWN_DIGESTS[digest_algorithm],
                    digest_algorithm,
                    use_pades=True,
                    signed_attr_settings=PdfCMSSignedAttributes(),
                )
                template = CmsTemplate.build(cms, self._key, digest_algorithm)
            self._templates[digest_algorithm] = template
        return self._templates[digest_algorithm]


def _no_extra_attributes(settings: Any) -> bool:
    """No signed attribute beyond PAdES B-B's own (the signing time is not one: PAdES
    puts it in the signature dictionary, never in the CMS)."""
    return settings is None or (
        settings.adobe_revinfo_attr is None and settings.cades_signed_attrs is None
    )


class _KeepMetadata(IncrementalPdfFileWriter):
    """An incremental update that leaves the Info dictionary and the XMP packet as they
    are (see the module's docstring)."""

    def _update_meta(self) -> None:
        return None


class Sealer:
    def __init__(self, signer: _SealSigner, fingerprint: str, timestamp_url: str) -> None:
        self.signer = signer
        self.fingerprint = fingerprint  # SHA-256 of the certificate (DER), hex
        self.timestamper = timestamps.HTTPTimeStamper(timestamp_url) if timestamp_url else None
        certificate = signer.signing_cert
        self.subject = certificate.subject.human_friendly if certificate is not None else ""
        self._reserve: int | None = None  # hex digits for the signature, once measured

    def seal(self, pdf: bytes, label: str = "") -> bytes:
        """`pdf` with the company's seal added; `label` names the signature for assistive
        technology (its alternate name, e.g. "Electronic seal of Mi Empresa").

        pyHanko sizes the signature's space by building and signing a dummy signature
        first, which costs as much as the real one; the first seal measures it and the
        next ones reserve that (with pyHanko's own 50 % margin), estimating again only
        if a signature ever outgrows it (a time-stamp answer longer than before)."""
        try:
            if self._reserve is not None:
                try:
                    return self._sign(pdf, label, self._reserve)
                except SigningError:
                    self._reserve = None
            sealed = self._sign(pdf, label, None)
            self._reserve = _reserve_for(sealed)
            return sealed
        except Exception as exc:  # pyHanko and the time-stamping service raise many kinds
            raise RenderError(f"cannot seal the PDF: {exc}") from exc

    def _sign(self, pdf: bytes, label: str, reserve: int | None) -> bytes:
        writer = _KeepMetadata(BytesIO(pdf), strict=False)
        fields.append_signature_field(writer, fields.SigFieldSpec(FIELD, box=None))
        _tag_widget(writer, label or self.subject)
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )
        signer = signers.PdfSigner(meta, signer=self.signer, timestamper=self.timestamper)
        sealed: bytes = signer.sign_pdf(writer, bytes_reserved=reserve).getvalue()
        return sealed


def _reserve_for(sealed: bytes) -> int | None:
    """The space (hex digits) pyHanko would reserve for a signature like the one in
    `sealed`: its CMS length from the DER header of /Contents, twice (hex), plus half."""
    start = sealed.rfind(b"/Contents <")
    head = sealed[start + 11 : start + 19] if start >= 0 else b""
    try:
        der = bytes.fromhex(head.decode("ascii"))
    except ValueError:
        return None
    if len(der) < 4 or der[0] != 0x30 or der[1] != 0x82:
        return None  # not a DER SEQUENCE with a two-byte length: let pyHanko estimate
    hex_length = 2 * (4 + int.from_bytes(der[2:4], "big"))
    return hex_length + 2 * (hex_length // 4)


def _tag_widget(writer: Any, label: str) -> None:
    """Put the signature's widget in the structure tree: a Form element under the
    document element, pointing at the widget (OBJR), registered in the parent tree."""
    root = writer.root
    form = root["/AcroForm"]
    widget_ref = next(ref for ref in form.raw_get("/Fields") if ref.get_object()["/T"] == FIELD)
    widget = widget_ref.get_object()
    widget["/TU"] = generic.TextStringObject(label)
    if "/StructTreeRoot" not in root:
        return  # an original from the invoicing program may have no structure to keep
    tree = root["/StructTreeRoot"]
    parent_tree = tree["/ParentTree"]
    nums = parent_tree.get("/Nums")
    top = tree["/K"]
    document = top[0] if isinstance(top, generic.ArrayObject) else top
    document_ref = top.raw_get(0) if isinstance(top, generic.ArrayObject) else tree.raw_get("/K")
    if nums is None or "/K" not in document:
        return  # a parent tree split in /Kids, or an empty tree: not ours, left as it is
    used = (int(nums[i]) for i in range(0, len(nums), 2))
    key = int(tree.get("/ParentTreeNextKey", max(used, default=-1) + 1))
    element = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/StructElem"),
            generic.pdf_name("/S"): generic.pdf_name("/Form"),
            generic.pdf_name("/P"): document_ref,
            generic.pdf_name("/Alt"): generic.TextStringObject(label),
            generic.pdf_name("/K"): generic.DictionaryObject(
                {
                    generic.pdf_name("/Type"): generic.pdf_name("/OBJR"),
                    generic.pdf_name("/Obj"): widget_ref,
                    generic.pdf_name("/Pg"): widget.raw_get("/P"),
                }
            ),
        }
    )
    element_ref = writer.add_object(element)
    children = document["/K"]
    if not isinstance(children, generic.ArrayObject):
        document["/K"] = children = generic.ArrayObject([document.raw_get("/K")])
    children.append(element_ref)
    widget["/StructParent"] = generic.NumberObject(key)
    nums.extend([generic.NumberObject(key), element_ref])
    tree["/ParentTreeNextKey"] = generic.NumberObject(key + 1)
    for container in (widget_ref, document_ref):
        writer.mark_update(container)
    writer.update_container(tree)
    writer.update_container(parent_tree)


def load_sealer(settings: SigningSettings, environ: Mapping[str, str]) -> Sealer | None:
    """The sealer for `signing:`, or None when no certificate is configured. Every
    problem is a ConfigError naming the key: a missing file, an unset password, a
    wrong password, a file without a private key."""
    path = settings.certificate
    if path is None:
        return None
    password = environ.get(settings.password_env, "")
    if not password:
        raise ConfigError(
            f"signing.certificate is set but the environment variable {settings.password_env} "
            "(signing.password_env) holding its password is empty"
        )
    key, certificate, others = _read_pkcs12(path, password.encode())
    der = certificate.public_bytes(serialization.Encoding.DER)
    store = SimpleCertificateStore()
    store.register_multiple(
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in others
    )
    key_info = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = _SealSigner(
        key,
        signing_cert=asn1_x509.Certificate.load(der),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_info),
        cert_registry=store,
    )
    return Sealer(signer, hashlib.sha256(der).hexdigest(), settings.timestamp_url)


def _read_pkcs12(path: Path, password: bytes) -> tuple[Any, Any, list[Any]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"signing.certificate: no such file: {path}") from None
    except OSError as exc:
        raise ConfigError(f"signing.certificate: cannot read {path}: {exc.strerror}") from None
    try:
        key, certificate, others = pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        raise ConfigError(
            f"signing.certificate: cannot open {path}: the password is wrong or the file is "
            "not a PKCS#12 (.p12/.pfx) certificate"
        ) from None
    if key is None or certificate is None:
        raise ConfigError(
            f"signing.certificate: {path} holds no private key and certificate to seal with"
        )
    return key, certificate, list(others)
