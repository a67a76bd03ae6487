"""The `_live/...` fragments of a customer's published portal: the pieces the gate puts
into a page at request time (a decided quote's banner, a payment received), as the
renderer wrote them in the customer's language. Cached by content (their SHA-256)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import Visit


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
