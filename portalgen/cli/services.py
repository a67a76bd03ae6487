"""The services a command opens from the configuration: access management and the mailer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portalgen.access.grants import AccessService
    from portalgen.config import Settings
    from portalgen.mail.mailer import Mailer
    from portalgen.storage import Storage


def open_service(settings: Settings, storage: Storage | None = None) -> AccessService:
    """Grants, revocations and links, signed with the current secrets, audited locally."""
    from portalgen.access.grants import AccessService
    from portalgen.access.secret import load_secrets
    from portalgen.access.tokens import TokenSigner
    from portalgen.audit.anchored import open_audit_log
    from portalgen.audit.sinks import LocalAuditSink
    from portalgen.storage import open_storage

    storage = storage or open_storage(settings)
    return AccessService(
        storage,
        TokenSigner(load_secrets(settings.secret_file)),
        base_url=settings.gate.base_url,
        link_max_age=settings.gate.link_max_age,
        audit=LocalAuditSink(open_audit_log(settings, storage)),
    )


def open_mailer_for(settings: Settings, *, dry_run: bool = False) -> Mailer:
    """The configured mailer; checked before any work, so a command fails early."""
    from portalgen.mail.mailer import open_mailer

    return open_mailer(settings, dry_run=dry_run)
