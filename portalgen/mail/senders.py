"""Where messages go: an SMTP server, Amazon SES, or a folder of .eml files (dry run).

Every sender raises one of two errors, so callers can go on with the next customer:

- `MessageRefused`: this message could not go (its address was refused, its content was
  rejected); the next message may go through the same connection.
- `ServerUnavailable`: the server itself is the trouble (unreachable, dropped the
  connection, refused the login); the sender reconnects on the next message.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from portalgen.config import MailSettings
from portalgen.errors import ConfigError, MailError
from portalgen.mail.message import Outgoing, as_outgoing

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


class MessageRefused(MailError):
    """This one message was refused (the address, or its content); try the next one."""


class ServerUnavailable(MailError):
    """The mail server or service cannot be used now; the next run tries again."""


Ready = Callable[[], None]  # returns once the message may be accepted; raises if it may not


class Sender(Protocol):
    description: str  # for messages: "smtp.example.com:587 (STARTTLS)"

    def send(
        self,
        message: EmailMessage | Outgoing,
        ready: Ready | None = None,
        following: Outgoing | None = None,
    ) -> None:
        """Send `message`; `ready()` is called before it can be accepted, and an error it
        raises stops the message from going (it goes through unchanged). `following` is
        the message the caller sends next, if it knows: its envelope may travel with this
        one's end (a sender that has no use for it ignores it)."""

    def close(self) -> None: ...


def smtp_password(mail: MailSettings, environ: Mapping[str, str]) -> str:
    if not mail.username:
        return ""
    password = environ.get(mail.password_env, "")
    if not password:
        raise ConfigError(
            f"mail.username is set but the environment variable {mail.password_env} "
            "(mail.password_env) holding the SMTP password is empty"
        )
    return password


def tls_context(mail: MailSettings) -> ssl.SSLContext:
    """The system's trusted certificates, plus `mail.ca_file` when given."""
    context = ssl.create_default_context()
    if mail.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(mail.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"mail.ca_file: cannot read {mail.ca_file}: {exc}") from None
    return context


class SmtpSender:
    """One SMTP connection, opened on the first message and reused for the next ones."""

    def __init__(self, mail: MailSettings, password: str = "") -> None:
        if mail.username and mail.security == "none":
            raise ConfigError(
                "mail.security: none would send the SMTP password unencrypted; "
                "use starttls or tls (or no mail.username)"
            )
        self.mail = mail
        self.password = password
        self.description = f"{mail.host}:{mail.port} ({mail.security})"
        self._smtp: _HeldSmtp | None = None

    def send(
        self,
        message: EmailMessage | Outgoing,
        ready: Ready | None = None,
        following: Outgoing | None = None,
    ) -> None:
        """With `ready`, the whole message travels while `ready()` waits, and the server
        gets the end of its data only after it returns: an SMTP server accepts a message
        at that end, not before (RFC 5321, section 4.1.1.4). To a server that offers
        PIPELINING, the envelope of `following` goes in the same write as that end, and
        the next send, if it is that message, starts with its replies: a message then
        waits for one round trip instead of two."""
        out = as_outgoing(message)
        smtp = self._connection()
        if smtp.announced is not None and smtp.announced != _envelope_of(out):
            # The envelope sent ahead was for a message that is not coming: the server
            # waits for its data, which only closing the connection drops without a trace.
            self._smtp = None
            smtp.close()
            smtp = self._connection()
        smtp.ready = ready
        smtp.following = None if following is None else _envelope_of(following)
        try:
            refused = smtp.sendmail(out.sender, list(out.recipients), out.data)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MessageRefused(_refusal(exc.recipients)) from None
        except smtplib.SMTPSenderRefused as exc:
            self.close()
            raise ServerUnavailable(
                f"{self.description} refused the sender {exc.sender}: {_reply(exc)}"
            ) from None
        except smtplib.SMTPDataError as exc:
            raise MessageRefused(f"the server refused the message: {_reply(exc)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise ServerUnavailable(f"{self.description}: {_describe(exc)}") from None
        except BaseException:  # from `ready`: the data has no end, so the connection cannot go on
            self._smtp = None
            smtp.close()
            raise
        finally:
            smtp.ready = smtp.following = None
        if refused:  # some recipients refused, others accepted: not all-or-nothing
            raise MessageRefused(_refusal(refused))

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.announced is not None:
            smtp.close()  # an envelope sent ahead for data that never comes: dropped with it
        elif smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _connection(self) -> _HeldSmtp:
        if self._smtp is not None:
            return self._smtp
        mail = self.mail
        timeout = mail.timeout.total_seconds()
        smtp: _HeldSmtp | None = None
        try:
            if mail.security == "tls":
                smtp = _HeldSmtpSsl(
                    mail.host, mail.port, timeout=timeout, context=tls_context(mail)
                )
            else:
                smtp = _HeldSmtp(mail.host, mail.port, timeout=timeout)
                if mail.security == "starttls":
                    smtp.starttls(context=tls_context(mail))
            _no_delay(smtp.sock)
            if mail.username:
                smtp.login(mail.username, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            _abandon(smtp)
            raise ServerUnavailable(
                f"{self.description} refused the login of {mail.username}: {_reply(exc)}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            _abandon(smtp)
            raise ServerUnavailable(f"{self.description}: {exc}") from None
        except UnicodeEncodeError:
            _abandon(smtp)
            raise ConfigError(
                "the SMTP user name or password has characters other than plain ASCII, "
                "which SMTP login cannot send"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            _abandon(smtp)
            raise ServerUnavailable(
                f"cannot connect to {self.description}: {_describe(exc)}"
            ) from None
        self._smtp = smtp
        return smtp


_LINE_STARTING_WITH_A_DOT = re.compile(rb"(?m)^\.")


class _HeldSmtp(smtplib.SMTP):
    """smtplib's client, whose DATA sends the data's end only once `ready()` returns, and
    which sends a message's envelope in one go to a server that offers PIPELINING."""

    ready: Ready | None = None
    following: Envelope | None = None  # goes with this message's end (PIPELINING)
    announced: Envelope | None = None  # went with the last message's end, replies unread

    def sendmail(  # type: ignore[override]  # always a list of recipients and bytes here
        self,
        from_addr: str,
        to_addrs: list[str],
        msg: bytes,
        mail_options: Sequence[str] = (),
        rcpt_options: Sequence[str] = (),
    ) -> dict[str, tuple[int, bytes]]:
        self.ehlo_or_helo_if_needed()
        if mail_options or rcpt_options or not self.has_extn("pipelining"):
            return super().sendmail(from_addr, to_addrs, msg, mail_options, rcpt_options)
        return _pipelined(self, from_addr, to_addrs, msg, self.ready)

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        if self.ready is None or not isinstance(msg, bytes):
            return super().data(msg)
        return _held_data(self, msg, self.ready)


class _HeldSmtpSsl(_HeldSmtp, smtplib.SMTP_SSL):
    """The same over implicit TLS (SMTP_SSL's connection, _HeldSmtp's DATA)."""


# Without Nagle's algorithm: the short end of the data, sent on its own, would otherwise
# wait for the server to acknowledge the body, which a server may delay by 40 ms.
def _no_delay(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _held_data(smtp: smtplib.SMTP, msg: bytes, ready: Ready) -> tuple[int, bytes]:
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    smtp.send(_quoted_data(msg))
    ready()
    smtp.send(b".\r\n")
    return smtp.getreply()


def _quoted_data(msg: bytes) -> bytes:
    """The message as DATA carries it, without its end: dot-stuffed, as smtplib does."""
    body = _LINE_STARTING_WITH_A_DOT.sub(b"..", msg)
    return body if body.endswith(b"\r\n") else body + b"\r\n"


Envelope = tuple[str, tuple[str, ...], int]  # sender, recipients, size


def _envelope_of(message: Outgoing) -> Envelope:
    return message.sender, message.recipients, len(message.data)


def _envelope_commands(smtp: smtplib.SMTP, envelope: Envelope) -> bytes:
    """MAIL, each RCPT and DATA, as smtplib writes them: the group RFC 2920 allows."""
    sender, recipients, size = envelope
    mail = f"mail FROM:{smtplib.quoteaddr(sender)}"
    commands = [mail + (f" size={size}" if smtp.has_extn("size") else "")]
    commands += [f"rcpt TO:{smtplib.quoteaddr(address)}" for address in recipients]
    return "".join(f"{command}\r\n" for command in [*commands, "data"]).encode("ascii")


def _pipelined(
    smtp: _HeldSmtp, sender: str, recipients: list[str], msg: bytes, ready: Ready | None
) -> dict[str, tuple[int, bytes]]:
    """`smtplib.SMTP.sendmail` with PIPELINING (RFC 2920): MAIL, each RCPT and DATA go in
    one write and their replies are read in order, so a message waits for two replies
    (DATA's 354 and its end's) instead of three and one per recipient; one, when its
    envelope went with the last message's end (`announced`), as the envelope of
    `smtp.following` goes with this one's. It raises what sendmail raises, for the same
    replies."""
    envelope = (sender, tuple(recipients), len(msg))
    if smtp.announced == envelope:
        smtp.announced = None  # its commands are on their way: only their replies to read
    else:
        smtp.send(_envelope_commands(smtp, envelope))
    mail = smtp.getreply()
    refused = {}
    for address in recipients:
        code, reply = smtp.getreply()
        if code not in (250, 251):
            refused[address] = (code, reply)
    code, reply = smtp.getreply()
    accepted = mail[0] == 250 and len(refused) < len(recipients)
    if code == 354 and accepted:
        smtp.send(_quoted_data(msg))
        if ready is not None:
            ready()
        following, smtp.following = smtp.following, None
        smtp.send(b".\r\n" + (b"" if following is None else _envelope_commands(smtp, following)))
        smtp.announced = following
        code, reply = smtp.getreply()
        if code == 250:
            return refused
        if following is not None:  # the end's reply closed this transaction; a reset now
            raise smtplib.SMTPDataError(code, reply)  # would undo the next one's envelope
    elif code == 354:  # DATA taken with nobody to send to: a lone dot ends it (RFC 2920, 3.1)
        smtp.send(b".\r\n")
        smtp.getreply()
    with contextlib.suppress(smtplib.SMTPServerDisconnected):  # as sendmail's own reset
        smtp.rset()
    if mail[0] != 250:
        raise smtplib.SMTPSenderRefused(mail[0], mail[1], sender)
    if not accepted:
        raise smtplib.SMTPRecipientsRefused(refused)
    raise smtplib.SMTPDataError(code, reply)


def _abandon(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
    return f"{exc.smtp_code} {' '.join(text.split())}".strip()


def _refusal(refused: Mapping[str, tuple[int, bytes]]) -> str:
    parts = [
        f"{address} ({code} {' '.join(reply.decode('utf-8', 'replace').split())})"
        for address, (code, reply) in refused.items()
    ]
    return "the server refused the address " + ", ".join(parts)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its certificate is not trusted ({exc.verify_message}); see mail.ca_file"
    if isinstance(exc, TimeoutError):
        return "no answer (timed out)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running, and the port right?)"
    return str(exc) or type(exc).__name__


# -- Amazon SES ----------------------------------------------------------------------------

# SES errors about one message; anything else is about the account or the service.
_SES_MESSAGE_ERRORS = {"MessageRejected", "BadRequestException"}


class SesSender:
    """Amazon SES (API v2) raw sends: the very bytes an SMTP server would get."""

    def __init__(self, mail: MailSettings, client: Any = None) -> None:
        self.mail = mail
        self.description = f"Amazon SES ({mail.ses_region or 'default region'})"
        self._client = client

    def client(self) -> Any:
        if self._client is None:
            import boto3  # only when SES is used: the gate must import fast
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=self.mail.timeout.total_seconds(),
                read_timeout=self.mail.timeout.total_seconds(),
            )
            self._client = boto3.client(
                "sesv2", region_name=self.mail.ses_region or None, config=config
            )
        return self._client

    def send(
        self,
        message: EmailMessage | Outgoing,
        ready: Ready | None = None,
        following: Outgoing | None = None,
    ) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        out = as_outgoing(message)
        if ready is not None:
            ready()
        request: dict[str, Any] = {
            "Destination": {"ToAddresses": list(out.recipients)},
            "Content": {"Raw": {"Data": out.data}},
        }
        if self.mail.ses_configuration_set:
            request["ConfigurationSetName"] = self.mail.ses_configuration_set
        try:
            self.client().send_email(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, text = str(error.get("Code", "")), str(error.get("Message", ""))
            if code in _SES_MESSAGE_ERRORS:
                raise MessageRefused(f"SES refused the message: {code}: {text}") from None
            raise ServerUnavailable(f"{self.description}: {code}: {text}") from None
        except BotoCoreError as exc:
            raise ServerUnavailable(f"{self.description}: {exc}") from None

    def close(self) -> None:
        pass


# -- dry run -------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]+")


class OutboxSender:
    """Writes each message into a folder as an .eml file (open it with any mail program)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.description = f"the folder {folder}"
        self.written: list[Path] = []
        self._stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")

    def send(
        self,
        message: EmailMessage | Outgoing,
        ready: Ready | None = None,
        following: Outgoing | None = None,
    ) -> None:
        out = as_outgoing(message)
        if ready is not None:
            ready()
        to = _UNSAFE.sub("_", ",".join(out.recipients))[:80]
        kind = _UNSAFE.sub("_", out.kind)
        path = self.folder / f"{self._stamp}-{len(self.written) + 1:04d}-{kind}-{to}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_bytes(out.data)
            temporary.replace(path)
        except OSError as exc:
            raise ServerUnavailable(f"cannot write {path}: {exc.strerror}") from None
        self.written.append(path)

    def close(self) -> None:
        pass
