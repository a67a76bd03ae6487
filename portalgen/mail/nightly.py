"""The nightly email run (``publish --notify``, ``portalgen notify``).

First every granted customer's digest (notify.py), then the staff notices of recent
decisions and comments that the gate held (a burst: staff_held.py) or could not send
when they happened (staff.py), one email per customer: the audit log has every event,
and each notice is recorded once sent, so the retry never repeats one. The report names
the held events still untold (a customer left out by `--only` or missing from the
export, a mail failure).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime

from portalgen.audit.events import AuditEvent
from portalgen.config import Settings
from portalgen.domain.model import Export
from portalgen.mail.links import LinkMaker
from portalgen.mail.mailer import Mailer
from portalgen.mail.notify import NotifyReport, notify_customers
from portalgen.mail.staff import CustomerInfo, StaffNotifier, send_staff_backlog
from portalgen.storage import Storage


def _waiting(event: AuditEvent) -> str:
    """A held event no notice has told yet, for the summary (its text is the
    customer's: left out)."""
    return f"{event.customer or '-'}: {event.type} {event.id} of {event.ts[:16]}Z"


def send_nightly(
    settings: Settings,
    export: Export,
    *,
    storage: Storage,
    mailer: Mailer,
    make_link: LinkMaker,
    events: Iterable[AuditEvent] = (),
    only: Collection[str] = (),
    today: date | None = None,
    now: datetime | None = None,
) -> NotifyReport:
    """Customers' digests, then the staff notices still owed for `events`."""
    report = notify_customers(
        settings,
        export,
        storage=storage,
        mailer=mailer,
        make_link=make_link,
        only=only,
        today=today,
        now=now,
    )
    customers = {
        c.code: CustomerInfo(c.display_name, c.account_manager)
        for c in export.customers
        if not only or c.code in only
    }
    # --only: those customers' events; else every event, also of a customer no longer in
    # the export or of none (a payment notification refused before it named one)
    chosen = (e for e in events if not only or e.customer in customers)
    backlog = send_staff_backlog(StaffNotifier(storage, mailer), chosen, customers, now=now)
    report.staff_sent = backlog.sent
    report.staff_emails = backlog.emails
    report.staff_failures = backlog.failures
    report.staff_waiting = [_waiting(e) for e in backlog.waiting]
    return report
