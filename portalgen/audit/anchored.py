"""The audit log checked against its checkpoint (anchor.py): what `audit verify` runs,
and the anchored log every staff command opens (an append moves the checkpoint: log.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from portalgen.audit.anchor import (
    CHECKPOINT_KEY,
    Anchor,
    Checkpoint,
    CheckpointError,
    now_text,
)
from portalgen.audit.log import GENESIS, AuditLog, ChainBreak, LineEnd
from portalgen.audit.segments import Snapshot

if TYPE_CHECKING:
    from portalgen.config import Settings
    from portalgen.storage import Storage


@dataclass(frozen=True)
class Verdict:
    lines: int  # complete lines checked
    problem: ChainBreak | None
    notes: list[str] = field(default_factory=list)  # what staff should know either way


def verify_anchored(log: AuditLog, now: datetime | None = None) -> Verdict:
    """The chain of the whole file, then the file against the checkpoint (see anchor.py
    for what each outcome means)."""
    anchor = log.anchor
    if anchor is None:
        raise ValueError("this audit log has no anchor")
    with log.lock:  # a moment only: a consistent (checkpoint, files) pair
        snap = log.snapshot()
        try:
            checkpoint, trouble = anchor.read(), ""
        except CheckpointError as error:
            checkpoint, trouble = None, str(error)
    wanted = checkpoint.lines if checkpoint else -1
    last = at_checkpoint = LineEnd(0, 0, GENESIS)
    with snap:
        for end in log.walk(snapshot=snap):
            if isinstance(end, ChainBreak):
                return Verdict(end.line, end)
            last = end
            if end.line == wanted:
                at_checkpoint = end
    if trouble:
        return Verdict(last.line, ChainBreak(0, trouble))
    rebuilt = _summaries_rebuilt(log, snap)
    if checkpoint is None:
        verdict = _first_anchor(log, anchor, last, snap, now)
        return Verdict(verdict.lines, verdict.problem, [*verdict.notes, *rebuilt])
    problem = _against(checkpoint, last, at_checkpoint)
    return Verdict(last.line, problem, [*_notes(checkpoint), *rebuilt])


def _summaries_rebuilt(log: AuditLog, snap: Snapshot) -> list[str]:
    """The closed segments' summaries checked against their lines (rebuilt if wrong);
    the open file's is removed (the next reader builds it from them)."""
    from portalgen.audit.prefix import forget
    from portalgen.audit.summary import rebuild

    forget(log.path)
    return [
        f"{path} did not match its segment's lines (changed by hand?): rebuilt"
        for path in rebuild(snap.closed)
    ]


def _against(checkpoint: Checkpoint, last: LineEnd, at: LineEnd) -> ChainBreak | None:
    anchored = checkpoint.lines
    if last.line < anchored:
        return ChainBreak(
            last.line,
            f"the log ends here, but the checkpoint anchors {anchored} line(s): the last "
            f"{anchored - last.line} line(s) were removed (or the file was emptied or replaced)",
        )
    if (at.line, at.size, at.hash) != (anchored, checkpoint.size, checkpoint.head):
        return ChainBreak(
            anchored,
            "this is not the line the checkpoint anchors: the log was rewritten up to here",
        )
    if last.line > anchored:
        return ChainBreak(
            anchored + 1,
            f"lines {anchored + 1}-{last.line} come after the checkpoint: a writer stopped "
            "before anchoring them, or someone added them; read them (the next append "
            "anchors them, and verify then lists them as anchored late)",
        )
    return None


def _notes(checkpoint: Checkpoint) -> list[str]:
    notes = [f"anchored since line {checkpoint.since_line} ({checkpoint.since})"]
    notes += [
        f"lines {first}-{last} were anchored late ({when}): a writer had stopped before "
        "anchoring them, or someone added them"
        for first, last, when in checkpoint.late
    ]
    return notes


def _first_anchor(
    log: AuditLog, anchor: Anchor, last: LineEnd, snap: Snapshot, now: datetime | None
) -> Verdict:
    """No checkpoint: anchor the log as checked (unless a writer did meanwhile)."""
    if last.line == 0:
        return Verdict(0, None)
    with log.lock:
        try:
            existing = anchor.read()
        except CheckpointError:
            existing = None
        with log.snapshot() as current:
            unchanged = (_names(current), current.size) == (_names(snap), snap.size)
        if existing is None and unchanged and _at_end(log, last, snap):
            anchor.write(
                Checkpoint(
                    last.line, last.size, last.hash, since_line=last.line, since=now_text(now)
                )
            )
    note = (
        f"there was no checkpoint ({CHECKPOINT_KEY} in storage): the {last.line} line(s) "
        "are anchored from now on. This is expected on the first verify after upgrading; "
        "otherwise someone deleted the checkpoint"
    )
    return Verdict(last.line, None, [note])


def _at_end(log: AuditLog, last: LineEnd, snap: Snapshot) -> bool:
    """Whether `last` is the log's last line in `snap` (nothing incomplete after it)."""
    if snap.size:
        return last.segment == log.path and last.size == snap.size
    return bool(snap.closed) and last.segment == snap.closed[-1]


def open_audit_log(settings: Settings, storage: Storage) -> AuditLog:
    """The configured audit.jsonl, anchored in `storage` with the configured secrets:
    what every staff command that writes to the log (or pulls into it) uses."""
    from portalgen.access.secret import load_secrets

    secret_file = settings.secret_file
    return AuditLog(settings.audit.path, Anchor(storage, lambda: load_secrets(secret_file)))


def resign_checkpoint(log: AuditLog, newest: str) -> bool:
    """Sign the checkpoint again with `newest` if it verifies now (`secret drop-old`
    does it before dropping the older secrets); False if there was nothing to re-sign."""
    anchor = log.anchor
    if anchor is None:
        return False
    with log.lock:  # no append moves it meanwhile
        try:
            checkpoint = anchor.read()
        except CheckpointError:
            return False
        if checkpoint is None:
            return False
        Anchor(anchor.storage, [newest]).write(checkpoint)
    return True


def _names(snap: Snapshot) -> list[str]:
    return [path.name for path in snap.closed]
