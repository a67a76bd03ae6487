"""Where portals, the access registry, decisions and events are kept.

One small protocol (`Storage`) and two backends chosen by the storage URL's scheme:
``file:///abs/path`` → `LocalStorage`, ``s3://bucket/prefix`` → `S3Storage`. The layout
of keys is the same in both (docs/storage.md). Importing this package does not import
boto3; only opening an S3 storage does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from portalgen.errors import StorageError
from portalgen.storage.base import (
    Appendable,
    ByteStream,
    InvalidKeyError,
    ObjectInfo,
    Storage,
    content_disposition,
    validate_key,
    validate_prefix,
)
from portalgen.storage.local import LocalStorage
from portalgen.storage.s3 import S3Storage, make_s3_client, parse_s3_url

if TYPE_CHECKING:
    from portalgen.config import Settings

__all__ = [
    "Appendable",
    "ByteStream",
    "InvalidKeyError",
    "LocalStorage",
    "ObjectInfo",
    "S3Storage",
    "Storage",
    "StorageError",
    "content_disposition",
    "make_s3_client",
    "open_storage",
    "opened_once",
    "parse_s3_url",
    "validate_key",
    "validate_prefix",
]


def opened_once(source: Storage | Callable[[], Storage]) -> Callable[[], Storage]:
    """`source` itself, or what the factory `source` opens on first use (then kept): the
    gate's mail hooks take either, and open storage only when they first need it."""
    if not callable(source):
        return lambda: source
    opened: list[Storage] = []

    def store() -> Storage:
        if not opened:
            opened.append(source())
        return opened[0]

    return store


def open_storage(settings: Settings) -> Storage:
    """The storage the settings point at (``storage.url`` and the other storage keys)."""
    location = settings.storage_location()
    scheme = urlsplit(location).scheme
    if scheme == "file":
        return LocalStorage(_file_url_path(location))
    if scheme == "s3":
        return S3Storage.from_settings(settings)
    raise StorageError(f"unsupported storage location {location!r}: use a folder or s3://")


def _file_url_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise StorageError(f"unsupported storage location {url!r}: a file:// URL of this machine")
    if os.name == "nt":  # file:///C:/... ; urllib.request is slow to import, so only here
        from urllib.request import url2pathname

        return Path(url2pathname(parts.path))
    return Path(unquote(parts.path))
