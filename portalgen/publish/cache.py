"""The render cache: bytes already rendered, by render key, on the local disk.

``<publish.cache_dir>/renders/<key[:2]>/<key>`` holds one rendered file: a header line
``pgr1 <sha256> <size>`` and the bytes. Every read checks the bytes against the header's
SHA-256 and size; a file that does not match (a crash mid-write, a damaged disk, a hand
edit) is deleted and treated as missing, so the next step renders it again. A cache is
never trusted, only used: deleting the whole folder is always safe (it costs renders).

Writes go to a temporary file in the same folder and are renamed into place, so readers
in other processes see a whole entry or none. Entries are not fsynced: a torn entry fails
its check. Entries unused for `KEEP` are pruned (at most once a day).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from portalgen.errors import PublishError

MAGIC = b"pgr1"
KEEP = 14 * 24 * 3600  # seconds an entry may stay unused before it is pruned
PRUNE_EVERY = 24 * 3600
_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Cached:
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


class RenderCache:
    def __init__(self, cache_dir: Path) -> None:
        self.root = Path(cache_dir) / "renders"

    def path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a render key: {key!r}")
        return self.root / key[:2] / key

    def get(self, key: str) -> Cached | None:
        """The bytes rendered for `key`, checked; None if missing or damaged."""
        path = self.path(key)
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError:
            return None  # unreadable: render again (and the write will say what is wrong)
        found = _parse(raw)
        if found is None:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # in use: not pruned
        return found

    def put(self, key: str, data: bytes) -> Cached:
        sha = hashlib.sha256(data).hexdigest()
        path = self.path(key)
        header = MAGIC + f" {sha} {len(data)}\n".encode()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.parent / f".{key}.{secrets.token_hex(4)}.tmp"
            try:
                with tmp.open("wb") as fh:
                    fh.write(header)
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise PublishError(
                f"cannot write the render cache in {self.root}: {exc.strerror or exc} "
                "(check publish.cache_dir)"
            ) from exc
        return Cached(data, sha)

    def prune(self, now: float | None = None) -> int:
        """Delete entries unused for KEEP and stray temporary files; at most once a day."""
        now = time.time() if now is None else now
        stamp = self.root / ".pruned"
        try:
            if now - stamp.stat().st_mtime < PRUNE_EVERY:
                return 0
        except FileNotFoundError:
            pass
        except OSError:
            return 0
        removed = 0
        for folder in _subfolders(self.root):
            removed += _prune_folder(folder, now)
        with contextlib.suppress(OSError):
            self.root.mkdir(parents=True, exist_ok=True)
            stamp.touch()
            os.utime(stamp, (now, now))
        return removed


def _parse(raw: bytes) -> Cached | None:
    head, newline, data = raw.partition(b"\n")
    parts = head.split(b" ")
    if not newline or len(parts) != 3 or parts[0] != MAGIC:
        return None
    try:
        sha, size = parts[1].decode("ascii"), int(parts[2])
    except (UnicodeDecodeError, ValueError):
        return None
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha:
        return None
    return Cached(data, sha)


def _subfolders(root: Path) -> list[Path]:
    try:
        return [Path(e.path) for e in os.scandir(root) if e.is_dir() and len(e.name) == 2]
    except OSError:
        return []


def _prune_folder(folder: Path, now: float) -> int:
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            stale = now - entry.stat().st_mtime > (KEEP if _KEY.fullmatch(entry.name) else 3600)
            if stale:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed
