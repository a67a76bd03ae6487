"""Building the gate from settings: storage, secrets, audit sink, branding.

`create_app(settings)` is what `portalgen serve`, the Lambda handler and the tests use.
Nothing here reads the configuration file itself (see environment.py for Lambda).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from portalgen.gate.access_log import AccessLog
from portalgen.gate.app import Gate
from portalgen.gate.request import Branding, SecretSource, SendLink

# The mailer's hook: tell staff of a decision or comment just recorded.
NotifyStaff = Callable[["AuditEvent"], bool]

if TYPE_CHECKING:
    from portalgen.audit.events import AuditEvent
    from portalgen.audit.sinks import AuditSink
    from portalgen.config import Settings
    from portalgen.payments.providers import Providers
    from portalgen.storage import Storage


class LazyAuditSink:
    """Opens the real sink at the first event (the audit modules load only then)."""

    def __init__(self, factory: Callable[[], AuditSink]) -> None:
        self._factory = factory
        self._sink: AuditSink | None = None

    def record(self, event: AuditEvent) -> None:
        self.sink.record(event)

    def record_many(self, events: Sequence[AuditEvent]) -> None:
        from portalgen.audit.sinks import record_all

        record_all(self.sink, events)

    @property
    def sink(self) -> AuditSink:
        if self._sink is None:
            self._sink = self._factory()
        return self._sink


def default_audit_sink(
    settings: Settings, storage: Storage, secrets: Callable[[], Sequence[str]]
) -> AuditSink:
    """A local folder: the staff's audit.jsonl directly (its checkpoint advanced with
    each append). S3: one object per event, MACed. Both with the gate's `secrets`."""
    from portalgen.audit.anchor import Anchor
    from portalgen.audit.log import AuditLog
    from portalgen.audit.sinks import LocalAuditSink, StorageAuditSink
    from portalgen.storage import LocalStorage

    if isinstance(storage, LocalStorage):
        return LocalAuditSink(AuditLog(settings.audit.path, Anchor(storage, secrets)))
    return StorageAuditSink(storage, secrets)


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
    background: bool = True,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    payments: Providers | None = None,
) -> Gate:
    """The gate over the configured storage, signing with the configured secrets
    (re-read when a link fails to verify, so a rotation reaches a running gate).

    After each quote decision and comment is recorded, `notify_staff(event)` emails
    staff (the mailer's staff notices, mail/staff.py) and, with `audit.webhook_url` set, the
    event is POSTed to the webhook (its secret from `environ`, default os.environ).

    With `payments.online` configured, the gate takes payments through the providers
    (their secrets from `environ`: a missing one is a ConfigError naming its key);
    `payments` gives them ready-made instead (the tests' stand-ins).

    `background` says where that slow side work goes — view recording, webhook
    delivery, staff notice emails: True (a server: `portalgen serve`), off the request's
    thread, so a customer never waits for a mail server or a receiver; False (AWS
    Lambda, which freezes threads once the response is sent), before answering, with
    one quick webhook attempt. What fails then is retried: the webhook by
    `audit pull`, the notices by the nightly `notify` (`publish --notify`)."""
    if storage is None:
        from portalgen.storage import open_storage

        storage = open_storage(settings)
    if secrets is None:
        secrets = _configured_secrets(settings)
    built: list[Gate] = []  # the sink opens at the first event, the gate exists by then
    sink = audit or _lazy_sink(settings, storage, built)
    sink = with_side_work(settings, storage, sink, notify_staff, background, environ)
    gate = Gate(
        storage,
        secrets,
        gate=settings.gate,
        branding=branding_of(settings),
        audit=sink,
        send_link=send_link,
        clock=clock,
        background=background,
        verify_retention=settings.verify.retention,
        uploads=settings.uploads,
    )
    built.append(gate)
    if settings.gate.access_log:
        gate.access_log = AccessLog(sys.stderr, clock)
    if payments is None:
        payments = _configured_payments(settings, environ)
    if payments is not None:
        gate.offer_payments(payments)
    return gate


def _lazy_sink(settings: Settings, storage: Storage, built: list[Gate]) -> AuditSink:
    """The configured audit sink, opened at the first event with the secrets the gate
    (built[0], there by then) verifies with, reloaded as it does."""

    def gate_secrets() -> Sequence[str]:
        return built[0].signer.secrets

    return LazyAuditSink(lambda: default_audit_sink(settings, storage, gate_secrets))


def _configured_secrets(settings: Settings) -> SecretSource:
    """The signing secrets as they are at each call ($PORTALGEN_SECRET or the file)."""
    from portalgen.access.secret import load_secrets

    secret_file = settings.secret_file

    def secrets() -> Sequence[str]:
        return load_secrets(secret_file)

    return secrets


def _configured_payments(settings: Settings, environ: Mapping[str, str] | None) -> Providers | None:
    """The online payment providers of `payments.online`, if any (secrets from `environ`)."""
    if not settings.payments.online.methods:
        return None
    import os

    from portalgen.payments.providers import open_providers

    return open_providers(settings.payments.online, os.environ if environ is None else environ)


def with_side_work(
    settings: Settings,
    storage: Storage,
    sink: AuditSink,
    notify_staff: NotifyStaff | None,
    background: bool,
    environ: Mapping[str, str] | None,
) -> AuditSink:
    """`sink` wrapped so that each decision and comment, once recorded, also reaches
    the staff's webhook and their inbox (both when both are configured)."""
    if settings.audit.webhook_url:
        from portalgen.audit.webhook import WebhookSink, webhook_from_settings

        attempts, timeout = (4, 5.0) if background else (1, 3.0)
        webhook = webhook_from_settings(
            settings, storage, environ, attempts=attempts, timeout=timeout
        )
        if webhook is not None:
            sink = WebhookSink(sink, webhook, background=background)
    if notify_staff is not None:
        from portalgen.mail.staff import StaffNoticeSink

        sink = StaffNoticeSink(sink, notify_staff, background=background)
    return sink


def configured_staff_notifier(settings: Settings) -> NotifyStaff | None:
    """The mailer's staff notices when mail is configured, else None."""
    from portalgen.mail import gate_staff_notifier
    from portalgen.storage import open_storage

    return gate_staff_notifier(settings, lambda: open_storage(settings))


def configured_link_sender(settings: Settings) -> SendLink | None:
    """The mailer's `send_link` when mail is configured, else None."""
    from portalgen.mail import gate_link_sender

    return gate_link_sender(settings)
