"""The mailer: composes messages from the templates and hands them to the configured sender.

`open_mailer(settings)` picks the sender from ``mail.backend`` (SMTP or Amazon SES), or
the outbox folder for a dry run. One mailer serves a whole run; close it (or use it as a
context manager) to close the SMTP connection.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from portalgen.config import Settings
from portalgen.errors import ConfigError
from portalgen.mail.message import Content, Outgoing, as_outgoing, build_message, parse_address
from portalgen.mail.senders import (
    OutboxSender,
    Ready,
    Sender,
    SesSender,
    SmtpSender,
    smtp_password,
)

if TYPE_CHECKING:
    from portalgen.mail.render import EmailRenderer
    from portalgen.mail.wire import MessageFrame


class Mailer:
    def __init__(
        self, settings: Settings, sender: Sender, renderer: EmailRenderer | None = None
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.from_address = sender_address(settings)
        self.reply_to = (
            [parse_address(settings.mail.reply_to)] if settings.mail.reply_to.strip() else []
        )
        self._renderer = renderer
        self._frames: dict[tuple[str, str, tuple[str, ...]], MessageFrame] = {}

    @property
    def renderer(self) -> EmailRenderer:
        if self._renderer is None:  # Jinja and the catalogs only when a message is composed
            from portalgen.mail.render import EmailRenderer

            self._renderer = EmailRenderer(self.settings)
        return self._renderer

    @property
    def dry_run(self) -> bool:
        return isinstance(self.sender, OutboxSender)

    def compose(
        self,
        kind: str,
        language: str,
        to: Sequence[Address],
        context: Mapping[str, Any],
        *,
        reply_to: Sequence[Address] | None = None,
        now: datetime | None = None,
    ) -> EmailMessage:
        content = self.renderer.render(kind, language, **context)
        return self._build(kind, to, content, now or datetime.now(UTC), reply_to)

    def compose_outgoing(
        self,
        kind: str,
        language: str,
        to: Sequence[Address],
        context: Mapping[str, Any],
        *,
        now: datetime | None = None,
    ) -> Outgoing:
        """`compose`'s message as the bytes that go, filled into the frame of its kind and
        language (wire.py): the same headers and parts, at a fraction of the cost."""
        content = self.renderer.render(kind, language, **context)
        when = now or datetime.now(UTC)
        filled = self._frame(kind, content).fill(to, content, when, kind)
        return filled or as_outgoing(self._build(kind, to, content, when, None))

    def _build(
        self,
        kind: str,
        to: Sequence[Address],
        content: Content,
        now: datetime,
        reply_to: Sequence[Address] | None,
    ) -> EmailMessage:
        return build_message(
            sender=self.from_address,
            to=to,
            content=content,
            now=now,
            reply_to=self.reply_to if reply_to is None else reply_to,
            headers={"X-Portalgen-Message": kind},
        )

    def _frame(self, kind: str, content: Content) -> MessageFrame:
        from portalgen.mail.wire import MessageFrame, frame_key

        key = frame_key(kind, content.language, content.images)
        if key not in self._frames:
            self._frames[key] = MessageFrame(
                sender=self.from_address,
                reply_to=self.reply_to,
                headers={"X-Portalgen-Message": kind},
                language=content.language,
                images=content.images,
            )
        return self._frames[key]

    def send(
        self,
        message: EmailMessage | Outgoing,
        ready: Ready | None = None,
        following: Outgoing | None = None,
    ) -> None:
        """Send `message`; `ready()`, if given, returns before it can be accepted, and
        `following` is the message sent next, if known (senders.py)."""
        self.sender.send(message, ready, following)

    def close(self) -> None:
        self.sender.close()

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def sender_address(settings: Settings) -> Address:
    """``mail.from_address`` (named after the company unless it has a name of its own)."""
    value = settings.mail.from_address.strip() or settings.company.email.strip()
    if not value:
        raise ConfigError(
            "mail.from_address is empty: set the address messages are sent from, "
            'e.g. "Mi Empresa <facturas@miempresa.es>"'
        )
    return parse_address(value, settings.company.name)


class MailerFactory:
    """A new mailer (and so a new connection) per use, sharing the compiled templates.

    For the gate, whose threads must not share one SMTP connection."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.environ = environ
        self._renderer: EmailRenderer | None = None

    def __call__(self) -> Mailer:
        if self._renderer is None:
            from portalgen.mail.render import EmailRenderer

            self._renderer = EmailRenderer(self.settings)
        return Mailer(self.settings, make_sender(self.settings, self.environ), self._renderer)


def open_mailer(
    settings: Settings,
    *,
    dry_run: bool = False,
    outbox: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Mailer:
    """The configured mailer; with `dry_run`, one that writes .eml files to the outbox."""
    if dry_run:
        return Mailer(settings, OutboxSender(outbox or settings.mail.outbox))
    return Mailer(settings, make_sender(settings, environ))


def make_sender(settings: Settings, environ: Mapping[str, str] | None = None) -> Sender:
    mail = settings.mail
    if mail.backend == "smtp":
        environ = os.environ if environ is None else environ
        return SmtpSender(mail, smtp_password(mail, environ))
    if mail.backend == "ses":
        return SesSender(mail)
    raise ConfigError(
        "email is not set up: set mail.backend to smtp or ses in the configuration "
        "(README, section Email), or use --dry-run to write the messages to a folder"
    )
