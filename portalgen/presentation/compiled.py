"""Compiled templates kept between runs: Jinja's bytecode cache, in memory and on disk.

Every process compiled its templates from source: the nightly email run its digest's
five before the first message (about 45 ms), each publish worker the portal's pages and
PDFs (about 0.45 s, and again for each language). `CompiledTemplates` is the bytecode
cache the environments of one kind share in a process (every language's compiles a
template once: its code does not depend on the language, whose catalog, formats and
globals are looked up as it runs) and, given a folder, keeps the code on disk for the
next process, which then compiles nothing.

The folder is ``<publish.cache_dir>/templates/<flavour>-<fingerprint>/``. The flavour
names the kind of environment ("email", "portal"): their options differ (autoescape by
name, keep_trailing_newline) and compiled code depends on them, so two kinds never
share a folder. The fingerprint stamps Jinja's version, Python's and portalgen's code
(where those options are written): when any changes a new folder starts and the older
ones of the flavour are removed. Inside it Jinja names a template's file by the
template's name and path, and stores the checksum of the source the code was compiled
from: an edited template (a theme's override) is compiled again, never run stale.

The cache is used, never trusted: a file that is missing, unreadable, truncated or not
Jinja's is a miss (compiled and written again), and a folder that cannot be written
leaves the run with the memory cache. Marshalled code runs when it is loaded, so the
folder must be the staff's own, the same trust as the load cache's pickles: it is made
mode 0700 with files 0600, and one that other users could write to is never read.
Deleting it is always safe.

Jinja also folds a filter of constants into the code it compiles (``{{ 1048576|filesize }}``
becomes its text). portalgen's filters format for one language and configuration, while
the code is shared by every language and kept between runs: `at_run_time` makes them
filters Jinja only calls while rendering.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
from jinja2 import BytecodeCache, pass_context
from jinja2.bccache import Bucket
from jinja2.runtime import Context

from portalgen.codestamp import code_version

SUFFIX = ".code"


def fingerprint() -> str:
    """What compiled code depends on besides the template: Jinja, Python, portalgen."""
    stamp = (jinja2.__version__, sys.version_info[:2], code_version())
    return hashlib.sha256(repr(stamp).encode()).hexdigest()[:16]


def templates_folder(cache_dir: Path, flavour: str) -> Path:
    return Path(cache_dir) / "templates" / f"{flavour}-{fingerprint()}"


class CompiledTemplates(BytecodeCache):
    """Compiled templates for environments built alike (one flavour): in memory, and in
    `folder` when given."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder  # None: memory only (also once the disk has failed)
        self._code: dict[str, tuple[str, CodeType]] = {}
        self._ready = False  # the folder exists and is private: files may be read

    @classmethod
    def in_cache(cls, cache_dir: Path, flavour: str) -> CompiledTemplates:
        return cls(templates_folder(cache_dir, flavour))

    def load_bytecode(self, bucket: Bucket) -> None:
        checksum, code = self._code.get(bucket.key, ("", None))
        if code is not None and checksum == bucket.checksum:
            bucket.code = code
            return
        folder = self._readable()
        if folder is None:
            return
        try:
            with open(folder / f"{bucket.key}{SUFFIX}", "rb") as fh:
                bucket.load_bytecode(fh)  # checks Jinja's magic and the source's checksum
        except Exception:  # missing, unreadable, truncated (pickle's EOF), foreign
            bucket.reset()
        if bucket.code is not None:
            self._code[bucket.key] = (bucket.checksum, bucket.code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is None:
            return
        self._code[bucket.key] = (bucket.checksum, bucket.code)
        folder = self._writable()
        if folder is None:
            return
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")  # 0600
            try:
                with os.fdopen(fd, "wb") as fh:
                    bucket.write_bytecode(fh)
                os.replace(tmp, folder / f"{bucket.key}{SUFFIX}")
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            self.folder = None  # a read-only or full disk: this run keeps to memory

    def _readable(self) -> Path | None:
        """The folder, if it exists and only this user can write into it."""
        if self.folder is None or self._ready:
            return self.folder
        try:
            info = os.stat(self.folder)
        except OSError:
            return None  # not made yet (or the path is unusable): the first write says
        if not _private(info):
            self.folder = None
            return None
        self._ready = True
        return self.folder

    def _writable(self) -> Path | None:
        """The folder, made (and the flavour's older folders removed) if it is new."""
        folder = self._readable()
        if folder is not None or self.folder is None:
            return folder  # there already, or the disk is not used
        folder = self.folder
        try:
            folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            folder.mkdir(mode=0o700)
            _remove_older(folder)
        except FileExistsError:
            pass  # another process made it a moment ago (checked below all the same)
        except OSError:
            self.folder = None
            return None
        if self._readable() is None:
            self.folder = None  # not a folder, or not ours alone: never written to
        return self.folder


def at_run_time(filters: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """`filters` (plain functions of the value) as ones Jinja never calls while compiling:
    it does not fold a filter that takes the render's context."""
    return {name: _at_run_time(func) for name, func in filters.items()}


def _at_run_time(func: Callable[..., Any]) -> Callable[..., Any]:
    @pass_context
    def call(context: Context, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return call


def _private(info: os.stat_result) -> bool:
    """A folder of this user's that no one else can write into (the code in it runs)."""
    owner = os.getuid() if hasattr(os, "getuid") else info.st_uid
    writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return stat.S_ISDIR(info.st_mode) and info.st_uid == owner and not writable


def _remove_older(folder: Path) -> None:
    """The flavour's folders of other fingerprints (an upgrade's leftovers)."""
    flavour = folder.name.rpartition("-")[0]
    with contextlib.suppress(OSError):
        for other in folder.parent.iterdir():
            if other.name != folder.name and other.name.rpartition("-")[0] == flavour:
                shutil.rmtree(other, ignore_errors=True)
