"""Proofs posted straight to S3 that nobody took: ``_uploads/<customer_key>/incoming/``.

The gate deletes what a browser reports (``done``), accepted or refused. What stays in
``incoming/`` is what it never took: an upload whose report never came (the page was
closed, the ticket expired), a report refused before the object was read (the invoice
was paid meanwhile, too many actions), or a gate that stopped between keeping a proof
and deleting what came in (the proof is under ``files/`` or ``quarantine/`` then, with
its record). None of these can still become a proof once its ticket is too old to
report (presign.TICKET_MAX_AGE), so `sweep_incoming` deletes them after MAX_AGE, well
beyond that: an upload in progress is never removed, whatever the clocks of the gate
and the staff's machine say within that margin.

An upload's age is read from its id, a ULID the gate made when it signed the presigned
POST (its policy fixes the key, so the browser cannot choose it), on the gate's clock;
a name that is no ULID falls back to the object's own time in storage. Nothing outside
``incoming/`` is touched: accepted and quarantined proofs and their records stay.

`publish` runs the sweep at most once a day (`sweep_due`): the listing covers every
upload, which a quiet publish every few minutes should not pay for each time.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ulid import ULID

from portalgen.uploads.presign import TICKET_MAX_AGE
from portalgen.uploads.records import UPLOADS_PREFIX

if TYPE_CHECKING:
    from portalgen.storage import ObjectInfo, Storage

log = logging.getLogger("portalgen.uploads")
MAX_AGE = 24 * TICKET_MAX_AGE  # seconds after the presigned POST: a day
SWEEP_EVERY = 24 * 3600  # seconds between two sweeps by `publish` (per cache folder)
STAMP = ".uploads-swept"  # in publish.cache_dir: when publish last swept


@dataclass(frozen=True)
class Sweep:
    removed: tuple[str, ...]  # the keys deleted
    kept: int  # objects in incoming/ younger than MAX_AGE (perhaps being reported)


def is_incoming(key: str) -> bool:
    """``_uploads/<customer_key>/incoming/<id>``, and nothing else."""
    parts = key.removeprefix(UPLOADS_PREFIX).split("/")
    return key.startswith(UPLOADS_PREFIX) and len(parts) == 3 and parts[1] == "incoming"


def posted_at(info: ObjectInfo) -> float:
    """When the upload began (epoch seconds): its ULID's time, else the object's."""
    try:
        return ULID.from_str(info.key.rsplit("/", 1)[-1]).timestamp
    except ValueError:
        return info.last_modified.timestamp()


def sweep_incoming(storage: Storage, now: float, max_age: float = MAX_AGE) -> Sweep:
    """Delete the objects in any customer's ``incoming/`` posted more than `max_age`
    seconds before `now`; each is logged."""
    old: list[ObjectInfo] = []
    kept = 0
    for info in storage.list(UPLOADS_PREFIX):
        if not is_incoming(info.key):
            continue
        if now - posted_at(info) > max_age:
            old.append(info)
        else:
            kept += 1
    storage.delete_many(info.key for info in old)
    for info in old:
        hours = (now - posted_at(info)) / 3600
        log.info("uploads: removed %s, posted %.0f h ago and never taken", info.key, hours)
    return Sweep(tuple(info.key for info in old), kept)


def sweep_due(folder: Path, now: float) -> bool:
    """Whether `publish` should sweep: no sweep from this cache folder in SWEEP_EVERY."""
    try:
        return not 0 <= now - (folder / STAMP).stat().st_mtime < SWEEP_EVERY
    except FileNotFoundError:
        return True
    except OSError:
        return False


def mark_swept(folder: Path, now: float) -> None:
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / STAMP).touch()
        os.utime(folder / STAMP, (now, now))
