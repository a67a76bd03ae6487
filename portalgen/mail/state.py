"""What each contact of a customer has been told: ``_notify/<customer_key>.json`` in storage.

The record lives in the same storage as the portals, so every staff machine that runs
``publish --notify`` (or the gate) sees the same one. For each contact it maps an item
(``invoice:F2026-0007``, ``reminder:F2026-0007:7``...) to how it was settled:

- ``sending``: written *before* the message goes out; ``sent`` once the server took it.
  A run that dies in between leaves ``sending``, and the next run counts the item as
  told: a customer may miss one message after a crash, but never gets one twice.
- ``baseline``: there before the contact had access (the invitation covered it).
- ``opted-out``: the customer does not want notifications (`Customer.notify`).
- ``with:<item>``: said in the same message as another item (a reminder of a new invoice).
- ``interrupted``: was ``sending`` when a run stopped; counted as told, reported once.

The record also keeps the customer's name and account manager from the last run, for
the gate's staff notices (the gate has no export).

Writes are compare-and-swap on the object's version, so two runs notifying the same
customer at once cannot both send: the second one's write fails and it stops.

On a local folder the ``sending`` marks of a message are appended to the record (one
JSON line after the document, `StateStore.append`): one flush to disk where replacing
the file takes two (the file, then its folder). A line a crash cut short has no line
end and is not read: its message never went (the server gets the end of a message's
data only once its marks are on disk). Its ``sent`` marks are appended too, without
waiting for the disk (`StateStore.confirm`): a crash of the machine that loses them
leaves the items ``sending``, which is what a crash in between leaves anyway. A whole
write folds the lines into the document again; a record with FOLD_AFTER lines gets one
once the customer's messages have gone. On S3, which cannot append, every write
replaces the record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from portalgen.errors import MailError, StorageError
from portalgen.storage import Appendable, Storage

STATE_PREFIX = "_notify/"
SCHEMA_VERSION = 1
JSON = "application/json"
# Lines appended to a record before a whole write folds them in (two a message).
FOLD_AFTER = 16


def state_key(customer_key: str) -> str:
    return f"{STATE_PREFIX}{customer_key}.json"


class StateConflict(MailError):
    """Someone else changed the record meanwhile (another run notifying the same customer)."""


@dataclass(frozen=True)
class Mark:
    at: str  # UTC ISO 8601
    how: str  # sending, sent, baseline, opted-out, with:<item>
    message_id: str = ""


@dataclass
class NotifyState:
    customer: str
    contacts: dict[str, dict[str, Mark]] = field(default_factory=dict)
    # Who the customer is, as the last nightly run read it from the export: the gate,
    # which has no export, names them and finds their account manager here.
    name: str = ""
    account_manager: str = ""

    def known(self, contact: str) -> dict[str, Mark]:
        return self.contacts.get(contact, {})

    def mark(
        self, contact: str, items: Iterable[str], how: str, at: str, message_id: str = ""
    ) -> None:
        marks = self.contacts.setdefault(contact, {})
        mark = Mark(at, how, message_id)  # frozen: one for all the items
        for item in items:
            marks[item] = mark

    def forget(self, contact: str, items: Iterable[str]) -> None:
        """Unrecord items (their message could not go: the next run tries again)."""
        marks = self.contacts.get(contact, {})
        for item in items:
            marks.pop(item, None)

    def interrupted(self, contact: str, before: str) -> list[str]:
        """Items a run started sending to `contact` before `before` and never confirmed:
        that run stopped in between, so whether the message went is unknown."""
        return sorted(
            i for i, m in self.known(contact).items() if m.how == "sending" and m.at < before
        )

    def to_json(self) -> bytes:
        """The record on one line (json's C encoder: with an indent the standard library
        encodes in Python, at several times the cost, and a night writes each record
        after its messages go), then a line end, which marks it whole (`StateStore.load`)."""
        data = {
            "version": SCHEMA_VERSION,
            "customer": self.customer,
            "name": self.name,
            "account_manager": self.account_manager,
            "contacts": {
                email: {item: _mark_json(mark) for item, mark in sorted(marks.items())}
                for email, marks in sorted(self.contacts.items())
            },
        }
        return json.dumps(data, ensure_ascii=False).encode("utf-8") + b"\n"

    @classmethod
    def from_json(cls, data: bytes, where: str) -> NotifyState:
        """The record: its document, then the marks appended after it (one JSON line
        each); a last line without its line end was cut short by a crash: not read."""
        try:
            text = data.decode("utf-8")
            raw, end = json.JSONDecoder().raw_decode(text)
            if raw.get("version") != SCHEMA_VERSION:
                raise ValueError(f"unknown version {raw.get('version')!r}")
            state = cls(
                str(raw["customer"]),
                {str(email): _marks(marks) for email, marks in raw["contacts"].items()},
                str(raw.get("name", "")),
                str(raw.get("account_manager", "")),
            )
            for line in text[end:].split("\n")[:-1]:
                if line.strip():
                    appended = json.loads(line)
                    contact = str(appended["contact"])
                    state.contacts.setdefault(contact, {}).update(_marks(appended["marks"]))
            return state
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StorageError(
                f"{where}: not a valid notification record ({exc}); fix or delete it "
                "(deleting it makes the customer's documents count as already announced)"
            ) from None

    def marks_line(self, contact: str, items: Iterable[str]) -> bytes:
        """The marks of `items` for `contact`, as the line `StateStore.append` adds."""
        marks = self.known(contact)
        line = {"contact": contact, "marks": {i: _mark_json(marks[i]) for i in items}}
        return json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n"


def _mark_json(mark: Mark) -> dict[str, str]:
    return {"at": mark.at, "how": mark.how, **({"id": mark.message_id} if mark.message_id else {})}


def _marks(raw: dict[str, dict[str, str]]) -> dict[str, Mark]:
    return {
        str(item): Mark(str(m["at"]), str(m["how"]), str(m.get("id", "")))
        for item, m in raw.items()
    }


class StateStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._torn: set[str] = set()  # records read with a line cut short: written whole
        self._lines: dict[str, int] = {}  # lines appended after each record's document
        # The storage, if it can append (a protocol's isinstance costs: checked once).
        self._appendable = storage if isinstance(storage, Appendable) else None

    def load(self, customer_key: str, customer: str) -> tuple[NotifyState, str | None]:
        """The record and its version (None: there is none yet)."""
        key = state_key(customer_key)
        found = self.storage.get_with_version(key)
        if found is None:
            return NotifyState(customer), None
        if not found[0].endswith(b"\n"):
            self._torn.add(key)
        self._lines[key] = found[0].count(b"\n") - 1  # the document is one line
        return NotifyState.from_json(found[0], f"{self.storage.location}/{key}"), found[1]

    def append(
        self,
        customer_key: str,
        state: NotifyState,
        version: str | None,
        contact: str,
        items: Iterable[str],
    ) -> str:
        """Write the marks of `items` (to `contact`) if the record is still at `version`:
        appended where the storage can (one flush to disk), else the whole record."""
        written = self._append(customer_key, state, version, contact, items, flush=True)
        return written if written is not None else self.save(customer_key, state, version)

    def confirm(
        self,
        customer_key: str,
        state: NotifyState,
        version: str | None,
        contact: str,
        items: Iterable[str],
    ) -> str | None:
        """Append the marks of `items` (to `contact`: their message went) without waiting
        for the disk; the new version, or None where they wait for the next whole write
        (storage that cannot append, a record of FOLD_AFTER lines or more)."""
        if self._lines.get(state_key(customer_key), 0) >= FOLD_AFTER:
            return None
        return self._append(customer_key, state, version, contact, items, flush=False)

    def _append(
        self,
        customer_key: str,
        state: NotifyState,
        version: str | None,
        contact: str,
        items: Iterable[str],
        *,
        flush: bool,
    ) -> str | None:
        """The marks' line appended to the record at `version` (its new version), or None
        where it cannot take one: storage that cannot append, no record yet, a torn one."""
        key = state_key(customer_key)
        storage = self._appendable
        if version is None or key in self._torn or storage is None:
            return None
        written = storage.append_if_version(
            key, state.marks_line(contact, items), version, flush=flush
        )
        if written is None:
            raise _conflict(state)
        self._lines[key] = self._lines.get(key, 0) + 1
        return written

    def save(self, customer_key: str, state: NotifyState, version: str | None) -> str:
        """Write the record if it is still at `version`; returns the new version."""
        key = state_key(customer_key)
        data = state.to_json()
        if version is None:
            written = self.storage.put_if_absent(key, data, JSON)
        else:
            written = self.storage.put_if_version(key, data, JSON, version)
        if not written:
            raise _conflict(state)
        found = self.storage.get_with_version(key)
        if found is None or found[0] != data:
            raise StateConflict(f"customer {state.customer}: the record changed meanwhile")
        self._torn.discard(key)
        self._lines[key] = 0
        return found[1]


def _conflict(state: NotifyState) -> StateConflict:
    return StateConflict(
        f"customer {state.customer}: another run is sending notifications to this "
        "customer right now; skipped here"
    )
