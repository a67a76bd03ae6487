"""The nightly digest: one message per contact of each granted customer, with a fresh link.

For every customer with portal access, `notify_customers` works out what is new for each
contact since their last message (planner.py), sends one digest with a fresh link, and
records it (state.py) — the record is written before the message goes and confirmed
after, so a rerun, or a run after a crash, never announces the same thing twice.

A failure (an address refused, the server down or dropping the connection) is reported
for that customer and contact, leaves their items unrecorded so the next run tries
again, and never stops the others. After a few server failures in a row the rest of
the run stops trying the server (each attempt could wait for a timeout) and reports
those customers as not sent.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from portalgen.access.entry import RegistryEntry
from portalgen.access.registry import AccessRegistry
from portalgen.config import Settings
from portalgen.domain.model import CustomerData, Export, slugify_number
from portalgen.errors import AccessError, MailError, PortalgenError, StorageError
from portalgen.mail.ahead import Ahead
from portalgen.mail.links import LinkMaker
from portalgen.mail.mailer import Mailer
from portalgen.mail.message import Outgoing, make_address
from portalgen.mail.planner import ContactPlan, Item, customer_items, digest_sections, plan_contact
from portalgen.mail.senders import MessageRefused, ServerUnavailable
from portalgen.mail.state import NotifyState, StateStore
from portalgen.publish.manifest import published_paths
from portalgen.storage import LocalStorage, Storage

SERVER_FAILURES_TO_GIVE_UP = 3
# Messages are composed by a thread this many customers ahead of the one being sent, and
# each customer's last record is written by another while the next customer's message
# goes: the waits (the disk's fsync, the server's replies) overlap the work.
COMPOSE_AHEAD = 8
# Threads reading and planning customers ahead (READ_AHEAD customers a thread): S3's
# reads each wait on the network; a local folder's come from memory (the page cache),
# and more threads would only take turns with the sending for the interpreter lock.
READ_THREADS = 8
LOCAL_READ_THREADS = 2
READ_AHEAD = 2
Composed = dict[str, "Outgoing | Exception"]  # contact -> message, or why not
# A `sending` mark older than this was left by a run that stopped (see state.py).
INTERRUPTED_AFTER = timedelta(minutes=15)


@dataclass
class CustomerResult:
    code: str
    messages: int = 0  # sent (or written, in a dry run)
    items: int = 0  # items announced in them
    failures: list[str] = field(default_factory=list)  # "contact: reason"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.code,
            "messages": self.messages,
            "items": self.items,
            "failures": self.failures,
            "notes": self.notes,
        }


@dataclass
class NotifyReport:
    customers: list[CustomerResult] = field(default_factory=list)
    dry_run: bool = False
    staff_sent: int = 0  # events the gate held or could not tell staff of, told now
    staff_emails: int = 0  # the emails that told them (one per customer)
    staff_failures: list[str] = field(default_factory=list)
    staff_waiting: list[str] = field(default_factory=list)  # held events still untold

    @property
    def messages(self) -> int:
        return sum(c.messages for c in self.customers)

    @property
    def failed(self) -> list[CustomerResult]:
        return [c for c in self.customers if c.failures]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.staff_failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "messages": self.messages,
            "customers_notified": sum(1 for c in self.customers if c.messages),
            "customers_failed": len(self.failed),
            "customers": [c.to_dict() for c in self.customers],
            "staff_notices": self.staff_sent,
            "staff_emails": self.staff_emails,
            "staff_failures": self.staff_failures,
            "staff_waiting": self.staff_waiting,
        }


@dataclass
class _Customer:
    """One customer, read and planned (phase one), ready to send to (phase two)."""

    data: CustomerData
    entry: RegistryEntry
    state: NotifyState
    version: str | None
    plans: list[ContactPlan]
    error: str = ""
    dirty: bool = False  # the record lacks their current name or account manager
    unsaved: bool = False  # marks not written yet (the last "sent" ones: written after)


def notify_customers(
    settings: Settings,
    export: Export,
    *,
    storage: Storage,
    mailer: Mailer,
    make_link: LinkMaker,
    only: Collection[str] = (),
    today: date | None = None,
    now: datetime | None = None,
) -> NotifyReport:
    """Send tonight's digests to every granted customer of `export` (or those in `only`)."""
    today = today or settings.today()
    by_code = export.by_customer()
    unknown = sorted(set(only) - set(by_code))
    if unknown:
        raise AccessError(f"customer {unknown[0]} is not in the export")
    codes = [c for c in by_code if not only or c in only]
    registry = AccessRegistry(storage)
    run = _Run(settings, storage, mailer, make_link, today, now)
    report = NotifyReport(dry_run=mailer.dry_run)
    composer = ThreadPoolExecutor(1, thread_name_prefix="compose")
    try:
        threads = LOCAL_READ_THREADS if isinstance(storage, LocalStorage) else READ_THREADS
        with ThreadPoolExecutor(max_workers=threads) as pool:
            entries = dict(zip(codes, pool.map(registry.find, codes), strict=True))
            targets = [(by_code[c], e) for c, e in entries.items() if e is not None and e.enabled]
            # A customer is sent to once read and planned, their first record written
            # and their messages composed: the next customers' reads and records (waits
            # on the disk) and composing go on meanwhile, in order.
            prepared = Ahead(pool, run.prepare, targets, READ_AHEAD * threads)
            created = ((c, pool.submit(run.create_record, c)) for _, c in prepared)
            ahead = Ahead(composer, run.compose, created, COMPOSE_AHEAD)
            for (customer, record), messages in ahead:
                record.result()
                # The next customer's first message, when already composed: its envelope
                # can go with the end of this customer's last one (senders.py).
                upcoming = ahead.peek()
                after = next(iter(_to_send(upcoming[1])), None) if upcoming else None
                result = run.deliver(customer, messages, after)
                if result.messages or result.failures or result.notes:
                    report.customers.append(result)
    finally:
        composer.shutdown(wait=True, cancel_futures=True)
        run.finish_saves()
    return report


def _anything_new(entry: RegistryEntry, state: NotifyState, items: list[Item]) -> bool:
    """Whether an item is unsettled for an enabled contact: only then can a contact have
    a plan (`plan_contact` sends or settles every unsettled item it may announce), and
    the published portal and the decisions are read (a quiet night reads neither)."""
    ids = {i.id for i in items}
    return any(not ids <= state.known(c.email).keys() for c in entry.contacts if c.enabled)


def _to_send(composed: Composed) -> list[Outgoing]:
    """The messages `deliver` sends of those composed for a customer, in plan order."""
    return [m for m in composed.values() if isinstance(m, Outgoing)]


class _Run:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        mailer: Mailer,
        make_link: LinkMaker,
        today: date,
        now: datetime | None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.store = StateStore(storage)
        self.mailer = mailer
        self.make_link = make_link
        self.today = today
        self.now = now
        self.zone = ZoneInfo(settings.timezone)
        self.server_failures = 0
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="notify-record")
        self.recorder = ThreadPoolExecutor(1, thread_name_prefix="notify-sending")
        self.later: list[tuple[Future[None], CustomerResult]] = []

    # -- phase one: read and plan (in threads; reads only) -------------------------------------

    def prepare(self, target: tuple[CustomerData, RegistryEntry]) -> _Customer:
        data, entry = target
        try:
            state, version = self.store.load(entry.customer_key, entry.customer)
            person = data.customer
            dirty = (state.name, state.account_manager) != (
                person.display_name,
                person.account_manager,
            )
            state.name, state.account_manager = person.display_name, person.account_manager
            items = customer_items(data, self.today, self.settings.mail.reminders)
            plans = []
            if _anything_new(entry, state, items):  # look at what is published and decided
                published = self._published(entry, items)
                items = self._undecided(entry, items)
                plans = self._plan(data, entry, state, items, published)
        except PortalgenError as exc:
            return _Customer(data, entry, NotifyState(entry.customer), None, [], str(exc))
        return _Customer(data, entry, state, version, plans, dirty=dirty)

    def create_record(self, customer: _Customer) -> None:
        """A first record for a customer about to get their first message, written here
        (in the reading threads, while the customers before them are sent to: the disk
        flushes several at once) so that each message's `sending` marks can be appended
        to it (state.py). The customer's messages go only once it is written."""
        sends = any(plan.send for plan in customer.plans)
        if customer.error or customer.version is not None or not sends or self.mailer.dry_run:
            return
        try:
            self._save(customer)
        except PortalgenError as exc:
            customer.error = str(exc)

    def _plan(
        self,
        data: CustomerData,
        entry: RegistryEntry,
        state: NotifyState,
        items: list[Item],
        published: Collection[str],
    ) -> list[ContactPlan]:
        plans = []
        for contact in entry.contacts:
            if not contact.enabled:
                continue
            plan = plan_contact(
                contact.email,
                items,
                state.known(contact.email),
                baseline=self._baseline(entry, contact.created_at),
                published=published,
                opted_out=not data.customer.notify,
            )
            if plan.send or plan.settle:
                plans.append(plan)
        return plans

    def _baseline(self, entry: RegistryEntry, contact_since: datetime) -> date:
        """The day the contact got access: older news was covered by the invitation."""
        since = max(contact_since, entry.granted_at or contact_since)
        return since.astimezone(self.zone).date()

    def _published(self, entry: RegistryEntry, items: Iterable[Item]) -> set[str]:
        try:
            paths = published_paths(self.storage, entry.customer_key)
        except ValueError as exc:
            raise StorageError(f"the published portal's manifest is damaged ({exc})") from None
        if paths is None:
            return set()
        return {i.path for i in items if i.path in paths}

    def _undecided(self, entry: RegistryEntry, items: list[Item]) -> list[Item]:
        """Quotes decided in the portal since the export was made are not awaiting a decision."""
        if not any(i.kind == "quote" for i in items):
            return items
        from portalgen.interact.decisions import DECISIONS_PREFIX

        prefix = f"{DECISIONS_PREFIX}{entry.customer_key}/"
        decided = {
            info.key.removeprefix(prefix).removesuffix(".json")
            for info in self.storage.list(prefix)
        }
        return [
            i for i in items if i.kind != "quote" or slugify_number(i.view["number"]) not in decided
        ]

    def compose(self, created: tuple[_Customer, Future[None]]) -> Composed:
        """`compose_all` of a customer whose first record may still be being written."""
        return self.compose_all(created[0])

    # -- phase two: send and record, one customer at a time ------------------------------------

    def compose_all(self, customer: _Customer) -> Composed:
        """The customer's messages, composed ahead (in the composing thread)."""
        messages: Composed = {}
        for plan in customer.plans if not customer.error else ():
            if plan.send:
                try:
                    messages[plan.contact] = self._compose(customer, plan)
                except Exception as exc:  # raised where the message is sent
                    messages[plan.contact] = exc
        return messages

    def deliver(
        self,
        customer: _Customer,
        composed: Composed | None = None,
        upcoming: Outgoing | None = None,
    ) -> CustomerResult:
        """Send the customer's messages (`composed` ahead, else composed here); `upcoming`
        is the message sent after their last, when known."""
        result = CustomerResult(customer.entry.customer)
        if customer.error:
            result.failures.append(customer.error)
            return result
        try:
            self._settle_interrupted(customer, result)
        except PortalgenError as exc:
            result.failures.append(str(exc))
            return result
        if customer.dirty and not customer.plans:
            try:
                self._save(customer)
            except PortalgenError as exc:
                result.failures.append(str(exc))
        composed = composed or {}
        ours = _to_send(composed)
        nexts = [*ours[1:], upcoming] if ours else []
        following = {m.message_id: n for m, n in zip(ours, nexts, strict=True)}
        for plan in customer.plans:
            message = composed.get(plan.contact)
            after = following.get(message.message_id) if isinstance(message, Outgoing) else None
            try:
                self._deliver_plan(customer, plan, result, message, after)
            except MailError as exc:
                result.failures.append(f"{plan.contact}: {exc}")
            except PortalgenError as exc:  # storage trouble: stop with this customer
                result.failures.append(f"{plan.contact}: {exc}")
                break
        if customer.unsaved:  # written while the next customer's message goes
            self.later.append((self.writer.submit(self._save, customer), result))
        return result

    def finish_saves(self) -> None:
        """Wait for the records written after their message went."""
        self.recorder.shutdown(wait=True)
        self.writer.shutdown(wait=True)
        for future, result in self.later:
            try:
                future.result()
            except PortalgenError as exc:
                result.failures.append(f"the record of what was sent: {exc}")
        self.later.clear()

    def _settle_interrupted(self, customer: _Customer, result: CustomerResult) -> None:
        """Messages an earlier run was sending when it stopped: counted as sent, said once.

        A recent ``sending`` mark may be another run's message in flight: left alone."""
        state = customer.state
        before = self._stamp(-INTERRUPTED_AFTER)
        found = {c.email: state.interrupted(c.email, before) for c in customer.entry.contacts}
        found = {contact: items for contact, items in found.items() if items}
        for contact, items in sorted(found.items()):
            result.notes.append(
                f"{contact}: an earlier run stopped while sending a message about "
                f"{', '.join(items)}; it may not have arrived, and is not sent again"
            )
            state.mark(contact, items, "interrupted", self._stamp())
        if found and not self.mailer.dry_run:
            customer.version = self.store.save(customer.entry.customer_key, state, customer.version)

    def _deliver_plan(
        self,
        customer: _Customer,
        plan: ContactPlan,
        result: CustomerResult,
        composed: Outgoing | Exception | None = None,
        following: Outgoing | None = None,
    ) -> None:
        # Settled on their own (before the access, opted out), or only with the message
        # they ride in (a reminder of an invoice announced in it).
        alone = [(i, h) for i, h in plan.settle if not h.startswith("with:")]
        riding = [(i, h) for i, h in plan.settle if h.startswith("with:")]
        self._record(customer, plan.contact, alone)
        if not plan.send:
            self._save(customer)
            return
        if self.server_failures >= SERVER_FAILURES_TO_GIVE_UP:
            self._save(customer)
            raise ServerUnavailable("not sent: the mail server failed several times in a row")
        if isinstance(composed, Exception):
            raise composed
        message = composed if composed is not None else self._compose(customer, plan)
        message_id = message.message_id
        ids = [i.id for i in plan.send]
        told = ids + [i for i, _ in riding]
        # Recorded before the server can accept it: a crash from here on never sends it
        # twice. The record is written while the message travels; the server gets the
        # end of its data, where it accepts a message, once the record is on disk.
        self._record(customer, plan.contact, [(i, "sending") for i in ids] + riding, message_id)
        marks = [i for i, _ in alone] + told
        written = self.recorder.submit(self._save_marks, customer, plan.contact, marks)
        try:
            self.mailer.send(message, ready=written.result, following=following)
        except (MessageRefused, ServerUnavailable) as exc:
            if isinstance(exc, ServerUnavailable):
                self.server_failures += 1
            written.result()  # the record of the attempt is there before it is undone
            # Not sent: forgotten, so the next run tries again.
            customer.state.forget(plan.contact, told)
            self._save(customer)
            raise
        except PortalgenError:  # the record could not be written: the message did not go
            customer.state.forget(plan.contact, told)
            raise
        finally:
            wait([written])  # never two writes of one record at once
        self.server_failures = 0
        result.messages += 1
        result.items += len(ids)
        self._record(customer, plan.contact, [(i, "sent") for i in ids], message_id)
        self._confirm(customer, plan.contact, ids)

    def _record(
        self,
        customer: _Customer,
        contact: str,
        marks: Iterable[tuple[str, str]],
        message_id: str = "",
    ) -> None:
        stamp = self._stamp()
        by_how: dict[str, list[str]] = {}  # one mark() a kind: it shares one Mark
        for item, how in dict(marks).items():  # an item marked twice: the last counts
            by_how.setdefault(how, []).append(item)
        for how, items in by_how.items():
            customer.state.mark(contact, items, how, stamp, message_id)

    def _save(self, customer: _Customer) -> None:
        """Write the customer's record (never in a dry run: it sends nothing)."""
        if not self.mailer.dry_run:
            key = customer.entry.customer_key
            customer.version = self.store.save(key, customer.state, customer.version)
            customer.dirty = False  # the record has their name and account manager now
        customer.unsaved = False

    def _confirm(self, customer: _Customer, contact: str, items: list[str]) -> None:
        """The `sent` marks of a message that went: appended to the record where they can
        be, without waiting for the disk (`StateStore.confirm`); else written with the
        customer's whole record (also when their name or account manager changed, which
        only a whole write records), while the next customer's messages go."""
        version = None
        if not self.mailer.dry_run and not customer.dirty:
            key = customer.entry.customer_key
            try:
                version = self.store.confirm(key, customer.state, customer.version, contact, items)
            except PortalgenError:  # the whole write tries again, and reports what fails
                version = None
        if version is None:
            customer.unsaved = True  # the next save, or deliver's last, writes it
        else:
            customer.version = version

    def _save_marks(self, customer: _Customer, contact: str, items: list[str]) -> None:
        """Write the marks of `items` (appended to the record where storage can: state.py)."""
        if not self.mailer.dry_run:
            key = customer.entry.customer_key
            version = customer.version
            customer.version = self.store.append(key, customer.state, version, contact, items)

    def _compose(self, customer: _Customer, plan: ContactPlan) -> Outgoing:
        from portalgen.presentation.catalogs import language_of

        person = customer.data.customer
        link = self.make_link(customer.entry, plan.contact)
        context = {
            "customer": person,
            "news": digest_sections(plan.send),
            "only_reminders": all(i.kind == "reminder" for i in plan.send),
            "link": link,
            "today": self.today,
        }
        language = language_of(person.language, self.settings)
        to = [make_address(plan.contact, person.display_name)]
        return self.mailer.compose_outgoing("digest", language, to, context, now=self.now)

    def _stamp(self, offset: timedelta = timedelta(0)) -> str:
        when = (self.now or datetime.now(UTC)) + offset
        return when.astimezone(UTC).isoformat(timespec="seconds")
