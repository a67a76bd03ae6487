"""What a gate process keeps in memory between requests, in one place, with the rule for
when each part is dropped. None of it says who may see what: access is checked against
the registry on every request, and every cached value is either keyed by the exact bytes
it was computed from or short-lived.

| region           | key → value                          | dropped when                      |
|------------------|--------------------------------------|-----------------------------------|
| `manifests`      | customer key → (expiry, manifest)    | MANIFEST_TTL passes; the customer |
|                  |                                      | decides or comments (`forget`)    |
| `sessions`       | session cookie → verified session    | the secrets change                |
| `csrf`           | session id → its CSRF token          | the secrets change                |
| `entries`        | registry entry bytes → parsed entry  | never stale (keyed by the bytes)  |
| `cookie_headers` | Cookie header → session cookie value | never stale (a pure parse)        |
| `fragments`      | page hash → its comment fragments    | never stale (keyed by content)    |
| `blobs`          | content-addressed key → file, page   | never stale (keyed by content)    |
| `client_hashes`  | client address → its keyed hash      | the secrets change                |
| `indexes`        | (index path, hash) → parsed index    | never stale (keyed by content)    |

Each region is bounded: when full it starts over, the cheapest eviction there is (a miss
costs one recomputation, never a wrong answer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from portalgen.gate.memory import BlobCache

if TYPE_CHECKING:
    from portalgen.access.entry import RegistryEntry
    from portalgen.gate.security import SessionData
    from portalgen.publish.manifest import Manifest

CACHE_SIZE = 4096
FRAGMENTS_SIZE = 256
MANIFEST_TTL = 5.0  # seconds a process keeps a customer's parsed manifest

K = TypeVar("K")
V = TypeVar("V")


class Region(dict[K, V]):
    """A bounded map (a dict, so lookups cost what a dict's do)."""

    def __init__(self, limit: int = CACHE_SIZE) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: K, value: V) -> None:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value


@dataclass
class GateCaches:
    manifests: Region[str, tuple[float, Manifest | None]] = field(default_factory=Region)
    sessions: Region[str, SessionData] = field(default_factory=Region)
    csrf: Region[str, str] = field(default_factory=Region)
    entries: Region[bytes, RegistryEntry] = field(default_factory=Region)
    cookie_headers: Region[str, str | None] = field(default_factory=Region)
    fragments: Region[str, str] = field(default_factory=lambda: Region(FRAGMENTS_SIZE))
    blobs: BlobCache = field(default_factory=BlobCache)
    client_hashes: Region[str, str] = field(default_factory=Region)
    indexes: Region[tuple[str, str], Any] = field(default_factory=lambda: Region(1024))

    def secrets_changed(self) -> None:
        """The signing secrets changed: what was verified or derived with them goes."""
        self.sessions.clear()
        self.csrf.clear()
        self.client_hashes.clear()

    def forget(self, customer_key: str) -> None:
        """The customer acted (a decision, a comment): read their manifest afresh."""
        self.manifests.pop(customer_key, None)
