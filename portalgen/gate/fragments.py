"""The `_live/...` files of a customer's published portal: the fragments the gate puts
into a page at request time (a decided quote's banner, a payment received), as the
renderer wrote them in the customer's language, and the indexes it reads (quotes,
payable invoices). Cached by content (their SHA-256)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import Visit
    from portalgen.publish.manifest import Manifest

log = logging.getLogger("portalgen.gate")
T = TypeVar("T")


def fragment(gate: Gate, visit: Visit, path: str) -> str | None:
    """A `_live/...` fragment of the customer's published portal (cached by content)."""
    from portalgen.publish.manifest import blob_key

    manifest = gate.manifest(visit)
    entry = manifest.get(path) if manifest else None
    if entry is None:
        return None
    fragments = gate.caches.fragments
    cached = fragments.get(entry.sha256)
    if cached is None:
        raw = gate.storage.get(blob_key(visit.customer_key, entry.sha256))
        if raw is None:
            return None
        cached = raw.decode("utf-8")
        fragments.put(entry.sha256, cached)
    return cached


def published_index(
    gate: Gate,
    visit: Visit,
    manifest: Manifest,
    path: str,
    parse: Callable[[bytes], dict[str, T]],
) -> dict[str, T]:
    """A `_live/*.json` index of the customer's published portal (quotes, invoices),
    parsed once per content; {} when absent, and when damaged (logged)."""
    from portalgen.publish.manifest import blob_key

    entry = manifest.get(path)
    if entry is None:
        return {}
    key = (path, entry.sha256)
    found: dict[str, T] | None = gate.caches.indexes.get(key)
    if found is None:
        raw = gate.storage.get(blob_key(visit.customer_key, entry.sha256))
        try:
            found = parse(raw) if raw is not None else {}
        except ValueError:
            log.error("gate: %s of %s is damaged", path, visit.customer)
            found = {}
        gate.caches.indexes.put(key, found)
    return found
