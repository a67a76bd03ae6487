"""Markers: what each published portal was made from, readable in one listing.

A nightly run over thousands of unchanged customers must not read thousands of manifests
and registry entries (on S3, each read is a request). So after committing a customer's
portal, publishing leaves an empty object whose *name* says what the portal is:

    _publish/current/<customer_key>/<inputs>.<entry stamp>.<gc after>.<files>

- `inputs`: the fingerprint the manifest was made from (publish.inputs);
- `entry stamp`: the size, modification time and (on S3) ETag of the customer's registry
  entry as listed when the customer was found enabled: any later change to the entry (a revoke,
  a new contact, a wrong access code) changes the stamp;
- `gc after`: when the manifest's first retired blob is due for deletion (0: none);
- `files`: how many files the portal has (for the report).

One listing of ``_publish/current/`` then tells, for every customer, whether the portal
is already what this run would publish. A marker is trusted only if it is the customer's
only one, its stamp matches the registry entry listed now, the portal's folder is listed,
and it is less than a few days old (`Marker.fresh`); otherwise publishing reads the
manifest, lists the blobs and reads the entry as usual, and writes a new marker. Every publish
deletes a customer's markers *before* writing their manifest and writes the new one
after, so a crash in between leaves no marker (never a wrong one).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portalgen.storage import ObjectInfo, Storage

MARKERS_PREFIX = "_publish/current/"
REFRESH = timedelta(days=7)
_NAME = re.compile(r"([0-9a-f]{64})\.([0-9a-f]{16})\.(\d{1,12})\.(\d{1,9})")
_ENTRY = re.compile(r"_access/([0-9a-f]{32})\.json")


def markers_prefix(customer_key: str) -> str:
    return f"{MARKERS_PREFIX}{customer_key}/"


@dataclass(frozen=True)
class Marker:
    customer_key: str
    inputs: str
    stamp: str
    gc_after: int  # UTC epoch seconds; 0 when nothing is waiting to be deleted
    files: int
    written: datetime | None = field(default=None, compare=False)  # from the listing

    def fresh(self, now: datetime) -> bool:
        """Young enough to stand in for the manifest. Every few days (3.5 to 7, spread
        over customers) the manifest and blobs are checked again instead, so a portal
        damaged by hand outside portalgen is repaired within a week."""
        if self.written is None:
            return False
        spread = int(self.customer_key[:8], 16) / 0xFFFFFFFF
        return now - self.written < REFRESH * (0.5 + spread / 2)

    @property
    def key(self) -> str:
        name = f"{self.inputs}.{self.stamp}.{self.gc_after}.{self.files}"
        return f"{markers_prefix(self.customer_key)}{name}"


def list_markers(storage: Storage) -> dict[str, list[Marker]]:
    """customer_key -> its markers (normally one), in one listing for everyone."""
    found: dict[str, list[Marker]] = defaultdict(list)
    for info in storage.list(MARKERS_PREFIX):
        marker = parse_marker(info.key)
        if marker is not None:
            found[marker.customer_key].append(replace(marker, written=info.last_modified))
    return dict(found)


def parse_marker(key: str) -> Marker | None:
    rest = key.removeprefix(MARKERS_PREFIX)
    customer_key, _, name = rest.partition("/")
    match = _NAME.fullmatch(name)
    if not match or not re.fullmatch(r"[0-9a-f]{32}", customer_key):
        return None
    inputs, stamp, gc_after, files = match.groups()
    return Marker(customer_key, inputs, stamp, int(gc_after), int(files))


def entry_stamp(info: ObjectInfo) -> str:
    """A registry entry's version as a listing shows it (no read of the entry)."""
    # S3 lists whole seconds: a revoke and a grant within one second keep size and time,
    # not the ETag (the content's hash)
    text = f"{info.size}:{info.last_modified.isoformat()}:{info.etag}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def entry_stamps(listing: Iterable[ObjectInfo]) -> dict[str, str]:
    """customer_key -> stamp, for the registry entries in a listing of ``_access/``."""
    stamps = {}
    for info in listing:
        match = _ENTRY.fullmatch(info.key)
        if match:
            stamps[match.group(1)] = entry_stamp(info)
    return stamps


def trusted(markers: list[Marker] | None, stamp: str | None, has_portal: bool) -> Marker | None:
    """The customer's marker if it can stand in for reading their manifest and entry."""
    if not markers or len(markers) != 1 or stamp is None or not has_portal:
        return None
    return markers[0] if markers[0].stamp == stamp else None


def clear_markers(storage: Storage, customer_key: str) -> None:
    """Delete every marker of the customer (before their manifest changes or goes)."""
    storage.delete_many([info.key for info in storage.list(markers_prefix(customer_key))])
