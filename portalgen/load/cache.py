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

An entry holds a small part first (formats, warnings, the files the export points at
outside its sources) and then the export, pickled a chunk at a time (load/cache_stream.py:
one pickle of the whole export held about as much memory again as the export while it was
written or read). A hit reads only the small part: the export is given back *deferred*,
read when first used (a night with nothing to publish does not use it: publishing keeps
its own fingerprints of each customer's records, keyed by the key here,
`LoadResult.fingerprint`).

The cache is used, never trusted: an entry that cannot be read, whose bytes do not match
the checksums in its header, that does not unpickle, or whose chunks do not add up to a
whole export is deleted and the export loaded again (for the export itself, when it is
first used). Deleting the folder is always safe. Entries are pickles, so the folder is
the staff's own (mode 0700, files 0600), like the rest of the cache.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import pickle
import stat
import sys
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from portalgen.codestamp import code_version
from portalgen.domain.model import Export
from portalgen.load.cache_stream import read_export, write_export
from portalgen.load.result import LoadResult

if TYPE_CHECKING:
    from portalgen.config import Settings
    from portalgen.load.options import LoadOptions

MAGIC = b"pgl3"
NOT_READ = (".pdf",)  # suffixes no reader opens (see the module's doc)


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
        found = self._get(entry, key, paths, read)
        if found is not None:
            return found
        return self._read(entry, key, paths, read)

    def key(self, paths: Sequence[Path], options: LoadOptions, format: str | None) -> str:
        skip = {os.path.abspath(p) for p in self.skip} | {os.path.realpath(p) for p in self.skip}
        digest = hashlib.sha256()
        head = (MAGIC, sys.version_info[:2], format, dataclasses.astuple(options))
        digest.update(repr(head).encode())
        for path in paths:
            root = os.path.abspath(path)
            digest.update(repr(("source", root)).encode())
            for part in _walk(root, skip):
                digest.update(part)
        return digest.hexdigest()

    def _read(
        self, entry: Path, key: str, paths: Sequence[Path], read: Callable[[], LoadResult]
    ) -> LoadResult:
        result = read()  # raises InputError for a broken export: nothing is kept
        self._put(entry, key, result, paths)
        return LoadResult(
            result.export,
            result.formats,
            result.detected,
            result.warnings,
            fingerprint=key,
            sources=result.sources,
            skipped=self.skip,
        )

    # -- the entry file -----------------------------------------------------------------------
    # One line `pgl3 <version> <key> <meta size> <meta sha256> <export sha256>`, then the
    # meta (a small pickle: formats, warnings, files outside the sources), then the export
    # (a stream of pickled chunks, load/cache_stream.py).

    def _get(
        self, entry: Path, key: str, paths: Sequence[Path], read: Callable[[], LoadResult]
    ) -> LoadResult | None:
        """The entry's result, its export deferred (read and checked when first used)."""
        try:
            header, meta = self._head(entry, key)
            if header is None:
                return None  # another state of the export: replaced after loading
            formats, detected, warnings, outside = meta
        except FileNotFoundError:
            return None
        except Exception:  # unreadable, damaged, or from another version: never trusted
            _discard(entry)
            return None
        if not all(os.path.exists(p) for p in outside):
            return None  # a PDF taken out of an e-invoice is gone: read the export again

        def deferred() -> tuple[Export, bool]:
            export = self._export(entry, key)
            if export is not None:
                return export, True
            _discard(entry)
            return self._read(entry, key, paths, read).export, False

        sources = tuple(Path(p) for p in paths)
        return LoadResult(
            deferred,
            formats,
            detected,
            warnings,
            cached=True,
            fingerprint=key,
            sources=sources,
            skipped=self.skip,
        )

    def _head(self, entry: Path, key: str) -> tuple[list[bytes] | None, Any]:
        """The entry's header and meta if it is this state of the export (else None)."""
        with entry.open("rb") as fh:
            header = fh.readline().split()
            if len(header) != 6 or header[0] != MAGIC:
                raise ValueError("not a load cache entry")
            if header[1].decode() != self.version:
                raise ValueError("made by another portalgen")  # dropped
            if header[2].decode() != key:
                return None, None
            meta = fh.read(int(header[3]))
        if hashlib.sha256(meta).hexdigest().encode() != header[4]:
            raise ValueError("damaged")
        if not _private(self.folder):
            return None, None  # someone else could have written it: not unpickled
        return header, pickle.loads(meta)  # noqa: S301 (our own, checksummed, private)

    def _export(self, entry: Path, key: str) -> Export | None:
        """The entry's export, if the entry is (still) this state's and intact."""
        try:
            with entry.open("rb") as fh:
                header = fh.readline().split()
                if len(header) != 6 or header[0] != MAGIC or header[2].decode() != key:
                    return None
                if header[1].decode() != self.version or not _private(self.folder):
                    return None
                fh.seek(int(header[3]), os.SEEK_CUR)
                start = fh.tell()  # the export's bytes are checked, then read again to
                # unpickle: never held whole next to the export they make
                if hashlib.file_digest(fh, "sha256").hexdigest().encode() != header[5]:
                    return None
                fh.seek(start)
                return read_export(fh)  # our own, checksummed, private
        except Exception:  # unreadable, damaged, or from another version: never trusted
            return None

    def _put(self, entry: Path, key: str, result: LoadResult, paths: Sequence[Path]) -> None:
        outside = _outside(result.export, paths, self.skip)
        meta = pickle.dumps((result.formats, result.detected, result.warnings, outside))
        head = f"{MAGIC.decode()} {self.version} {key} {len(meta)} "
        head += hashlib.sha256(meta).hexdigest()
        import tempfile  # (not needed by a run that finds its entry)

        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".load-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    # The export is pickled straight into the file a chunk at a time
                    # (load/cache_stream.py), then its checksum fills the header's place.
                    fh.write(f"{head} {'0' * 64}\n".encode())
                    fh.write(meta)
                    out = _Hashing(fh)
                    write_export(result.export, out)
                    fh.seek(0)
                    fh.write(f"{head} {out.digest.hexdigest()}\n".encode())
                os.replace(tmp, entry)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a cache that cannot be written costs the next run a load, nothing else


class _Hashing:
    """A file to pickle into that hashes what is written."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh, self.digest = fh, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.fh.write(data)


def _discard(entry: Path) -> None:
    with contextlib.suppress(OSError):  # (say, the cache folder is a file): loaded all the same
        entry.unlink(missing_ok=True)


def _name(paths: Sequence[Path], format: str | None) -> str:
    sources = [os.path.abspath(p) for p in paths]
    return hashlib.sha256(repr((sources, format)).encode()).hexdigest()[:32]


def _walk(root: str, skip: set[str]) -> Iterable[bytes]:
    """What identifies the state of everything under `root` (or of `root`, a file), a
    folder at a time in a stable order: each entry's name, kind, mode, size, modification
    time, inode and number of links, a link's target (symbolic links are followed once),
    and the SHA-256 of every file a reader reads."""
    if root in skip:
        return
    info = os.stat(root)
    link = os.readlink(root) if os.path.islink(root) else ""
    if not stat.S_ISDIR(info.st_mode):
        yield _state(".", "file", link, info, _content(root, info))
        return
    seen: set[tuple[int, int]] = {(info.st_dev, info.st_ino)}
    yield _state(".", "dir", link, info, "")
    pending = [root]
    while pending:
        folder = pending.pop()
        parts = [os.path.relpath(folder, root).encode()]
        with os.scandir(folder) as found:
            inside = sorted((e for e in found if e.path not in skip), key=lambda e: e.name)
        for item in inside:
            link = os.readlink(item.path) if item.is_symlink() else ""
            info = item.stat()
            if stat.S_ISDIR(info.st_mode):
                loop = (info.st_dev, info.st_ino) in seen
                seen.add((info.st_dev, info.st_ino))
                parts.append(_state(item.name, "loop" if loop else "dir", link, info, ""))
                if not loop:
                    pending.append(item.path)
            else:
                parts.append(_state(item.name, "file", link, info, _content(item.path, info)))
        yield b"\0".join(parts)  # fields hold no NUL, and every entry has as many


def _state(name: str, kind: str, link: str, info: os.stat_result, content: str) -> bytes:
    """One entry's fields (a folder's by its name and entries only: a skipped file
    inside it changes its own size and time)."""
    numbers = (info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino, info.st_nlink)
    shown = ("",) * 5 if kind != "file" else map(str, numbers)
    return "\0".join((name, kind, link, content, *shown)).encode()


def _content(path: str, info: os.stat_result) -> str:
    """The SHA-256 of a file a reader reads ("" for the PDFs no reader opens)."""
    if not stat.S_ISREG(info.st_mode) or path.lower().endswith(NOT_READ):
        return ""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _private(folder: Path) -> bool:
    """Whether only this user can write into the folder (a pickle runs code when read)."""
    info = os.stat(folder)
    owner = os.getuid() if hasattr(os, "getuid") else info.st_uid
    return info.st_uid == owner and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _outside(export: Export, sources: Sequence[Path], skip: Sequence[Path]) -> tuple[str, ...]:
    """The files the export points at outside what the key covers (the PDFs taken out
    of e-invoices, kept in the cache folder): these must still be there for the entry to
    be used."""
    covered = LoadResult(export, (), False, (), sources=tuple(sources), skipped=tuple(skip))
    paths = [str(d.original_pdf) for d in _documents(export) if d.original_pdf is not None]
    paths += [str(d.path) for d in export.documents]
    return tuple(sorted({p for p in paths if not covered.vouched(p)}))


def _documents(export: Any) -> Iterable[Any]:
    yield from export.quotes
    yield from export.orders
    yield from export.delivery_notes
    yield from export.invoices
