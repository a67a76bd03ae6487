"""``_push/`` records: what was pushed, so a crash or a rerun never pushes twice.

One object per thing to push (``_push/decisions/<customer_key>/<slug>.json``,
``_push/comments/<customer_key>/<comment id>.json``, ``_push/payments/<event id>.json``),
always written with compare-and-swap:

1. before the request, the run *claims* it: ``sending`` with its host, process and time,
   created if absent (or swapped over a ``failed`` or abandoned claim at the version
   read). Two machines cannot both claim: one conditional write wins.
2. after the request: ``done`` (or ``failed`` with the error, which the next run takes
   over, or ``skipped`` with the reason), swapped at the claim's version.

A ``sending`` claim is abandoned when its process is gone (same host) or it is older than
`STUCK`; whoever takes it over reads the record back in FacturaScripts first, so a write
that landed before the crash is recognised (its reference is in the notes) and not made
again.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from portalgen.storage import Storage

PUSH_PREFIX = "_push/"
STUCK = timedelta(minutes=10)  # a claim this old was interrupted (requests time out in 30 s)
State = Literal["sending", "done", "failed", "skipped"]
FINAL = ("done", "skipped")


@dataclass(frozen=True)
class PushRecord:
    state: State
    ts: str
    item: str  # what it is, for people: "quote PRE2026A1 (1) accepted"
    host: str = ""
    pid: int = 0
    detail: str = ""  # the error or the reason it was skipped

    def to_json(self) -> bytes:
        body = {"version": 1, **self.__dict__}
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> PushRecord:
        data = json.loads(raw)
        return cls(
            state=data["state"],
            ts=str(data["ts"]),
            item=str(data.get("item", "")),
            host=str(data.get("host", "")),
            pid=int(data.get("pid", 0)),
            detail=str(data.get("detail", "")),
        )

    def abandoned(self, now: datetime) -> bool:
        """A claim whose process died (on this host) or that is older than STUCK."""
        if self.state != "sending":
            return False
        started = datetime.fromisoformat(self.ts)
        if now - started > STUCK:
            return True
        return self.host == socket.gethostname() and not _alive(self.pid)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@dataclass
class Claim:
    """A claimed item: its key and the version to swap at."""

    key: str
    version: str


def record_key(kind: str, *parts: str) -> str:
    return f"{PUSH_PREFIX}{kind}/{'/'.join(parts)}.json"


def read_record(storage: Storage, key: str) -> PushRecord | None:
    raw = storage.get(key)
    return None if raw is None else _parse(raw)


def _parse(raw: bytes) -> PushRecord | None:
    try:
        return PushRecord.from_json(raw)
    except (ValueError, KeyError, TypeError):
        return None


def claim(storage: Storage, key: str, item: str, now: datetime) -> tuple[Claim | None, str]:
    """Claim `key` for this process: (the claim, "") or (None, why not)."""
    mine = _sending(item, now).to_json()
    found = storage.get_with_version(key)
    if found is None:
        if storage.put_if_absent(key, mine, "application/json"):
            return _claimed(storage, key, mine)
        return None, "another push claimed it just now"
    raw, version = found
    record = _parse(raw)
    if record is not None and record.state in FINAL:
        return None, record.state
    if record is not None and record.state == "sending" and not record.abandoned(now):
        return None, f"another push has been sending it since {record.ts} ({record.host})"
    if storage.put_if_version(key, mine, "application/json", version):
        return _claimed(storage, key, mine)
    return None, "another push claimed it just now"


def _claimed(storage: Storage, key: str, mine: bytes) -> tuple[Claim | None, str]:
    found = storage.get_with_version(key)
    if found is None or found[0] != mine:
        return None, "another push claimed it just now"
    return Claim(key, found[1]), ""


def finish(
    storage: Storage, claim_: Claim, state: State, item: str, now: datetime, detail: str = ""
) -> bool:
    """Swap the claim for its outcome; False if someone else took it over meanwhile."""
    record = PushRecord(state, _iso(now), item, socket.gethostname(), os.getpid(), detail)
    return storage.put_if_version(claim_.key, record.to_json(), "application/json", claim_.version)


def _sending(item: str, now: datetime) -> PushRecord:
    return PushRecord("sending", _iso(now), item, socket.gethostname(), os.getpid())


def _iso(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="seconds")
