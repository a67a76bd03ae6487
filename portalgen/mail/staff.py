"""Staff notices: each quote decision and comment, emailed as soon as the gate records it;
a burst of them in one email.

They go to ``mail.staff_address`` and to the customer's account manager (from the export,
or at the gate from the record the nightly run keeps), in the business's language, with
the comment's text and a link to the document, and with Reply-To set to the customer's
contact so staff can answer directly (staff_compose.py). `StaffNoticeSink` wraps the
gate's audit sink, so every action the gate records is told without the views calling
anything.

The first action of a customer after a quiet spell is told at once; those within
``mail.staff_batch`` of it are held and go together, listed in one email, with the next
notice of that customer: its next action after the window, a server's timer, the gate's
schedule on AWS Lambda (`flush_due`), or the nightly run (staff_held.py).

Each event is told once: ``_notify/staff/<event id>.json`` is created (if absent) before
the message goes, and removed again if it could not go. The nightly ``publish --notify``
sends, from the audit log, the notices of recent events that have no such record (held,
or the gate could not reach the mail server), one email per customer, so a failure is
retried and nothing is lost.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from portalgen.errors import MailError, PortalgenError
from portalgen.mail.staff_compose import (
    CustomerInfo,
    compose_staff_batch,
    is_action,
    preview_links,
    staff_recipients,
    stored_customer_info,
)
from portalgen.mail.staff_held import HeldEvents
from portalgen.storage import opened_once

if TYPE_CHECKING:
    from email.message import EmailMessage

    from portalgen.audit.events import AuditEvent
    from portalgen.audit.sinks import AuditSink
    from portalgen.config import Settings
    from portalgen.mail.mailer import Mailer
    from portalgen.storage import Storage

# The gate builds its StaffNoticeSink at start-up: this module loads the audit and mail
# modules only when an event comes (the gate defers them until then too).

STAFF_PREFIX = "_notify/staff/"
BACKLOG = timedelta(days=3)  # the nightly run retries notices of events this recent
STUCK = timedelta(hours=1)  # a notice "sending" for this long was interrupted
MAX_ITEMS = 50  # events listed in one email at most; more go in the next one
UNKNOWN = CustomerInfo()  # a customer the notifier knows nothing of: its code alone
log = logging.getLogger("portalgen.mail")

__all__ = ["CustomerInfo", "StaffNoticeSink", "StaffNotifier", "send_staff_backlog"]


def notice_key(event_id: str) -> str:
    return f"{STAFF_PREFIX}{event_id}.json"


class StaffNotifier:
    """Tells staff of each event once, whoever tries (the gate, then the nightly run);
    a customer's events within `window` of a notice wait for the next one (`notify`)."""

    def __init__(self, storage: Storage, mailer: Mailer, window: timedelta | None = None) -> None:
        self.storage = storage
        self.mailer = mailer
        self.window = mailer.settings.mail.staff_batch if window is None else window

    def notify(self, event: AuditEvent, info: CustomerInfo = UNKNOWN) -> bool:
        """Tell staff of an event the gate has just recorded: at once, with the events
        held before it, when it opens its customer's window; else hold it for the next
        notice. True if a notice went now. A mail failure raises MailError after
        releasing the claims (the events stay held), so a later try sends them."""
        if not is_action(event) or self.storage.exists(notice_key(event.id)):
            return False  # a replay: told, or being told, already
        if not staff_recipients(self.mailer.settings, info.account_manager):
            return False
        if self.mailer.dry_run or self.window <= timedelta(0):
            return self.tell([event], info) > 0
        held = HeldEvents(self.storage)
        held.hold(event)
        if not held.open_window(event, self.window):
            return False
        return self.tell(held.of(event.customer), info) > 0

    def flush(
        self, customer: str, at: datetime, info_of: Callable[[AuditEvent], CustomerInfo]
    ) -> int:
        """Tell the customer's held events if its window is over at `at` (then a new one
        starts at `at`); how many it told."""
        return self._flush(customer, HeldEvents(self.storage).of(customer), at, info_of)

    def flush_due(self, at: datetime, info_of: Callable[[AuditEvent], CustomerInfo]) -> int:
        """Tell the held events of every customer whose window is over at `at` (the
        gate's schedule on AWS Lambda); how many it told."""
        waiting: dict[str, list[AuditEvent]] = {}
        for event in HeldEvents(self.storage).all():
            waiting.setdefault(event.customer, []).append(event)
        return sum(self._flush(c, pending, at, info_of) for c, pending in waiting.items())

    def _flush(
        self,
        customer: str,
        pending: Sequence[AuditEvent],
        at: datetime,
        info_of: Callable[[AuditEvent], CustomerInfo],
    ) -> int:
        held = HeldEvents(self.storage)
        if not pending or not held.open_window_after(customer, at, self.window):
            return 0
        return self.tell(pending, info_of(pending[0]))

    def tell(self, events: Sequence[AuditEvent], info: CustomerInfo = UNKNOWN) -> int:
        """One email to staff of those of `events` (one customer's) nobody told yet,
        oldest first, at most MAX_ITEMS of them; how many it told."""
        told = sorted((e for e in events if is_action(e)), key=lambda e: e.id)[:MAX_ITEMS]
        if self.mailer.dry_run:  # the outbox: nothing is sent, so nothing is recorded
            message = self._compose(told, info)
            if message is not None:
                self.mailer.send(message)
            return len(told) if message is not None else 0
        claimed = [e for e in told if self._claim(e)]
        if not claimed:
            return 0
        try:
            message = self._compose(claimed, info)
            if message is not None:
                self.mailer.send(message)
        except Exception:
            self._unclaim(claimed)
            raise
        if message is None:  # nobody to tell
            self._unclaim(claimed)
            return 0
        self._sent(claimed, message)
        return len(claimed)

    def _compose(self, events: Sequence[AuditEvent], info: CustomerInfo) -> EmailMessage | None:
        if not events:
            return None
        links = preview_links(self.mailer.settings, self.storage)
        return compose_staff_batch(self.mailer, events, info, links=links)

    def _claim(self, event: AuditEvent) -> bool:
        record = {"event": event.id, "status": "sending", "at": _now()}
        return self.storage.put_if_absent(notice_key(event.id), _json(record), "application/json")

    def _unclaim(self, events: Sequence[AuditEvent]) -> None:
        self.storage.delete_many([notice_key(e.id) for e in events])

    def _sent(self, events: Sequence[AuditEvent], message: EmailMessage) -> None:
        at, message_id = _now(), str(message["Message-ID"])
        for event in events:
            record: dict[str, object] = {"event": event.id, "status": "sent", "at": at}
            record.update(message_id=message_id, told_with=len(events))
            self.storage.put(notice_key(event.id), _json(record), "application/json")
        HeldEvents(self.storage).release(events)


class GateStaffNotices:
    """The gate's staff notices (`gate_staff_notifier`): `notices(event)` after recording
    an action tells it, or holds it (a burst); `notices.flush_held(customer, at)` tells
    what the customer holds once its window is over (a server's timer, StaffNoticeSink).

    `info` tells who the customer is (name, account manager) when the caller knows.
    Never raises for a mail or storage problem (the customer's action is recorded
    already; the nightly run retries the notice): logs it and returns False (0). The
    mailer loads at the first call."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage | Callable[[], Storage],
        info: Callable[[AuditEvent], CustomerInfo] | None = None,
        mailers: Callable[[], Mailer] | None = None,
    ) -> None:
        self.settings = settings
        self.window = settings.mail.staff_batch
        self._store = opened_once(storage)
        self._info = info
        self._mailers = mailers

    def __call__(self, event: AuditEvent) -> bool:
        if not is_action(event):
            return False
        try:
            with self._mailer() as mailer:
                notifier = StaffNotifier(self._store(), mailer)
                return notifier.notify(event, self._lookup()(event))
        except PortalgenError as exc:
            log.warning("staff notice of event %s not sent (retried tonight): %s", event.id, exc)
            return False

    def flush_held(self, customer: str, at: datetime) -> int:
        try:
            with self._mailer() as mailer:
                notifier = StaffNotifier(self._store(), mailer)
                return notifier.flush(customer, at, self._lookup())
        except PortalgenError as exc:
            log.warning("staff notices held for %s not sent (retried tonight): %s", customer, exc)
            return 0

    def flush_due(self, at: datetime) -> int:
        """Tell what every customer holds whose window is over at `at` (AWS Lambda's
        schedule, gate/scheduled.py); how many events it told."""
        try:
            with self._mailer() as mailer:
                return StaffNotifier(self._store(), mailer).flush_due(at, self._lookup())
        except PortalgenError as exc:
            log.warning("held staff notices not sent (retried by the next run): %s", exc)
            return 0

    def _mailer(self) -> Mailer:
        if self._mailers is None:
            from portalgen.mail.mailer import MailerFactory

            self._mailers = MailerFactory(self.settings)
        return self._mailers()

    def _lookup(self) -> Callable[[AuditEvent], CustomerInfo]:
        return self._info or stored_customer_info(self._store())


class StaffNoticeSink:
    """An audit sink that records, then tells staff of decisions and comments.

    The gate records every event through its sink, so wrapping it is all the wiring a
    new kind of action needs. With `background`, the notice goes from a thread of its
    own (a customer never waits for the mail server), and when `notify` holds an action
    (a burst), a timer tells what the customer holds when its window ends
    (`notify.flush_held`, GateStaffNotices): a server sends a burst's rest within
    `mail.staff_batch`. On AWS Lambda, where a frozen function would stop such threads,
    the notice goes before the response and held actions go with the customer's next
    notice or the function's schedule (`GateStaffNotices.flush_due`, gate/scheduled.py).
    """

    def __init__(
        self, inner: AuditSink, notify: Callable[[AuditEvent], bool], *, background: bool = True
    ) -> None:
        self.inner = inner
        self.notify = notify
        self.background = background
        self.threads: list[threading.Thread] = []
        self.timers: dict[str, threading.Timer] = {}  # per customer, at most one waiting
        self._lock = threading.Lock()

    def record(self, event: AuditEvent) -> None:
        self.inner.record(event)  # the record first: a notice never stands in for it
        self._notify(event)

    def record_many(self, events: Sequence[AuditEvent]) -> None:
        """For a gate that writes events in batches: the inner sink's batch, then notices."""
        from portalgen.audit.sinks import record_all

        record_all(self.inner, events)
        for event in events:
            self._notify(event)

    def _notify(self, event: AuditEvent) -> None:
        if not is_action(event):
            return
        if not self.background:
            self.notify(event)
            return
        self.threads = [t for t in self.threads if t.is_alive()]
        thread = threading.Thread(
            target=self._tell, args=(event,), name="portalgen-staff-notice", daemon=True
        )
        self.threads.append(thread)
        thread.start()

    def _tell(self, event: AuditEvent) -> None:
        if not self.notify(event):  # held (or a replay, or nobody to tell)
            self._flush_later(event)

    def _flush_later(self, event: AuditEvent) -> None:
        """Tell the customer's held actions when the window `event` fell in is over."""
        if not isinstance(self.notify, GateStaffNotices) or self.notify.window <= timedelta(0):
            return
        window = self.notify.window
        with self._lock:
            waiting = self.timers.get(event.customer)
            if waiting is not None and waiting.is_alive():
                return
            args = (event.customer, event.when + window)
            timer = threading.Timer(window.total_seconds(), self._fire, args)
            timer.name, timer.daemon = "portalgen-staff-held", True
            self.timers[event.customer] = timer
        timer.start()

    def _fire(self, customer: str, at: datetime) -> None:
        """The timer: forgotten first, so an action held while it tells gets a timer of
        its own (told by this one if held before it lists, else by the next)."""
        with self._lock:
            self.timers.pop(customer, None)
        if isinstance(self.notify, GateStaffNotices):
            self.notify.flush_held(customer, at)

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for the notices under way (tests; a server shutting down); not for the
        timers of held ones (the nightly run tells those of a server that stops)."""
        for thread in list(self.threads):
            thread.join(timeout)


@dataclass
class BacklogReport:
    sent: int = 0  # events told
    emails: int = 0
    failures: list[str] = field(default_factory=list)
    waiting: list[AuditEvent] = field(default_factory=list)  # held, still untold


def send_staff_backlog(
    notifier: StaffNotifier,
    events: Iterable[AuditEvent],
    customers: Mapping[str, CustomerInfo],
    *,
    now: datetime | None = None,
) -> BacklogReport:
    """Send the notices recent action events are still missing (held by the gate, or it
    could not send them): one email per customer, listing each of its events."""
    since = (now or datetime.now(UTC)) - BACKLOG
    owed: dict[str, list[AuditEvent]] = {}
    for event in events:
        if is_action(event) and event.when >= since and _owed(notifier.storage, event.id, now):
            owed.setdefault(event.customer, []).append(event)
    report = BacklogReport()
    for pending in owed.values():
        pending.sort(key=lambda e: e.id)
        for start in range(0, len(pending), MAX_ITEMS):
            _tell_part(notifier, pending[start : start + MAX_ITEMS], customers, report)
    if not notifier.mailer.dry_run:
        report.waiting = still_held(notifier.storage)
    return report


def _tell_part(
    notifier: StaffNotifier,
    events: Sequence[AuditEvent],
    customers: Mapping[str, CustomerInfo],
    report: BacklogReport,
) -> None:
    customer = events[0].customer
    try:
        told = notifier.tell(events, customers.get(customer, CustomerInfo()))
    except MailError as exc:
        listed = ", ".join(f"{e.type} {e.id}" for e in events)
        report.failures.append(f"{customer}: notice of {listed}: {exc}")
        return
    report.sent += told
    report.emails += 1 if told else 0


def still_held(storage: Storage) -> list[AuditEvent]:
    """The events a gate holds that no notice has told yet, oldest first (a held event
    told meanwhile by another way is forgotten here)."""
    held = HeldEvents(storage)
    waiting: list[AuditEvent] = []
    told: list[AuditEvent] = []
    for event in held.all():
        (told if _status(storage, event.id) == "sent" else waiting).append(event)
    held.release(told)
    return waiting


def held_warnings(storage: Storage, zone: str, window: timedelta, now: datetime) -> list[str]:
    """For `check`: per customer, the actions held for a staff notice for longer than
    `window` (on AWS Lambda they wait for the customer's next action or `notify`)."""
    from zoneinfo import ZoneInfo

    waiting: dict[str, list[AuditEvent]] = {}
    for event in HeldEvents(storage).all():
        if event.when <= now - window and _status(storage, event.id) != "sent":
            waiting.setdefault(event.customer or "-", []).append(event)
    found = []
    for customer, events in waiting.items():
        since = events[0].when.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y %H:%M")
        found.append(
            f"staff have not been emailed yet about {len(events)} action(s) of {customer} "
            f"in the portal since {since} (held after a burst); `portalgen notify` sends them"
        )
    return found


def _status(storage: Storage, event_id: str) -> str:
    raw = storage.get(notice_key(event_id))
    if raw is None:
        return ""
    try:
        return str(json.loads(raw)["status"])
    except (ValueError, KeyError, TypeError):
        return "damaged"


def _owed(storage: Storage, event_id: str, now: datetime | None) -> bool:
    """Whether an event's notice is still owed: never tried, or stuck being sent.

    A record left at ``sending`` for an hour belongs to a gate that stopped mid-send
    (a Lambda function frozen and discarded): it is tried again, so staff may, rarely,
    get a notice twice rather than never."""
    raw = storage.get(notice_key(event_id))
    if raw is None:
        return True
    try:
        record = json.loads(raw)
        stuck = record["status"] == "sending" and datetime.fromisoformat(record["at"]) < (
            (now or datetime.now(UTC)) - STUCK
        )
    except (ValueError, KeyError, TypeError):
        stuck = True  # a damaged record: better a second notice than none
    if stuck:
        storage.delete(notice_key(event_id))
    return stuck


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True).encode()
