"""Which portalgen made something: its version and a stamp of its code.

Caches that keep what portalgen computed (the load cache, publish's fingerprints, the
compiled templates) drop it when this changes: a checkout changes without a release.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_code_version: str | None = None


def code_version() -> str:
    """portalgen's version and a stamp of its code (a checkout changes without a release)."""
    global _code_version
    if _code_version is None:
        from portalgen import __version__

        root = Path(__file__).resolve().parent
        stamps = []
        for directory, _, files in os.walk(root):
            for name in sorted(files):
                if name.endswith(".py"):
                    info = os.stat(os.path.join(directory, name))
                    stamps.append((directory, name, info.st_size, info.st_mtime_ns))
        code = hashlib.sha256(repr(sorted(stamps)).encode()).hexdigest()[:16]
        _code_version = f"{__version__}+{code}"
    return _code_version
