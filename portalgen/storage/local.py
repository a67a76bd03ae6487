"""LocalStorage: the objects are files below one folder, the embedded default.

Every write goes to a temporary file in the target's folder, is flushed to disk and
then renamed (`os.replace`) or hard-linked (`os.link`, which fails if the name exists)
into place, so a reader never sees a partial file. Temporary and lock files have names
starting with a dot, which no key may have, so listings never show them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal, overload

from portalgen.errors import StorageError
from portalgen.storage.base import (
    InvalidKeyError,
    ObjectInfo,
    validate_folder,
    validate_key,
    validate_prefix,
)

if sys.platform != "win32":
    import fcntl

LOCK_TIMEOUT = 30.0  # seconds to wait for another writer's compare-and-swap
LOCK_POLL = 0.005  # seconds between two tries to take a lock another writer holds
_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0)
# Opening the file itself without following a symbolic link (where the system can):
# the folders above are checked with lstat, the file by the open, one call fewer a read.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_SYMLINK_ERRORS = {errno.ELOOP, errno.EMLINK}  # O_NOFOLLOW on a link: Linux/macOS, FreeBSD


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))
        self.location = self.root.as_uri()
        self._real_root = os.path.realpath(self.root)
        self._root = str(self.root)  # string paths on the read path: no pathlib per request
        self._prefix = os.path.join(self._root, "")  # with its trailing separator

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- reading ----------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        try:
            fd = self._open(key)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise self._error("read", key, exc) from exc
        try:
            return _read_all(fd)
        except IsADirectoryError:  # a folder opens, but does not read
            return None
        except OSError as exc:
            raise self._error("read", key, exc) from exc
        finally:
            os.close(fd)

    def get_with_version(self, key: str) -> tuple[bytes, str] | None:
        data = self.get(key)
        return None if data is None else (data, _version(data))

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            st = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._error("read", key, exc) from exc
        if not _is_file(st.st_mode):
            return None
        return ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def open_stream(self, key: str) -> BinaryIO | None:
        try:
            fd = self._open(key)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise self._error("read", key, exc) from exc
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        return open(fd, "rb")  # the caller closes the stream

    def presigned_url(
        self,
        key: str,
        filename: str,
        content_type: str,
        expires: int = 60,
        disposition: Literal["attachment", "inline"] = "attachment",
    ) -> str | None:
        self._path(key)  # a bad key is refused here too
        return None  # a folder has no URLs: the gate streams with open_stream

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        folder, _, _ = prefix.rpartition("/")
        if folder:
            parts = folder.split("/")
            start = self._join(folder)
            plain = self._plain(parts, missing=True)
            if plain is None:  # the folder does not exist: nothing to list
                return
            if not plain:
                self._check_inside(folder, start)
        else:
            start = self._root
        base = f"{folder}/" if folder else ""
        for info in self._walk(start, base):
            if info.key.startswith(prefix):
                yield info

    def list_folders(self, prefix: str = "") -> Iterator[str]:
        validate_folder(prefix)
        folder = self._path(prefix.removesuffix("/")) if prefix else self.root
        try:
            with os.scandir(folder) as it:
                names = [
                    e.name
                    for e in it
                    if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)
                ]
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise self._error("list", prefix or "/", exc) from exc
        yield from sorted(names)

    # -- writing ----------------------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            tmp = self._write_temp(path, data)
            try:
                os.replace(tmp, path)
            except BaseException:
                _unlink(tmp)
                raise
            _fsync_dir(path.parent)
        except OSError as exc:
            raise self._error("write", key, exc) from exc

    def put_if_absent(self, key: str, data: bytes, content_type: str) -> bool:
        path = self._path(key)
        try:
            tmp = self._write_temp(path, data)
            try:
                os.link(tmp, path)  # atomic, and fails if the name exists
            except FileExistsError:
                return False
            finally:
                _unlink(tmp)
            _fsync_dir(path.parent)
            return True
        except OSError as exc:
            raise self._error("write", key, exc) from exc

    def put_if_version(self, key: str, data: bytes, content_type: str, version: str) -> bool:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _swap_lock(path):
                current = self.get(key)
                if current is None or _version(current) != version:
                    return False
                self.put(key, data, content_type)
                return True
        except OSError as exc:
            raise self._error("write", key, exc) from exc

    def append_if_version(
        self, key: str, data: bytes, version: str, *, flush: bool = True
    ) -> str | None:
        """`Appendable`'s append: under the compare-and-swap lock, one write at the end
        of the file and, if `flush`, one fdatasync (the file and its name are on disk
        already)."""
        path = self._native(key)  # a string: pathlib costs more than the append
        try:
            with _swap_lock(path):
                current = self.get(key)
                if current is None:
                    return None
                digest = hashlib.sha256(current)
                if digest.hexdigest() != version:
                    return None
                _append(path, data, len(current), flush)
                digest.update(data)
                return digest.hexdigest()
        except OSError as exc:
            raise self._error("write", key, exc) from exc

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise self._error("delete", key, exc) from exc
        self._prune(path.parent)

    def delete_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.delete(key)

    # -- internals --------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        """The file of a key; never outside the root, even through a symlink."""
        return Path(self._native(key))

    def _native(self, key: str) -> str:
        """`_path` as a string (the read path keeps to strings: pathlib costs)."""
        validate_key(key)
        parts = key.split("/")
        path = self._join(key)
        if self._plain(parts):  # no symbolic link below the root: inside it (the common case)
            return path
        self._check_inside(key, path)
        return path

    def _join(self, key: str) -> str:
        """The path of a valid key (no empty, dot or backslash segments)."""
        return self._prefix + (key if os.sep == "/" else key.replace("/", os.sep))

    def _check_inside(self, key: str, path: str) -> None:
        if not os.path.realpath(path).startswith(self._real_root + os.sep):
            raise InvalidKeyError(f"invalid storage key {key!r}: leads outside {self.root}")

    def _open(self, key: str) -> int:
        """A file descriptor of the key's file, for reading, with `_path`'s guarantee:
        the folders above are lstat'ed, the file is opened without following a link;
        if it is one, it is opened only when it leads inside the root."""
        validate_key(key)
        parts = key.split("/")
        path = self._join(key)
        if _NOFOLLOW and self._plain(parts[:-1]):
            try:
                return os.open(path, _READ | _NOFOLLOW)
            except OSError as exc:
                if exc.errno not in _SYMLINK_ERRORS:
                    raise
        elif not _NOFOLLOW and self._plain(parts):
            return os.open(path, _READ)
        self._check_inside(key, path)  # a symbolic link on the way
        return os.open(path, _READ)

    @overload
    def _plain(self, parts: Sequence[str]) -> bool: ...
    @overload
    def _plain(self, parts: Sequence[str], *, missing: Literal[True]) -> bool | None: ...

    def _plain(self, parts: Sequence[str], *, missing: bool = False) -> bool | None:
        """Whether no segment of the key is a symbolic link (a few lstat calls, where
        os.path.realpath would also walk every folder above the root, on every read).
        With `missing`, None when a segment does not exist (a listing is then empty)."""
        current = self._root
        for part in parts:
            current = f"{current}{os.sep}{part}"
            try:
                mode = os.lstat(current).st_mode
            except (FileNotFoundError, NotADirectoryError):
                # nothing further exists: nothing can lead elsewhere
                return None if missing else True
            except OSError:
                return False
            if stat.S_ISLNK(mode):
                return False
        return True

    def _write_temp(self, path: Path, data: bytes) -> Path:
        """A flushed, fsynced temporary file next to `path` holding `data`."""
        for attempt in range(3):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileNotFoundError:
                if attempt == 2:  # a concurrent delete keeps removing the emptied folder
                    raise
                continue
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            except BaseException:
                _unlink(tmp)
                raise
            return tmp
        raise AssertionError("unreachable")

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty by a delete, up to (not including) the root."""
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _walk(self, folder: str, base: str) -> Iterator[ObjectInfo]:
        """Files below `folder` in key order (a folder sorts as its name plus '/')."""
        try:
            with os.scandir(folder) as it:
                entries = [e for e in it if not e.name.startswith(".")]
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise self._error("list", base or "/", exc) from exc
        keyed = [(e.name + "/" if e.is_dir(follow_symlinks=False) else e.name, e) for e in entries]
        for name, entry in sorted(keyed, key=lambda pair: pair[0]):
            if name.endswith("/"):
                yield from self._walk(entry.path, base + name)
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # deleted while we listed
                continue
            if _is_file(st.st_mode):
                yield ObjectInfo(base + name, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def _error(self, action: str, key: str, exc: OSError) -> StorageError:
        reason = exc.strerror or str(exc)
        return StorageError(f"cannot {action} {self.root / key}: {reason}")


def _read_all(fd: int) -> bytes:
    """Everything left in an open file: one read for a small one, then the read that
    says it ended (what `Path.read_bytes` does, without its fstat and ioctl calls)."""
    chunks = []
    size = 64 * 1024
    while chunk := os.read(fd, size):
        chunks.append(chunk)
        size = min(size * 2, 16 * 1024 * 1024)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


@contextlib.contextmanager
def _swap_lock(path: str | Path) -> Iterator[None]:
    """The lock file beside `path` that every compare-and-swap of it holds: flock(2) on
    it, as the filelock package takes it (so either can wait for the other), without that
    package's bookkeeping, which cost more than the write (a night takes it twice a
    message). Where there is no flock, the filelock package."""
    folder, name = os.path.split(path)
    lock = os.path.join(folder, f".{name}.lock")
    if sys.platform == "win32":
        with _portable_lock(Path(lock), Path(path)):
            yield
        return
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise _held(path) from None
                time.sleep(LOCK_POLL)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def _portable_lock(lock: Path, path: Path) -> Iterator[None]:
    from filelock import FileLock, Timeout

    try:
        with FileLock(lock, timeout=LOCK_TIMEOUT):
            yield
    except Timeout:
        raise _held(path) from None


def _held(path: str | Path) -> StorageError:
    return StorageError(f"{path}: another process has held its lock for {LOCK_TIMEOUT:.0f} s")


def _version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_file(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _append(path: str, data: bytes, size: int, flush: bool) -> None:
    """`data` at the end of the file of `size` bytes (on disk, if `flush`); if it cannot
    be, the file is cut back to `size` (a write the disk failed to flush must not count)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0))
    try:
        if os.write(fd, data) != len(data):  # a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        if flush:
            _fdatasync(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise
    finally:
        os.close(fd)


def _fdatasync(fd: int) -> None:
    """The file's data (and its length) on disk; fsync where there is no fdatasync."""
    getattr(os, "fdatasync", os.fsync)(fd)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
