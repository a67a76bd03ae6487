"""Staff notices: each quote decision and comment, emailed as soon as the gate records it.

They go to ``mail.staff_address`` and to the customer's account manager (from the export,
or at the gate from the record the nightly run keeps), in the business's language, with
the comment's text and a link to the document, and with Reply-To set to the customer's
contact so staff can answer directly. `StaffNoticeSink` wraps the gate's audit sink, so
every action the gate records is told without the views calling anything.

Each event is sent once: ``_notify/staff/<event id>.json`` is created (if absent) before
the message goes, and removed again if it could not go. The nightly ``publish --notify``
sends, from the audit log, the notices of recent events that have no such record (the
gate could not reach the mail server), so a failure is retried and never lost.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from portalgen.errors import MailError, PortalgenError
from portalgen.slots import certificate_path
from portalgen.storage import opened_once
from portalgen.textsafe import without_controls

if TYPE_CHECKING:
    from email.headerregistry import Address
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
log = logging.getLogger("portalgen.mail")


def notice_key(event_id: str) -> str:
    return f"{STAFF_PREFIX}{event_id}.json"


@dataclass(frozen=True)
class CustomerInfo:
    """What a staff notice says about the customer (from the export, or the gate's view)."""

    name: str = ""
    account_manager: str = ""


def _is_action(event: AuditEvent) -> bool:
    from portalgen.audit.events import ACTION_TYPES

    return event.type in ACTION_TYPES


def staff_recipients(settings: Settings, account_manager: str = "") -> list[Address]:
    from portalgen.mail.message import make_address, parse_addresses

    found = parse_addresses(settings.mail.staff_address)
    if account_manager.strip():
        try:
            manager = make_address(account_manager)
        except MailError:
            log.warning("account manager %r is not an email address", account_manager)
        else:
            if manager.addr_spec.lower() not in {a.addr_spec.lower() for a in found}:
                found.append(manager)
    return found


def compose_staff_notice(
    mailer: Mailer,
    event: AuditEvent,
    info: CustomerInfo = CustomerInfo(),
    *,
    now: datetime | None = None,
    document_url: str | None = None,
    certificate_url: str | None = None,
) -> EmailMessage | None:
    """The notice of a decision or comment; None when nobody is configured to receive it.
    `document_url` is the staff preview of the document (see `staff_preview_url`);
    without it, the document's address in the portal. A decision's notice gives the
    evidence the gate kept; an acceptance's, where its acceptance certificate will be
    (`certificate_url`, the staff preview of it; the next publish renders it)."""
    from portalgen.mail.message import make_address
    from portalgen.presentation.catalogs import language_of

    settings = mailer.settings
    to = staff_recipients(settings, info.account_manager)
    if not _is_action(event) or not to:
        return None
    data = event.data
    language = language_of("", settings)
    label = f"{info.name} ({event.customer})" if info.name else event.customer
    name = typed_name(data.get("name", ""))
    context = {
        "event_type": event.type,
        "customer_label": label,
        "who": f"{name} <{event.contact}>" if name else event.contact,
        "number": str(data.get("quote") or data.get("number") or _slug(event.document)),
        "document_label": _document_label(event.document, data, language),
        "document_url": document_url or _document_url(settings, event.document),
        "reason": str(data.get("reason") or "") if event.type == "quote.rejected" else "",
        "text": str(data.get("comment") or data.get("text") or ""),
        "when": event.when,
        "pdf_sha256": str(data.get("pdf_sha256") or ""),
        "signature": str(data.get("signature") or ""),
        "signature_sha256": str(data.get("signature_sha256") or ""),
        "certificate_url": "",
        **_payment_context(event),
        **_upload_context(data),
    }
    if event.type == "quote.accepted" and data.get("slug"):
        path = certificate_path(str(data["slug"]))
        context["certificate_url"] = certificate_url or _document_url(settings, path)
    try:  # the address only: the name is what a customer typed (see typed_name)
        reply_to = [make_address(event.contact)]
    except MailError:
        reply_to = []
    return mailer.compose("staff_event", language, to, context, reply_to=reply_to, now=now)


def _payment_context(event: AuditEvent) -> dict[str, str]:
    """What a payment notice says: the amount, the provider and its transaction, why
    portalgen refused a notification or the provider declined the payment."""
    if not event.type.startswith("payment."):
        return {}
    data = event.data
    return {
        "amount": f"{data.get('amount') or ''} {data.get('currency') or ''}".strip(),
        "provider": str(data.get("provider") or ""),
        "transaction": str(data.get("transaction") or ""),
        "number": str(data.get("invoice") or ""),
        "reason": str(data.get("reason") or data.get("code") or ""),
    }


def _upload_context(data: Mapping[str, Any]) -> dict[str, str]:
    """What a notice of a proof of payment names: the file, its id, what ClamAV found."""
    size = data.get("size")
    shown = f"{typed_name(data.get('filename', ''))} ({int(size) // 1024 + 1} KB)" if size else ""
    return {
        "upload_file": shown,
        "upload_id": str(data.get("upload") or ""),
        "virus": typed_name(data.get("virus", "")),
    }


def _slug(document: str) -> str:
    return document.rsplit("/", 1)[-1].removesuffix(".html")


_NOT_IN_NAMES = re.compile(r"[<>\"@,;:\\]")


def typed_name(value: object) -> str:
    """The name a customer typed, as the body of a staff notice shows it: one line of
    at most 80 characters, without control characters nor ``< > " @ , ; : \\``, so it
    cannot read like an address (``"boss@company.example" <x>``) nor add a line. It is
    left out of the Reply-To header: staff reply to the contact's address alone."""
    text = _NOT_IN_NAMES.sub(" ", without_controls(str(value)))
    return " ".join(text.split())[:80].strip()


def _document_label(document: str, data: Mapping[str, Any], language: str) -> str:
    """``factura F2026A-00021`` for ``invoices/F2026A-00021.html``, in `language`."""
    from portalgen.presentation.catalogs import translations

    if not document:
        return ""
    gettext = translations(language).gettext
    folder = document.split("/", 1)[0]
    name = str(data.get("number") or _slug(document))
    labels = {
        "quotes": gettext("quote %(number)s"),
        "orders": gettext("order %(number)s"),
        "delivery-notes": gettext("delivery note %(number)s"),
        "invoices": gettext("invoice %(number)s"),
        "documents": gettext("the document %(number)s"),
    }
    if folder == "documents":
        name = document.rsplit("/", 1)[-1]
    return labels.get(folder, "%(number)s") % {"number": name}


def _document_url(settings: Settings, document: str) -> str:
    base = settings.gate.base_url.rstrip("/")
    return f"{base}/portal/{document}" if document else f"{base}/portal/"


def staff_preview_url(
    settings: Settings, storage: Storage, event: AuditEvent, path: str | None = None
) -> str | None:
    """A staff preview link of the event's document, or of `path` in the customer's
    portal (staff have no customer session, so the portal's own address would only ask
    them for a link); None when none can be made (the customer revoked, no secret)."""
    from portalgen.access.preview import preview_token, preview_url
    from portalgen.access.registry import AccessRegistry
    from portalgen.access.secret import load_secrets
    from portalgen.access.tokens import TokenSigner

    try:
        entry = AccessRegistry(storage).find(event.customer)
        if entry is None or not entry.enabled:
            return None
        signer = TokenSigner(load_secrets(settings.secret_file))
    except PortalgenError as exc:
        log.warning("no staff preview link in the notice of %s: %s", event.id, exc)
        return None
    target = event.document if path is None else path
    return preview_url(settings.gate.base_url, preview_token(signer, entry), target)


def stored_customer_info(storage: Storage) -> Callable[[AuditEvent], CustomerInfo]:
    """Who an event's customer is, from the notification record the nightly run keeps
    (``_notify/<customer_key>.json``): the gate's way to find the account manager."""
    from portalgen.access.registry import AccessRegistry
    from portalgen.mail.state import StateStore

    def info(event: AuditEvent) -> CustomerInfo:
        try:
            entry = AccessRegistry(storage).find(event.customer)
            if entry is None:
                return CustomerInfo()
            state, _ = StateStore(storage).load(entry.customer_key, entry.customer)
        except PortalgenError as exc:
            log.warning("no customer details for the notice of %s: %s", event.id, exc)
            return CustomerInfo()
        return CustomerInfo(state.name, state.account_manager)

    return info


class StaffNotifier:
    """Sends each event's notice once, whoever tries (the gate, then the nightly run)."""

    def __init__(self, storage: Storage, mailer: Mailer) -> None:
        self.storage = storage
        self.mailer = mailer

    def notify(self, event: AuditEvent, info: CustomerInfo = CustomerInfo()) -> bool:
        """Send the event's notice unless it was sent (or is being sent) already.

        True if it went now. A mail failure raises MailError after removing the
        record, so a later run tries again."""
        if not _is_action(event):
            return False
        settings = self.mailer.settings
        url = staff_preview_url(settings, self.storage, event)
        certificate = None
        if event.type == "quote.accepted" and event.data.get("slug"):
            path = certificate_path(str(event.data["slug"]))
            certificate = staff_preview_url(settings, self.storage, event, path)
        message = compose_staff_notice(
            self.mailer, event, info, document_url=url, certificate_url=certificate
        )
        if message is None:
            return False
        if self.mailer.dry_run:  # the outbox: nothing is sent, so nothing is recorded
            self.mailer.send(message)
            return True
        key = notice_key(event.id)
        record = {"event": event.id, "status": "sending", "at": _now()}
        if not self.storage.put_if_absent(key, _json(record), "application/json"):
            return False
        try:
            self.mailer.send(message)
        except MailError:
            self.storage.delete(key)
            raise
        record.update(status="sent", at=_now(), message_id=str(message["Message-ID"]))
        self.storage.put(key, _json(record), "application/json")
        return True


def make_staff_notifier(
    settings: Settings,
    storage: Storage | Callable[[], Storage],
    info: Callable[[AuditEvent], CustomerInfo] | None = None,
    mailers: Callable[[], Mailer] | None = None,
) -> Callable[[AuditEvent], bool]:
    """`notify_staff(event)` for the gate: call it after recording a decision or comment.

    `info` tells who the customer is (name, account manager) when the caller knows.
    Never raises for a mail or storage problem (the customer's action is recorded
    already; the nightly run retries the notice): logs it and returns False."""
    if mailers is None:
        from portalgen.mail.mailer import MailerFactory

        mailers = MailerFactory(settings)
    store = opened_once(storage)

    def notify_staff(event: AuditEvent) -> bool:
        if not _is_action(event):
            return False
        try:
            with mailers() as mailer:
                lookup = info or stored_customer_info(store())
                return StaffNotifier(store(), mailer).notify(event, lookup(event))
        except PortalgenError as exc:
            log.warning("staff notice of event %s not sent (retried tonight): %s", event.id, exc)
            return False

    return notify_staff


class StaffNoticeSink:
    """An audit sink that records, then tells staff of decisions and comments.

    The gate records every event through its sink, so wrapping it is all the wiring a
    new kind of action needs. With `background`, the notice goes from a thread of its
    own (a customer never waits for the mail server); on AWS Lambda, where a frozen
    function would stop such a thread, it goes before the response.
    """

    def __init__(
        self, inner: AuditSink, notify: Callable[[AuditEvent], bool], *, background: bool = True
    ) -> None:
        self.inner = inner
        self.notify = notify
        self.background = background
        self.threads: list[threading.Thread] = []

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
        if not _is_action(event):
            return
        if not self.background:
            self.notify(event)
            return
        self.threads = [t for t in self.threads if t.is_alive()]
        thread = threading.Thread(
            target=self.notify, args=(event,), name="portalgen-staff-notice", daemon=True
        )
        self.threads.append(thread)
        thread.start()

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for the notices under way (tests; a server shutting down)."""
        for thread in list(self.threads):
            thread.join(timeout)


@dataclass
class BacklogReport:
    sent: int = 0
    failures: list[str] = field(default_factory=list)


def send_staff_backlog(
    notifier: StaffNotifier,
    events: Iterable[AuditEvent],
    customers: Mapping[str, CustomerInfo],
    *,
    now: datetime | None = None,
) -> BacklogReport:
    """Send the notices recent action events are still missing (the nightly retry)."""
    since = (now or datetime.now(UTC)) - BACKLOG
    report = BacklogReport()
    for event in events:
        if not _is_action(event) or event.when < since:
            continue
        if not _owed(notifier.storage, event.id, now):
            continue
        try:
            if notifier.notify(event, customers.get(event.customer, CustomerInfo())):
                report.sent += 1
        except MailError as exc:
            report.failures.append(f"{event.customer}: notice of {event.type} {event.id}: {exc}")
    return report


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
