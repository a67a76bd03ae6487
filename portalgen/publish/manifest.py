"""A customer's published portal: manifest.json → content-addressed blobs.

``portals/<customer_key>/manifest.json`` maps every portal path to the SHA-256, size and
content type of its bytes, stored once under ``portals/<customer_key>/files/<sha256>``.
The manifest is written last: it is the commit point, so a reader (the gate) sees the
old portal or the new one, never a mix. This module is light on purpose: the gate
imports it.

Publishing keeps three more things in the manifest, which the gate ignores:
- each file's render `key`, so an unchanged output is recognised without the local
  render cache (a publisher on a fresh machine does not re-render the whole portal);
- `inputs`, the fingerprint of everything the portal was made from, so an unchanged
  customer is recognised without even planning the portal;
- `retired`: blobs the previous manifest used and this one does not, with the time they
  stopped being used; they are deleted once `publish.gc_grace` has passed, so a download
  that started just before the swap still finds its file (docs/publish.md).
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
JSON = "application/json"


def portal_prefix(customer_key: str) -> str:
    return f"portals/{customer_key}/"


def files_prefix(customer_key: str) -> str:
    return f"portals/{customer_key}/files/"


def manifest_key(customer_key: str) -> str:
    return f"portals/{customer_key}/manifest.json"


def blob_key(customer_key: str, sha256: str) -> str:
    return f"portals/{customer_key}/files/{sha256}"


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int
    content_type: str
    key: str = ""  # the render key the bytes were made from ("" when not known)


@dataclass(frozen=True)
class Manifest:
    files: Mapping[str, FileEntry] = field(default_factory=dict)
    language: str = "es"  # the customer's portal language, for the gate's own pages
    published_at: str = ""  # UTC ISO 8601
    inputs: str = ""  # fingerprint of everything the portal was rendered from
    retired: Mapping[str, str] = field(default_factory=dict)  # sha256 -> unused since (ISO)

    def get(self, path: str) -> FileEntry | None:
        return self.files.get(path)

    def blobs(self) -> set[str]:
        """The SHA-256 of every blob the portal uses."""
        return {f.sha256 for f in self.files.values()}

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": MANIFEST_VERSION,
                "language": self.language,
                "published_at": self.published_at,
                "inputs": self.inputs,
                "files": {path: _entry_json(f) for path, f in sorted(self.files.items())},
                "retired": dict(sorted(self.retired.items())),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = _document(raw)
        files = {
            str(path): FileEntry(
                str(f["sha256"]), int(f["size"]), str(f["content_type"]), str(f.get("key", ""))
            )
            for path, f in data["files"].items()
        }
        retired = {str(sha): str(since) for sha, since in data.get("retired", {}).items()}
        return cls(
            files,
            str(data.get("language", "es")),
            str(data.get("published_at", "")),
            str(data.get("inputs", "")),
            retired,
        )


def _entry_json(entry: FileEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sha256": entry.sha256,
        "size": entry.size,
        "content_type": entry.content_type,
    }
    if entry.key:
        out["key"] = entry.key
    return out


def load_manifest(storage: Storage, customer_key: str) -> Manifest | None:
    raw = storage.get(manifest_key(customer_key))
    return Manifest.from_json(raw) if raw is not None else None


def published_paths(storage: Storage, customer_key: str) -> set[str] | None:
    """The paths of the customer's published portal (`load_manifest(...).files`' keys,
    without an entry built per file: what the nightly digests read of it), or None."""
    raw = storage.get(manifest_key(customer_key))
    return set(_document(raw)["files"]) if raw is not None else None


def _document(raw: bytes) -> dict[str, Any]:
    """A manifest's JSON, of this version and listing its files (ValueError if not)."""
    data: dict[str, Any] = json.loads(raw)
    version = data.get("version") if isinstance(data, dict) else None
    if version != MANIFEST_VERSION:
        raise ValueError(f"unsupported manifest version {version!r}")
    if not isinstance(data.get("files"), dict):
        raise ValueError("no files listed")
    return data


def utc_stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


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
    manifest. A crash before the manifest leaves the old portal in place. A small helper
    for tests and tools; `portalgen publish` goes through portalgen.publish.commit, which
    also collects the blobs no longer used.
    """
    previous = load_manifest(storage, customer_key)
    present = previous.blobs() if previous else set()
    entries: dict[str, FileEntry] = {}
    for path, data, content_type in files:
        sha = hashlib.sha256(data).hexdigest()
        if sha not in present:
            storage.put(blob_key(customer_key, sha), data, content_type)
            present.add(sha)
        entries[path] = FileEntry(sha, len(data), content_type)
    manifest = Manifest(entries, language, utc_stamp(now))
    from portalgen.publish.markers import clear_markers

    clear_markers(storage, customer_key)  # they vouched for the old manifest
    storage.put(manifest_key(customer_key), manifest.to_json(), JSON)
    return manifest
