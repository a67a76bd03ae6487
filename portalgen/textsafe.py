"""Text from outside (customers, exports, file names) made safe for a terminal or a spreadsheet.

- `control_characters(text)`: the characters that can forge a line or hide text: C0 and C1
  controls (newline, carriage return, tab, escape...), DEL, the Unicode line and paragraph
  separators, and the bidirectional overrides and isolates that make ``invoice<U+202E>fdp.exe``
  read as ``invoiceexe.pdf``.
- `escape_controls(text)`: each of them written as an escape (``\\n``, ``\\x1b``,
  ``\\u202e``), and the backslash as ``\\\\``, so what is printed is one line that says
  exactly what the text holds and cannot be taken for output of its own.
- `spreadsheet_cell(value)`: a CSV cell a spreadsheet does not run as a formula (OWASP's
  "CSV injection" advice).
"""

from __future__ import annotations

import re
import unicodedata

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029{_BIDI}]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def control_characters(text: str) -> list[str]:
    """The control characters in `text`, each once, as their Unicode names
    (``LINE FEED``...), in order of appearance."""
    found: list[str] = []
    for char in _CONTROL.findall(text):
        name = _name(char)
        if name not in found:
            found.append(name)
    return found


_C0_NAMES = {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN", "\x1b": "ESCAPE"}


def _name(char: str) -> str:
    code = f"U+{ord(char):04X}"
    name = _C0_NAMES.get(char) or unicodedata.name(char, "")
    return f"{code} {name}" if name else code


def escape_controls(text: str) -> str:
    """`text` with every control character (see the module's doc) as an escape sequence."""
    if not _CONTROL.search(text) and "\\" not in text:
        return text
    return _CONTROL.sub(_escape, text.replace("\\", "\\\\"))


def without_controls(text: str) -> str:
    """`text` with every control character (see the module's doc) replaced by a space."""
    return _CONTROL.sub(" ", text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# OWASP, "CSV Injection": a cell starting with one of these is a formula in Excel,
# LibreOffice or Google Sheets (tab and carriage return start one in some of them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-[0-9]+(\.[0-9]+)?")


def spreadsheet_cell(value: str) -> str:
    """A cell that a spreadsheet shows as text, never runs.

    A value starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
    leading apostrophe (``'=HYPERLINK(...)``), which spreadsheets show as text. One
    exception keeps amounts usable: a plain negative decimal number (``-12.50``: a minus,
    digits, at most one point and digits after it, nothing else) stays as it is; it is a
    number to every spreadsheet, never a formula. ``-1+2``, ``-2e3``, ``- 5`` or ``-12,50``
    are not plain numbers and get the apostrophe.
    """
    if not value.startswith(FORMULA_STARTS):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value
