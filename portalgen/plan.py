"""The contract between rendering and publishing: what a portal consists of, before rendering.

The renderer plans a customer's portal as a list of PlannedFile: each knows its portal
path, its content type and a `key` — a SHA-256 over everything that affects its bytes
(the data it shows, the customer, the settings and theme, the templates, portalgen's
version, and the date if the content depends on it). Publishing looks the key up in the
render cache and calls `render()` only on a miss. `render()` is pure and returns bytes.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from portalgen.verification import Issued


@functools.lru_cache(maxsize=65536)
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered while its size and modification time stay the same."""
    stat = path.stat()
    return _file_sha256(path, stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class PlannedFile:
    path: str  # portal path, relative, with forward slashes: "invoices/F2026A-00001.pdf"
    content_type: str
    key: str  # hex SHA-256 of every input of render()
    render: Callable[[], bytes]
    # A document PDF: what it is, for the verification index (portalgen.verification)
    issued: Issued | None = None


def fingerprint(*parts: Any) -> str:
    """A stable SHA-256 of plain data (dataclasses, Decimal, dates, paths, bytes...)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            digest.update(b"b" + hashlib.sha256(part).digest())
        else:
            digest.update(json.dumps(part, default=_plain, sort_keys=True).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        # A file's content is what matters (an original PDF replaced under the same name).
        return {"path": value.name, "sha256": file_sha256(value) if value.is_file() else None}
    if isinstance(value, (Decimal, date)):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        # `origin` (file and row) says where data came from, not what it is: moving a row
        # in the CSV must not re-render anything.
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        fields.pop("origin", None)
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot fingerprint {type(value).__name__}")
