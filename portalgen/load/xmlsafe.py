"""Reading e-invoice XML safely, and pointing at the element a problem is in.

Parsing never touches the network, never expands entities (no "billion laughs", no
external files) and refuses huge trees. Every value is read through `XmlFile`, which
logs a problem naming the file and the element path (``/Invoice/cac:LegalMonetaryTotal/
cbc:PayableAmount``) with what was expected, so a reader reports every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from portalgen.domain.model import Origin
from portalgen.load import fields as f
from portalgen.load.problems import ProblemLog

MAX_XML_BYTES = 50 * 1024 * 1024  # an e-invoice with an embedded PDF is a few MB at most

Element = Any  # lxml's _Element; lxml ships no type information mypy can use


class NotXml(ValueError):
    """The bytes are not well-formed XML; the message says where."""


def parse_xml(data: bytes) -> Element:
    """Parse bytes into an element tree without network, entities or DTD tricks."""
    if len(data) > MAX_XML_BYTES:
        raise NotXml(f"the file is larger than {MAX_XML_BYTES // (1024 * 1024)} MB")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = f"line {exc.lineno}: " if exc.lineno else ""
        raise NotXml(f"{line}{exc.msg}") from None
    if root is None:
        raise NotXml("the file holds no XML element")
    doctype = root.getroottree().docinfo.doctype
    if doctype:
        raise NotXml("the file declares a DOCTYPE, which e-invoices never need; refused")
    return root


def sniff_root(path: Path, limit: int = 4096) -> tuple[str, str] | None:
    """The root element's (namespace, local name) from the start of a file, or None.

    Cheap enough to run on every file of a folder when detecting its format.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(limit)
    except OSError:
        return None
    head = _as_utf8(head)
    match = re.search(rb"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]", _skip_prolog(head))
    if not match:
        return None
    prefix = (match.group(1) or b"")[:-1]
    local = match.group(2).decode("ascii", "replace")
    attr = b"xmlns:" + prefix if prefix else b"xmlns"
    ns = re.search(rb"\s" + re.escape(attr) + rb"\s*=\s*[\"']([^\"']*)[\"']", head[match.start() :])
    return (ns.group(1).decode("utf-8", "replace") if ns else "", local)


# Byte-order marks, and the first two bytes of "<?" or "<" without one (XML 1.0, appendix F).
_UTF16 = {
    b"\xff\xfe": "utf-16-le",
    b"\xfe\xff": "utf-16-be",
    b"<\x00": "utf-16-le",
    b"\x00<": "utf-16-be",
}


def _as_utf8(head: bytes) -> bytes:
    """The start of a UTF-16 file (with or without a byte-order mark) as UTF-8 bytes.

    lxml reads UTF-16 files whole; sniffing must see the root element in them too.
    """
    encoding = _UTF16.get(head[:2])
    if encoding is None:
        return head
    body = head[2:] if head[:2] in (b"\xff\xfe", b"\xfe\xff") else head
    body = body[: len(body) // 2 * 2]  # a character cut in half at the read limit
    return body.decode(encoding, "replace").encode("utf-8")


def _skip_prolog(head: bytes) -> bytes:
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    while True:
        if head.startswith(b"<?"):
            end = head.find(b"?>")
        elif head.startswith(b"<!--"):
            end = head.find(b"-->")
        else:
            return head
        if end < 0:
            return b""
        head = head[end + 2 :].lstrip(b">").lstrip()


def local_name(element: Element) -> str:
    return str(etree.QName(element).localname)


def namespace(element: Element) -> str:
    return str(etree.QName(element).namespace or "")


class XmlFile:
    """One parsed XML file: find elements by prefixed path, read typed values, log problems.

    `prefixes` maps namespace URIs to the prefixes used in paths and messages; the root's
    own namespace may map to "" (UBL) so paths read ``/Invoice/cbc:ID``.
    """

    def __init__(
        self, name: str, root: Element, prefixes: Mapping[str, str], log: ProblemLog
    ) -> None:
        self.name = name
        self.root = root
        self.log = log
        self.prefixes = dict(prefixes)
        self.ns = {p: uri for uri, p in self.prefixes.items() if p}

    # -- paths and origins ------------------------------------------------------------------

    def tag(self, element: Element) -> str:
        qname = etree.QName(element)
        prefix = self.prefixes.get(qname.namespace or "", "")
        return f"{prefix}:{qname.localname}" if prefix else str(qname.localname)

    def path(self, element: Element) -> str:
        parts = []
        node = element
        while node is not None:
            label = self.tag(node)
            parent = node.getparent()
            if parent is not None:
                same = [c for c in parent if c.tag == node.tag]
                if len(same) > 1:
                    label += f"[{same.index(node) + 1}]"
            parts.append(label)
            node = parent
        return "/" + "/".join(reversed(parts))

    def origin(self, element: Element, fields: Mapping[str, str] | None = None) -> Origin:
        return Origin(self.name, self.path(element), fields or {})

    def error(self, element: Element, message: str, child: str = "") -> None:
        where = self.path(element) + (f"/{child}" if child else "")
        self.log.error(Origin(self.name, where), "", message)

    def warning(self, element: Element, message: str, child: str = "") -> None:
        where = self.path(element) + (f"/{child}" if child else "")
        self.log.warning(Origin(self.name, where), "", message)

    # -- finding ----------------------------------------------------------------------------

    def find(self, element: Element, path: str) -> Element | None:
        return element.find(path, self.ns)

    def findall(self, element: Element, path: str) -> list[Element]:
        return list(element.findall(path, self.ns))

    def require(self, element: Element, path: str, what: str = "") -> Element | None:
        found = self.find(element, path)
        if found is None:
            hint = f" ({what})" if what else ""
            self.error(element, f"this mandatory element is missing{hint}", child=path)
        return found

    # -- values -----------------------------------------------------------------------------

    def text(self, element: Element, path: str, *, required: bool = False, what: str = "") -> str:
        found = self.require(element, path, what) if required else self.find(element, path)
        if found is None:
            return ""
        value = "\n".join(line.strip() for line in (found.text or "").splitlines() if line.strip())
        if required and not value:
            self.error(found, f"expected {what or 'a value'}, found an empty element")
        return value

    def parse(
        self,
        element: Element,
        path: str,
        parser: f.Parser,
        *,
        required: bool = False,
        what: str = "",
    ) -> Any:
        """The value at `path` parsed by one of portalgen.load.fields' parsers, or None."""
        found = self.require(element, path, what) if required else self.find(element, path)
        if found is None:
            return None
        raw = (found.text or "").strip()
        if not raw:
            if required:
                self.error(found, f"expected {what or 'a value'}, found an empty element")
            return None
        try:
            return parser(raw)
        except f.FieldError as exc:
            self.error(found, str(exc))
            return None

    def decimal(self, element: Element, path: str, *, required: bool = False) -> Decimal | None:
        value: Decimal | None = self.parse(element, path, xml_decimal, required=required)
        return value

    def date(self, element: Element, path: str, *, required: bool = False) -> date | None:
        value: date | None = self.parse(element, path, xml_date, required=required)
        return value


_XML_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def xml_decimal(value: Any) -> Decimal:
    """An xs:decimal: digits with an optional dot; no exponent, no thousands separator."""
    raw = f.text(value)
    if not _XML_DECIMAL.match(raw):
        raise f.FieldError(f"expected a number like 1234.56, found {f.found(raw)}")
    return Decimal(raw)


_XML_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?$")


def xml_date(value: Any) -> date:
    """An xs:date (``2024-02-13``, a time-zone suffix allowed and ignored)."""
    raw = f.text(value)
    match = _XML_DATE.match(raw)
    if not match:
        raise f.FieldError(f"expected a date as YYYY-MM-DD, found {f.found(raw)}")
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise f.FieldError(f"expected a real date as YYYY-MM-DD, found {f.found(raw)}") from None
