"""The storage protocol, its key rules and the helpers both backends share.

A storage holds objects under '/'-separated keys below one root: a folder
(`LocalStorage`) or a bucket and prefix (`S3Storage`). Keys are checked before any
backend touches them: a key that could climb out of the root, or that the two backends
would read differently, is refused with `InvalidKeyError`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable
from urllib.parse import quote

from portalgen.errors import StorageError

MAX_KEY_BYTES = 1024  # S3's limit, applied to both backends so they accept the same keys
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidKeyError(StorageError):
    """A storage key was refused (traversal, absolute path, backslash, empty segment...)."""


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a safe storage key, else raise InvalidKeyError.

    A key is one or more '/'-separated segments. Refused: an empty key, a leading or
    trailing '/', empty segments ('a//b'), '.' and '..' and any segment starting with a
    dot (the local backend keeps its temporary and lock files under such names),
    backslashes, control characters and keys longer than 1024 bytes in UTF-8.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKeyError(f"invalid storage key {key!r}: empty")
    if "\\" in key:
        raise InvalidKeyError(f"invalid storage key {key!r}: backslash")
    if _CONTROL.search(key):
        raise InvalidKeyError(f"invalid storage key {key!r}: control character")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKeyError(f"invalid storage key {key[:60]!r}...: longer than 1024 bytes")
    for segment in key.split("/"):
        if not segment:
            raise InvalidKeyError(f"invalid storage key {key!r}: empty segment or absolute path")
        if segment.startswith("."):
            raise InvalidKeyError(f"invalid storage key {key!r}: segment {segment!r}")
    return key


def validate_folder(prefix: str) -> str:
    """A folder prefix for `list_folders`: '' (the root) or a prefix ending in '/'."""
    if prefix and not prefix.endswith("/"):
        raise InvalidKeyError(f"invalid folder {prefix!r}: a folder ends in '/'")
    return validate_prefix(prefix)


def validate_prefix(prefix: str) -> str:
    """A listing prefix: '' (everything) or the start of a key, possibly ending in '/'."""
    if prefix:
        validate_key(prefix.removesuffix("/"))
    return prefix


@dataclass(frozen=True)
class ObjectInfo:
    key: str  # relative to the storage root
    size: int  # bytes
    last_modified: datetime  # timezone-aware, UTC
    etag: str = ""  # S3: changes with the content (listings give whole seconds only)


class ByteStream(Protocol):
    """What `open_stream` returns: a binary file object to read in chunks, then close."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@runtime_checkable
class Appendable(Protocol):
    """A storage that can add bytes to the end of an object in place: a local folder.

    An append is one write and one flush to disk (fdatasync): no new file, no rename,
    no folder to flush, where `put_if_version` costs two flushes. S3 has no appends."""

    def append_if_version(
        self, key: str, data: bytes, version: str, *, flush: bool = True
    ) -> str | None:
        """Add `data` at the end of the object if it is still at `version` (flushed to
        disk before this returns, unless not `flush`); its new version, or None (nothing
        written). Unflushed, a crash of the machine may lose it, never what was before."""


@runtime_checkable
class Storage(Protocol):
    """The operations publishing, the registry and the gate need. Keys: see validate_key."""

    location: str  # file:///abs/path or s3://bucket/prefix, for messages

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is no such object."""

    def get_with_version(self, key: str) -> tuple[bytes, str] | None:
        """The bytes and an opaque version for `put_if_version`, or None if absent."""

    def stat(self, key: str) -> ObjectInfo | None:
        """Size and modification time without reading the object, or None if absent."""

    def exists(self, key: str) -> bool: ...

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Create or replace, atomically: readers see the old object or the new one."""

    def put_if_absent(self, key: str, data: bytes, content_type: str) -> bool:
        """Create only if there is no such object; False (nothing written) if there is."""

    def put_if_version(self, key: str, data: bytes, content_type: str, version: str) -> bool:
        """Replace only if the object is still at `version` (compare-and-swap); else False."""

    def delete(self, key: str) -> None:
        """Delete; deleting an absent object is not an error."""

    def delete_many(self, keys: Iterable[str]) -> None: ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix` (a string prefix, like S3's).

        Keys come in UTF-8 byte order from a folder and from AWS S3; some S3-compatible
        servers (SeaweedFS) list a folder 'a/b/' before a sibling 'a/b-c'. Names within
        one folder are in order everywhere; sort if you need a strict global order."""

    def list_folders(self, prefix: str = "") -> Iterator[str]:
        """The names of the folders directly below `prefix` ('' or ending in '/'):
        ``list_folders("portals/")`` → each customer_key with a portal. One request per
        1000 names on S3 (a delimiter listing), however many objects they hold. Some
        S3-compatible servers (SeaweedFS) still name a folder whose objects were all
        deleted; it lists no objects."""

    def open_stream(self, key: str) -> ByteStream | None:
        """A stream of the object's bytes (for serving large files), or None if absent."""

    def presigned_url(
        self,
        key: str,
        filename: str,
        content_type: str,
        expires: int = 60,
        disposition: Literal["attachment", "inline"] = "attachment",
    ) -> str | None:
        """A short-lived URL that serves the object, or None when the backend has none
        (a local folder: stream it with `open_stream` instead)."""


def content_disposition(
    filename: str, disposition: Literal["attachment", "inline"] = "attachment"
) -> str:
    """A Content-Disposition value per RFC 6266, with RFC 5987 `filename*` for non-ASCII.

    ``factura ñ.pdf`` →
    ``attachment; filename="factura n.pdf"; filename*=UTF-8''factura%20%C3%B1.pdf``
    """
    name = filename.replace("/", "_").replace("\\", "_")
    name = _CONTROL.sub("", name) or "download"
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = fallback.replace('"', "'") or "download"
    value = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value
