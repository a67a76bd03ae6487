"""`portalgen build`: render every customer's portal into a folder, for inspection."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from portalgen.domain.model import Export
from portalgen.errors import RenderError
from portalgen.render.context import RenderContext
from portalgen.render.portal import plan_portal


@dataclass(frozen=True)
class BuiltPortal:
    code: str
    files: int
    pdfs: int
    bytes: int


def safe_join(root: Path, portal_path: str) -> Path:
    """`root/portal_path`, refusing absolute paths and `..` (a shared file's name is data)."""
    parts = portal_path.split("/")
    if portal_path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise RenderError(f"refusing to write outside the portal folder: {portal_path!r}")
    return root.joinpath(*parts)


def write_file(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def build_site(
    export: Export, context: RenderContext, out: Path, only: Sequence[str] = ()
) -> Iterator[BuiltPortal]:
    """Write ``out/<customer code>/...`` for each customer (or those in `only`)."""
    customers = export.by_customer()
    unknown = [code for code in only if code not in customers]
    if unknown:
        raise RenderError(f"no customer with code {', '.join(map(repr, unknown))} in the export")
    for code, data in customers.items():
        if only and code not in only:
            continue
        root = out / code
        total = pdfs = 0
        planned = plan_portal(data, context)
        for item in planned:
            content = item.render()
            write_file(safe_join(root, item.path), content)
            total += len(content)
            pdfs += item.content_type == "application/pdf"
        yield BuiltPortal(code, len(planned), pdfs, total)
