"""Senders against a real SMTP server (aiosmtpd): plain, STARTTLS, implicit TLS, login,
refusals and a dropped connection; Amazon SES through boto3; the dry-run outbox."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from portalgen.config import MailSettings, load_settings
from portalgen.errors import ConfigError
from portalgen.mail.mailer import make_sender, open_mailer
from portalgen.mail.message import Content, as_outgoing, build_message, make_address
from portalgen.mail.senders import (
    MessageRefused,
    OutboxSender,
    ServerUnavailable,
    SesSender,
    SmtpSender,
)
from tests.smtpserver import BOTH_SERVERS, SmtpServer
from tests.smtpserver import mail_settings as port_settings

NOW = datetime(2026, 6, 15, 7, 30, tzinfo=UTC)


def message(to: str = "cliente@example.com", subject: str = "Factura F2026/007") -> EmailMessage:
    content = Content(subject, "Hola:\nsu factura.\n", "<p>Hola: su factura.</p>", "es")
    return build_message(
        sender=make_address("facturas@levante.example", "Suministros Levante"),
        to=[make_address(to, "Ferretería Peña")],
        content=content,
        now=NOW,
    )


def mail_settings(server: SmtpServer, **extra: Any) -> MailSettings:
    return load_settings(overrides={"mail": server.mail_settings(**extra)}, environ={}).mail


@BOTH_SERVERS
def test_plain_smtp_delivers_exactly_the_message(smtp_server: SmtpServer) -> None:
    sender = SmtpSender(mail_settings(smtp_server))
    sent = message()
    sender.send(sent)
    sender.close()
    (got,) = smtp_server.messages
    assert got.mail_from == "facturas@levante.example"
    assert got.rcpt_tos == ("cliente@example.com",)
    assert got.message["Subject"] == "Factura F2026/007"
    assert got.message["Message-ID"] == sent["Message-ID"]
    body = got.message.get_body(("plain",))
    assert body is not None and body.get_content().splitlines() == ["Hola:", "su factura."]


@BOTH_SERVERS
def test_one_connection_serves_many_messages(smtp_server: SmtpServer) -> None:
    sender = SmtpSender(mail_settings(smtp_server))
    for n in range(3):
        sender.send(message(f"c{n}@example.com"))
    connection = sender._smtp
    assert connection is not None and len(smtp_server.messages) == 3
    sender.close()


@pytest.fixture
def tls_server(smtp_tls_files: tuple[Path, Path]) -> Iterator[SmtpServer]:
    """Port 587 as most servers run it: STARTTLS, a login, PIPELINING (offered again in the
    EHLO after STARTTLS, where the client asks anew)."""
    login = ("facturas", "s3cret-password")
    server = SmtpServer(tls=smtp_tls_files, login=login, pipelining=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def implicit_tls_server(smtp_tls_files: tuple[Path, Path]) -> Iterator[SmtpServer]:
    server = SmtpServer(tls=smtp_tls_files, implicit_tls=True, login=("facturas", "pw-465"))
    server.start()
    yield server
    server.stop()


def test_starttls_and_login_with_the_password_from_the_environment(
    tls_server: SmtpServer, smtp_tls_files: tuple[Path, Path]
) -> None:
    mail = mail_settings(
        tls_server,
        security="starttls",
        username="facturas",
        password_env="OFFICE_SMTP_PASSWORD",
        ca_file=str(smtp_tls_files[0]),
    )
    settings = load_settings(overrides={"mail": {**_as_dict(mail)}}, environ={})
    sender = make_sender(settings, environ={"OFFICE_SMTP_PASSWORD": "s3cret-password"})
    sender.send(message())
    sender.close()
    assert tls_server.logins == ["facturas"]
    assert len(tls_server.messages) == 1


def _as_dict(mail: MailSettings) -> dict[str, Any]:
    return {
        "backend": mail.backend,
        "host": mail.host,
        "port": mail.port,
        "security": mail.security,
        "username": mail.username,
        "password_env": mail.password_env,
        "ca_file": str(mail.ca_file) if mail.ca_file else None,
        "timeout": "10s",
        "from_address": mail.from_address,
    }


def test_implicit_tls_and_login(
    implicit_tls_server: SmtpServer, smtp_tls_files: tuple[Path, Path]
) -> None:
    mail = mail_settings(
        implicit_tls_server, security="tls", username="facturas", ca_file=str(smtp_tls_files[0])
    )
    sender = SmtpSender(mail, "pw-465")
    sender.send(message())
    sender.close()
    assert implicit_tls_server.logins == ["facturas"]
    assert len(implicit_tls_server.messages) == 1


def test_an_untrusted_certificate_is_refused(tls_server: SmtpServer) -> None:
    sender = SmtpSender(mail_settings(tls_server, security="starttls", username="facturas"), "x")
    with pytest.raises(ServerUnavailable, match=r"certificate is not trusted.*mail\.ca_file"):
        sender.send(message())
    assert tls_server.messages == []


def test_a_wrong_password_is_reported(
    tls_server: SmtpServer, smtp_tls_files: tuple[Path, Path]
) -> None:
    mail = mail_settings(
        tls_server, security="starttls", username="facturas", ca_file=str(smtp_tls_files[0])
    )
    with pytest.raises(ServerUnavailable, match="refused the login of facturas: 535"):
        SmtpSender(mail, "wrong").send(message())


def test_a_server_that_wants_tls_refuses_plain_smtp(tls_server: SmtpServer) -> None:
    with pytest.raises(ServerUnavailable):
        SmtpSender(mail_settings(tls_server)).send(message())
    assert tls_server.messages == []


def test_password_settings_are_checked(smtp_server: SmtpServer) -> None:
    with pytest.raises(ConfigError, match="would send the SMTP password unencrypted"):
        SmtpSender(mail_settings(smtp_server, username="facturas"), "pw")
    settings = load_settings(
        overrides={"mail": smtp_server.mail_settings(username="u", security="tls")}, environ={}
    )
    with pytest.raises(ConfigError, match=r"PORTALGEN_SMTP_PASSWORD .* is empty"):
        make_sender(settings, environ={})


@BOTH_SERVERS
def test_a_refused_recipient_fails_that_message_only(smtp_server: SmtpServer) -> None:
    smtp_server.refuse.add("gone@example.com")
    sender = SmtpSender(mail_settings(smtp_server))
    with pytest.raises(MessageRefused, match=r"refused the address gone@example.com \(550 5\.1\.1"):
        sender.send(message("gone@example.com"))
    sender.send(message("here@example.com"))  # the same connection goes on
    sender.close()
    assert [m.rcpt_tos for m in smtp_server.messages] == [("here@example.com",)]


@BOTH_SERVERS
def test_a_message_to_several_addresses_reaches_those_accepted(smtp_server: SmtpServer) -> None:
    """Staff notices go to every staff address: one refused does not stop the others, and
    the refusal is reported (the message did not reach everyone)."""
    smtp_server.refuse.add("gone@levante.example")
    to = ["oficina@levante.example", "gone@levante.example", "ventas@levante.example"]
    sent = build_message(
        sender=make_address("facturas@levante.example"),
        to=[make_address(address) for address in to],
        content=Content("Aviso", "Hola\n", "<p>Hola</p>", "es"),
        now=NOW,
    )
    sender = SmtpSender(mail_settings(smtp_server))
    with pytest.raises(MessageRefused, match=r"refused the address gone@levante\.example \(550"):
        sender.send(sent)
    sender.send(message())  # the same connection goes on
    sender.close()
    first, second = smtp_server.messages
    assert first.rcpt_tos == ("oficina@levante.example", "ventas@levante.example")
    assert first.message["Message-ID"] == sent["Message-ID"]
    assert second.rcpt_tos == ("cliente@example.com",)


@BOTH_SERVERS
def test_a_dropped_connection_is_reported_and_the_next_message_reconnects(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.drop.add("crash@example.com")
    sender = SmtpSender(mail_settings(smtp_server))
    sender.send(message("before@example.com"))
    with pytest.raises(ServerUnavailable, match="closed the connection"):
        sender.send(message("crash@example.com"))
    sender.send(message("after@example.com"))
    sender.close()
    assert smtp_server.handler.drops == 1
    assert [m.rcpt_tos[0] for m in smtp_server.messages] == [
        "before@example.com",
        "after@example.com",
    ]


class ScriptedServer:
    """An SMTP server that answers from a script, to show what the client sends a server
    offering PIPELINING (RFC 2920), and what it does with replies aiosmtpd never gives.

    Each step reads, without answering anything, until the client has sent `until`, then
    writes its replies. A client that waited for a reply before sending the rest of its
    group would wait for ever (here: its 5 s timeout). `.heard` keeps what each step read,
    `.left` what each connection sent after its script, until the client closed it. With
    several scripts, each serves one connection, in turn.
    """

    EHLO = b"250-scripted.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"

    def __init__(self, *scripts: list[tuple[bytes, bytes]]) -> None:
        self.scripts = [[(b"\r\n", self.EHLO), *steps] for steps in scripts]
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.heard: list[bytes] = []
        self.left: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with self.listener:
            for steps in self.scripts:
                connection, _ = self.listener.accept()
                with connection:
                    self._follow(connection, steps)

    def _follow(self, connection: socket.socket, steps: list[tuple[bytes, bytes]]) -> None:
        connection.settimeout(10)
        connection.sendall(b"220 scripted.example ESMTP\r\n")
        buffer = b""
        for until, replies in steps:
            while until not in buffer:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            heard, _, buffer = buffer.partition(until)
            self.heard.append(heard + until)
            connection.sendall(replies)
        while chunk := connection.recv(65536):
            buffer += chunk
        self.left.append(buffer)

    def sender(self) -> SmtpSender:
        settings = load_settings(overrides={"mail": port_settings(self.port, timeout="5s")})
        return SmtpSender(settings.mail)


def envelope(sent: EmailMessage, *recipients: str) -> bytes:
    size = len(sent.as_bytes(policy=policy.SMTP))
    lines = [f"mail FROM:<facturas@levante.example> size={size}"]
    lines += [f"rcpt TO:<{r}>" for r in recipients] + ["data"]
    return "".join(f"{line}\r\n" for line in lines).encode()


def test_to_a_server_offering_pipelining_the_envelope_goes_in_one_write() -> None:
    sent = message()
    server = ScriptedServer(
        [
            (b"data\r\n", b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with .\r\n"),
            (b"\r\n.\r\n", b"250 2.0.0 Ok: queued\r\n"),
            (b"quit\r\n", b"221 2.0.0 Bye\r\n"),
        ]
    )
    sender = server.sender()
    sender.send(sent)
    sender.close()
    server.thread.join(10)
    assert server.heard[1] == envelope(sent, "cliente@example.com")  # MAIL, RCPT, DATA at once
    assert server.heard[2] == sent.as_bytes(policy=policy.SMTP) + b".\r\n"
    assert server.heard[3] == b"quit\r\n"


ACCEPTED = b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with .\r\n"


@pytest.mark.parametrize(
    ("replies", "then", "error", "said"),
    [
        pytest.param(  # after the envelope, DATA refused: RSET, and the connection goes on
            b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n554 5.7.1 Service refused\r\n",
            [],
            MessageRefused,
            "the server refused the message: 554 5.7.1 Service refused",
            id="data-refused",
        ),
        pytest.param(  # no recipient, yet DATA taken: a lone dot ends it (RFC 2920, 3.1)
            b"250 2.1.0 Ok\r\n550 5.1.1 User unknown\r\n354 End data with .\r\n",
            [(b".\r\n", b"554 5.5.1 No valid recipients\r\n")],
            MessageRefused,
            "the server refused the address cliente@example.com (550 5.1.1 User unknown)",
            id="no-recipient-but-354",
        ),
        pytest.param(  # the message itself refused at the end of its data
            ACCEPTED,
            [(b"\r\n.\r\n", b"552 5.3.4 Message too big\r\n")],
            MessageRefused,
            "the server refused the message: 552 5.3.4 Message too big",
            id="end-refused",
        ),
    ],
)
def test_a_pipelined_message_refused_leaves_the_connection_ready_for_the_next(
    replies: bytes, then: list[tuple[bytes, bytes]], error: type[Exception], said: str
) -> None:
    refused, next_one = message(), message("otro@example.com")
    server = ScriptedServer(
        [
            (b"data\r\n", replies),
            *then,
            (b"rset\r\n", b"250 2.0.0 Ok\r\n"),
            (b"data\r\n", ACCEPTED),
            (b"\r\n.\r\n", b"250 2.0.0 Ok: queued\r\n"),
            (b"quit\r\n", b"221 2.0.0 Bye\r\n"),
        ]
    )
    sender = server.sender()
    with pytest.raises(error, match=re.escape(said)):
        sender.send(refused)
    sender.send(next_one)  # the same connection, reset
    sender.close()
    server.thread.join(10)
    assert server.heard[-3] == envelope(next_one, "otro@example.com")
    assert server.heard[-2] == next_one.as_bytes(policy=policy.SMTP) + b".\r\n"


QUEUED = b"250 2.0.0 Ok: queued\r\n"


def test_the_next_messages_envelope_goes_with_the_end_of_this_one() -> None:
    """Given the message that follows, its envelope goes in one write with this message's
    end, and the next send only reads its replies: one round trip a message."""
    first, second = message(), message("otro@example.com")
    server = ScriptedServer(
        [
            (b"data\r\n", ACCEPTED),
            (envelope(second, "otro@example.com"), QUEUED + ACCEPTED),
            (b"\r\n.\r\n", QUEUED),
            (b"quit\r\n", b"221 2.0.0 Bye\r\n"),
        ]
    )
    sender = server.sender()
    sender.send(first, following=as_outgoing(second))
    sender.send(second)
    sender.close()
    server.thread.join(10)
    first_data, second_data = (m.as_bytes(policy=policy.SMTP) for m in (first, second))
    assert server.heard[2] == first_data + b".\r\n" + envelope(second, "otro@example.com")
    assert server.heard[3] == second_data + b".\r\n"  # its envelope not written again
    assert server.left == [b""]


def test_an_end_refused_leaves_the_next_envelope_in_place() -> None:
    """The reply to a message's end closes its transaction: no reset after a refusal
    there, which would undo the envelope that went with it."""
    first, second = message(), message("otro@example.com")
    server = ScriptedServer(
        [
            (b"data\r\n", ACCEPTED),
            (envelope(second, "otro@example.com"), b"552 5.3.4 Too big\r\n" + ACCEPTED),
            (b"\r\n.\r\n", QUEUED),
            (b"quit\r\n", b"221 2.0.0 Bye\r\n"),
        ]
    )
    sender = server.sender()
    with pytest.raises(MessageRefused, match=r"refused the message: 552 5\.3\.4 Too big"):
        sender.send(first, following=as_outgoing(second))
    sender.send(second)
    sender.close()
    server.thread.join(10)
    assert server.heard[3] == second.as_bytes(policy=policy.SMTP) + b".\r\n"


def test_an_envelope_sent_ahead_for_a_message_that_does_not_come_is_dropped() -> None:
    """The server waits for that message's data after its 354, and ending it with a dot
    would deliver an empty message: the connection is closed instead, without a word, and
    the next message goes over a new one; closing the sender does the same."""
    first, promised, other = message(), message("otro@example.com"), message("c@example.com")
    announce = [
        (b"data\r\n", ACCEPTED),
        (envelope(promised, "otro@example.com"), QUEUED + ACCEPTED),
    ]
    server = ScriptedServer(
        announce,
        [
            (b"data\r\n", ACCEPTED),
            (b"\r\n.\r\n", QUEUED),
            (envelope(promised, "otro@example.com"), ACCEPTED),
        ],
    )
    sender = server.sender()
    sender.send(first, following=as_outgoing(promised))
    sender.send(other, following=as_outgoing(promised))  # not the promised one
    sender.close()
    server.thread.join(10)
    assert server.left == [b"", b""]  # no dot, no QUIT: each connection closed as it was
    assert server.heard[-3:] == [
        envelope(other, "c@example.com"),
        other.as_bytes(policy=policy.SMTP) + b".\r\n",
        envelope(promised, "otro@example.com"),
    ]


def test_a_pipelined_sender_refused_is_a_server_failure() -> None:
    server = ScriptedServer(
        [
            (b"data\r\n", b"553 5.7.1 Sender rejected\r\n503 5.5.1 Error\r\n503 5.5.1 Error\r\n"),
            (b"rset\r\n", b"250 2.0.0 Ok\r\n"),
            (b"quit\r\n", b"221 2.0.0 Bye\r\n"),
        ]
    )
    refused = r"refused the sender facturas@levante\.example: 553"
    with pytest.raises(ServerUnavailable, match=refused):
        server.sender().send(message())
    server.thread.join(10)
    assert server.heard[-1] == b"quit\r\n"  # and the connection closed


def test_a_server_that_is_down(smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    sender = SmtpSender(mail_settings(smtp_server))
    with pytest.raises(ServerUnavailable, match="connection refused"):
        sender.send(message())
    smtp_server.start()
    sender.send(message())  # back up: the same sender connects again
    sender.close()
    assert len(smtp_server.messages) == 1


def test_no_backend_configured_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"email is not set up: set mail\.backend"):
        open_mailer(load_settings(overrides={"mail": {"from_address": "a@b.example"}}, environ={}))


def test_the_outbox_writes_each_message_as_an_eml_file(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path / "outbox")
    first, second = message("a@example.com"), message("b@example.com")
    outbox.send(first)
    outbox.send(second)
    assert len(outbox.written) == 2 and all(p.suffix == ".eml" for p in outbox.written)
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == sorted(
        p.name for p in outbox.written
    )  # nothing half-written left behind
    parsed = BytesParser(policy=policy.default).parsebytes(outbox.written[1].read_bytes())
    assert parsed["Message-ID"] == second["Message-ID"]
    assert "b@example.com" in outbox.written[1].name


# -- Amazon SES ------------------------------------------------------------------------------
#
# SES itself cannot run here. What runs for real: boto3 builds, signs and sends the SESv2
# SendEmail request over HTTP to a local stand-in that answers as SES's REST-JSON API does
# (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html), so the test
# checks the request portalgen makes (the raw MIME bytes, the recipients, the configuration
# set) and how SES's error answers are reported. Not tested: AWS itself (identities,
# sandbox limits, DKIM), which only a real account shows.


class SesStandIn(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []
    answer: ClassVar[tuple[int, dict[str, str], dict[str, Any]]] = (200, {}, {"MessageId": "1"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append(
            {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
        )
        status, headers, payload = type(self).answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def ses_endpoint() -> Iterator[str]:
    SesStandIn.requests = []
    SesStandIn.answer = (200, {}, {"MessageId": "1"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), SesStandIn)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def ses_sender(endpoint: str, **mail: Any) -> SesSender:
    import boto3
    from botocore.config import Config

    settings = load_settings(
        overrides={"mail": {"backend": "ses", "ses_region": "eu-west-1", **mail}}, environ={}
    )
    client = boto3.client(
        "sesv2",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    return SesSender(settings.mail, client)


def test_ses_raw_send_carries_the_exact_message(ses_endpoint: str) -> None:
    import base64

    sent = message()
    ses_sender(ses_endpoint, ses_configuration_set="portal-mail").send(sent)
    (request,) = SesStandIn.requests
    assert request["path"] == "/v2/email/outbound-emails"
    assert request["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 ")
    body = request["json"]
    assert body["Destination"] == {"ToAddresses": ["cliente@example.com"]}
    assert body["ConfigurationSetName"] == "portal-mail"
    raw = base64.b64decode(body["Content"]["Raw"]["Data"])
    assert raw == sent.as_bytes(policy=policy.SMTP)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("MessageRejected", MessageRefused),
        ("AccountSuspendedException", ServerUnavailable),
        ("SendingPausedException", ServerUnavailable),
    ],
)
def test_ses_errors_are_reported(ses_endpoint: str, code: str, error: type[Exception]) -> None:
    answer = {"message": "Email address is not verified."}
    SesStandIn.answer = (400, {"x-amzn-ErrorType": code}, answer)
    with pytest.raises(error, match=f"{code}: Email address is not verified"):
        ses_sender(ses_endpoint).send(message())


def test_ses_unreachable_is_a_server_failure() -> None:
    with pytest.raises(ServerUnavailable, match="Amazon SES"):
        ses_sender("http://127.0.0.1:9").send(message())
