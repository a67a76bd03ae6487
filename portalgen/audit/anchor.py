"""Where audit.jsonl ends, kept outside it: a checkpoint in storage, MACed with the secret.

The hash chain alone catches a changed, deleted or moved line, but not a cut end (the
last lines removed), an emptied file, nor a rewrite with freshly computed hashes: each
of these is a valid chain. The checkpoint ``_audit/checkpoint.json`` holds the number of
lines, the byte size and the last line's hash, MACed with a key derived from the signing
secret; every append (the gate's, a pull's, a staff command's) advances it under the
log's lock, after the lines are on disk. `AuditLog.verify` then checks the file against
it: fewer lines, or another hash at the anchored line, is reported.

- No checkpoint yet (a log written before this existed): the first append or verify
  anchors the log as it is and records where anchoring started (`since_line`, `since`),
  which verify always tells, so a checkpoint deleted later shows as a recent start.
- Lines after the checkpoint (a writer stopped between writing them and anchoring them,
  or someone appended them): verify reports them; the next append anchors them and
  notes it in `late`, which verify reports too.
- A checkpoint that does not verify is never replaced by an append: verify reports it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from portalgen.errors import PortalgenError

if TYPE_CHECKING:
    from portalgen.storage import Storage

CHECKPOINT_KEY = "_audit/checkpoint.json"
LATE_KEPT = 20  # the latest late anchorings the checkpoint remembers

SecretSource = Callable[[], Sequence[str]]


class CheckpointError(PortalgenError):
    """The checkpoint exists but cannot be trusted (changed, or its secret was dropped)."""


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose (``audit-checkpoint``, ``audit-event``), derived from a
    signing secret, so no two uses share a key."""
    return hmac.new(secret.encode(), f"portalgen {purpose}".encode(), hashlib.sha256).digest()


def mac(secret: str, purpose: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(derive_key(secret, purpose), canonical.encode(), hashlib.sha256).hexdigest()


def mac_matches(secrets: Sequence[str], purpose: str, body: Any, claimed: object) -> bool:
    """Whether `claimed` is the MAC of `body` under any of the active secrets."""
    if not isinstance(claimed, str):
        return False
    return any(hmac.compare_digest(mac(s, purpose, body), claimed) for s in secrets)


@dataclass(frozen=True)
class Checkpoint:
    lines: int  # complete lines anchored
    size: int  # bytes of the file up to the end of the last anchored line
    head: str  # the last anchored line's hash (the GENESIS zeros for an empty log)
    since_line: int  # how many lines the log had when anchoring started
    since: str  # when anchoring started (UTC, ISO 8601)
    late: tuple[tuple[int, int, str], ...] = ()  # (first line, last line, when) anchored late

    def advanced(self, lines: int, size: int, head: str) -> Checkpoint:
        return replace(self, lines=lines, size=size, head=head)

    def with_late(self, first: int, last: int, when: str) -> Checkpoint:
        return replace(self, late=(*self.late, (first, last, when))[-LATE_KEPT:])


class Anchor:
    """Reads and writes the checkpoint in `storage`, MACed with the newest secret and
    accepted under any active one (a rotation does not break it)."""

    def __init__(self, storage: Storage, secrets: Sequence[str] | SecretSource) -> None:
        self.storage = storage
        self._secrets: SecretSource = secrets if callable(secrets) else lambda: tuple(secrets)

    @property
    def secrets(self) -> Sequence[str]:
        return self._secrets()

    def read(self) -> Checkpoint | None:
        """The checkpoint; None if there is none. CheckpointError if it does not verify."""
        raw = self.storage.get(CHECKPOINT_KEY)
        if raw is None:
            return None
        try:
            body = json.loads(raw)
            claimed = body.pop("mac")
            checkpoint = _from_body(body)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CheckpointError(f"{CHECKPOINT_KEY} in storage is damaged") from None
        if not mac_matches(self.secrets, "audit-checkpoint", body, claimed):
            raise CheckpointError(
                f"{CHECKPOINT_KEY} in storage does not verify with the active secret(s): "
                "it was changed, or signed with a secret since dropped"
            )
        return checkpoint

    def write(self, checkpoint: Checkpoint) -> None:
        body = _to_body(checkpoint)
        body["mac"] = mac(self.secrets[-1], "audit-checkpoint", body)
        data = json.dumps(body, sort_keys=True).encode()
        self.storage.put(CHECKPOINT_KEY, data, "application/json")


def _to_body(checkpoint: Checkpoint) -> dict[str, Any]:
    body = asdict(checkpoint)
    body["late"] = [list(item) for item in checkpoint.late]
    body["version"] = 1
    return body


def _from_body(body: dict[str, Any]) -> Checkpoint:
    late = tuple((int(a), int(b), str(c)) for a, b, c in body.get("late", ()))
    return Checkpoint(
        lines=int(body["lines"]),
        size=int(body["size"]),
        head=str(body["head"]),
        since_line=int(body["since_line"]),
        since=str(body["since"]),
        late=late,
    )


def now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
