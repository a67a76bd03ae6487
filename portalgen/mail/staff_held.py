"""Bursts of a customer's actions: held, then told to staff in one email.

The first action of a customer after a quiet spell (``mail.staff_batch``, 5 minutes by
default) is told at once and opens that customer's window,
``_notify/staff/window/<customer>.json`` (the time of the event that opened it). An
action within the window is held: ``_notify/staff/held/<customer>/<event id>.json`` is the
event itself. The next notice of that customer carries every held event in one email:
the first action after the window (the gate), the window's end (a server's timer; on AWS
Lambda the function's schedule, every minute by default), or the nightly ``notify``,
which sends every notice still owed from the audit log anyway.

Both live in storage, not in a process's memory, so a server and the AWS Lambda
instances of one gate (which share no memory, and run nothing after answering) hold and
send alike. The window is replaced only by compare-and-swap (`put_if_version`): two
instances never both open it. Each event is still claimed once by its
``_notify/staff/<event id>.json`` record (staff.py), so no event is told twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portalgen.audit.events import AuditEvent
    from portalgen.storage import Storage

HELD_PREFIX = "_notify/staff/held/"
WINDOW_PREFIX = "_notify/staff/window/"
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
log = logging.getLogger("portalgen.mail")


def customer_folder(code: str) -> str:
    """A storage name for a customer's code: the code itself when it is plain (C00007),
    else a hash of it (a code may hold any character; an event may have none)."""
    if _PLAIN.fullmatch(code):
        return code
    return "_" + hashlib.sha256(code.encode()).hexdigest()[:24]


def held_key(event: AuditEvent) -> str:
    return f"{HELD_PREFIX}{customer_folder(event.customer)}/{event.id}.json"


def window_key(customer: str) -> str:
    return f"{WINDOW_PREFIX}{customer_folder(customer)}.json"


class HeldEvents:
    """The held events and the customers' windows, in `storage`."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def hold(self, event: AuditEvent) -> None:
        data = json.dumps(event.to_dict(), sort_keys=True).encode()
        self.storage.put(held_key(event), data, "application/json")

    def of(self, customer: str) -> list[AuditEvent]:
        """The customer's held events, oldest first."""
        return sorted(self._load(f"{HELD_PREFIX}{customer_folder(customer)}/"), key=_id)

    def all(self) -> list[AuditEvent]:
        """Every customer's held events, oldest first."""
        return sorted(self._load(HELD_PREFIX), key=_id)

    def release(self, events: Iterable[AuditEvent]) -> None:
        """Forget these events (told, or never to be told by a gate)."""
        keys = [held_key(e) for e in events]
        if keys:
            self.storage.delete_many(keys)

    def open_window(self, event: AuditEvent, window: timedelta) -> bool:
        """Whether `event` opens its customer's window (no notice in the `window` before
        it): True for one caller only; the window then starts at the event. An event a
        little older than the one that opened it (another instance's, a clock behind)
        is in it too; a damaged record, or one from far ahead, opens none."""

        def over(last: datetime) -> bool:
            return not last - window < event.when < last + window

        return self._open(event.customer, event.id, event.when, over)

    def open_window_after(self, customer: str, at: datetime, window: timedelta) -> bool:
        """Whether the customer's window is over at `at` (a timer, a schedule): True for one
        caller only; a new window then starts at `at`."""
        return self._open(customer, "timer", at, lambda last: at >= last + window)

    def _open(
        self, customer: str, marker: str, when: datetime, over: Callable[[datetime], bool]
    ) -> bool:
        key = window_key(customer)
        stamp = when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record = json.dumps({"event": marker, "last": stamp}).encode()
        for _ in range(3):  # another instance changed it meanwhile: look again
            found = self.storage.get_with_version(key)
            last = None if found is None else _last(found[0])
            if last is not None and not over(last):
                return False
            if found is None:
                won = self.storage.put_if_absent(key, record, "application/json")
            else:
                won = self.storage.put_if_version(key, record, "application/json", found[1])
            if won:
                return True
        return False

    def _load(self, prefix: str) -> Iterator[AuditEvent]:
        from portalgen.audit.events import AuditEvent

        for info in self.storage.list(prefix):
            raw = self.storage.get(info.key)
            if raw is None:  # told and released meanwhile
                continue
            try:
                yield AuditEvent.from_dict(json.loads(raw))
            except (ValueError, KeyError, TypeError) as exc:
                # the audit log has the event: the nightly run tells it from there
                log.warning("staff notices: %s is damaged (%s); removed", info.key, exc)
                self.storage.delete(info.key)


def _last(raw: bytes) -> datetime | None:
    """When the window of record `raw` opened; None for a damaged record (it opens none)."""
    try:
        return datetime.fromisoformat(str(json.loads(raw)["last"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return None


def _id(event: AuditEvent) -> str:
    return event.id
