"""The staff webhook against a real local HTTP server that checks every signature: each
decision and comment arrives signed; a receiver that fails gets it on a retry without the
customer waiting; one that stays down gets it from `audit pull`; nothing is lost."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portalgen.audit.events import new_event
from portalgen.audit.followup import follow_up
from portalgen.audit.webhook import (
    SIGNATURE_HEADER,
    DeliveryLog,
    WebhookError,
    WebhookSender,
    WebhookSink,
    sign,
    verify_signature,
)
from portalgen.config import Settings
from portalgen.errors import ConfigError
from portalgen.gate import Gate, create_app
from portalgen.storage import Storage
from tests.gate_fixtures import GateClient, GateWorld
from tests.interact_fixtures import (
    PENDING,
    WEBHOOK_SECRET,
    WebhookReceiver,
    comment,
    decide,
    of_type,
    run_receiver,
)

ENV = {"PORTALGEN_WEBHOOK_SECRET": WEBHOOK_SECRET}


def with_webhook(settings: Settings, url: str) -> Settings:
    return dataclasses.replace(settings, audit=dataclasses.replace(settings.audit, webhook_url=url))


def webhook_gate(world: GateWorld, url: str, **options: Any) -> Gate:
    gate = create_app(
        with_webhook(world.settings, url),
        world.storage,
        secrets=world.secrets,
        clock=world.clock,
        environ=ENV,
        **options,
    )
    sink = gate.audit
    assert isinstance(sink, WebhookSink)
    sink.webhook.sender.sleep = lambda seconds: None  # the backoff, not waited in tests
    return gate


def client_of(world: GateWorld, gate: Gate, code: str = "C00007") -> GateClient:
    client = GateClient(gate)
    client.sign_in(world.link(code))
    return client


def deliveries(gate: Gate) -> WebhookSink:
    assert isinstance(gate.audit, WebhookSink)
    return gate.audit


def test_decisions_and_comments_reach_the_webhook_signed(
    june_world_any: GateWorld, receiver: WebhookReceiver
) -> None:
    world = june_world_any
    gate = webhook_gate(world, receiver.url)
    client = client_of(world, gate)
    decide(client, PENDING, "accept", name="Ana", comment="Adelante")
    comment(client, "invoices/F2026A-00048.html", "Pagada hoy")
    client.get("/portal/invoices/F2026A-00048.html")  # a view: not for the webhook
    gate.flush()
    deliveries(gate).wait()
    receiver.wait_for(2)
    assert all(r.signature_ok for r in receiver.received)
    got = sorted(receiver.delivered(), key=lambda e: e["id"])
    recorded = of_type(world, "quote.accepted", "comment.added")
    assert [e["id"] for e in got] == [e.id for e in recorded]
    assert got[0]["type"] == "quote.accepted" and got[0]["customer"] == "C00007"
    assert got[0]["data"]["comment"] == "Adelante" and len(got[0]["data"]["pdf_sha256"]) == 64
    assert got[1]["type"] == "comment.added" and got[1]["data"]["comment"] == "Pagada hoy"
    assert {r.headers["Portalgen-Event-Type"] for r in receiver.received} == {
        "quote.accepted",
        "comment.added",
    }
    log = DeliveryLog(world.storage)
    assert [log.state(e.id)["status"] for e in recorded] == ["delivered", "delivered"]  # type: ignore[index]
    assert len(receiver.received) == 2


def test_a_failing_receiver_gets_it_on_a_retry_and_the_customer_does_not_wait(
    june_world: GateWorld,
) -> None:
    hold = threading.Event()
    for receiver in run_receiver(WebhookReceiver(fail_first=1, hold=hold)):
        gate = webhook_gate(june_world, receiver.url)
        client = client_of(june_world, gate)
        response = decide(client, PENDING, "accept", name="Ana")
        assert response.status_code == 303  # answered while the receiver holds the request
        assert receiver.received == []
        hold.set()
        deliveries(gate).wait()
        assert receiver.answered == [503, 200]
        assert all(r.signature_ok for r in receiver.received)
        assert receiver.received[0].body == receiver.received[1].body
        [event] = of_type(june_world, "quote.accepted")
        state = DeliveryLog(june_world.storage).state(event.id)
        assert state is not None and state["status"] == "delivered" and state["attempts"] == 2


def test_a_receiver_that_stays_down_gets_the_event_from_audit_pull(
    june_world: GateWorld,
) -> None:
    for receiver in run_receiver(WebhookReceiver(fail_first=4)):  # every gate attempt fails
        gate = webhook_gate(june_world, receiver.url)
        client = client_of(june_world, gate)
        assert decide(client, PENDING, "accept", name="Ana").status_code == 303
        deliveries(gate).wait()
        [event] = of_type(june_world, "quote.accepted")
        state = DeliveryLog(june_world.storage).state(event.id)
        assert state is not None and state["status"] == "failed"
        assert "HTTP 503" in str(state["error"]) and receiver.answered == [503] * 4

        settings = with_webhook(june_world.settings, receiver.url)
        now = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
        report = follow_up(settings, june_world.storage, now=now, environ=ENV)
        assert report.webhook is not None and report.webhook.delivered == 1
        assert receiver.answered == [503] * 4 + [200]
        assert receiver.delivered()[0]["id"] == event.id
        again = follow_up(settings, june_world.storage, now=now, environ=ENV)
        assert again.webhook is not None and again.webhook.delivered == 0
        assert len(receiver.received) == 5
        later = follow_up(settings, june_world.storage, now=now + timedelta(days=8), environ=ENV)
        assert later.webhook is not None and later.webhook.delivered == 0


def test_on_lambda_one_quick_attempt_before_the_answer(
    june_world: GateWorld, receiver: WebhookReceiver
) -> None:
    gate = webhook_gate(june_world, receiver.url, background=False)
    client = client_of(june_world, gate)
    decide(client, PENDING, "accept", name="Ana")
    assert len(receiver.received) == 1 and receiver.received[0].signature_ok


def test_the_gate_refuses_to_start_without_the_webhook_secret(june_world: GateWorld) -> None:
    settings = with_webhook(june_world.settings, "https://hooks.example.es/portal")
    with pytest.raises(ConfigError, match="PORTALGEN_WEBHOOK_SECRET"):
        create_app(settings, june_world.storage, secrets=june_world.secrets, environ={})
    with pytest.raises(ConfigError, match="at least 16"):
        create_app(
            settings,
            june_world.storage,
            secrets=june_world.secrets,
            environ={"PORTALGEN_WEBHOOK_SECRET": "short"},
        )


def test_signatures_verify_and_refuse_what_they_should() -> None:
    body = b'{"id":"01J","type":"quote.accepted"}'
    header = sign("s3cret-s3cret-s3cret", 1_750_000_000, body)
    assert header.startswith("t=1750000000,v1=")
    ok = {"now": 1_750_000_100}
    assert verify_signature("s3cret-s3cret-s3cret", header, body, **ok)
    assert not verify_signature("s3cret-s3cret-s3cret", header, body + b" ", **ok)
    assert not verify_signature("another-secret-value", header, body, **ok)
    assert not verify_signature("s3cret-s3cret-s3cret", header, body, now=1_750_000_301)
    assert not verify_signature("s3cret-s3cret-s3cret", "v1=abc", body, **ok)
    rotated = f"{header},v1={'0' * 64}"
    assert verify_signature("s3cret-s3cret-s3cret", rotated, body, **ok)


def test_an_unreachable_receiver_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = WebhookSender(f"http://127.0.0.1:{port}/x", "s" * 20, attempts=2, sleep=lambda s: None)
    event = new_event("comment.added", "C1", contact="a@b.es", data={"comment": "hola"})
    with pytest.raises(WebhookError, match="cannot reach it"):
        sender.send(event)
    assert SIGNATURE_HEADER == "Portalgen-Signature"


@pytest.fixture
def clock() -> Iterator[list[float]]:
    yield [datetime(2026, 6, 15, 9, 0, tzinfo=UTC).timestamp()]


def test_a_delivery_is_claimed_once_and_settled(storage: Storage, clock: list[float]) -> None:
    first, second = DeliveryLog(storage, lambda: clock[0]), DeliveryLog(storage, lambda: clock[0])
    assert first.claim("01JEVENT") and not second.claim("01JEVENT")  # one sender at a time
    first.settle("01JEVENT", 4, "answered HTTP 503")
    assert second.claim("01JEVENT")  # a failure is retried by whoever comes next
    clock[0] += 60
    assert not first.claim("01JEVENT")  # being sent right now
    clock[0] += 11 * 60
    assert first.claim("01JEVENT")  # "sending" for 11 minutes: that sender died
    first.settle("01JEVENT", 1)
    clock[0] += 3600
    assert not second.claim("01JEVENT") and first.state("01JEVENT")["status"] == "delivered"  # type: ignore[index]


def test_the_receiver_example_in_the_docs_checks_signatures() -> None:
    """docs/webhook.md's signature_ok, run as written, against what portalgen sends."""
    import hashlib
    import hmac
    import re
    import time
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "webhook.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL).group(1)  # type: ignore[union-attr]
    function = code[code.index("def signature_ok") : code.index("@app.post")]
    secret = "docs-example-secret-0123"
    namespace: dict[str, Any] = {"hashlib": hashlib, "hmac": hmac, "time": time}
    namespace["SECRET"] = secret.encode()
    exec(function, namespace)  # noqa: S102 - our own documentation
    check = namespace["signature_ok"]
    body = b'{"id":"01J","type":"comment.added"}'
    header = sign(secret, int(time.time()), body)
    assert check(header, body)
    assert not check(header, body.replace(b"comment", b"quote"))
    assert not check(sign(secret, int(time.time()) - 400, body), body)
    assert not check(sign("another-secret-entirely", int(time.time()), body), body)
