"""Email: invitations and new links, the nightly digest and reminders, staff notices.

- `mailer.open_mailer(settings)`: the configured sender (SMTP, Amazon SES, or the outbox
  folder of a dry run) with the templates of ``templates/email/``.
- `notify.notify_customers(...)`: ``publish --notify``'s digests, recorded in storage so
  a document is never announced twice (planner.py decides, state.py records), filled
  into a message frame per kind and language (wire.py).
- `links.compose_access_message(...)`: the invitation, a link after a reset, a link on
  request; `staff_compose.compose_staff_notice(...)`: a decision or comment, to staff
  (`compose_staff_batch`: a burst of them in one email).
- `gate_link_sender(settings)` and `gate_staff_notifier(settings, storage)`: the gate's
  hooks ("email me a new link"; after recording a decision or comment).

Importing this package costs nothing (the gate does it): every module loads on use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from portalgen.access.entry import RegistryEntry
    from portalgen.audit.events import AuditEvent
    from portalgen.config import Settings
    from portalgen.mail.staff import CustomerInfo
    from portalgen.storage import Storage

__all__ = ["gate_link_sender", "gate_staff_notifier"]

P = ParamSpec("P")
R = TypeVar("R")


def gate_link_sender(settings: Settings) -> Callable[[RegistryEntry, str, str], bool] | None:
    """The gate's `send_link(entry, contact, link)`, or None when mail is not set up."""
    if settings.mail.backend == "none":
        return None

    def build() -> Callable[[RegistryEntry, str, str], bool]:
        from portalgen.mail.links import make_link_sender
        from portalgen.storage import open_storage

        return make_link_sender(settings, lambda: open_storage(settings))

    return _built_on_first_call(build)


def gate_staff_notifier(
    settings: Settings,
    storage: Storage | Callable[[], Storage],
    info: Callable[[AuditEvent], CustomerInfo] | None = None,
) -> Callable[[AuditEvent], bool] | None:
    """The gate's `notify_staff(event)`, to call after recording a decision or comment
    (staff.GateStaffNotices); None when mail is not set up. It tells mail.staff_address
    and the customer's account manager (from `info`, else from the record the nightly
    `publish --notify` keeps)."""
    if settings.mail.backend == "none":
        return None

    from portalgen.mail.staff import GateStaffNotices  # light: the mailer loads on use

    return GateStaffNotices(settings, storage, info)


def _built_on_first_call(build: Callable[[], Callable[P, R]]) -> Callable[P, R]:
    """A hook whose modules (the mailer, smtplib, the audit events) load when it is first
    used, not when the gate starts. Two first calls at once may both build: harmless."""
    built: list[Callable[P, R]] = []

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        if not built:
            built.append(build())
        return built[0](*args, **kwargs)

    return call
