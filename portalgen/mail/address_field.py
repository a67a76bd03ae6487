"""The To header written here: each display name as it is, quoted, or RFC 2047 encoded.

The email package's folder is exact but slow for names that are not plain ASCII (1 to
3 ms of CPU for "Jordi Romero Pérez", more than the SMTP exchange of the whole message),
and each of a night's digests has a name of its own. `address_field` writes the header
in a simpler, equally valid way: plain ASCII words as they are (a name with special
characters quoted), and each run of the other words as one UTF-8 encoded word, spaces
included (RFC 2047, section 5 (3)). Two encoded words never stand side by side, where
readers differ (RFC 2047 drops the space between them; Python's email package keeps
it), so every reader decodes exactly the name. `build_message` (message.py) and the
message frames (wire.py) both use it, so a filled frame is still byte for byte what
`build_message` makes. Lines fit the SMTP policy's 78 characters; what does not (a run
of non-ASCII words too long for one encoded word, an address longer than a line) gets
None, and the email package's fold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.headerregistry import Address

LINE = 78  # the SMTP policy's max_line_length
WORD = 75  # the longest encoded word (RFC 2047, section 2)
# atoms (atext, RFC 5322, 3.2.3) one space apart: a phrase that needs no quotes
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ATOMS = re.compile(f"{_ATOM}(?: {_ATOM})*")
_PRINTABLE = re.compile(r"[ -~]+")  # printable ASCII: a quoted string's content
# What an encoded word in a phrase may carry as it is (RFC 2047, section 5 (3))
_AS_IS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_PREFIX, _SUFFIX = "=?utf-8?q?", "?="


def address_field(name: str, addresses: Sequence[Address]) -> str | None:
    """The value of the header `name` holding `addresses`, its lines joined by CRLF and
    a space, each within 78 characters (the first with ``name: ``); None if it cannot."""
    first = LINE - len(name) - 2  # room on the first line after "name: "
    words: list[str] = []
    for n, address in enumerate(addresses):
        mailbox = _mailbox(address, min(first, WORD))
        if mailbox is None:
            return None
        if n < len(addresses) - 1:
            mailbox[-1] += ","
        words += mailbox
    return _fold(words, first) if words else None


def _mailbox(address: Address, longest: int) -> list[str] | None:
    """The words of one mailbox: its display name's, then the address."""
    name, spec = address.display_name, address.addr_spec
    if not name:
        return [spec]
    if _plain(name):
        return [*name.split(" "), f"<{spec}>"]
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if _PRINTABLE.fullmatch(name) and "=?" not in name and len(quoted) <= longest:
        return [quoted, f"<{spec}>"]
    words = _phrase(name, longest)
    return None if words is None else [*words, f"<{spec}>"]


def _plain(text: str) -> bool:
    """Atoms a reader takes as they are (none looks like an encoded word)."""
    return _ATOMS.fullmatch(text) is not None and "=?" not in text


def _phrase(name: str, longest: int) -> list[str] | None:
    """The name's plain words as they are, each run of the others as one encoded word;
    None when a run does not fit in one (or the name has empty words)."""
    tokens = name.split(" ")
    if "" in tokens:
        return None
    words: list[str] = []
    run: list[str] = []
    for token in [*tokens, None]:
        if token is not None and not _plain(token):
            run.append(token)
            continue
        if run:
            words.append(_PREFIX + _q(" ".join(run)) + _SUFFIX)
            run = []
        if token is not None:
            words.append(token)
    return None if any(len(word) > longest for word in words) else words


def _q(text: str) -> str:
    """`text` Q-encoded for an encoded word in a phrase (RFC 2047, 4.2 and 5 (3))."""
    return "".join(
        "_" if b == 32 else chr(b) if b in _AS_IS else f"={b:02X}" for b in text.encode()
    )


def _fold(words: list[str], first: int) -> str | None:
    """The words on lines of at most 78 characters (the first `first`), greedily."""
    lines = [words[0]]
    for word in words[1:]:
        room = first if len(lines) == 1 else LINE
        if len(lines[-1]) + 1 + len(word) <= room:
            lines[-1] += " " + word
        else:
            lines.append(" " + word)
    if len(lines[0]) > first or any(len(line) > LINE for line in lines[1:]):
        return None
    return "\r\n".join(lines)
