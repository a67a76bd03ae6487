"""A real SMTP server for the tests: aiosmtpd, in a thread, on a free local port.

Registered in conftest.py (`pytest_plugins`), so any test can ask for:

- `smtp_server` (function): a plain SMTP server (no TLS, no login) that keeps every
  message it accepts in `.messages`. Its `.refuse` set holds addresses it answers
  ``550 5.1.1`` at RCPT time; its `.drop` set holds addresses whose message makes it
  close the connection in the middle of the DATA command, without an answer (a crashed
  or restarted server); its `.handler.hold` set, addresses whose message it never answers
  while the client is connected (`.handler.holding` is set then, so a test can kill the
  client mid-send). `.handler.greetings` has one entry per session a client opened
  (its EHLO). `.stop()` and `.start()` take it down and up on the same port. Marked
  `@BOTH_SERVERS`, a test runs against it as it is and offering PIPELINING.
  `.mail_settings(**extra)` gives the `mail:` settings that point at it.
- `smtp_tls_files` (session): a self-signed certificate for 127.0.0.1/localhost (cert
  and key PEM files) for the STARTTLS and implicit-TLS servers a test builds with
  `SmtpServer(tls=..., implicit_tls=..., login=(user, password))`.

All of it is real SMTP over real sockets: the refusals and the dropped connection are
what a mail server does, not mocks of smtplib.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes  # exactly the bytes the client sent (after SMTP dot-unstuffing)
    peer: Any = None  # the client's (address, port): one per connection

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


class RecordingHandler:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refuse: set[str] = set()
        self.drop: set[str] = set()
        self.drops = 0
        self.hold: set[str] = set()
        self.holding = threading.Event()  # set while a held message waits
        self.greetings: list[Any] = []  # the client's address at each EHLO: one a session
        self.pipelining = False  # offer PIPELINING (RFC 2920) in the EHLO reply

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        self.greetings.append(session.peer)
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        if self.pipelining:  # aiosmtpd reads each command in turn from its buffer
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if any(r.lower() in self.hold for r in envelope.rcpt_tos):
            self.holding.set()  # never answers while the client is there to hear it
            while server.transport is not None and not server.transport.is_closing():
                await asyncio.sleep(0.02)
            return "451 4.3.0 the client went away"
        if any(r.lower() in self.drop for r in envelope.rcpt_tos):
            self.drops += 1
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()  # the connection dies before the server answers
            return "451 4.3.0 never seen by the client"
        data = envelope.original_content or b""
        self.messages.append(
            Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(data), session.peer)
        )
        return "250 2.0.0 Message accepted for delivery"


# A test marked so runs twice: against the server as it is, and offering PIPELINING
# (RFC 2920), as Postfix, Exim and the big providers' servers do.
BOTH_SERVERS = pytest.mark.parametrize(
    "smtp_server", [False, True], ids=["one-by-one", "pipelining"], indirect=True
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<port>, with optional STARTTLS, implicit TLS and login."""

    def __init__(
        self,
        *,
        tls: tuple[Path, Path] | None = None,
        implicit_tls: bool = False,
        login: tuple[str, str] | None = None,
        pipelining: bool = False,
    ) -> None:
        self.handler = RecordingHandler()
        self.handler.pipelining = pipelining
        self.port = free_port()
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.login = login
        self.logins: list[str] = []
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    @property
    def refuse(self) -> set[str]:
        return self.handler.refuse

    @property
    def drop(self) -> set[str]:
        return self.handler.drop

    def _context(self) -> ssl.SSLContext | None:
        if self.tls is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
        return context

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if self.login is None or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        if (user, password) != self.login:
            return AuthResult(success=False, handled=False)
        self.logins.append(user)
        return AuthResult(success=True)

    def start(self) -> None:
        context = self._context()
        kwargs: dict[str, Any] = {}
        if context is not None and self.implicit_tls:
            kwargs["ssl_context"] = context
            # aiosmtpd only counts STARTTLS as TLS; here the whole connection is TLS.
            kwargs["auth_require_tls"] = False
        elif context is not None:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True
        if self.login is not None:
            kwargs["authenticator"] = self._authenticate
            # With implicit TLS, aiosmtpd warns about requiring AUTH "without TLS": offer
            # it (the client logs in, `.logins` shows it) without requiring it.
            kwargs["auth_required"] = not self.implicit_tls
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs
        )
        self._controller.start()

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def mail_settings(self, **extra: Any) -> dict[str, Any]:
        return mail_settings(self.port, **extra)


def mail_settings(port: int, **extra: Any) -> dict[str, Any]:
    """The `mail:` settings that send to a plain server on 127.0.0.1:`port`."""
    settings: dict[str, Any] = {
        "backend": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "timeout": "10s",
        "from_address": "Suministros Levante <facturas@levante.example>",
        "staff_address": "oficina@levante.example",
    }
    settings.update(extra)
    return settings


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    server = SmtpServer(pipelining=getattr(request, "param", False))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def smtp_tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate valid for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portalgen test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file
