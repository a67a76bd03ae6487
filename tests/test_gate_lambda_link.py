""" "Email me a new link" on AWS Lambda: the request hands the work to an asynchronous
invocation of the function and answers; that invocation looks the address up and sends.

Issue 13 (#6): a known address answered later than an unknown one because the mail went
out before the answer, so the time told who is a customer. `portalgen serve` sends after
answering (test_gate_link_request.py); on Lambda nothing runs after the answer, so the
request now invokes the function itself asynchronously (portalgen/gate/selfinvoke.py).

Real parts: the gate as Lambda builds it (no background threads), its Lambda handler,
boto3's Lambda client, a real SMTP server (aiosmtpd) and the gate's own mailer. Lambda's
Invoke API is the local stand-in of tests/lambda_api.py (AWS cannot be reached from
here), which queues the event and runs the handler with it when the test says: so the
test sees everything the request did before anything asynchronous ran. What the
request touches is watched, not timed: every storage read, every SMTP session.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from portalgen.access.tokens import LINK_REQUEST, TokenSigner
from portalgen.audit.log import AuditLog
from portalgen.gate import Gate, create_app
from portalgen.gate import lambda_handler as handler_module
from portalgen.gate.factory import configured_link_sender
from portalgen.gate.lambda_handler import make_handler
from portalgen.gate.selfinvoke import SelfInvoke, hand_off_event
from portalgen.storage import LocalStorage
from tests.gate_fixtures import BASE_URL, GateWorld, csrf_of
from tests.lambda_api import LambdaApi
from tests.smtpserver import SmtpServer, free_port
from tests.test_gate_lambda import body_of, event_for, lambda_cookies

FUNCTION = "portalgen-gate"
UNKNOWN = "nadie@ninguna.example"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class WatchedStorage(LocalStorage):
    """The test's folder storage, for real, noting every key read: looking an address
    up reads ``_access/emails/…`` and the customers' ``_access/<key>.json``."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[str] = []

    def get(self, key: str) -> bytes | None:
        self.reads.append(key)
        return super().get(key)

    def exists(self, key: str) -> bool:
        self.reads.append(key)
        return super().exists(key)

    def stat(self, key: str) -> Any:
        self.reads.append(key)
        return super().stat(key)

    def list(self, prefix: str = "") -> Any:
        self.reads.append(prefix)
        return super().list(prefix)


@dataclasses.dataclass
class LambdaGate:
    gate: Gate
    handler: Handler
    storage: WatchedStorage
    smtp: SmtpServer
    api: LambdaApi

    def ask(self, email: str) -> dict[str, Any]:
        """GET /link and POST the form through Function URL events; only the POST's own
        storage reads and SMTP sessions stay recorded."""
        form = self.handler(event_for("function-url.json", "GET", "/link"), None)
        assert form["statusCode"] == 200
        self.storage.reads.clear()
        self.smtp.handler.greetings.clear()
        fields = {"csrf_token": csrf_of(body_of(form).decode()), "email": email}
        headers = {"sec-fetch-site": "same-origin"}
        event = event_for(
            "function-url.json",
            "POST",
            "/link",
            cookies=lambda_cookies(form),
            form=fields,
            headers=headers,
        )
        return self.handler(event, None)

    def lookups(self) -> list[str]:
        return [key for key in self.storage.reads if key.startswith("_access/")]


def mail_settings(world: GateWorld, smtp: SmtpServer) -> Any:
    wanted = smtp.mail_settings()
    fields = ("backend", "host", "port", "security", "from_address", "staff_address")
    mail = dataclasses.replace(world.settings.mail, **{k: wanted[k] for k in fields})
    return dataclasses.replace(world.settings, mail=mail)


@pytest.fixture
def lambda_gate(
    gate_world: GateWorld, smtp_server: SmtpServer, lambda_api: LambdaApi
) -> LambdaGate:
    """The gate as app_from_environment builds it on Lambda (no background work, the
    hand-off to the function itself), over the world's storage folder, watched."""
    settings = mail_settings(gate_world, smtp_server)
    storage = WatchedStorage(Path(gate_world.storage.location.removeprefix("file://")))
    gate = create_app(
        settings,
        storage,
        secrets=gate_world.secrets,
        send_link=configured_link_sender(settings),
        background=False,
        clock=gate_world.clock,
    )
    gate.hand_off = SelfInvoke(FUNCTION, **lambda_api.client_options())
    handler = make_handler(gate)
    lambda_api.functions[FUNCTION] = handler
    return LambdaGate(gate, handler, storage, smtp_server, lambda_api)


def known_address(world: GateWorld) -> str:
    return world.grants["C00007"].links[0].email


def sent_link(smtp: SmtpServer) -> str:
    (received,) = smtp.messages
    body = received.message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    match = re.search(re.escape(BASE_URL) + r"/l/\S+", text)
    assert match, text
    return match.group(0)


def test_a_known_address_gets_its_link_from_the_asynchronous_invocation(
    lambda_gate: LambdaGate, gate_world: GateWorld
) -> None:
    email = known_address(gate_world)
    answer = lambda_gate.ask(email)
    assert answer["statusCode"] == 200
    # while the request was answered: no lookup, no mail server, one queued invocation
    assert lambda_gate.lookups() == []
    assert lambda_gate.smtp.handler.greetings == [] and lambda_gate.smtp.messages == []
    (invocation,) = lambda_gate.api.invocations
    assert invocation.function == FUNCTION
    assert invocation.headers["X-Amz-Invocation-Type"] == "Event"
    assert set(invocation.event) == {"portalgen", "request"}

    assert lambda_gate.api.run_queued() == [{"sent": 1}]  # what Lambda does later
    assert [m.rcpt_tos for m in lambda_gate.smtp.messages] == [(email,)]
    assert gate_world.client().open_link(sent_link(lambda_gate.smtp)).status_code == 303
    (event,) = [
        e for e in AuditLog(gate_world.settings.audit.path).events() if e.type == "link.requested"
    ]
    assert (event.customer, event.contact) == ("C00007", email)
    assert event.ip_hash  # the client's (hashed) address travelled with the hand-off


def test_known_and_unknown_addresses_make_the_same_request(
    lambda_gate: LambdaGate, gate_world: GateWorld
) -> None:
    """The request path does the same for both: the same page, the same Invoke call
    with an event of the same shape, no lookup and no mail; only the asynchronous
    invocation tells them apart, and nobody waits for it."""
    signer = TokenSigner(gate_world.secrets, clock=gate_world.clock)
    seen = []
    for email in (known_address(gate_world).upper(), UNKNOWN):
        answer = lambda_gate.ask(email)
        assert lambda_gate.lookups() == [] and lambda_gate.smtp.handler.greetings == []
        invocation = lambda_gate.api.invocations[-1]
        payload, _ = signer.verify(LINK_REQUEST, invocation.event["request"])
        seen.append(
            (
                answer["statusCode"],
                body_of(answer),
                invocation.function,
                invocation.headers["X-Amz-Invocation-Type"],
                sorted(invocation.event),
                sorted(payload),
                payload["i"],  # the same client
            )
        )
        assert payload["a"] == email.lower()
    assert seen[0] == seen[1]
    assert lambda_gate.smtp.messages == []
    assert lambda_gate.api.run_queued() == [{"sent": 1}, {"sent": 0}]
    assert [m.rcpt_tos for m in lambda_gate.smtp.messages] == [(known_address(gate_world),)]


def test_a_forged_or_stale_hand_off_is_refused_and_sends_nothing(
    lambda_gate: LambdaGate, gate_world: GateWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """Whoever may invoke the function directly (or replays a captured event) cannot
    make it mail anyone: the event must carry a request the gate's secret signed, not
    older than gate.link_resend_interval."""
    email = known_address(gate_world)
    payload = {"a": email, "i": "", "u": ""}
    other = TokenSigner(("x" * 40,), clock=gate_world.clock).sign(LINK_REQUEST, payload)
    genuine = TokenSigner(gate_world.secrets, clock=gate_world.clock)
    as_a_link = genuine.sign("portalgen.link.v1", payload)  # signed, for another purpose
    forged = [other, as_a_link, other[:-3] + "abc", "", None]
    client = boto3.client("lambda", **lambda_gate.api.client_options())
    for token in forged:  # through the Invoke API, as a direct invocation would come
        event = {"portalgen": "link-request", "request": token}
        client.invoke(FunctionName=FUNCTION, InvocationType="Event", Payload=json.dumps(event))
    with caplog.at_level(logging.WARNING, logger="portalgen.gate"):
        assert lambda_gate.api.run_queued() == [{"sent": -1}] * len(forged)
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == len(forged)

    stale = hand_off_event(genuine.sign(LINK_REQUEST, payload))
    gate_world.clock.advance(gate_world.settings.gate.link_resend_interval.total_seconds() + 1)
    assert lambda_gate.handler(stale, None) == {"sent": -1}
    assert lambda_gate.smtp.handler.greetings == [] and lambda_gate.smtp.messages == []
    assert lambda_gate.lookups() == []


def test_the_same_hand_off_delivered_twice_sends_one_email(
    lambda_gate: LambdaGate, gate_world: GateWorld
) -> None:
    """Lambda may run an asynchronous event again (after an error, or a duplicate from
    its queue): the address's claim makes every copy after the first send nothing."""
    lambda_gate.ask(known_address(gate_world))
    (invocation,) = lambda_gate.api.invocations
    lambda_gate.api.queued.append(invocation)
    gate_world.clock.advance(30)
    assert lambda_gate.api.run_queued() == [{"sent": 1}, {"sent": 0}]
    assert len(lambda_gate.smtp.messages) == 1


@pytest.mark.parametrize("failure", ["unknown function", "api out of reach"])
def test_when_the_hand_off_fails_the_customer_sees_the_same_page(
    lambda_gate: LambdaGate,
    gate_world: GateWorld,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    """No permission, a wrong name or Lambda's API out of reach: the page is the one
    every request gets, staff find one line in the log (no traceback, no address), and
    the address is not looked up instead (that would tell by its time)."""
    usual = body_of(lambda_gate.ask(UNKNOWN))  # the page every request gets
    lambda_gate.api.queued.clear()
    if failure == "unknown function":  # the Invoke API's 404 ResourceNotFoundException
        lambda_gate.gate.hand_off = SelfInvoke(
            "another-function", **lambda_gate.api.client_options()
        )
    else:  # nothing listens there: the connection is refused
        options = {
            **lambda_gate.api.client_options(),
            "endpoint_url": f"http://127.0.0.1:{free_port()}",
        }
        lambda_gate.gate.hand_off = SelfInvoke(FUNCTION, **options)
    email = known_address(gate_world)
    with caplog.at_level(logging.INFO, logger="portalgen.gate"):
        answer = lambda_gate.ask(email)
    assert answer["statusCode"] == 200 and body_of(answer) == usual
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    expected = (
        "ResourceNotFoundException" if failure == "unknown function" else "EndpointConnectionError"
    )
    assert expected in record.getMessage() and record.exc_info is None
    assert email not in caplog.text
    assert lambda_gate.lookups() == [] and lambda_gate.smtp.handler.greetings == []
    assert lambda_gate.api.queued == [] and lambda_gate.smtp.messages == []


def test_the_handler_built_from_lambdas_environment_hands_off(
    gate_world: GateWorld,
    demo_dir: Path,
    smtp_server: SmtpServer,
    lambda_api: LambdaApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The module's handler as Lambda runs it: AWS_LAMBDA_FUNCTION_NAME (Lambda sets it)
    names the function to invoke; boto3 finds the Invoke API through its standard
    AWS_ENDPOINT_URL_LAMBDA (here the stand-in)."""
    config = yaml.safe_load((demo_dir / "config.yaml").read_text())
    config["mail"] = smtp_server.mail_settings()
    config["audit"] = {"path": str(tmp_path / "audit.jsonl")}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    environment = {
        "PORTALGEN_CONFIG": str(tmp_path / "config.yaml"),
        "PORTALGEN_STORAGE_URL": gate_world.storage.location.removeprefix("file://"),
        "PORTALGEN_BASE_URL": BASE_URL,
        "PORTALGEN_SECRET": " ".join(gate_world.secrets),
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        "AWS_ENDPOINT_URL_LAMBDA": lambda_api.url,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    handler_module.reset()
    lambda_api.functions[FUNCTION] = handler_module.lambda_handler
    try:
        form = handler_module.lambda_handler(event_for("function-url.json", "GET", "/link"), None)
        email = known_address(gate_world)
        fields = {"csrf_token": csrf_of(body_of(form).decode()), "email": email}
        post = event_for(
            "function-url.json",
            "POST",
            "/link",
            cookies=lambda_cookies(form),
            form=fields,
            headers={"sec-fetch-site": "same-origin"},
        )
        assert handler_module.lambda_handler(post, None)["statusCode"] == 200
        assert smtp_server.messages == [] and len(lambda_api.queued) == 1
        assert lambda_api.run_queued() == [{"sent": 1}]
        assert [m.rcpt_tos for m in smtp_server.messages] == [(email,)]
    finally:
        handler_module.reset()
