"""Putting one customer's new portal into storage: blobs, then the manifest, then garbage.

Order, and why each step is safe to interrupt:
1. Upload the blobs storage does not hold yet (listed once per changed customer, so a
   rerun after a crash does not send again what had already landed).
2. Check the customer still has access (a `revoke` may have run meanwhile).
3. Write the manifest — the commit point — as a compare-and-swap against the manifest
   read at the start: two publishes of the same customer at once cannot undo each other.
4. Delete blobs whose grace period is over (docs/publish.md, "Garbage"):
   - `retired` blobs: used by an earlier manifest, unused since the time recorded in the
     manifest's `retired` map; kept there for `publish.gc_grace` so a download that began
     before the swap still finds its file;
   - orphans: in the customer's folder, in no manifest and not retired (an upload whose
     run died before its manifest), once their own upload time is older than the grace.
A crash before step 3 leaves the old portal complete; after it, the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from portalgen.access.registry import AccessRegistry
from portalgen.errors import PublishError
from portalgen.publish.cache import RenderCache
from portalgen.publish.manifest import (
    JSON,
    FileEntry,
    Manifest,
    blob_key,
    files_prefix,
    manifest_key,
    portal_prefix,
    utc_stamp,
)
from portalgen.publish.markers import Marker, clear_markers
from portalgen.storage import Storage
from portalgen.verification import Issued, Issuer, record_published, withdraw, withdraw_replaced

PDF = "application/pdf"


def utc_now() -> datetime:
    return datetime.now(UTC)


class AccessLost(PublishError):
    """The customer's access was revoked while their portal was being published."""


@dataclass(frozen=True)
class StoredPortal:
    """A customer's portal as found in storage at the start of their publish."""

    manifest: Manifest | None
    version: str | None  # for the compare-and-swap; None if there is no manifest
    blobs: Mapping[str, datetime] = field(default_factory=dict)  # sha -> uploaded at

    def known(self) -> dict[str, tuple[str, int]]:
        """Render key -> (sha, size) of the files storage holds (blob present)."""
        if self.manifest is None:
            return {}
        return {
            f.key: (f.sha256, f.size)
            for f in self.manifest.files.values()
            if f.key and f.sha256 in self.blobs
        }


def read_manifest(storage: Storage, customer_key: str) -> tuple[Manifest | None, str | None]:
    """The current manifest and its version; a damaged one counts as none (but keeps its
    version, so the new manifest replaces it)."""
    found = storage.get_with_version(manifest_key(customer_key))
    if found is None:
        return None, None
    try:
        return Manifest.from_json(found[0]), found[1]
    except (ValueError, KeyError, TypeError):
        return None, found[1]


def list_blobs(storage: Storage, customer_key: str) -> dict[str, datetime]:
    prefix = files_prefix(customer_key)
    return {info.key[len(prefix) :]: info.last_modified for info in storage.list(prefix)}


@dataclass
class CommitResult:
    uploaded: int = 0
    bytes: int = 0
    deleted: int = 0
    written: bool = False


@dataclass
class PortalWriter:
    storage: Storage
    cache: RenderCache
    registry: AccessRegistry
    uploads: Executor
    grace: timedelta
    dry_run: bool = False
    clock: Callable[[], datetime] = field(default=lambda: utc_now())
    # who issues the PDFs, for the verification index (None: no index is kept)
    issuer: Issuer | None = None

    def commit(
        self,
        customer_key: str,
        stored: StoredPortal,
        new: Manifest,
        stamp: str = "",
        markers: Sequence[Marker] = (),
        issued: Mapping[str, Issued] | None = None,
    ) -> CommitResult:
        """Make `new` (files, inputs, language) the customer's portal; see the module doc.

        `stamp` is the customer's registry-entry stamp as listed at the start of the run
        and `markers` their markers then (publish.markers): the marker written afterwards
        vouches for the new portal. `issued` says what each document PDF is (path ->
        Issued): the new ones are entered in the verification index before the manifest
        is written, those no longer published are withdrawn after it."""
        now = self.clock()
        needed = new.blobs()
        retired, expired = self._retired(stored, needed, now)
        orphans = {
            sha
            for sha, uploaded in stored.blobs.items()
            if sha not in needed and sha not in retired and uploaded <= now - self.grace
        } - expired
        new = replace(new, retired=retired, published_at=utc_stamp(now))
        missing = sorted(needed - stored.blobs.keys())
        garbage = sorted(expired | orphans)
        old = stored.manifest
        if old is not None and not missing and not garbage and _same(old, new):
            self.mark(customer_key, new, stamp, markers)
            return CommitResult()
        result = CommitResult(uploaded=len(missing), deleted=len(garbage), written=True)
        if self.dry_run:
            result.bytes = sum(f.size for f in _by_sha(new).values() if f.sha256 in missing)
            return result
        result.bytes = self._upload(customer_key, missing, _by_sha(new))
        self._check_access(customer_key)
        before = _pdfs(old)
        if self.issuer is not None and issued:
            published = {path: (new.files[path].sha256, doc) for path, doc in issued.items()}
            record_published(self.storage, before, published, self.issuer, now)
        clear_markers(self.storage, customer_key)  # before the manifest: never a wrong one
        self._write_manifest(customer_key, stored, new)
        self._check_access(customer_key, written=True)
        self.mark(customer_key, new, stamp)
        if self.issuer is not None:
            withdraw_replaced(self.storage, before, _pdfs(new), now)
        self.storage.delete_many(blob_key(customer_key, sha) for sha in garbage)
        return result

    def mark(
        self, customer_key: str, manifest: Manifest, stamp: str, markers: Sequence[Marker] = ()
    ) -> None:
        """Leave the marker vouching for `manifest` (unless it is already the only one)."""
        if self.dry_run or not stamp:
            return
        due = [_parse_time(at, self.clock()) + self.grace for at in manifest.retired.values()]
        gc_after = int(min(due).timestamp()) + 1 if due else 0
        marker = Marker(customer_key, manifest.inputs, stamp, gc_after, len(manifest.files))
        if [m.key for m in markers] == [marker.key]:
            return
        if markers:
            clear_markers(self.storage, customer_key)
        self.storage.put(marker.key, b"", "text/plain")

    def remove(self, customer_key: str) -> int:
        """Delete a customer's whole portal, manifest first; how many objects went."""
        keys = [info.key for info in self.storage.list(portal_prefix(customer_key))]
        if self.dry_run:
            return len(keys)
        if self.issuer is not None:  # no longer published: the retention period starts
            stored, _ = read_manifest(self.storage, customer_key)
            withdraw(self.storage, _pdfs(stored).values(), self.clock())
        manifest = manifest_key(customer_key)
        clear_markers(self.storage, customer_key)
        self.storage.delete(manifest)
        self.storage.delete_many(k for k in keys if k != manifest)
        return len(keys)

    # -- steps ------------------------------------------------------------------------------

    def _retired(
        self, stored: StoredPortal, needed: set[str], now: datetime
    ) -> tuple[dict[str, str], set[str]]:
        """The blobs kept for the grace period (sha -> since), and those past it."""
        old = stored.manifest
        if old is None:
            return {}, set()
        since = {sha: at for sha, at in old.retired.items()}
        for sha in old.blobs():
            since.setdefault(sha, utc_stamp(now))
        retired: dict[str, str] = {}
        expired: set[str] = set()
        for sha, at in since.items():
            if sha in needed or sha not in stored.blobs:
                continue
            if _parse_time(at, now) <= now - self.grace:
                expired.add(sha)
            else:
                retired[sha] = at
        return retired, expired

    def _upload(self, customer_key: str, missing: list[str], files: dict[str, FileEntry]) -> int:
        futures: list[Future[int]] = [
            self.uploads.submit(self._upload_one, customer_key, files[sha]) for sha in missing
        ]
        wait(futures)
        return sum(f.result() for f in futures)  # raises the first failure

    def _upload_one(self, customer_key: str, entry: FileEntry) -> int:
        cached = self.cache.get(entry.key) if entry.key else None
        if cached is None or cached.sha256 != entry.sha256:
            raise PublishError(
                f"the render cache lost a file while publishing ({entry.key[:12]}…); publish again"
            )
        self.storage.put(blob_key(customer_key, entry.sha256), cached.data, entry.content_type)
        return cached.size

    def _check_access(self, customer_key: str, written: bool = False) -> None:
        entry = self.registry.load(customer_key)
        if entry is not None and entry.enabled:
            return
        self.remove(customer_key)  # revoked meanwhile: leave nothing behind
        state = "after" if written else "before"
        raise AccessLost(
            f"portal access was revoked while publishing ({state} the new portal was "
            "written); nothing of it is left in storage"
        )

    def _write_manifest(self, customer_key: str, stored: StoredPortal, new: Manifest) -> None:
        key = manifest_key(customer_key)
        data = new.to_json()
        if stored.version is None:
            done = self.storage.put_if_absent(key, data, JSON)
        else:
            done = self.storage.put_if_version(key, data, JSON, stored.version)
        if not done:
            raise PublishError(
                "another publish changed this portal at the same time; publish again"
            )


def _pdfs(manifest: Manifest | None) -> dict[str, str]:
    """Path -> SHA-256 of the manifest's PDFs (the files the verification index knows)."""
    if manifest is None:
        return {}
    return {p: f.sha256 for p, f in manifest.files.items() if f.content_type == PDF}


def _by_sha(manifest: Manifest) -> dict[str, FileEntry]:
    return {f.sha256: f for f in manifest.files.values()}


def _same(old: Manifest, new: Manifest) -> bool:
    return (old.files, old.inputs, old.language, dict(old.retired)) == (
        new.files,
        new.inputs,
        new.language,
        dict(new.retired),
    )


def _parse_time(value: str, default: datetime) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return default  # unreadable: start the grace period now
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
