"""Building the gate from settings: storage, secrets, audit sink, branding.

`create_app(settings)` is what `portalgen serve`, the Lambda handler and the tests use.
Nothing here reads the configuration file itself (see environment.py for Lambda).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from portalgen.gate.app import Branding, Gate, SecretSource, SendLink

# The mailer's hook (issue 7): tell staff of a decision or comment just recorded.
NotifyStaff = Callable[["AuditEvent"], bool]

if TYPE_CHECKING:
    from portalgen.audit.events import AuditEvent
    from portalgen.audit.sinks import AuditSink
    from portalgen.config import Settings
    from portalgen.storage import Storage


class LazyAuditSink:
    """Opens the real sink at the first event (the audit modules load only then)."""

    def __init__(self, factory: Callable[[], AuditSink]) -> None:
        self._factory = factory
        self._sink: AuditSink | None = None

    def record(self, event: AuditEvent) -> None:
        if self._sink is None:
            self._sink = self._factory()
        self._sink.record(event)


def default_audit_sink(settings: Settings, storage: Storage) -> AuditSink:
    """A local folder: the staff's audit.jsonl directly. S3: one object per event."""
    from portalgen.audit.log import AuditLog
    from portalgen.audit.sinks import LocalAuditSink, StorageAuditSink
    from portalgen.storage import LocalStorage

    if isinstance(storage, LocalStorage):
        return LocalAuditSink(AuditLog(settings.audit.path))
    return StorageAuditSink(storage)


def branding_of(settings: Settings) -> Branding:
    return Branding(
        company=settings.company.name,
        email=settings.company.email,
        phone=settings.company.phone,
        language=settings.language,
        timezone=settings.timezone,
        primary_color=settings.theme.primary_color,
    )


def create_app(
    settings: Settings,
    storage: Storage | None = None,
    *,
    secrets: Sequence[str] | SecretSource | None = None,
    send_link: SendLink | None = None,
    audit: AuditSink | None = None,
    notify_staff: NotifyStaff | None = None,
    background_notices: bool = True,
    clock: Callable[[], float] = time.time,
) -> Gate:
    """The gate over the configured storage, signing with the configured secrets
    (re-read when a link fails to verify, so a rotation reaches a running gate).

    `notify_staff(event)` is called after each quote decision and comment is recorded
    (the mailer's staff notices, issue 7), from a thread of its own unless
    `background_notices` is False (AWS Lambda freezes such threads)."""
    if storage is None:
        from portalgen.storage import open_storage

        storage = open_storage(settings)
    if secrets is None:
        from portalgen.secret import load_secrets

        secret_file = settings.secret_file

        def secrets() -> Sequence[str]:
            return load_secrets(secret_file)

    chosen_storage = storage
    sink: AuditSink = audit or LazyAuditSink(lambda: default_audit_sink(settings, chosen_storage))
    if notify_staff is not None:
        from portalgen.mail.staff import StaffNoticeSink

        sink = StaffNoticeSink(sink, notify_staff, background=background_notices)
    return Gate(
        storage,
        secrets,
        gate=settings.gate,
        branding=branding_of(settings),
        audit=sink,
        send_link=send_link,
        clock=clock,
    )


def configured_staff_notifier(settings: Settings) -> NotifyStaff | None:
    """The mailer's staff notices when mail is configured, else None."""
    from portalgen.mail import gate_staff_notifier
    from portalgen.storage import open_storage

    return gate_staff_notifier(settings, lambda: open_storage(settings))


def configured_link_sender(settings: Settings) -> SendLink | None:
    """The mailer's `send_link` when mail is configured (issue 7 provides it), else None."""
    if settings.mail.backend == "none":
        return None
    import importlib

    try:
        mail = importlib.import_module("portalgen.mail")
    except ImportError:
        return None
    factory = getattr(mail, "gate_link_sender", None)
    return None if factory is None else factory(settings)
