"""PDFs with WeasyPrint: archival (PDF/A-3a, tagged) and made the same way every time.

One PdfEngine per process: one FontConfiguration, the stylesheet parsed once per
language, one image cache, and a URL fetcher that only serves files of the theme (never
the network, never other files). WeasyPrint's warnings (a missing image, a CSS rule it
ignores) are collected so the build can report them and the tests can fail on them.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from portalgen.errors import RenderError

if TYPE_CHECKING:
    from portalgen.render.context import RenderContext

PDF_VARIANT = "pdf/a-3a"  # PDF/A-3 level A: archival, and tagged for accessibility
# WeasyPrint tags the structure (level A needs it); declare PDF/UA-1 in the XMP as well.
PDF_UA_XMP = (
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">'
    b"<pdfuaid:part>1</pdfuaid:part></rdf:Description></rdf:RDF>"
)


class ThemeFetcher(URLFetcher):  # type: ignore[misc]
    """Serves ``file:`` URLs inside the theme's folders; refuses everything else.

    Given `files` (the theme's static files and logo, whose content is in every render
    key), it serves only those: a file a PDF could read without it being in the key could
    change the PDF while its key stays the same, and the old PDF would stay published.
    """

    def __init__(self, roots: tuple[Path, ...], files: Iterable[Path] | None = None) -> None:
        super().__init__(allowed_protocols=("file", "data"), fail_on_errors=False)
        self.roots = tuple(root.resolve() for root in roots)
        self.files = None if files is None else frozenset(p.resolve() for p in files)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("data:"):  # QR codes are inline images: no file, no network
            header, _, payload = url[5:].partition(",")
            if not header.endswith(";base64"):
                raise ValueError("only base64 data: URLs are used")
            mime = header.split(";")[0] or "application/octet-stream"
            return URLFetcherResponse(url, base64.b64decode(payload), {"Content-Type": mime})
        parts = urlsplit(url)
        if parts.scheme != "file":
            raise ValueError(f"portalgen PDFs only use theme files, not {parts.scheme}: URLs")
        path = Path(unquote(parts.path)).resolve()
        inside = any(path.is_relative_to(root) for root in self.roots)
        if not inside or not path.is_file() or (self.files is not None and path not in self.files):
            raise ValueError(f"not a file of the theme: {path}")
        return URLFetcherResponse(url, path.read_bytes())


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def weasyprint_warnings() -> Iterator[list[str]]:
    """Collect WeasyPrint's warnings while rendering (they are log records)."""
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        yield collector.messages
    finally:
        logger.removeHandler(collector)


def include_margin_boxes(_document: Any, pdf: Any) -> None:
    """Put the page margin boxes (the legal footer, the page numbers) into the structure
    tree. WeasyPrint tags their content but leaves their elements out of it (each names
    the document as its parent, which does not list it), so assistive technology never
    reaches them; PDF 1.7 cannot mark them as artifacts in the tree. A finisher of
    `write_pdf`: it runs on WeasyPrint's PDF objects before they are written."""
    elements: list[Any] = [  # pydyf dictionaries (WeasyPrint's PDF objects)
        obj
        for obj in pdf.objects
        if isinstance(obj, dict) and obj.get("Type") == "/StructElem" and "P" in obj
    ]
    by_reference: dict[bytes, Any] = {element.reference: element for element in elements}
    for element in elements:  # the document's parent is the root, not a StructElem
        parent = by_reference.get(element["P"])
        if parent is None or element.reference in parent["K"]:
            continue
        parent["K"].append(element.reference)


class PdfEngine:
    def __init__(self, context: RenderContext) -> None:
        self.context = context
        self.fonts = FontConfiguration()
        theme = context.theme
        self.fetcher = ThemeFetcher(theme.static_dirs, theme.static.values())
        self.base_url = context.theme.static_dirs[-1].resolve().as_uri() + "/"
        self.image_cache: dict[str, Any] = {}
        self._css: dict[str, CSS] = {}

    def stylesheet(self, language: str) -> CSS:
        if language not in self._css:
            env = self.context.env(language)
            text = env.get_template("pdf/style.css").render(
                theme=self.context.settings.theme,
                page_path="",
                company=self.context.settings.company,
            )
            self._css[language] = CSS(
                string=text,
                font_config=self.fonts,
                url_fetcher=self.fetcher,
                base_url=self.base_url,
            )
        return self._css[language]

    def render(self, html: str, language: str) -> bytes:
        """One PDF from its HTML; WeasyPrint's warnings go to context.render_warnings."""
        try:
            with weasyprint_warnings() as warnings:
                document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher)
                pdf = document.write_pdf(
                    stylesheets=[self.stylesheet(language)],
                    font_config=self.fonts,
                    pdf_variant=PDF_VARIANT,
                    xmp_metadata=[BytesIO(PDF_UA_XMP)],
                    cache=self.image_cache,
                    finisher=include_margin_boxes,
                )
        except Exception as exc:  # WeasyPrint raises many kinds; report which document
            raise RenderError(f"WeasyPrint could not render a PDF: {exc}") from exc
        self.context.render_warnings.extend(warnings)
        if not isinstance(pdf, bytes):
            raise RenderError("WeasyPrint returned no PDF")
        return self.context.seal(pdf, language)
