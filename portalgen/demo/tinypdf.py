"""Minimal, valid PDFs with text, written directly: one page of lines, or a paginated document.

For demo data only (shared documents, stand-ins for the invoicing program's original
PDFs): thousands of them in a second, where WeasyPrint takes a few hundred milliseconds
each. Text is Latin-1 (Spanish is covered) in the standard Helvetica font.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def tiny_pdf(title: str, lines: Sequence[str] = ()) -> bytes:
    content = [b"BT", b"/F1 16 Tf", b"56 780 Td", b"(" + _escape(title) + b") Tj", b"/F1 10 Tf"]
    for line in lines:
        content += [b"0 -16 Td", b"(" + _escape(line) + b") Tj"]
    content.append(b"ET")
    stream = b"\n".join(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        _FONT % b"Helvetica",
        _stream(stream),
        _info(title),
    ]
    return _assemble(objects, info=6)


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
_WRAP = 92  # characters of 10 pt Helvetica that fit the 483 pt column (conservatively)
_TOP, _BOTTOM, _LEADING = 780, 72, 14
Row = tuple[bytes, int, str]  # font, size, text ("" is a blank row)


def text_pdf(title: str, blocks: Sequence[tuple[str, str]], footer: str = "") -> bytes:
    """A multi-page A4 document: a title, then ("h", heading) and ("p", paragraph)
    blocks; paragraphs wrap, pages break by themselves and carry "footer · n/N"."""
    pages = _paginate(_rows(title, blocks))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the pages are numbered
        _FONT % b"Helvetica",
        _FONT % b"Helvetica-Bold",
        _info(title),
    ]
    kids = []
    for number, rows in enumerate(pages, start=1):
        page_footer = f"{footer} · {number}/{len(pages)}" if footer else f"{number}/{len(pages)}"
        kids.append(f"{len(objects) + 1} 0 R".encode())
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font "
            b"<< /F1 3 0 R /F2 4 0 R >> >> /Contents " + str(len(objects) + 2).encode() + b" 0 R >>"
        )
        objects.append(_stream(_page_stream(rows, page_footer)))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    return _assemble(objects, info=5)


def _rows(title: str, blocks: Sequence[tuple[str, str]]) -> list[Row]:
    rows: list[Row] = [(b"F2", 16, title), (b"F1", 10, "")]
    for kind, text in blocks:
        if kind == "h":
            rows += [(b"F1", 10, ""), (b"F2", 11, text)]
        else:
            rows += [(b"F1", 10, line) for line in textwrap.wrap(text, _WRAP) or [""]]
    return rows


def _paginate(rows: list[Row]) -> list[list[Row]]:
    per_page = (_TOP - _BOTTOM) // _LEADING
    pages: list[list[Row]] = []
    for row in rows:
        if not pages or len(pages[-1]) >= per_page:
            if pages and not row[2]:
                continue  # no blank row at the top of a page
            pages.append([])
        pages[-1].append(row)
    for page, following in itertools.pairwise(pages):  # a heading never ends a page
        if len(page) > 1 and page[-1][0] == b"F2":
            following.insert(0, page.pop())
    return pages


def _page_stream(rows: list[Row], footer: str) -> bytes:
    content = [b"BT"]
    for i, (font, size, text) in enumerate(rows):
        if text:
            y = _TOP - i * _LEADING
            content += [b"/%s %d Tf" % (font, size), b"1 0 0 1 56 %d Tm" % y, _show(text)]
    content += [b"/F1 8 Tf", b"1 0 0 1 56 40 Tm", _show(footer), b"ET"]
    return b"\n".join(content)


def _show(text: str) -> bytes:
    return b"(" + _escape(text) + b") Tj"


def _stream(data: bytes) -> bytes:
    return b"<< /Length " + str(len(data)).encode() + b" >>\nstream\n" + data + b"\nendstream"


def _info(title: str) -> bytes:
    return b"<< /Title (" + _escape(title) + b") /Producer (portalgen demo) >>"


def _assemble(objects: list[bytes], info: int) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(number).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
