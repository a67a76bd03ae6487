"""Which files of an export may be published into a customer's portal.

A customer's shared files are those under ``documents/<customer code>/``, and the
invoicing program's original PDFs those under ``pdf/<table>/``. Each folder is checked
on its own; a file is published only when it is that folder's own:

- its real path (every symbolic link resolved) is inside the folder: a link to another
  customer's folder, to elsewhere in the export or to the machine's files is refused;
- it is a regular file (not a device, a pipe or a socket);
- every hard link to it is inside the folder. A hard link is the file itself under a
  second name, so nothing tells the "original" from the copy: ``st_nlink`` (the
  system's count of names) must equal the names found in the folder. Counting is exact
  where "the other name is somewhere in the export" is not (a third name may be
  elsewhere), and it still accepts a folder that links a file twice to itself;
- no part of its name holds a control character (a newline, a tab...): such a name
  cannot be a web address that works, nor be shown on one line.

Each refused file is an error naming it (`refusal` says why); nothing is published then.
The check runs when the export is read: whoever can change the export folder while
`publish` runs is out of scope (docs/security.md).
"""

from __future__ import annotations

import mimetypes
import os
import stat
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from portalgen.domain.model import Origin, SharedDocument
from portalgen.load.problems import ProblemLog
from portalgen.textsafe import control_characters

IGNORED_FILES = {".ds_store", "thumbs.db", "desktop.ini"}

FileId = tuple[int, int]  # (st_dev, st_ino)


class OwnFiles:
    """The files of one folder and the test each must pass (see the module's doc).

    `label` is how messages name the folder (``documents/C00001``)."""

    def __init__(self, folder: Path, label: str, *, recursive: bool = True) -> None:
        self.folder = folder
        self.label = label
        self.root = folder.resolve()
        self._recursive = recursive
        self._names: Counter[FileId] | None = None  # counted when a file has hard links

    def refusal(self, path: Path) -> str | None:
        """Why `path` (inside the folder) may not be published, or None."""
        relative = path.relative_to(self.folder).as_posix()
        bad = control_characters(relative)
        if bad:
            return (
                f"the file name holds control characters ({', '.join(bad)}); "
                "such a name cannot be opened in the portal: rename the file"
            )
        real = path.resolve()
        if not real.is_relative_to(self.root):
            return (
                f"the file is a link to a file outside {self.label}; only the customer's "
                "own files are shared: copy the file into the folder instead"
            )
        info = real.stat()
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file (a device, a pipe or a socket); it is not published"
        if info.st_nlink == 1:
            return None
        if self._names is None:
            self._names = _count_names(self.folder, self._recursive)
        inside = self._names[(info.st_dev, info.st_ino)]
        if info.st_nlink > inside:
            return (
                f"the file has {info.st_nlink} hard links and {info.st_nlink - inside} of "
                f"them are outside {self.label}: it may be another file's content; "
                "copy the file instead of linking it"
            )
        return None


def _count_names(folder: Path, recursive: bool) -> Counter[FileId]:
    """How many names each regular file has in `folder` (symbolic links not followed)."""
    names: Counter[FileId] = Counter()
    for directory, _, files in os.walk(folder) if recursive else [_flat(folder)]:
        for name in files:
            try:
                info = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                names[(info.st_dev, info.st_ino)] += 1
    return names


def _flat(folder: Path) -> tuple[str, list[str], list[str]]:
    try:
        return str(folder), [], os.listdir(folder)
    except OSError:
        return str(folder), [], []


def read_shared_documents(folder: Path, log: ProblemLog) -> Iterator[SharedDocument]:
    """Files under ``documents/<customer code>/``, skipping hidden and system files;
    each customer's files checked against that customer's folder (`OwnFiles`)."""
    if not folder.is_dir():
        return
    for customer_dir in sorted(folder.iterdir()):
        if customer_dir.name.startswith(".") or not customer_dir.is_dir():
            continue
        label = f"documents/{customer_dir.name}"
        if customer_dir.is_symlink():
            log.error(
                Origin(label),
                "",
                "the folder is a link to another folder; a customer's folder must be a real "
                "folder, so that it cannot be another customer's: nothing in it is shared",
            )
            continue
        yield from _customer_files(customer_dir, OwnFiles(customer_dir, label), log)


def _customer_files(folder: Path, own: OwnFiles, log: ProblemLog) -> Iterator[SharedDocument]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.name.lower() in IGNORED_FILES:
            continue
        origin = Origin(f"{own.label}/{relative.as_posix()}")
        if path.is_dir():
            if path.is_symlink():
                log.warning(origin, "", "a link to a folder; the files in it are not shared")
            continue
        if not path.exists():
            log.warning(origin, "", "a link to a file that does not exist; not published")
            continue
        problem = own.refusal(path)
        if problem is not None:
            log.error(origin, "", problem)
            continue
        info = path.stat()
        yield SharedDocument(
            customer_code=folder.name,
            name=relative.as_posix(),
            path=path,
            size=info.st_size,
            modified=datetime.fromtimestamp(info.st_mtime).date(),
            content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            origin=origin,
        )
