"""The load cache: an export whose files did not change is not parsed and validated again.

A night with nothing new must cost about a second, and reading and validating a large
export is most of that. So `load_export` can keep what it loaded (only a valid export,
never one with errors) in ``<publish.cache_dir>/loads/``, next to the render cache, and
give it back while the export is the same. *The same* means, for every file and folder
under each source path given (except the ones named in `skip`: the storage folder, the
cache and the audit log (its open file and its folder of closed segments) when they
live inside the export folder):

- its name, kind, size, modification time, inode and number of links (so a new, removed,
  renamed or re-linked file is noticed: readers list folders and check links);
- and for every file the readers read, the SHA-256 of its content: a changed byte is
  noticed even when size and modification time were kept (never the time alone). The
  PDFs are the exception: no reader opens them (they are handed on by path, size and
  date, and the renderer reads them), so their content cannot change what a load gives.

The key also holds the load options (today's date among them), the format asked for,
the Python version and portalgen's version and code: a new portalgen drops the entry.

The cache is used, never trusted: an entry that cannot be read, whose bytes do not match
the checksum in its header, or that does not unpickle is deleted and the export loaded
again. Deleting the folder is always safe. Entries are pickles, so the folder is the
staff's own (mode 0700, files 0600), like the rest of the cache.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import pickle
import stat
import sys
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portalgen.load.result import LoadResult

if TYPE_CHECKING:
    from portalgen.config import Settings
    from portalgen.load.options import LoadOptions

MAGIC = b"pgl1"
NOT_READ = (".pdf",)  # suffixes no reader opens (see the module's doc)
_code_version: str | None = None


def code_version() -> str:
    """portalgen's version and a stamp of its code (a checkout changes without a release)."""
    global _code_version
    if _code_version is None:
        from portalgen import __version__

        root = Path(__file__).resolve().parent.parent
        stamps = []
        for directory, _, files in os.walk(root):
            for name in sorted(files):
                if name.endswith(".py"):
                    info = os.stat(os.path.join(directory, name))
                    stamps.append((directory, name, info.st_size, info.st_mtime_ns))
        code = hashlib.sha256(repr(sorted(stamps)).encode()).hexdigest()[:16]
        _code_version = f"{__version__}+{code}"
    return _code_version


@dataclass(frozen=True)
class LoadCache:
    """Where loaded exports are kept (``<cache_dir>/loads``), and what is not the export."""

    folder: Path
    skip: tuple[Path, ...] = ()  # inside an export folder but not part of the export
    version: str = dataclasses.field(default_factory=code_version)

    @classmethod
    def for_settings(cls, settings: Settings) -> LoadCache:
        """The cache of ``publish.cache_dir``; the storage folder, the cache and the audit
        log are not part of an export folder that holds them (the demo's does)."""
        skip = [settings.publish.cache_dir, settings.audit.path, settings.audit.segments]
        skip.append(settings.audit.path.with_name(settings.audit.path.name + ".lock"))
        location = settings.storage_location()
        if location.startswith("file://"):
            skip.append(Path(urllib.parse.unquote(urllib.parse.urlparse(location).path)))
        return cls(settings.publish.cache_dir / "loads", tuple(skip))

    def load(
        self,
        paths: Sequence[Path],
        options: LoadOptions,
        format: str | None,
        read: Callable[[], LoadResult],
    ) -> LoadResult:
        """The cached result for these files, or `read()`'s (kept for the next time)."""
        try:
            key = self.key(paths, options, format)
        except OSError:  # a file vanished while looking: load it the normal way
            return read()
        entry = self.folder / f"{_name(paths, format)}.pickle"
        found = self._get(entry, key)
        if found is not None and _present(found.export, paths):
            return found
        result = read()  # raises InputError for a broken export: nothing is kept
        self._put(entry, key, result)
        return result

    def key(self, paths: Sequence[Path], options: LoadOptions, format: str | None) -> str:
        skip = {os.path.abspath(p) for p in self.skip} | {os.path.realpath(p) for p in self.skip}
        digest = hashlib.sha256()
        head = (MAGIC, sys.version_info[:2], format, dataclasses.astuple(options))
        digest.update(repr(head).encode())
        for path in paths:
            root = os.path.abspath(path)
            digest.update(repr(("source", root)).encode())
            for entry in _walk(root, skip):
                digest.update(repr(entry).encode())
        return digest.hexdigest()

    # -- the entry file -----------------------------------------------------------------------

    def _get(self, entry: Path, key: str) -> LoadResult | None:
        try:
            with entry.open("rb") as fh:
                header = fh.readline().split()
                if len(header) != 4 or header[0] != MAGIC:
                    raise ValueError("not a load cache entry")
                if header[1].decode() != self.version:
                    raise ValueError("made by another portalgen")  # dropped
                if header[2].decode() != key:
                    return None  # another state of the export: replaced after loading
                payload = fh.read()
            if hashlib.sha256(payload).hexdigest().encode() != header[3]:
                raise ValueError("damaged")
            if not _private(self.folder):
                return None  # someone else could have written it: not unpickled
            result = pickle.loads(payload)  # noqa: S301 (our own, checksummed, private)
        except FileNotFoundError:
            return None
        except Exception:  # unreadable, damaged, or from another version: never trusted
            _discard(entry)
            return None
        if not isinstance(result, LoadResult):
            _discard(entry)
            return None
        return dataclasses.replace(result, cached=True)

    def _put(self, entry: Path, key: str, result: LoadResult) -> None:
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        checksum = hashlib.sha256(payload).hexdigest()
        header = f"{MAGIC.decode()} {self.version} {key} {checksum}\n".encode()
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".load-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(header)
                    fh.write(payload)
                os.replace(tmp, entry)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a cache that cannot be written costs the next run a load, nothing else


def _discard(entry: Path) -> None:
    with contextlib.suppress(OSError):  # (say, the cache folder is a file): loaded all the same
        entry.unlink(missing_ok=True)


def _name(paths: Sequence[Path], format: str | None) -> str:
    sources = [os.path.abspath(p) for p in paths]
    return hashlib.sha256(repr((sources, format)).encode()).hexdigest()[:32]


def _walk(root: str, skip: set[str]) -> Iterable[tuple[Any, ...]]:
    """Every entry under `root` (or `root` itself, a file), in a stable order, with what
    identifies its state; symbolic links followed once (and their target named)."""
    seen: set[tuple[int, int]] = set()
    pending = [root]
    while pending:
        path = pending.pop()
        if path in skip:
            continue
        info = os.stat(path)
        link = os.readlink(path) if os.path.islink(path) else None
        relative = os.path.relpath(path, root)
        if stat.S_ISDIR(info.st_mode):
            if (info.st_dev, info.st_ino) in seen:
                yield (relative, "loop", link)
                continue
            seen.add((info.st_dev, info.st_ino))
            inside = [os.path.join(path, name) for name in sorted(os.listdir(path))]
            inside = [p for p in inside if p not in skip]
            yield (relative, "dir", link, [os.path.basename(p) for p in inside])
            pending.extend(reversed(inside))
            continue
        content = None
        if stat.S_ISREG(info.st_mode) and not path.lower().endswith(NOT_READ):
            with open(path, "rb") as fh:
                content = hashlib.file_digest(fh, "sha256").hexdigest()
        state = (info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino, info.st_nlink)
        yield (relative, "file", link, state, content)


def _private(folder: Path) -> bool:
    """Whether only this user can write into the folder (a pickle runs code when read)."""
    info = os.stat(folder)
    owner = os.getuid() if hasattr(os, "getuid") else info.st_uid
    return info.st_uid == owner and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _present(export: Any, sources: Sequence[Path]) -> bool:
    """Whether the files the export points at outside its sources are still there (the
    PDFs taken out of e-invoices, kept in the cache folder); those inside are in the key."""
    roots = tuple(os.path.join(os.path.abspath(p), "") for p in sources)
    paths = [str(d.original_pdf) for d in _documents(export) if d.original_pdf is not None]
    paths += [str(d.path) for d in export.documents]
    return all(p.startswith(roots) or os.path.exists(p) for p in paths)


def _documents(export: Any) -> Iterable[Any]:
    yield from export.quotes
    yield from export.orders
    yield from export.delivery_notes
    yield from export.invoices
