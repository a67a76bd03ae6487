"""A customer's published portal: manifest.json → content-addressed blobs.

``portals/<customer_key>/manifest.json`` maps every portal path to the SHA-256, size and
content type of its bytes, stored once under ``portals/<customer_key>/files/<sha256>``.
The manifest is written last: it is the commit point, so a reader (the gate) sees the
old portal or the new one, never a mix. This module is light on purpose: the gate
imports it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portalgen.storage import Storage

MANIFEST_VERSION = 1


def portal_prefix(customer_key: str) -> str:
    return f"portals/{customer_key}/"


def manifest_key(customer_key: str) -> str:
    return f"portals/{customer_key}/manifest.json"


def blob_key(customer_key: str, sha256: str) -> str:
    return f"portals/{customer_key}/files/{sha256}"


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Manifest:
    files: Mapping[str, FileEntry] = field(default_factory=dict)
    language: str = "es"  # the customer's portal language, for the gate's own pages
    published_at: str = ""  # UTC ISO 8601

    def get(self, path: str) -> FileEntry | None:
        return self.files.get(path)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": MANIFEST_VERSION,
                "language": self.language,
                "published_at": self.published_at,
                "files": {
                    path: {"sha256": f.sha256, "size": f.size, "content_type": f.content_type}
                    for path, f in sorted(self.files.items())
                },
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data: dict[str, Any] = json.loads(raw)
        if data.get("version") != MANIFEST_VERSION:
            raise ValueError(f"unsupported manifest version {data.get('version')!r}")
        files = {
            str(path): FileEntry(str(f["sha256"]), int(f["size"]), str(f["content_type"]))
            for path, f in data["files"].items()
        }
        return cls(files, str(data.get("language", "es")), str(data.get("published_at", "")))


def load_manifest(storage: Storage, customer_key: str) -> Manifest | None:
    raw = storage.get(manifest_key(customer_key))
    return Manifest.from_json(raw) if raw is not None else None


def write_portal(
    storage: Storage,
    customer_key: str,
    files: Iterable[tuple[str, bytes, str]],
    *,
    language: str = "es",
    now: datetime | None = None,
) -> Manifest:
    """Upload `files` (path, bytes, content type) as the customer's whole new portal.

    Blobs first (those the current manifest already has are not sent again), then the
    manifest. A crash before the manifest leaves the old portal in place.
    """
    previous = load_manifest(storage, customer_key)
    present = {f.sha256 for f in previous.files.values()} if previous else set()
    entries: dict[str, FileEntry] = {}
    for path, data, content_type in files:
        sha = hashlib.sha256(data).hexdigest()
        if sha not in present:
            storage.put(blob_key(customer_key, sha), data, content_type)
            present.add(sha)
        entries[path] = FileEntry(sha, len(data), content_type)
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    manifest = Manifest(entries, language, stamp)
    storage.put(manifest_key(customer_key), manifest.to_json(), "application/json")
    return manifest
